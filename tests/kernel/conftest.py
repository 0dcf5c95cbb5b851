"""Fixtures for the kernel tests: an in-process IPython shell with a fresh session."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[object]:
    """The test IPython shell, with %nbflow loaded on a fresh session, text display.

    ``workdir`` in the namespace is a fresh temporary folder for outputs. Names a test
    adds to the namespace are removed afterwards.
    """
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    from nbflow.kernel import session as session_module
    from nbflow.kernel.magics import NbflowMagics

    monkeypatch.delenv("NBFLOW_DISPLAY", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ip = start_ipython() or InteractiveShell.instance()  # made once per process
    before = set(ip.user_ns)
    session = session_module.Session(ip)
    monkeypatch.setattr(session_module, "_SESSION", session)
    ip.register_magics(NbflowMagics(ip, session))
    ip.user_ns["workdir"] = str(tmp_path)
    ip.run_cell("import nbflow, os, time, threading")
    yield ip
    for record in session.runs:
        if not record.run.done():
            record.cancel()
            record.run.wait(10)
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
