"""act(): the panel's node menu, run in a real kernel as the front end runs it.

Every task appends a line to a marker file when it runs, so the tests count exactly
which tasks ran again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.lab.lab_server import wait_for

if TYPE_CHECKING:
    from tests.lab.lab_server import Jupyter, Kernel

pytestmark = [pytest.mark.kernel, pytest.mark.server]

#: A -> B -> C -> Top, and A -> Side -> Top.
PIPELINE = """\
import shutil
shutil.rmtree('act', True)
os.makedirs('act/marks')

class LabActStep(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(f'act/{type(self).__name__}.txt')
    def run(self):
        with open(f'act/marks/{type(self).__name__}', 'a') as marks:
            marks.write('ran\\n')
        with self.output().open('w') as out:
            out.write('x')

class LabActA(LabActStep):
    pass

class LabActB(LabActStep):
    def requires(self):
        return LabActA()

class LabActC(LabActStep):
    def requires(self):
        return LabActB()

class LabActSide(LabActStep):
    def requires(self):
        return LabActA()

class LabActTop(LabActStep):
    def requires(self):
        return [LabActC(), LabActSide()]
"""
FAMILIES = ("LabActA", "LabActB", "LabActC", "LabActSide", "LabActTop")


def act(kernel: Kernel, request: dict[str, Any]) -> dict[str, Any]:
    """Run act() as the panel does; return its application/json result."""
    code = (
        "import nbflow.kernel.lab as _nbflow_lab; "
        f"_nbflow_lab.act({json.dumps(json.dumps(request))})"
    )
    outputs = kernel.execute(code)
    assert outputs["status"] == "ok", outputs
    (result,) = outputs["results"]
    answer: dict[str, Any] = result["application/json"]
    return answer


def runs_of(jupyter: Jupyter, root: str) -> dict[str, int]:
    marks = jupyter.root / "work" / "act" / "marks"
    return {
        family: len((marks / family).read_text().splitlines())
        if (marks / family).exists()
        else 0
        for family in FAMILIES
    }


def task_id(jupyter: Jupyter, kernel: Kernel, run: int, family: str) -> str:
    detail = jupyter.get(f"/nbflow/api/runs/{kernel.kernel_id}/{run}").json()
    found: str = next(i for i, t in detail["tasks"].items() if t["family"] == family)
    return found


def wait_until_ended(jupyter: Jupyter, kernel: Kernel, run: int) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        reply = jupyter.get(f"/nbflow/api/runs/{kernel.kernel_id}/{run}")
        document: dict[str, Any] = reply.json()
        return (
            document if reply.status == 200 and document["state"] != "running" else None
        )

    result: dict[str, Any] = wait_for(f"run {run} to end", ended)
    return result


@pytest.fixture(scope="module")
def first_run(kernel: Kernel, jupyter: Jupyter) -> int:
    """The number of a finished run of the whole pipeline; each task ran once."""
    kernel.execute(PIPELINE)
    outputs = kernel.execute("%nbflow run LabActTop --text")
    assert "succeeded" in outputs["stdout"], outputs
    number = int(
        kernel.execute("len(nbflow.kernel.current_session().runs)")["results"][0][
            "text/plain"
        ]
    )
    wait_until_ended(jupyter, kernel, number)
    assert runs_of(jupyter, "act") == dict.fromkeys(FAMILIES, 1)
    return number


def test_run_from_here_runs_exactly_the_task_and_its_downstream_again(
    kernel: Kernel, jupyter: Jupyter, first_run: int
) -> None:
    before = runs_of(jupyter, "act")
    b_id = task_id(jupyter, kernel, first_run, "LabActB")

    answer = act(kernel, {"action": "run_from_here", "run": first_run, "task_id": b_id})
    ended = wait_until_ended(jupyter, kernel, answer["run"])

    assert answer["ok"] is True, answer
    assert answer["run"] > first_run
    assert ended["state"] == "succeeded"
    states = {task["family"]: task["state"] for task in ended["tasks"].values()}
    assert states == {
        "LabActA": "complete",
        "LabActB": "DONE",
        "LabActC": "DONE",
        "LabActSide": "complete",
        "LabActTop": "DONE",
    }
    assert ended["counts"] == {"DONE": 3, "complete": 2}
    after = runs_of(jupyter, "act")
    ran = {family for family in FAMILIES if after[family] > before[family]}
    assert ran == {"LabActB", "LabActC", "LabActTop"}
    assert all(after[family] - before[family] <= 1 for family in FAMILIES)


def test_run_starts_the_task_in_the_background(
    kernel: Kernel, jupyter: Jupyter, first_run: int
) -> None:
    (jupyter.root / "work" / "act" / "LabActSide.txt").unlink()
    before = runs_of(jupyter, "act")
    side_id = task_id(jupyter, kernel, first_run, "LabActSide")

    answer = act(kernel, {"action": "run", "run": first_run, "task_id": side_id})
    ended = wait_until_ended(jupyter, kernel, answer["run"])

    assert answer["ok"] is True, answer
    assert ended["roots"] == [side_id]
    after = runs_of(jupyter, "act")
    assert {f: after[f] - before[f] for f in FAMILIES} == {
        "LabActA": 0,
        "LabActB": 0,
        "LabActC": 0,
        "LabActSide": 1,
        "LabActTop": 0,
    }


def test_why_answers_the_text_of_nbflow_why(
    kernel: Kernel, jupyter: Jupyter, first_run: int
) -> None:
    top_id = task_id(jupyter, kernel, first_run, "LabActTop")

    answer = act(kernel, {"action": "why", "run": first_run, "task_id": top_id})

    assert answer["ok"] is True, answer
    assert answer["run"] is None
    assert "LabActTop" in answer["why"]
    assert "tasks would run" in answer["why"]


def test_unknown_run_or_task_is_answered_with_the_fix(
    kernel: Kernel, first_run: int
) -> None:
    no_run = act(kernel, {"action": "why", "run": 999, "task_id": "x"})
    no_task = act(kernel, {"action": "run", "run": first_run, "task_id": "Nope_1"})
    no_action = act(kernel, {"action": "explode", "run": first_run, "task_id": "x"})

    assert no_run["ok"] is False
    assert "no run number 999" in no_run["message"]
    assert "Fix:" in no_run["message"]
    assert no_task["ok"] is False
    assert "'Nope_1'" in no_task["message"]
    assert "Fix:" in no_task["message"]
    assert no_action["ok"] is False
    assert "run, run_from_here, why" in no_action["message"]


def test_run_from_here_runs_the_code_of_a_cell_run_again(
    kernel: Kernel, jupyter: Jupyter, first_run: int
) -> None:
    kernel.execute(
        "class LabActTop(LabActStep):\n"
        "    def requires(self):\n"
        "        return [LabActC(), LabActSide()]\n"
        "    def run(self):\n"
        "        with open('act/marks/LabActTop', 'a') as marks:\n"
        "            marks.write('edited\\n')\n"
        "        with self.output().open('w') as out:\n"
        "            out.write('x')\n"
    )
    top_id = task_id(jupyter, kernel, first_run, "LabActTop")

    answer = act(
        kernel, {"action": "run_from_here", "run": first_run, "task_id": top_id}
    )
    ended = wait_until_ended(jupyter, kernel, answer["run"])

    assert ended["state"] == "succeeded"
    marks = (jupyter.root / "work" / "act" / "marks" / "LabActTop").read_text()
    assert marks.splitlines()[-1] == "edited"
