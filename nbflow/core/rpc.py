"""The client side of luigid's HTTP protocol: :class:`RemoteScheduler`, :class:`RPCError`.

A central scheduler (luigid, and ``nbflow server``) answers
``/api/<method>``: the arguments travel form-encoded as one field, ``data``, holding
a JSON object; the answer is a JSON object whose ``response`` holds the result. A
request that cannot reach the scheduler is tried again ``[core] rpc_retry_attempts``
times, ``[core] rpc_retry_wait`` seconds apart, each attempt waiting at most
``[core] rpc_connect_timeout`` seconds; then :class:`RPCError` carries the cause.

A token configured nbflow-side (``[core] scheduler_token``, else ``[scheduler]
token``) travels as an ``Authorization: Bearer`` header: nbflow's server will require
it for changes, luigid ignores it. Credentials in the url (``http://user:pw@host``)
travel as Basic authorization instead, as Luigi sends them.

Given a :class:`RemoteScheduler`, nbflow's :class:`~nbflow.core.worker.Worker` drives
``nbflow server`` at its url through nbflow's own client
(:class:`~nbflow.core.remote.ServerScheduler`). :class:`RemoteSchedulerUnsupportedError`
is kept for code that catches it; nbflow no longer raises it.

Imports: stdlib (urllib.request only on a request, so ``import nbflow`` stays light),
nbflow.core.config, nbflow.core.errors.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
from typing import Any

from nbflow.core.config import current_settings
from nbflow.core.errors import SchedulerError

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:8082/"
#: HTTP statuses at or above this one may pass (the server is restarting): tried again.
_RETRIED_STATUS = 500


class RPCError(SchedulerError):
    """A request to a remote scheduler failed; ``sub_exception`` is the cause.

    The signature is Luigi's (``luigi.rpc.RPCError(message, sub_exception)``), so code
    written for Luigi raises and inspects it unchanged.
    """

    def __init__(
        self, message: str, sub_exception: BaseException | None = None
    ) -> None:
        super().__init__(message, sub_exception)
        self.message, self.sub_exception = message, sub_exception

    def __str__(self) -> str:
        return self.message


class RemoteSchedulerUnsupportedError(SchedulerError, NotImplementedError):
    """A worker was given a remote scheduler, which nbflow's worker cannot drive yet."""

    def __init__(self, where: str, url: str) -> None:
        super().__init__(where, url)
        self.where, self.url = where, url

    def __str__(self) -> str:
        return (
            f"{self.where}: nbflow's worker cannot drive a remote scheduler yet (got "
            f"RemoteScheduler({self.url!r})). Expected nbflow's embedded scheduler: "
            "running tasks for a central scheduler arrives with issue #12 (nbflow "
            "server). Fix: use the local scheduler (omit scheduler=, or pass "
            "nbflow.scheduler.Scheduler(); build(..., local_scheduler=True))."
        )


