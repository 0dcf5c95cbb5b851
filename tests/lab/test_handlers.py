"""nbflow's Jupyter server extension in a real ``jupyter server``, over real sockets.

Kernel runs reach ``/nbflow/api/runs`` through the run boards; the server maps kernels
to notebook paths; every route needs Jupyter's token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.lab.lab_server import wait_for

if TYPE_CHECKING:
    from tests.lab.lab_server import Jupyter, Kernel

pytestmark = [pytest.mark.kernel, pytest.mark.server]

PIPELINE = """\
class LabApiRaw(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget('api/raw.txt')
    def run(self):
        with self.output().open('w') as out:
            out.write('raw')

class LabApiReport(nbflow.Task):
    def requires(self):
        return LabApiRaw()
    def output(self):
        return nbflow.LocalTarget('/tmp/nbflow-lab-api-outside/report.txt')
    def run(self):
        print('reporting')
        with self.output().open('w') as out:
            out.write('report')
"""


@pytest.fixture(scope="module")
def api_run(kernel: Kernel) -> int:
    """The number of a finished run of LabApiReport in the kernel."""
    kernel.execute(
        "import shutil; shutil.rmtree('/tmp/nbflow-lab-api-outside', True)\n"
        "shutil.rmtree('api', True)\n" + PIPELINE
    )
    outputs = kernel.execute("%nbflow run LabApiReport --text")
    assert "succeeded" in outputs["stdout"], outputs
    return int(
        kernel.execute("len(nbflow.kernel.current_session().runs)")["results"][0][
            "text/plain"
        ]
    )


def test_runs_lists_the_kernels_runs_with_the_notebook_path(
    jupyter: Jupyter, kernel: Kernel, api_run: int
) -> None:
    reply = jupyter.get("/nbflow/api/runs")

    assert reply.status == 200
    document = reply.json()
    (entry,) = [k for k in document["kernels"] if k["kernel_id"] == kernel.kernel_id]
    assert entry["path"] == "work/pipeline.ipynb"
    assert entry["alive"] is True
    run = next(r for r in entry["runs"] if r["number"] == api_run)
    assert run["state"] == "succeeded"
    assert run["counts"] == {"DONE": 2}
    assert "tasks" not in run
    assert set(run) >= {"run_id", "command", "roots", "started", "finished", "user"}
    assert document["server"] == {"url": None, "connected": False}


def test_run_detail_resolves_paths_against_labs_root(
    jupyter: Jupyter, kernel: Kernel, api_run: int
) -> None:
    reply = jupyter.get(f"/nbflow/api/runs/{kernel.kernel_id}/{api_run}")

    assert reply.status == 200
    tasks = reply.json()["tasks"]
    raw = next(t for t in tasks.values() if t["family"] == "LabApiRaw")
    report = next(t for t in tasks.values() if t["family"] == "LabApiReport")
    assert raw["outputs"] == [
        {"path": str(jupyter.root / "work/api/raw.txt"), "lab_path": "work/api/raw.txt"}
    ]
    assert report["outputs"] == [
        {"path": "/tmp/nbflow-lab-api-outside/report.txt", "lab_path": None}
    ]
    assert report["notebook"] is None
    assert "reporting" in report["log"]
    assert set(report) >= {
        "label",
        "state",
        "deps",
        "params",
        "status_message",
        "progress",
        "tracking_url",
        "error",
        "traceback",
    }


def test_unknown_kernel_or_run_is_a_404_that_says_what_to_do(
    jupyter: Jupyter, kernel: Kernel, api_run: int
) -> None:
    no_kernel = jupyter.get("/nbflow/api/runs/no-such-kernel/1")
    no_run = jupyter.get(f"/nbflow/api/runs/{kernel.kernel_id}/999")

    assert no_kernel.status == 404
    assert "%load_ext nbflow" in no_kernel.json()["message"]
    assert no_run.status == 404
    assert "has no run 999" in no_run.json()["message"]
    assert "Fix:" in no_run.json()["message"]


def test_drawing_lays_the_run_out_with_its_states(
    jupyter: Jupyter, kernel: Kernel, api_run: int
) -> None:
    path = f"/nbflow/api/runs/{kernel.kernel_id}/{api_run}/drawing"

    first = jupyter.get(path)
    again = jupyter.get(path + "?expand=LabApiRaw")

    assert first.status == 200
    drawing = first.json()
    assert drawing["svg"].lstrip().startswith("<svg")
    assert drawing["engine"] in ("dot", "fallback")
    assert set(drawing["states"].values()) == {"DONE"}
    assert set(drawing["node_of"]) == set(drawing["states"])
    assert drawing["shares"] == {}
    assert drawing["truncated"] is False
    assert again.json()["svg"] == drawing["svg"]


@pytest.mark.parametrize(
    "path",
    [
        "/nbflow/api/runs",
        "/nbflow/api/settings",
        "/nbflow/api/runs/x/1",
        "/nbflow/api/server/api/v1/tasks",
    ],
)
def test_every_route_needs_jupyters_token(jupyter: Jupyter, path: str) -> None:
    without = jupyter.get(path, token=None)
    wrong = jupyter.get(path, token="not-the-token")  # noqa: S106

    assert without.status in (401, 403)
    assert wrong.status in (401, 403)
    assert b"kernel" not in without.body


def test_put_without_token_is_refused(jupyter: Jupyter) -> None:
    reply = jupyter.request(
        "PUT", "/nbflow/api/settings", {"server_url": "http://x"}, token=None
    )

    assert reply.status in (401, 403)
    assert jupyter.get("/nbflow/api/settings").json()["server_url"] != "http://x"


def test_board_of_a_kernel_started_later_shows_up(
    jupyter: Jupyter, kernel: Kernel
) -> None:
    before = kernel.execute("len(nbflow.kernel.current_session().runs)")
    number = int(before["results"][0]["text/plain"]) + 1

    kernel.execute("%nbflow run LabApiRaw --text")

    def listed() -> bool:
        kernels = jupyter.get("/nbflow/api/runs").json()["kernels"]
        entry = next(k for k in kernels if k["kernel_id"] == kernel.kernel_id)
        return any(run["number"] == number for run in entry["runs"])

    assert wait_for("the new run in the list", listed)


def test_a_kernel_shut_down_leaves_no_board_and_leaves_the_list(
    jupyter: Jupyter,
) -> None:
    from tests.lab.lab_server import open_kernel

    with open_kernel(jupyter, "work/other.ipynb") as other:
        other.execute(PIPELINE.split("class LabApiReport", maxsplit=1)[0])
        other.execute("%nbflow run LabApiRaw --text")
        kernels = jupyter.get("/nbflow/api/runs").json()["kernels"]
        listed = next(k for k in kernels if k["kernel_id"] == other.kernel_id)

        deleted = jupyter.request("DELETE", f"/api/sessions/{other.session_id}")
        wait_for("the board's removal", lambda: not other.board.exists())
        after = jupyter.get("/nbflow/api/runs").json()["kernels"]

    assert listed["path"] == "work/other.ipynb"
    assert [run["state"] for run in listed["runs"]] == ["succeeded"]
    assert deleted.status == 204
    assert other.kernel_id not in [k["kernel_id"] for k in after]


def test_boards_of_dead_processes_are_left_out(jupyter: Jupyter) -> None:
    import json
    import os
    import subprocess

    gone = subprocess.Popen(["true"])  # noqa: S607
    gone.wait()
    folder = jupyter.runtime / "nbflow"
    folder.mkdir(exist_ok=True)
    for name, pid in (("dead", gone.pid), ("elsewhere", os.getpid())):
        board = {"version": 1, "kernel_id": name, "pid": pid, "runs": []}
        (folder / f"kernel-{name}.json").write_text(json.dumps(board))
    try:
        kernels = jupyter.get("/nbflow/api/runs").json()["kernels"]
    finally:
        for name in ("dead", "elsewhere"):
            (folder / f"kernel-{name}.json").unlink()

    listed = {entry["kernel_id"]: entry for entry in kernels}
    assert "dead" not in listed
    assert listed["elsewhere"]["alive"] is False
    assert listed["elsewhere"]["path"] is None
