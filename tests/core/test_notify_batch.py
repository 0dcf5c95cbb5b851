"""Luigi's batched failure e-mails, driven by a fake clock (no I/O, no threads)."""

from __future__ import annotations

import pytest

from nbflow.core.batch_notifier import (
    BatchNotifier,
    BatchSettings,
    batch_email,
    batch_notifier,
)
from nbflow.core.config import Settings, use_settings
from nbflow.core.errors import ParameterDeprecationWarning

Sent = list[tuple[str, str, tuple[str, ...]]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(sent: Sent, clock: FakeClock, **settings: object) -> BatchNotifier:
    given = {"receiver": "ops@example.com", "email_interval": 5, **settings}
    return BatchNotifier(
        BatchSettings(**given),  # type: ignore[arg-type]
        send=lambda *message: sent.append(message),
        clock=clock,
    )


def test_batch_several_failures_in_one_window_become_one_message() -> None:
    sent: Sent = []
    clock = FakeClock()
    notifier = make(sent, clock)

    for day in ("1", "2", "2"):
        notifier.add_failure(f"A(day={day})", "A", [("day", day)], "ValueError: x")
        clock.now += 60
        notifier.update()
    assert sent == []
    clock.now = 1000.0 + 5 * 60
    notifier.update()

    [(subject, body, recipients)] = sent
    assert subject == "nbflow: 3 failures in the last 5 minutes"
    assert recipients == ("ops@example.com",)
    assert body == (
        "- A(day=2) (2 failures)\n  A(day=1) (1 failure)\n      ValueError: x"
    )


def test_batch_next_window_starts_empty_and_sends_nothing_without_failures() -> None:
    sent: Sent = []
    clock = FakeClock()
    notifier = make(sent, clock)
    notifier.add_failure("A()", "A", [], "boom")
    clock.now += 300
    notifier.update()

    clock.now += 300
    notifier.update()

    assert len(sent) == 1
    assert notifier.pending == 0


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("all", ["A(day=1, part=x)", "A(day=2, part=x)"]),
        ("family", ["A"]),
        ("unbatched_params", ["A(part=x)"]),
    ],
)
def test_batch_mode_decides_what_one_entry_is(mode: str, expected: list[str]) -> None:
    sent: Sent = []
    notifier = make(sent, FakeClock(), batch_mode=mode)

    for day in ("1", "2"):
        notifier.add_failure(f"A(day={day}, part=x)", "A", [("part", "x")], "boom")
    notifier.send_now()

    lines = [line.strip(" -") for line in sent[0][1].splitlines() if "failure" in line]
    assert [line.rsplit(" (", 1)[0] for line in lines] == expected


def test_batch_owners_get_their_tasks_and_the_receiver_everything() -> None:
    sent: Sent = []
    notifier = make(sent, FakeClock())

    notifier.add_failure("A()", "A", [], "boom", owners=["ann@example.com"])
    notifier.add_failure("B()", "B", [], "bang")
    notifier.send_now()

    by_recipient = {recipients: (subject, body) for subject, body, recipients in sent}
    assert by_recipient[("ann@example.com",)] == (
        "nbflow: Your tasks have 1 failure in the last 5 minutes",
        "- A() (1 failure)\n      boom",
    )
    subject, body = by_recipient[("ops@example.com",)]
    assert subject == "nbflow: 2 failures in the last 5 minutes"
    assert "A() (1 failure)" in body
    assert "B() (1 failure)" in body


def test_batch_counts_disables_and_scheduling_failures_in_subject_and_lines() -> None:
    sent: Sent = []
    notifier = make(sent, FakeClock())

    notifier.add_failure("A()", "A", [], "boom", link="http://s/#/task/A")
    notifier.add_disable("A()", "A", [], link="http://s/#/task/A")
    notifier.add_scheduling_fail("B()", "B", [], "OSError: listing")
    notifier.send_now()

    [(subject, body, _)] = sent
    assert subject == (
        "nbflow: 1 failure, 1 disable, 1 scheduling failure in the last 5 minutes"
    )
    assert "A() (1 failure, 1 disable) http://s/#/task/A" in body
    assert "B() (1 scheduling failure)" in body


def test_batch_error_lines_and_messages_limit_what_is_shown() -> None:
    sent: Sent = []
    notifier = make(sent, FakeClock(), error_lines=2, error_messages=2)
    trace = "Traceback:\n  line 1\n  line 2\nValueError: last"

    notifier.add_failure("A()", "A", [], "first error")
    notifier.add_failure("A()", "A", [], "second error")
    notifier.add_failure("A()", "A", [], trace)
    notifier.send_now()

    body = sent[0][1]
    assert "first error" not in body
    assert "second error" in body
    assert "      ValueError: last" in body
    assert "line 2" in body
    assert "line 1" not in body


def test_batch_groups_entries_by_error_message_unless_told_not_to() -> None:
    grouped: Sent = []
    apart: Sent = []
    for sent, group in ((grouped, True), (apart, False)):
        notifier = make(sent, FakeClock(), group_by_error_messages=group)
        notifier.add_failure("A()", "A", [], "same")
        notifier.add_failure("B()", "B", [], "same")
        notifier.send_now()

    assert grouped[0][1] == "- A() (1 failure)\n  B() (1 failure)\n      same"
    assert apart[0][1].count("      same") == 2


def test_batch_html_escapes_names_errors_and_links() -> None:
    sent: Sent = []
    notifier = make(sent, FakeClock(), format="html", batch_mode="all")

    notifier.add_failure("A(x=<b>)", "A", [], "Error: <script>", link='http://s/"q"')
    notifier.send_now()

    body = sent[0][1]
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert "A(x=&lt;b&gt;)" in body
    assert 'href="http://s/&quot;q&quot;"' in body


def test_batch_settings_come_from_batch_notifier_section() -> None:
    sections = {
        "batch_notifier": {"email_interval": "7", "batch_mode": "family"},
        "email": {"receiver": "a@example.com, b@example.com"},
    }
    with use_settings(Settings.from_mapping(sections)):
        settings = BatchSettings.from_config()
        assert batch_notifier().group_by_error_messages is True

    assert settings.email_interval == 7
    assert settings.batch_mode == "family"
    assert settings.error_lines == 20
    sent: Sent = []
    notifier = BatchNotifier(settings, send=lambda *m: sent.append(m))
    notifier.add_failure("A()", "A", [], "boom")
    notifier.send_now()
    assert sorted(recipients for _, _, recipients in sent) == [
        ("a@example.com",),
        ("b@example.com",),
    ]


def test_batch_settings_in_luigis_batch_email_section_still_work() -> None:
    sections = {"batch_email": {"error_lines": "3"}}

    with (
        use_settings(Settings.from_mapping(sections)),
        pytest.warns(ParameterDeprecationWarning, match=r"use \[batch_notifier\]"),
    ):
        config = batch_email()

    assert config.error_lines == 3
