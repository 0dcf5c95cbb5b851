"""Planning: why, --dry-run and --accept, the one implementation the CLI and kernel share."""

from __future__ import annotations

import pytest

import nbflow
from nbflow.core.cmdline import Invocation
from nbflow.core.errors import ParameterValueError
from nbflow.core.planning import PlanOptions, prepare_run, why
from nbflow.core.target import MemoryFileSystem, MemoryTarget

STORE = MemoryFileSystem()
LEVEL = 1


class Source(nbflow.Task):
    def output(self) -> MemoryTarget:
        return MemoryTarget("data/source.txt", STORE)

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("data")


class Shaped(nbflow.Task):
    def requires(self) -> Source:
        return Source()

    def output(self) -> MemoryTarget:
        return MemoryTarget("data/shaped.txt", STORE)

    def run(self) -> None:
        with self.input().open() as text, self.output().open("w") as out:
            out.write(text.read() * LEVEL)


@pytest.fixture(autouse=True)
def _empty_store() -> None:
    STORE.clear()


def _files() -> dict[str, bytes]:
    return dict(STORE._files)


def test_plan_options_from_invocation_reads_the_planning_options() -> None:
    invocation = Invocation(
        options={"force": ["Source"], "accept": ["Shaped"], "dry_run": True}
    )

    options = PlanOptions.from_invocation(invocation, default_mode="fingerprint")

    assert options == PlanOptions(
        mode="fingerprint", force=("Source",), accept=("Shaped",), dry_run=True
    )


def test_plan_options_completeness_given_beats_the_default() -> None:
    invocation = Invocation(options={"completeness": "exists"})

    options = PlanOptions.from_invocation(invocation, default_mode="fingerprint")

    assert options.mode == "exists"


def test_why_lists_every_task_and_a_summary() -> None:
    text = why([Shaped()], PlanOptions(mode="fingerprint"))

    assert text.splitlines() == [
        "RUN   Shaped()  output missing",
        "RUN   Source()  output missing",
        "",
        "2 of 2 tasks would run.",
    ]


def test_why_rejects_an_unknown_completeness_mode() -> None:
    with pytest.raises(ParameterValueError) as caught:
        why([Shaped()], PlanOptions(mode="hash"))

    assert "exists or fingerprint" in str(caught.value)


def test_prepare_run_without_planning_options_does_nothing() -> None:
    preflight = prepare_run([Shaped()], PlanOptions(mode="fingerprint"))

    assert preflight.text == ""
    assert not preflight.stop


def test_prepare_run_dry_run_stops_and_lists_what_would_run() -> None:
    preflight = prepare_run([Shaped()], PlanOptions(mode="exists", dry_run=True))

    assert preflight.stop
    assert preflight.text.splitlines()[-1] == (
        "2 tasks would run (dry run: nothing was run)."
    )
    assert _files() == {}


def test_prepare_run_accept_with_dry_run_writes_nothing() -> None:
    nbflow.build([Shaped()])  # exists mode: outputs, no sidecars
    before = _files()

    preflight = prepare_run(
        [Shaped()],
        PlanOptions(mode="fingerprint", accept=("Source", "Shaped"), dry_run=True),
    )

    assert _files() == before
    assert preflight.stop
    assert "would accept  Source()" in preflight.text
    assert "would accept  Shaped()" in preflight.text
    assert "0 tasks would run" in preflight.text


def test_prepare_run_accept_records_fingerprints_without_dry_run() -> None:
    nbflow.build([Shaped()])

    preflight = prepare_run(
        [Shaped()], PlanOptions(mode="fingerprint", accept=("Shaped",))
    )

    assert preflight.text == "accepted  Shaped()"
    assert not preflight.stop
    assert any(name.endswith(".nbflow.json") for name in _files())
    assert "up to date" in why([Shaped()], PlanOptions(mode="fingerprint"))


def test_dry_run_accept_of_a_changed_task_plans_as_if_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nbflow.build([Shaped()], completeness="fingerprint")
    monkeypatch.setitem(globals(), "LEVEL", 2)
    before = _files()

    preflight = prepare_run(
        [Shaped()], PlanOptions(mode="fingerprint", accept=("Shaped",), dry_run=True)
    )
    stale = why([Shaped()], PlanOptions(mode="fingerprint"))

    assert _files() == before
    assert "0 tasks would run" in preflight.text
    assert "stale: constant" in stale
