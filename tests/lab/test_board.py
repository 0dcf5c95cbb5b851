"""The run board of a real kernel (started by a real jupyter server): live, then final.

The kernel runs ``%nbflow run`` in the foreground, so it is busy the whole time; the
test reads the board file meanwhile, as the server extension does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.lab.lab_server import wait_for

if TYPE_CHECKING:
    from tests.lab.lab_server import Jupyter, Kernel

pytestmark = [pytest.mark.kernel, pytest.mark.server]

GATED = """\
class LabBoardSource(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget('board/source.txt')
    def run(self):
        print('source line 1')
        with self.output().open('w') as out:
            out.write('x')

class LabBoardGated(nbflow.Task):
    gate = nbflow.Parameter()
    def requires(self):
        return LabBoardSource()
    def output(self):
        return nbflow.LocalTarget('board/gated.txt')
    def run(self):
        self.set_status_message('waiting for the gate')
        self.set_progress_percentage(50)
        for number in range(300):
            print(f'waiting {number}')
        while not os.path.exists(self.gate):
            time.sleep(0.02)
        with self.output().open('w') as out:
            out.write('y')

class LabBoardBroken(nbflow.Task):
    def run(self):
        raise ValueError('board boom')
"""


def _run(board: dict[str, Any] | None, number: int) -> dict[str, Any] | None:
    for run in (board or {}).get("runs", ()):
        if run["number"] == number:
            found: dict[str, Any] = run
            return found
    return None


def test_board_shows_a_running_run_live_then_its_end(
    kernel: Kernel, jupyter: Jupyter
) -> None:
    assert kernel.execute(GATED)["status"] == "ok"
    number = int(
        kernel.execute("len(nbflow.kernel.current_session().runs) + 1")["results"][0][
            "text/plain"
        ]
    )
    gate = jupyter.root / "work" / "gate-1"

    sent = kernel.send(f"%nbflow run LabBoardGated --gate {gate} --text")

    def gated_running() -> dict[str, Any] | None:
        run = _run(kernel.read_board(), number)
        if run is None:
            return None
        task = next(
            (t for t in run["tasks"].values() if t["family"] == "LabBoardGated"), None
        )
        if task is None or task["state"] != "RUNNING" or not task["status_message"]:
            return None
        return run if "waiting 299" in task["log"] else None

    live = wait_for("the board to show the gated task running", gated_running)
    gate.write_text("open")
    reply = kernel.finish(sent)
    final = wait_for(
        "the run's end on the board",
        lambda: (
            (r := _run(kernel.read_board(), number)) and r["state"] != "running" and r
        ),
    )

    assert reply["status"] == "ok"
    assert live["state"] == "running"
    gated = next(t for t in live["tasks"].values() if t["family"] == "LabBoardGated")
    assert gated["status_message"] == "waiting for the gate"
    assert gated["progress"] == 50
    assert gated["params"] == {"gate": str(gate)}
    assert len(gated["log"].splitlines()) <= 200
    assert final["state"] == "succeeded"
    assert final["counts"] == {"DONE": 2}
    assert final["total"] == 2
    assert final["percent"] == 100.0
    tasks = final["tasks"]
    source_id = next(i for i, t in tasks.items() if t["family"] == "LabBoardSource")
    gated_id = next(i for i, t in tasks.items() if t["family"] == "LabBoardGated")
    assert tasks[gated_id]["deps"] == [source_id]
    assert final["roots"] == [gated_id]
    assert tasks[source_id]["outputs"] == [
        str(jupyter.root / "work" / "board" / "source.txt")
    ]
    assert "source line 1" in tasks[source_id]["log"]
    assert final["user"]


def test_board_keeps_a_failure_and_its_traceback(kernel: Kernel) -> None:
    outputs = kernel.execute("%nbflow run LabBoardBroken --text")
    board = kernel.read_board()
    assert board is not None

    assert "board boom" in outputs["stderr"] + outputs["stdout"] + str(outputs["error"])
    run = board["runs"][-1]
    (task,) = run["tasks"].values()
    assert run["state"] == "failed"
    assert task["state"] == "FAILED"
    assert "board boom" in task["error"]
    assert "raise ValueError('board boom')" in task["traceback"]


def test_board_file_is_written_atomically_in_the_runtime_dir(
    kernel: Kernel, jupyter: Jupyter
) -> None:
    kernel.execute("%nbflow run LabBoardBroken --text")

    names = [path.name for path in (jupyter.runtime / "nbflow").iterdir()]

    assert f"kernel-{kernel.kernel_id}.json" in names
    assert not [name for name in names if name.endswith(".tmp")]
    board = kernel.read_board()
    assert board is not None
    assert board["kernel_id"] == kernel.kernel_id
