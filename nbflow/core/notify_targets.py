"""Chat and webhook targets for failure notifications: apprise URLs and a JSON webhook.

Settings, in ``[notify]`` (a :class:`~nbflow.core.task.Config`, so ``--notify-urls``
works too):

- ``urls``: apprise URLs, separated by commas, spaces or new lines
  (``slack://...``, ``mailto://...``, ``json://host:port/path``; see apprise's list);
- ``webhook``: an ``http(s)://`` URL that gets each batch of failures as a JSON POST
  (:func:`webhook_payload`; its ``text`` field makes it readable by Slack-style
  incoming webhooks as well);
- ``public_url``: the visualiser's address as people reach it, for the links
  (default: the scheduler server's URL, or for the server itself its bind address);
- ``timeout``: seconds one send may take.

A :class:`FailureNote` is one failure as every target sees it: the task, the error's
first line, and the link to the task in the visualiser (:func:`task_link`). Sends here
raise on failure; callers run them on a
:class:`~nbflow.core.notify_sender.BackgroundSender`, which logs instead.

Imports: stdlib, nbflow.core.{events, parameter, task}; apprise lazily.
"""

from __future__ import annotations

import functools
import importlib
import re
import urllib.parse
import warnings
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from nbflow.core import progress
from nbflow.core.errors import NbflowError
from nbflow.core.events import Status, TaskStatusChanged
from nbflow.core.parameter import FloatParameter, Parameter
from nbflow.core.task import Config

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.core.events import Notification

__all__ = [
    "FailureNote",
    "NotifyTargetError",
    "chat_text",
    "failure_kind",
    "first_line",
    "notify",
    "post_webhook",
    "send_apprise",
    "split_urls",
    "task_link",
    "webhook_payload",
]

#: Most failures one chat message lists (the rest are counted).
CHAT_MAX_LISTED = 20

_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)
_FAILED, _DISABLED = Status.FAILED, Status.DISABLED
#: What a failure kind is called in messages.
KIND_WORDS = {
    "failure": "failed",
    "disable": "failed and was disabled (too many failures)",
    "scheduling": "could not be scheduled",
}


class notify(Config):  # noqa: N801 - a config section, [notify]
    """Chat and webhook targets of failure notifications, and the visualiser's URL."""

    urls = Parameter(
        default="",
        description="apprise URLs that get failure messages (comma-separated).",
    )
    webhook = Parameter(
        default="", description="An http(s) URL that gets failures as a JSON POST."
    )
    public_url = Parameter(
        default="",
        description="The visualiser's address for links (default: the server's URL).",
    )
    timeout = FloatParameter(default=10.0, description="Seconds one send may take.")


class FailureNote(NamedTuple):
    """One failure, as every target reports it."""

    #: "failure", "disable" or "scheduling" (see :func:`failure_kind`)
    kind: str
    task_id: str
    #: the task as people read it: ``Report(day=2024-01-01)``
    name: str
    family: str
    params: tuple[tuple[str, str], ...]
    #: the error's first line
    error: str
    #: the task's page in the visualiser, or "" when there is no visualiser to link
    link: str
    host: str
    worker_id: str
    at: float

    @property
    def sentence(self) -> str:
        """``"<task> failed on <host>: <error>"``, the one-line summary."""
        where = f" on {self.host}" if self.host else ""
        return (
            f"{self.name} {KIND_WORDS.get(self.kind, self.kind)}{where}: {self.error}"
        )


def failure_kind(notification: Notification) -> str | None:
    """Return what a notification reports that deserves a message, if anything.

    ``"failure"``: a run failed (or timed out); ``"disable"``: a run failed and the
    task was disabled for too many failures; ``"scheduling"``: a task could not be
    scheduled (its ``complete()`` or ``requires()`` raised). Cancelled runs and tasks
    disabled by their own definition deserve none.

    Examples
    --------
    >>> failed = TaskStatusChanged(3, 0.0, "A", Status.FAILED, Status.RUNNING)
    >>> failure_kind(failed), failure_kind(failed._replace(previous=Status.PENDING))
    ('failure', 'scheduling')
    """
    if type(notification) is not TaskStatusChanged:
        return None
    status = notification.status  # compared with module constants: called for every
    if status is _FAILED:  # notification of every run, it must cost next to nothing
        return "failure" if notification.previous in _RUNNING else "scheduling"
    if status is _DISABLED and notification.previous in _RUNNING:
        return "disable"
    return None


def first_line(error: str) -> str:
    r"""Return the first non-blank line of an error message (or ``"(no message)"``).

    >>> first_line("\nValueError: boom\n  more")
    'ValueError: boom'
    """
    return progress.first_line(error).strip() or "(no message)"


