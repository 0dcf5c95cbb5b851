"""pytest plugin for the Luigi suite runs: per-test results as JSON lines, a per-test
timeout, and each test's source (to tell which reach into luigid's internals).

Loaded with ``-p plugin`` (its directory is on the path). Writes to the file named by
``NBFLOW_SUITE_RESULTS``; one JSON object per test: ``nodeid``, ``outcome``
(passed/failed/skipped/error), ``cause`` (the exception's type and first line) and, at
collection, ``source`` (the test function with its class's set-up and the methods it
calls).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import signal

import pytest

TIMEOUT = float(os.environ.get("NBFLOW_SUITE_TEST_TIMEOUT", "60"))


def _write(record):
    with open(os.environ["NBFLOW_SUITE_RESULTS"], "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def _text(obj):
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _source(item):
    """The test function's source, with the class's set-up and the methods it calls."""
    function = getattr(item, "function", None)
    parts = [_text(function)] if function is not None else []
    cls = getattr(item, "cls", None)
    if cls is not None:
        called = set(re.findall(r"self\.(\w+)\(", parts[0] if parts else ""))
        for name in {"setUp", "setUpClass", "tearDown", "run"} | called:
            for klass in cls.__mro__:
                if klass.__module__.startswith("unittest") or name not in vars(klass):
                    continue
                parts.append(_text(vars(klass)[name]))
                break
    module = getattr(item, "module", None)
    if module is not None:
        # names the module imports from luigid's modules count where the test uses them
        for name, value in vars(module).items():
            origin = getattr(value, "__module__", "") or ""
            if origin.startswith(
                ("luigi.scheduler", "luigi.rpc", "luigi.server")
            ) and any(re.search(rf"\b{re.escape(name)}\b", text) for text in parts):
                parts.append("luigi.scheduler")
    return "\n".join(parts)


def pytest_collection_modifyitems(items):
    for item in items:
        _write({"nodeid": item.nodeid, "collected": True, "source": _source(item)})


def _cause(report):
    """The exception's type and first line (for an import error: the error itself)."""
    text = str(report.longrepr)
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and not crash.message.startswith("ImportError while"):
        text = crash.message
    elif errors:
        text = errors[-1]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def pytest_runtest_logstart(nodeid, location):
    _write({"nodeid": nodeid, "started": True})


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        if report.when != "call" and report.outcome == "skipped":
            outcome = "skipped"
        elif report.when != "call" and report.outcome == "failed":
            outcome = "error"
        else:
            outcome = report.outcome
        if report.when == "teardown" and outcome == "error":
            outcome = "failed"
        _write({"nodeid": report.nodeid, "outcome": outcome, "cause": _cause(report)})


class _Timeout(BaseException):
    """A test ran past its time."""


def _alarm(signum, frame):
    raise _Timeout(f"timed out after {TIMEOUT:.0f} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_collectreport(report):
    if report.failed:
        _write({"collect_error": report.nodeid, "cause": _cause(report)})
