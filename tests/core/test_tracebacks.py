"""Failure tracebacks: the user's frames shown, every frame kept, notebook code named."""

from __future__ import annotations

import linecache
import sys
import types
from typing import TYPE_CHECKING

import pytest

from nbflow.core.diagnosis import (
    full_traceback,
    name_frames,
    set_filename_namer,
    user_traceback,
)
from nbflow.core.run import RunOptions, start_run

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Where the fake notebook cell's code "lives", as IPython's kernel names it.
CELL_FILE = "/tmp/ipykernel_4242/123456789.py"
CELL_SOURCE = """\
import nbflow

def helper(n):
    raise ValueError(f"bad value {n}")

class TracebackCellTask(nbflow.Task):
    n = nbflow.IntParameter()

    def run(self):
        helper(self.n)
"""


@pytest.fixture
def cell_namer() -> Iterator[None]:
    """Name CELL_FILE ``Cell In[7]``, as the kernel's namer would."""
    previous = set_filename_namer(
        lambda name: "Cell In[7]" if name == CELL_FILE else None
    )
    yield
    set_filename_namer(previous)


@pytest.fixture
def cell_module() -> Iterator[types.ModuleType]:
    """A module made from a "cell", whose source only this process's line cache has."""
    module = types.ModuleType("traceback_cell_module")
    sys.modules[module.__name__] = module
    lines = CELL_SOURCE.splitlines(keepends=True)
    linecache.cache[CELL_FILE] = (len(CELL_SOURCE), None, lines, CELL_FILE)
    exec(compile(CELL_SOURCE, CELL_FILE, "exec"), module.__dict__)
    yield module
    del sys.modules[module.__name__]
    linecache.cache.pop(CELL_FILE, None)


def _failed_state(task, executor: str, workers: int = 1):
    run = start_run([task], RunOptions(workers=workers, executor=executor))
    assert run.progress is not None
    state = run.progress.tasks[task.task_id]
    assert state.state == "FAILED"
    return state


def _raise_chained() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        raise ValueError("while looking it up") from exc


def test_user_traceback_keeps_the_causes_with_their_frames() -> None:
    with pytest.raises(ValueError, match="while looking") as raised:
        _raise_chained()

    text = user_traceback(raised.value)

    assert "KeyError: 'missing'" in text
    assert "direct cause" in text
    assert text.rstrip().endswith("ValueError: while looking it up")
    assert "_raise_chained" in text


def test_user_traceback_without_chain_shows_the_last_error_only() -> None:
    with pytest.raises(ValueError, match="while looking") as raised:
        _raise_chained()

    assert "KeyError" not in user_traceback(raised.value, chain=False)


@pytest.mark.parametrize(("executor", "workers"), [("threads", 2), ("processes", 2)])
def test_a_failure_shows_the_users_frames_and_keeps_every_frame(
    cell_module, executor, workers
) -> None:
    state = _failed_state(cell_module.TracebackCellTask(n=3), executor, workers)

    assert "nbflow/core" not in state.traceback
    assert f'File "{CELL_FILE}", line 10, in run' in state.traceback
    assert "in helper" in state.traceback
    assert state.traceback.rstrip().endswith("ValueError: bad value 3")
    assert "nbflow/core/execution.py" in state.full_traceback
    assert "in helper" in state.full_traceback


@pytest.mark.parametrize(("executor", "workers"), [("threads", 2), ("processes", 2)])
def test_notebook_code_is_named_as_ipython_names_it(
    cell_module, cell_namer, executor, workers
) -> None:
    state = _failed_state(cell_module.TracebackCellTask(n=4), executor, workers)

    assert "Cell In[7], line 10, in run" in state.traceback
    assert "Cell In[7], line 4, in helper" in state.traceback
    assert CELL_FILE not in state.traceback
    # the source lines come from this process's line cache, even for a child's frames
    assert '    raise ValueError(f"bad value {n}")' in state.traceback
    assert "Cell In[7], line 10, in run" in state.full_traceback
    assert "nbflow/core/execution.py" in state.full_traceback


def test_name_frames_without_a_namer_changes_nothing() -> None:
    text = f'Traceback:\n  File "{CELL_FILE}", line 4, in helper\nValueError: x\n'

    assert name_frames(text) == text


def test_name_frames_is_idempotent_and_leaves_other_files(cell_namer) -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/me/pipeline.py", line 9, in run\n'
        "    helper()\n"
        f'  File "{CELL_FILE}", line 4, in helper\n'
        "ValueError: x\n"
    )

    once = name_frames(text)

    assert name_frames(once) == once
    assert '  File "/home/me/pipeline.py", line 9, in run\n    helper()\n' in once
    assert "  Cell In[7], line 4, in helper\nValueError: x" in once


def test_full_traceback_names_frames_too(cell_module, cell_namer) -> None:
    with pytest.raises(ValueError, match="bad value 5") as raised:
        cell_module.helper(5)

    text = full_traceback(raised.value)

    assert "Cell In[7], line 4, in helper" in text
    assert "test_tracebacks.py" in text