class SchedulerUrlError(SchedulerError, ValueError):
    """A remote scheduler's url is not one this client can speak to."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url

    def __str__(self) -> str:
        return (
            f"RemoteScheduler: unsupported scheduler url (got {self.url!r}). Expected "
            "an http:// or https:// url such as 'http://localhost:8082/'. Fix: give "
            "the scheduler's address over TCP (unix sockets are not supported)."
        )


def _split_credentials(url: str) -> tuple[str, str | None]:
    """Return ``url`` without user info, and the Basic authorization for it.

    Examples
    --------
    >>> _split_credentials("http://ann:pw@host:8082")
    ('http://host:8082', 'Basic YW5uOnB3')
    >>> _split_credentials("http://host:8082")
    ('http://host:8082', None)
    """
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None
    pair = f"{urllib.parse.unquote(parts.username)}:"
    pair += urllib.parse.unquote(parts.password or "")
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return bare, "Basic " + base64.b64encode(pair.encode()).decode()


class RemoteScheduler:
    """Talk to a central scheduler (luigid's protocol) over HTTP.

    Each of Luigi's remote methods is a named call here (``add_task``, ``get_work``,
    ``task_list``, ...) that sends its keyword arguments and returns the scheduler's
    ``response``. :meth:`_request` is the one generic call under them.

    Parameters
    ----------
    url
        The scheduler's address, ``http://localhost:8082/`` by default.
    connect_timeout
        Seconds one attempt may wait; None reads ``[core] rpc_connect_timeout`` (10).

    Raises
    ------
    SchedulerUrlError
        The url is not http(s).

    Examples
    --------
    >>> scheduler = RemoteScheduler("http://scheduler.example:8082/")
    >>> scheduler.url
    'http://scheduler.example:8082'

    .. versionadded:: 0.1
    """

    def __init__(
        self, url: str = DEFAULT_URL, connect_timeout: float | None = None
    ) -> None:
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise SchedulerUrlError(url)
        self._url = url.rstrip("/")
        settings = current_settings()
        if connect_timeout is None:
            connect_timeout = settings.get_float("core", "rpc_connect_timeout", 10.0)
        self._connect_timeout = connect_timeout
        self._rpc_retry_attempts = max(
            1, settings.get_int("core", "rpc_retry_attempts", 3)
        )
        self._rpc_retry_wait = settings.get_float("core", "rpc_retry_wait", 30.0)
        self._rpc_log_retries = settings.get_bool("core", "rpc_log_retries", True)
        self._token = settings.get("core", "scheduler_token") or settings.get(
            "scheduler", "token"
        )

    @property
    def url(self) -> str:
        """The scheduler's address, without a trailing slash."""
        return self._url

    def __repr__(self) -> str:
        return f"RemoteScheduler({self._url!r})"

    def close(self) -> None:
        """Release the connection (each request opens its own: nothing to do)."""

    # --- the wire -------------------------------------------------------------------

    def _request(
        self,
        path: str,
        body: dict[str, Any],
        attempts: int = 3,
        allow_null: bool = True,
    ) -> Any:
        """POST ``body`` as JSON to ``path`` (``/api/<method>``); return ``response``.

        A null response is asked for again, up to ``attempts`` times, when
        ``allow_null`` is false (``get_work`` must answer).

        Raises
        ------
        RPCError
            The scheduler could not be reached, answered an HTTP error, or answered
            something other than luigid's JSON.
        """
        form = {"data": json.dumps(body)}
        for _ in range(attempts):
            response = self._decode(path, self._fetch(path, form))
            if allow_null or response is not None:
                return response
        message = (
            f"RemoteScheduler {self._url}{path}: null response {attempts} times. "
            "Expected a result. Fix: check the scheduler's log."
        )
        raise RPCError(message)

    def _fetch(self, path: str, body: dict[str, str]) -> str:
        """Send the form ``body`` to ``path``, trying again as configured; the text."""
        import urllib.error  # noqa: PLC0415  (with the request: only when used)
        from http.client import HTTPException  # noqa: PLC0415  (loads ssl: only when used)

        attempts = self._rpc_retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._send(path, body)
            except urllib.error.HTTPError as error:
                error.close()  # the body is not needed: free the connection now
                if error.code < _RETRIED_STATUS or attempt == attempts:
                    raise self._failure(path, attempt, error) from error
                self._log_retry(attempt, error)
            except (urllib.error.URLError, HTTPException, OSError) as error:
                if attempt == attempts:
                    raise self._failure(path, attempt, error) from error
                self._log_retry(attempt, error)
            time.sleep(self._rpc_retry_wait)
        raise AssertionError  # unreachable: the last attempt returns or raises

    def _send(self, path: str, body: dict[str, str]) -> str:
        import urllib.request  # noqa: PLC0415  (loads http and ssl: only when used)

        url, authorization = _split_credentials(self._url + path)
        request = urllib.request.Request(  # noqa: S310  (scheme checked: http(s))
            url, data=urllib.parse.urlencode(body).encode(), method="POST"
        )
        if authorization is None and self._token:
            authorization = f"Bearer {self._token}"
        if authorization is not None:
            request.add_header("Authorization", authorization)
        with urllib.request.urlopen(  # noqa: S310  (scheme checked: http(s))
            request, timeout=self._connect_timeout
        ) as answer:
            text: str = answer.read().decode("utf-8")
        return text

    def _log_retry(self, attempt: int, error: Exception) -> None:
        if self._rpc_log_retries:
            logger.warning(
                "Remote scheduler %s: attempt %d of %d failed (%s); again in %gs",
                self._url,
                attempt,
                self._rpc_retry_attempts,
                error,
                self._rpc_retry_wait,
            )

    def _failure(self, path: str, attempts: int, error: Exception) -> RPCError:
        import urllib.error  # noqa: PLC0415  (loaded by the request already)

        if isinstance(error, urllib.error.HTTPError):
            problem = f"HTTP {error.code} {error.reason}"
            fix = "check the method name and the scheduler's log"
        else:
            problem = f"no answer after {attempts} attempt(s): {error}"
            fix = (
                "start the scheduler (luigid --port 8082) or correct the url; "
                "[core] rpc_retry_attempts, rpc_retry_wait and rpc_connect_timeout "
                "set how long to try; or use the local scheduler"
            )
        message = (
            f"RemoteScheduler {self._url}{path}: {problem}. Expected a central "
            f"scheduler (luigid's protocol) answering there. Fix: {fix}."
        )
        return RPCError(message, error)

    def _decode(self, path: str, text: str) -> Any:
        cause: ValueError | None = None
        try:
            page = json.loads(text)
        except ValueError as error:
            page, cause = None, error
        if isinstance(page, dict) and "response" in page:
            return page["response"]
        message = (
            f"RemoteScheduler {self._url}{path}: not a scheduler's answer (got "
            f"{text[:200]!r}). Expected JSON such as {{'response': ...}}. Fix: "
            "check that the url points at luigid or nbflow server."
        )
        raise RPCError(message, cause)

    def _call(self, method: str, arguments: dict[str, Any], **request: Any) -> Any:
        return self._request(f"/api/{method}", arguments, **request)

    # --- Luigi's remote methods (luigi.scheduler.Scheduler's @rpc_method ones) -----
    # Each sends its arguments by name; the scheduler fills in its own defaults.

    def ping(self, *, worker: str, **kwargs: Any) -> Any:
        """Tell the scheduler ``worker`` is alive; its pending messages come back."""
        return self._call("ping", {"worker": worker, **kwargs}, attempts=1)

    def add_task(self, task_id: str | None = None, **kwargs: Any) -> Any:
        """Add or update a task (``worker``, ``status``, ``deps``, ``family``, ...)."""
        return self._call("add_task", {"task_id": task_id, **kwargs})

    def get_work(self, *, worker: str | None = None, **kwargs: Any) -> Any:
        """Ask for a task to run for ``worker`` (``host``, ``current_tasks``, ...)."""
        arguments = {"worker": worker, **kwargs}
        return self._call("get_work", arguments, allow_null=False)

    def count_pending(self, worker: str) -> Any:
        """Count the tasks pending for ``worker``."""
        return self._call("count_pending", {"worker": worker})

    def graph(self, **kwargs: Any) -> Any:
        """Return every task the scheduler knows, by id."""
        return self._call("graph", kwargs)

    def dep_graph(self, task_id: str, include_done: bool = True, **kwargs: Any) -> Any:
        """Return ``task_id`` and the tasks it depends on."""
        arguments = {"task_id": task_id, "include_done": include_done, **kwargs}
        return self._call("dep_graph", arguments)

    def inverse_dep_graph(
        self, task_id: str, include_done: bool = True, **kwargs: Any
    ) -> Any:
        """Return ``task_id`` and the tasks that depend on it."""
        arguments = {"task_id": task_id, "include_done": include_done, **kwargs}
        return self._call("inverse_dep_graph", arguments)

    def task_list(
        self, status: str = "", upstream_status: str = "", **kwargs: Any
    ) -> Any:
        """Return the tasks with ``status`` (all when empty), by id."""
        arguments = {"status": status, "upstream_status": upstream_status, **kwargs}
        return self._call("task_list", arguments)

    def task_search(self, task_str: str, **kwargs: Any) -> Any:
        """Return the tasks whose id contains ``task_str``, by status."""
        return self._call("task_search", {"task_str": task_str, **kwargs})

    def worker_list(self, include_running: bool = True, **kwargs: Any) -> Any:
        """Return the workers the scheduler knows."""
        arguments = {"include_running": include_running, **kwargs}
        return self._call("worker_list", arguments)

    def resource_list(self) -> Any:
        """Return the resources, their use and the tasks using them."""
        return self._call("resource_list", {})

    def fetch_error(self, task_id: str, **kwargs: Any) -> Any:
        """Return the error a failed task reported."""
        return self._call("fetch_error", {"task_id": task_id, **kwargs})

    def re_enable_task(self, task_id: str) -> Any:
        """Re-enable a task disabled after too many failures."""
        return self._call("re_enable_task", {"task_id": task_id})

    def forgive_failures(self, task_id: str | None = None) -> Any:
        """Set a failed task back to pending."""
        return self._call("forgive_failures", {"task_id": task_id})

    def mark_as_done(self, task_id: str | None = None) -> Any:
        """Mark a task done without running it."""
        return self._call("mark_as_done", {"task_id": task_id})

    def set_task_status_message(self, task_id: str, status_message: str) -> Any:
        """Set the status message a running task shows."""
        arguments = {"task_id": task_id, "status_message": status_message}
        return self._call("set_task_status_message", arguments)

    def get_task_status_message(self, task_id: str) -> Any:
        """Return ``{"taskId": ..., "statusMessage": ...}``."""
        return self._call("get_task_status_message", {"task_id": task_id})

    def set_task_progress_percentage(
        self, task_id: str, progress_percentage: float
    ) -> Any:
        """Set the progress a running task shows."""
        arguments = {"task_id": task_id, "progress_percentage": progress_percentage}
        return self._call("set_task_progress_percentage", arguments)

    def get_task_progress_percentage(self, task_id: str) -> Any:
        """Return ``{"taskId": ..., "progressPercentage": ...}``."""
        return self._call("get_task_progress_percentage", {"task_id": task_id})

    def decrease_running_task_resources(
        self, task_id: str, decrease_resources: dict[str, int]
    ) -> Any:
        """Give back part of the resources a running task holds."""
        arguments = {"task_id": task_id, "decrease_resources": decrease_resources}
        return self._call("decrease_running_task_resources", arguments)

    def get_running_task_resources(self, task_id: str) -> Any:
        """Return the resources a running task holds."""
        return self._call("get_running_task_resources", {"task_id": task_id})

    def add_worker(self, worker: str, info: Any, **kwargs: Any) -> Any:
        """Record facts about ``worker`` (host, pid, ...)."""
        arguments = {"worker": worker, "info": info, **kwargs}
        return self._call("add_worker", arguments)

    def disable_worker(self, worker: str) -> Any:
        """Stop giving work to ``worker``."""
        return self._call("disable_worker", {"worker": worker})

    def set_worker_processes(self, worker: str, n: int) -> Any:
        """Ask ``worker`` to run ``n`` processes."""
        return self._call("set_worker_processes", {"worker": worker, "n": n})

    def send_scheduler_message(self, worker: str, task: str, content: str) -> Any:
        """Send ``content`` to ``task`` running on ``worker``; the message id back."""
        arguments = {"worker": worker, "task": task, "content": content}
        return self._call("send_scheduler_message", arguments)

    def add_scheduler_message_response(
        self, task_id: str, message_id: str, response: Any
    ) -> Any:
        """Record a task's answer to a scheduler message."""
        arguments = {"task_id": task_id, "message_id": message_id, "response": response}
        return self._call("add_scheduler_message_response", arguments)

    def get_scheduler_message_response(self, task_id: str, message_id: str) -> Any:
        """Return a task's answer to a scheduler message (None until it answers)."""
        arguments = {"task_id": task_id, "message_id": message_id}
        return self._call("get_scheduler_message_response", arguments)

    def announce_scheduling_failure(self, **kwargs: Any) -> Any:
        """Report a task that could not be scheduled (``task_name``, ``expl``, ...)."""
        return self._call("announce_scheduling_failure", kwargs)

    def add_task_batcher(
        self, worker: str, task_family: str, batched_args: list[str], **kwargs: Any
    ) -> Any:
        """Declare that ``worker`` runs ``task_family`` in batches over ``batched_args``."""
        arguments = {
            "worker": worker,
            "task_family": task_family,
            "batched_args": batched_args,
            **kwargs,
        }
        return self._call("add_task_batcher", arguments)

    def has_task_history(self) -> Any:
        """Return whether the scheduler records task history."""
        return self._call("has_task_history", {})

    def prune(self) -> Any:
        """Drop the workers and tasks that have timed out."""
        return self._call("prune", {})

    def update_resources(self, **resources: int) -> Any:
        """Set the amounts of several resources."""
        return self._call("update_resources", resources)

    def update_resource(self, resource: str, amount: int) -> Any:
        """Set the amount of one resource; False for a negative amount."""
        arguments = {"resource": resource, "amount": amount}
        return self._call("update_resource", arguments)

    def is_pause_enabled(self) -> Any:
        """Return ``{"enabled": ...}``: whether the scheduler can be paused."""
        return self._call("is_pause_enabled", {})

    def is_paused(self) -> Any:
        """Return ``{"paused": ...}``."""
        return self._call("is_paused", {})

    def pause(self) -> Any:
        """Stop handing out work (where pausing is enabled)."""
        return self._call("pause", {})

    def unpause(self) -> Any:
        """Hand out work again."""
        return self._call("unpause", {})

    def update_metrics_task_started(self, task: Any) -> Any:
        """Tell the scheduler's metrics collector a task started."""
        return self._call("update_metrics_task_started", {"task": task})

    def report_task_statistics(self, task_id: str, statistics: Any) -> Any:
        """Send a task's statistics to the scheduler's metrics collector."""
        arguments = {"task_id": task_id, "statistics": statistics}
        return self._call("report_task_statistics", arguments)