def task_link(base: str, task_id: str) -> str:
    """Return the visualiser's page of ``task_id`` under ``base`` ("" without a base).

    >>> task_link("http://sched:8082", "Report(day=2024-01-01)")
    'http://sched:8082/#/task/Report%28day%3D2024-01-01%29'
    """
    if not base:
        return ""
    return f"{base.rstrip('/')}/#/task/{urllib.parse.quote(task_id, safe='')}"


def split_urls(text: str) -> list[str]:
    """Return the URLs in a ``[notify] urls`` value (commas, spaces or new lines)."""
    return [url for url in re.split(r"[\s,]+", text) if url]


def chat_text(notes: Sequence[FailureNote]) -> tuple[str, str]:
    """Return the title and body of one chat message about ``notes``."""
    if len(notes) == 1:
        note = notes[0]
        body = note.sentence + (f"\n{note.link}" if note.link else "")
        return f"nbflow: {note.name} {KIND_WORDS.get(note.kind, note.kind)}", body
    lines = [
        note.sentence + (f" - {note.link}" if note.link else "")
        for note in notes[:CHAT_MAX_LISTED]
    ]
    if len(notes) > CHAT_MAX_LISTED:
        lines.append(f"... and {len(notes) - CHAT_MAX_LISTED} more")
    return f"nbflow: {len(notes)} task failures", "\n".join(lines)


def webhook_payload(notes: Sequence[FailureNote]) -> dict[str, object]:
    """Return the JSON body the webhook gets: a summary ``text`` and each failure."""
    title, body = chat_text(notes)
    return {
        "source": "nbflow",
        "title": title,
        "text": f"{title}\n{body}" if len(notes) > 1 else body,
        "failures": [
            {
                "kind": note.kind,
                "task_id": note.task_id,
                "task": note.name,
                "family": note.family,
                "params": dict(note.params),
                "error": note.error,
                "url": note.link,
                "host": note.host,
                "worker": note.worker_id,
                "at": datetime.fromtimestamp(note.at, timezone.utc).isoformat(),
            }
            for note in notes
        ],
    }


def post_webhook(url: str, payload: dict[str, object], timeout: float) -> None:
    """POST ``payload`` as JSON to ``url``; raise on a network error or a non-2xx."""
    import json  # noqa: PLC0415  (urllib.request loads ssl: only when sending)
    import urllib.request  # noqa: PLC0415

    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise NotifyTargetError(
            "webhook", url, "an http:// or https:// URL", "correct [notify] webhook"
        )
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "nbflow"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()


def send_apprise(urls: Sequence[str], title: str, body: str) -> None:
    """Send one message to every apprise URL; raise if any could not be reached."""
    targets = _apprise().Apprise()
    for url in urls:
        if not targets.add(url):
            raise NotifyTargetError(
                "urls",
                url.split("://", 1)[0] + "://...",
                "one of apprise's URLs (slack://, mailto://, json://, ...)",
                "correct [notify] urls",
            )
    if not targets.notify(title=title, body=body):
        raise NotifyTargetError(
            "urls",
            f"{len(urls)} URL(s)",
            "every target to accept the message (apprise's log says which did not)",
            "check that the targets are reachable",
        )


@functools.cache
def _apprise() -> Any:
    """Import apprise and load its plugins, deaf to their deprecation warnings.

    Loading the plugins (on the first URL added) imports modules Python deprecates
    (``imghdr``): under ``-W error`` every message would fail on that warning,
    which concerns apprise, not the user. It also changes how the standard library
    encodes every utf-8 e-mail; that is put back.
    """
    import email.charset  # noqa: PLC0415  (only when sending)

    charsets = dict(email.charset.CHARSETS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            library = importlib.import_module("apprise")
        except ImportError:
            raise NotifyTargetError(
                "urls",
                "apprise is not installed",
                "the apprise package, which sends to [notify] urls",
                "pip install 'nbflow[server]' (or apprise)",
            ) from None
        library.Apprise().add("json://localhost")
    # its e-mail plugin makes every utf-8 e-mail body of the process quoted-printable
    email.charset.CHARSETS.clear()
    email.charset.CHARSETS.update(charsets)
    return library


class NotifyTargetError(NbflowError):
    """A ``[notify]`` target is misconfigured or did not take a message."""

    def __init__(self, key: str, got: str, expected: str, fix: str) -> None:
        super().__init__(key, got, expected, fix)
        self.key, self.got, self.expected, self.fix = key, got, expected, fix

    def __str__(self) -> str:
        return (
            f"[notify] {self.key}: cannot send (got {self.got!r}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )
