"""The live event stream: the scheduler's notifications as Server-Sent Events.

``GET /api/v1/events`` answers ``text/event-stream``. Each notification is one message
whose ``id:`` is its seq and whose ``data:`` is its wire JSON (``{"type":
"TaskStatusChanged", ...}``). A client resumes where it left off with ``?since=SEQ``
or the ``Last-Event-ID`` header browsers send on reconnecting; without either it gets
what happens from now on. When the seq asked for is older than the server still holds
(or newer than it ever made: another database), the stream sends one ``reset`` event
(``{"seq": newest, "oldest": oldest held}``): the client reloads its state (every list
and graph answer carries the ``seq`` it matches) and reads on. A comment line every 15 s
keeps proxies from closing a quiet stream.

Task logs: the text running tasks print reaches the stream as ``log`` events (``event:
log``, ``data: {"task_id", "run_id", "started", "offset", "text"}``; no ``id:``, so they
never move ``Last-Event-ID``), read from the server's
:class:`~nbflow.server.logs.LogFeed` after the notifications. ``?logs=0`` leaves them
out; ``?log_task=ID`` (repeatable) keeps only those tasks'. A log event after a gap
in ``offset`` (the client was away, or fell too far behind) means: read the whole log
again with ``GET /api/v1/tasks/{task_id}/log``.

How it stays cheap: one subscriber on the host thread does constant work per
notification (it schedules at most one wake-up on tornado's loop at a time); each open
stream then reads what is new from the host's feed on the loop, and waits for the
client to take it (``flush``) before reading more, so a slow client costs memory only
for what it has not taken yet. No thread is held per client.

Imports: stdlib, tornado, nbflow.core.wire, nbflow.server.{handler, logs (types)}.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from tornado.iostream import StreamClosedError
from tornado.locks import Condition

from nbflow.core import wire
from nbflow.server.handler import ApiError, JsonHandler

if TYPE_CHECKING:
    from collections.abc import Callable

    from tornado.ioloop import IOLoop

    from nbflow.core.events import Notification
    from nbflow.server.host import SchedulerHost
    from nbflow.server.logs import LogFeed

#: Seconds between keep-alive comments on a quiet stream.
KEEPALIVE = 15.0
#: Notifications sent between two flushes at most.
_CHUNK = 1000


class Broadcaster:
    """Wake the open streams on tornado's loop when the host publishes."""

    def __init__(self, host: SchedulerHost, loop: IOLoop) -> None:
        self._loop = loop
        self.changed = Condition()
        self._scheduled = False
        self._unsubscribe: Callable[[], None] = host.subscribe(self._on_notification)
        self._log_feed: LogFeed | None = None
        self._unwatch_logs: Callable[[], None] | None = None

    def _on_notification(self, _note: Notification | None) -> None:
        """Host thread: schedule one wake-up unless one is pending."""
        if not self._scheduled:
            self._scheduled = True
            self._loop.add_callback(self._wake)

    def _wake(self) -> None:
        self._scheduled = False
        self.changed.notify_all()

    def watch_logs(self, feed: LogFeed) -> None:
        """Wake the streams when task logs arrive too (once per feed)."""
        if self._log_feed is None:
            self._log_feed = feed
            self._unwatch_logs = feed.listen(lambda: self._on_notification(None))

    def close(self) -> None:
        """Stop listening, and wake every stream so it can end."""
        self._unsubscribe()
        if self._unwatch_logs is not None:
            self._unwatch_logs()
        self._loop.add_callback(self.changed.notify_all)


class EventStreamHandler(JsonHandler):
    """GET /api/v1/events (see the module docstring)."""

    _closed = False

    def on_connection_close(self) -> None:
        """Note the client left, and wake the loop waiting for news."""
        self._closed = True
        self.context.extras["broadcaster"].changed.notify_all()

    def _start_seq(self) -> int | None:
        text = self.get_query_argument("since", None)
        if text is None:
            text = self.request.headers.get("Last-Event-ID") or None
        if text is None:
            return None
        if not text.isdigit() or len(text) > 18:  # noqa: PLR2004
            raise ApiError(
                400,
                f"since={text!r} is not a notification seq. Expected a whole number >= 0 "
                "(the id: of the last event seen). Fix: leave it out to start from now",
            )
        return int(text)

    async def get(self) -> None:
        """Stream notifications until the client leaves."""
        self.authorize(write=False, query_token=True)
        requested = self._start_seq()
        logs = self._log_feed()
        feed = self.context.host.feed
        broadcaster: Broadcaster = self.context.extras["broadcaster"]
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")
        last = feed.last if requested is None else requested
        if logs is not None:
            broadcaster.watch_logs(logs)
        log_last = logs.last if logs is not None else 0
        self.write("retry: 2000\n\n")
        if requested is not None and (
            requested < feed.oldest - 1 or requested > feed.last
        ):
            last = feed.last
            reset = {"seq": last, "oldest": feed.oldest}
            self.write(f"event: reset\nid: {last}\ndata: {json.dumps(reset)}\n\n")
        try:
            await self.flush()
            while not self._closed:
                notes = feed.since(last, limit=_CHUNK)
                if notes:
                    self.write("".join(_message(note) for note in notes))
                    last = notes[-1].seq
                    await self.flush()
                    continue
                if logs is not None and logs.last > log_last:
                    log_last = await self._send_logs(logs, log_last)
                    continue
                woke = await broadcaster.changed.wait(
                    timeout=timedelta(seconds=KEEPALIVE)
                )
                if not woke:
                    self.write(": keep-alive\n\n")
                    await self.flush()
        except StreamClosedError:
            return

    def _log_feed(self) -> LogFeed | None:
        """Return the server's task log feed, unless ``?logs=0`` or it has none."""
        wanted = self.get_query_argument("logs", "1")
        if wanted not in {"0", "1"}:
            raise ApiError(
                400,
                f"logs={wanted!r}: expected 0 (no task log events) or 1 (the default)",
            )
        if wanted == "0":
            return None
        keeper = self.context.extras.get("logs")
        return None if keeper is None else keeper.feed

    async def _send_logs(self, logs: LogFeed, after: int) -> int:
        """Send the log messages after number ``after``; return the last one's number."""
        wanted = set(self.get_query_arguments("log_task"))
        messages = logs.since(after, limit=_CHUNK)
        if not messages:
            return logs.last
        self.write(
            "".join(
                f"event: log\ndata: {data}\n\n"
                for _number, task_id, data in messages
                if not wanted or task_id in wanted
            )
        )
        await self.flush()
        return messages[-1][0]


def _message(note: Notification) -> str:
    data = json.dumps(wire.to_json(note), separators=(",", ":"))
    return f"id: {note.seq}\ndata: {data}\n\n"


__all__ = ["KEEPALIVE", "Broadcaster", "EventStreamHandler"]
