"""Luigi's batched failure e-mails: several failures in a window become one message.

With ``[scheduler] batch_emails = true`` failures are not mailed one by one: a
:class:`BatchNotifier` counts them per recipient and, once per ``email_interval``
minutes, sends each recipient one e-mail listing what failed, how often, and the last
error messages. Settings (Luigi's, in ``[batch_notifier]`` as Luigi documents them;
Luigi's code reads ``[batch_email]``, which is read too, with a deprecation warning):

- ``email_interval``: minutes between e-mails (60);
- ``batch_mode``: what counts as one entry: ``all`` (each task), ``family`` (each
  family), ``unbatched_params`` (a family with its parameters; the default);
- ``error_lines``: last lines shown of each error message (20; 0: all);
- ``error_messages``: distinct error messages shown per entry (1);
- ``group_by_error_messages``: entries with the same messages are listed together.

Each failure goes to ``[email] receiver`` and to the task's owners' addresses; an
owner who is not the receiver gets only their tasks, under "Your tasks have ...".
Each entry links to its task in the visualiser when a link is known.

The notifier has no thread and no clock of its own: ``clock`` is injected and
:meth:`BatchNotifier.update` is called by its owner (the server's notifier each second,
a run at its end); ``send(subject, body, recipients)`` does the sending (normally by
queueing it on a background sender).

Imports: stdlib, nbflow.core.{parameter, task}.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core.parameter import BoolParameter, ChoiceParameter, IntParameter
from nbflow.core.progress import task_label
from nbflow.core.task import Config

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = ["BatchNotifier", "BatchSettings", "batch_email", "batch_notifier"]


def _fallback(name: str) -> dict[str, str]:
    return {"section": "batch_email", "name": name}


class batch_notifier(Config):  # noqa: N801 - Luigi's section name, [batch_notifier]
    """How batched failure e-mails are grouped and how often they are sent."""

    email_interval = IntParameter(
        default=60,
        config_path=_fallback("email_interval"),
        description="Minutes between batched e-mails.",
    )
    batch_mode = ChoiceParameter(
        default="unbatched_params",
        choices=("family", "all", "unbatched_params"),
        config_path=_fallback("batch_mode"),
        description="One entry per task (all), per family, or per family and "
        "parameters (unbatched_params).",
    )
    error_lines = IntParameter(
        default=20,
        config_path=_fallback("error_lines"),
        description="Last lines shown of each error message (0: all).",
    )
    error_messages = IntParameter(
        default=1,
        config_path=_fallback("error_messages"),
        description="Distinct error messages shown per entry.",
    )
    group_by_error_messages = BoolParameter(
        default=True,
        config_path=_fallback("group_by_error_messages"),
        description="List entries with the same error messages together.",
    )


#: Luigi's class name for these settings (whose code reads them from [batch_email]).
batch_email = batch_notifier


class BatchSettings(NamedTuple):
    """What a :class:`BatchNotifier` needs of ``[batch_notifier]`` and ``[email]``."""

    email_interval: int = 60
    batch_mode: str = "unbatched_params"
    error_lines: int = 20
    error_messages: int = 1
    group_by_error_messages: bool = True
    #: ``[email] receiver``: gets every failure
    receiver: str = ""
    #: ``[email] format``: "plain" or "html"
    format: str = "plain"

    @classmethod
    def from_config(cls) -> BatchSettings:
        """Read ``[batch_email]``/``[batch_notifier]`` and ``[email]`` now."""
        from nbflow.core.notifications import email  # noqa: PLC0415  (a cycle otherwise)

        config, mail = batch_notifier(), email()
        return cls(
            email_interval=config.email_interval,
            batch_mode=config.batch_mode,
            error_lines=config.error_lines,
            error_messages=config.error_messages,
            group_by_error_messages=config.group_by_error_messages,
            receiver=mail.receiver,
            format=mail.format,
        )


@dataclass
class _Entry:
    """What one recipient is told about one entry (a task, family, ...)."""

    failures: int = 0
    disables: int = 0
    scheduling: int = 0
    #: the last distinct error messages, oldest first
    errors: OrderedDict[str, None] = field(default_factory=OrderedDict)
    link: str = ""

    @property
    def counts(self) -> str:
        parts = (
            _counted(self.failures, "failure"),
            _counted(self.disables, "disable"),
            _counted(self.scheduling, "scheduling failure"),
        )
        return ", ".join(part for part in parts if part)


def _counted(number: int, noun: str) -> str:
    """Return ``"2 failures"``, ``"1 failure"``, or "" for none."""
    if not number:
        return ""
    return f"{number} {noun}{'' if number == 1 else 's'}"


class BatchNotifier:
    """Gather failures per recipient; send each one e-mail per interval.

    Examples
    --------
    >>> sent = []
    >>> now = [0.0]
    >>> notifier = BatchNotifier(
    ...     BatchSettings(email_interval=1, receiver="ops@example.com"),
    ...     send=lambda *message: sent.append(message),
    ...     clock=lambda: now[0],
    ... )
    >>> notifier.add_failure("A(x=1)", "A", [("x", "1")], "ValueError: no")
    >>> notifier.add_failure("A(x=2)", "A", [("x", "2")], "ValueError: no")
    >>> notifier.update(); sent
    []
    >>> now[0] = 60.0
    >>> notifier.update(); sent[0][0], sent[0][2]
    ('nbflow: 2 failures in the last 1 minutes', ('ops@example.com',))
    """

    def __init__(
        self,
        settings: BatchSettings,
        *,
        send: Callable[[str, str, tuple[str, ...]], object],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._send = send
        self._clock = clock
        #: recipient -> entry key -> entry
        self._entries: defaultdict[str, dict[str, _Entry]] = defaultdict(dict)
        self._default = {
            address.strip()
            for address in settings.receiver.split(",")
            if address.strip()
        }
        self.next_send = clock() + 60 * settings.email_interval

    # --- gathering ------------------------------------------------------------------

    def add_failure(
        self,
        task_name: str,
        family: str,
        params: Iterable[tuple[str, str]],
        error: str,
        owners: Iterable[str] = (),
        link: str = "",
    ) -> None:
        """Count a failed run of ``task_name`` (``params``: its unbatched parameters)."""
        for entry in self._entries_for(task_name, family, params, owners, link):
            entry.failures += 1
            self._remember(entry, error)

    def add_disable(
        self,
        task_name: str,
        family: str,
        params: Iterable[tuple[str, str]],
        owners: Iterable[str] = (),
        link: str = "",
    ) -> None:
        """Count that ``task_name`` was disabled after too many failures."""
        for entry in self._entries_for(task_name, family, params, owners, link):
            entry.disables += 1

    def add_scheduling_fail(
        self,
        task_name: str,
        family: str,
        params: Iterable[tuple[str, str]],
        error: str,
        owners: Iterable[str] = (),
        link: str = "",
    ) -> None:
        """Count that ``task_name`` could not be scheduled (complete()/requires() raised)."""
        for entry in self._entries_for(task_name, family, params, owners, link):
            entry.scheduling += 1
            self._remember(entry, error)

    def _entries_for(
        self,
        task_name: str,
        family: str,
        params: Iterable[tuple[str, str]],
        owners: Iterable[str],
        link: str,
    ) -> list[_Entry]:
        key = self._key(task_name, family, params)
        recipients = self._default | {owner for owner in owners if owner}
        entries = []
        for recipient in sorted(recipients):
            entry = self._entries[recipient].setdefault(key, _Entry())
            entry.link = link or entry.link
            entries.append(entry)
        return entries

    def _key(
        self, task_name: str, family: str, params: Iterable[tuple[str, str]]
    ) -> str:
        mode = self.settings.batch_mode
        if mode == "all":
            return task_name
        if mode == "family":
            return family
        return task_label(family, tuple(params))

    def _remember(self, entry: _Entry, error: str) -> None:
        entry.errors.pop(error, None)
        entry.errors[error] = None
        while len(entry.errors) > max(self.settings.error_messages, 0):
            entry.errors.popitem(last=False)

    # --- sending --------------------------------------------------------------------

    def update(self) -> None:
        """Send the e-mails if the interval has passed."""
        if self._clock() >= self.next_send:
            self.send_now()

    def send_now(self) -> None:
        """Send one e-mail to each recipient with failures, and start a new interval."""
        entries = dict(self._entries)
        self._entries.clear()
        self.next_send = self._clock() + 60 * self.settings.email_interval
        for recipient, by_key in sorted(entries.items()):
            subject = self._subject(recipient, by_key.values())
            if subject:
                self._send(subject, self._body(by_key), (recipient,))

    @property
    def pending(self) -> int:
        """How many recipients have failures waiting to be sent."""
        return len(self._entries)

    def _subject(self, recipient: str, entries: Iterable[_Entry]) -> str:
        total = _Entry()
        for entry in entries:
            total.failures += entry.failures
            total.disables += entry.disables
            total.scheduling += entry.scheduling
        if not total.counts:
            return ""
        yours = "" if recipient in self._default else "Your tasks have "
        minutes = self.settings.email_interval
        return f"nbflow: {yours}{total.counts} in the last {minutes} minutes"

    def _body(self, by_key: dict[str, _Entry]) -> str:
        groups: dict[tuple[str, ...], list[str]] = {}
        for key, entry in by_key.items():
            errors = tuple(entry.errors)
            group = errors if self.settings.group_by_error_messages else (key, *errors)
            groups.setdefault(group, []).append(key)
        ordered = sorted(groups.items(), key=lambda item: _order(item[1], by_key))
        html_format = self.settings.format == "html"
        parts = [
            self._group_text(keys, by_key, html_format=html_format)
            for _, keys in ordered
        ]
        if html_format:
            return "<ul>\n{}\n</ul>".format("\n".join(parts))
        return "\n".join(parts).rstrip()

    def _group_text(
        self, keys: list[str], by_key: dict[str, _Entry], *, html_format: bool
    ) -> str:
        keys = sorted(keys, key=lambda key: _order([key], by_key))
        lines = [_entry_line(key, by_key[key], html_format=html_format) for key in keys]
        errors = [
            self._error_text(e, html_format=html_format) for e in by_key[keys[0]].errors
        ]
        if html_format:
            return "<li>{}\n{}".format("\n<br>".join(lines), "\n".join(errors))
        return "- " + "\n  ".join(lines) + "".join(f"\n{text}\n" for text in errors)

    def _error_text(self, error: str, *, html_format: bool) -> str:
        lines = error.rstrip().splitlines()
        if self.settings.error_lines > 0:
            lines = lines[-self.settings.error_lines :]
        if html_format:
            return "<pre>{}</pre>".format(html.escape("\n".join(lines)))
        return "\n".join(f"      {line}" for line in lines)


def _entry_line(key: str, entry: _Entry, *, html_format: bool) -> str:
    if html_format:
        text = f"{html.escape(key)} ({entry.counts})"
        if entry.link:
            text += f' <a href="{html.escape(entry.link)}">view</a>'
        return text
    return f"{key} ({entry.counts})" + (f" {entry.link}" if entry.link else "")


def _order(keys: Sequence[str], by_key: dict[str, _Entry]) -> tuple[int, int, str]:
    """Most failures first, then most disables, then by name (Luigi's order)."""
    failures = sum(by_key[k].failures + by_key[k].scheduling for k in keys)
    disables = sum(by_key[k].disables for k in keys)
    return -failures, -disables, min(keys)
