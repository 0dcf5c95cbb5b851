"""%nbflow through IPython's in-process shell: parsing, runs, views, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nbflow.core.run import Run
from nbflow.kernel.magics import NbflowMagics

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

TASKS = """
class Clean(nbflow.Task):
    day = nbflow.IntParameter(default=1)
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, f"clean-{self.day}.txt"))
    def run(self):
        with self.output().open("w") as out:
            out.write("clean v1")

class Report(nbflow.Task):
    day = nbflow.IntParameter(default=1)
    def requires(self):
        return Clean(day=self.day)
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, f"report-{self.day}.txt"))
    def run(self):
        with self.input().open() as text, self.output().open("w") as out:
            out.write("report of " + text.read())
"""


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == 1, captured.err
    return lines[0]


def test_load_ext_registers_the_line_and_cell_magic(shell) -> None:
    shell.run_cell("%unload_ext nbflow")
    shell.run_cell("%load_ext nbflow")

    magics = shell.magics_manager.magics

    assert "nbflow" in magics["line"]
    assert "nbflow" in magics["cell"]
    assert isinstance(magics["line"]["nbflow"].__self__, NbflowMagics)


def test_configured_extension_loads_by_module_name(shell) -> None:
    import nbflow

    nbflow.unload_ipython_extension(shell)
    shell.extension_manager.loaded.discard("nbflow")  # as in a fresh kernel
    assert "nbflow" not in shell.magics_manager.magics["line"]

    shell.extension_manager.load_extension("nbflow")  # what c.*.extensions does

    assert "nbflow" in shell.magics_manager.magics["line"]


def test_help_documents_every_subcommand(shell, capsys) -> None:
    shell.run_cell("%nbflow --help")
    text = capsys.readouterr().out

    for command in ("run", "graph", "status", "attach", "show", "cancel", "help"):
        assert f"\n  {command}" in text
    assert "--background" in text
    assert "NBFLOW_DISPLAY" in text


def test_help_for_one_subcommand(shell, capsys) -> None:
    shell.run_cell("%nbflow help graph")
    text = capsys.readouterr().out

    assert "graph TASK" in text
    assert "run TASK" not in text


def test_run_blocks_and_the_next_cell_sees_the_output(shell, tmp_path, capsys) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%nbflow run Report --day 3")
    result = shell.run_cell(
        "with open(os.path.join(workdir, 'report-3.txt')) as f:\n    text = f.read()"
    )

    assert result.success
    assert shell.user_ns["text"] == "report of clean v1"
    out = capsys.readouterr().out
    assert "===== nbflow Execution Summary =====" in out
    assert "nbflow run 1 succeeded" in out


def test_second_run_has_nothing_to_do(shell, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Report")
    capsys.readouterr()

    shell.run_cell("%nbflow run Report")

    assert "nbflow run 2: nothing to do, Report(day=1) already complete" in (
        capsys.readouterr().out
    )


def test_redefined_class_runs_new_code_and_only_what_changed(shell, tmp_path) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Report --day 2")
    shell.run_cell(TASKS.replace("report of", "REPORT OF"))
    Path(tmp_path, "report-2.txt").unlink()

    shell.run_cell("%nbflow run Report --day 2")

    assert Path(tmp_path, "report-2.txt").read_text() == "REPORT OF clean v1"
    session = shell.magics_manager.registry["NbflowMagics"].session
    result = session.runs[-1].run.result
    assert result.tasks["completed"] == [shell.user_ns["Report"](day=2).task_id]
    assert len(result.tasks["already_done"]) == 1


def test_notebook_class_wins_over_a_registered_one(shell, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("Alias = Report")

    shell.run_cell("%nbflow run Alias --day 4")

    assert "nbflow run 1 succeeded" in capsys.readouterr().out


def test_family_params_and_run_options_are_parsed_like_the_cli(shell, tmp_path) -> None:
    shell.run_cell(TASKS)
    shell.run_cell(
        "class Both(nbflow.WrapperTask):\n"
        "    def requires(self):\n"
        "        return [Clean(), Report(day=2)]\n"
    )

    shell.run_cell("%nbflow run --workers 2 Both --Clean-day 5 --executor threads")

    assert Path(tmp_path, "clean-5.txt").exists()  # Clean() took --Clean-day
    assert Path(tmp_path, "report-2.txt").exists()


def test_cell_magic_adds_the_cells_lines(shell, tmp_path) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%%nbflow run Report\n# the day\n--day 6\n")

    assert Path(tmp_path, "report-6.txt").exists()


def test_unknown_task_is_one_line_with_did_you_mean(shell, capsys) -> None:
    shell.run_cell(TASKS)

    result = shell.run_cell("%nbflow run Reprot")

    line = one_error_line(capsys)
    assert line.startswith("UsageError: unknown task 'Reprot'")
    assert "Did you mean: Report" in line
    assert not result.success


def test_bad_parameter_value_is_one_line(shell, capsys) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%nbflow run Report --day soon")

    line = one_error_line(capsys)
    assert "Report.day: invalid value (got 'soon')" in line
    assert "Fix:" in line


def test_unknown_parameter_and_subcommand_are_one_line(shell, capsys) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%nbflow run Report --dya 1")
    assert "Did you mean: day?" in one_error_line(capsys)

    shell.run_cell("%nbflow grpah Report")
    line = one_error_line(capsys)
    assert "unknown subcommand (got 'grpah')" in line
    assert "Did you mean: graph?" in line


def test_bad_display_setting_is_one_line(shell, capsys, monkeypatch) -> None:
    shell.run_cell(TASKS)
    monkeypatch.setenv("NBFLOW_DISPLAY", "fancy")

    shell.run_cell("%nbflow run Report")

    assert "NBFLOW_DISPLAY: unknown display mode (got 'fancy')" in one_error_line(
        capsys
    )


def test_failed_run_prints_summary_then_one_error_line(shell, capsys) -> None:
    shell.run_cell(
        "class Broken(nbflow.Task):\n"
        "    def run(self):\n"
        "        raise ValueError('boom')\n"
    )

    result = shell.run_cell("%nbflow run Broken")

    captured = capsys.readouterr()
    assert "FAILED  Broken(): ValueError: boom" in captured.out
    assert "* 1 failed:" in captured.out
    assert "Traceback" not in captured.err
    assert (
        "nbflow run 1: failed (got Broken() failing: ValueError: boom)" in captured.err
    )
    assert not result.success


def test_failure_hint_is_a_show_command_that_round_trips(shell, capsys) -> None:
    shell.run_cell(
        "class HintedFailure(nbflow.Task):\n"
        "    day = nbflow.DateParameter()\n"
        "    note = nbflow.Parameter(default='a # b')\n"
        "    offset = nbflow.IntParameter(default=-3)\n"
        "    def run(self):\n"
        "        raise ValueError('boom')\n"
    )
    shell.run_cell("%nbflow run HintedFailure --day 2024-06-03 --offset -3")
    line = one_error_line(capsys)
    command = line.split("see the traceback with ", 1)[1].split(", correct", 1)[0]

    assert command == (
        "%nbflow show HintedFailure --day 2024-06-03 --note 'a # b' --offset=-3"
    )
    shell.run_cell(command)

    out = capsys.readouterr().out
    assert out.startswith("HintedFailure(day=2024-06-03, note=a # b, offset=-3)")
    assert "state:       failed in run 1 (failed)" in out
    assert "error:       ValueError: boom" in out


def test_show_reports_the_error_with_its_traceback(shell, capsys) -> None:
    shell.run_cell(
        "class Broken(nbflow.Task):\n"
        "    def run(self):\n"
        "        nbflow.Task.set_status_message(self, 'halfway')\n"
        "        self.set_tracking_url('http://logs/1')\n"
        "        raise ValueError('boom')\n"
    )
    shell.run_cell("%nbflow run Broken")
    capsys.readouterr()

    shell.run_cell("%nbflow show Broken")

    out = capsys.readouterr().out
    assert "state:       failed in run 1 (failed)" in out
    assert "message:     halfway" in out
    assert "tracking:    http://logs/1" in out
    assert "error:       ValueError: boom" in out
    assert "traceback:" in out
    assert "raise ValueError('boom')" in out


def test_show_without_a_run_reports_completeness(shell, capsys) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%nbflow show Report --day 9")

    out = capsys.readouterr().out
    assert "parameters:  day=9" in out
    assert "not complete; not run in this kernel" in out


def test_graph_shows_completion_state_without_running(shell, tmp_path, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Clean --day 7")
    capsys.readouterr()

    shell.run_cell("%nbflow graph Report --day 7")

    out = capsys.readouterr().out
    assert "nbflow graph: 2 tasks, 1 complete, 1 to run" in out
    assert "to run      Report(day=7)" in out
    assert "complete      Clean(day=7)" in out
    assert not Path(tmp_path, "report-7.txt").exists()


def test_graph_as_dot(shell, capsys) -> None:
    shell.run_cell(TASKS)

    shell.run_cell("%nbflow graph Report --dot")

    out = capsys.readouterr().out
    assert out.startswith("digraph nbflow {")
    assert '[label="Clean(day=1)", class="PENDING"' in out


def test_background_returns_the_handle_and_the_kernel_stays_usable(
    shell, capsys
) -> None:
    gate = threading.Event()
    shell.user_ns["gate"] = gate
    shell.run_cell(
        "class Gated(nbflow.Task):\n    def run(self):\n        gate.wait(10)\n"
    )

    shell.run_cell("handle = %nbflow run Gated --background")
    other = shell.run_cell("handle_state = handle.state; 1 + 1")
    handle = shell.user_ns["handle"]

    assert isinstance(handle, Run)
    assert other.result == 2
    assert shell.user_ns["handle_state"] == "running"
    assert "started in the background" in capsys.readouterr().out
    gate.set()
    assert handle.wait(10).scheduling_succeeded


def test_status_lists_the_runs(shell, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Report --day 1")
    shell.run_cell("%nbflow run Clean --day 2")
    capsys.readouterr()

    shell.run_cell("%nbflow status")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "state", "elapsed", "tasks", "counts"]
    assert lines[1].split()[:2] == ["1", "succeeded"]
    assert lines[1].endswith("Report(day=1)  2 done")
    assert lines[2].split()[:2] == ["2", "succeeded"]
    assert lines[2].endswith("Clean(day=2)   1 done")


def test_status_uses_the_views_categories(shell, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Clean --day 3")
    shell.run_cell(
        "class StatusBroken(nbflow.Task):\n"
        "    day = nbflow.IntParameter(default=1)\n"
        "    def requires(self):\n"
        "        return Clean(day=self.day)\n"
        "    def run(self):\n"
        "        raise ValueError('boom')\n"
        "class StatusTop(nbflow.WrapperTask):\n"
        "    def requires(self):\n"
        "        return [StatusBroken(day=3)]\n"
    )
    shell.run_cell("%nbflow run StatusTop")
    capsys.readouterr()

    shell.run_cell("%nbflow status")

    row = capsys.readouterr().out.splitlines()[2]
    assert row.split()[:2] == ["2", "failed"]
    assert row.endswith(
        "1 complete before the run, 1 failed, 1 upstream failed"
    )  # not "2 failed", not "1 done"


def test_attach_shows_a_finished_run_again(shell, capsys) -> None:
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run Report")
    capsys.readouterr()

    shell.run_cell("%nbflow attach 1")

    out = capsys.readouterr().out
    assert out.startswith("nbflow run 1 (Report(day=1)): succeeded, 2/2 done")
    assert "===== nbflow Execution Summary =====" in out


def test_attach_unknown_run_is_one_line(shell, capsys) -> None:
    shell.run_cell("%nbflow attach 3")

    assert "no run number 3 in this kernel" in one_error_line(capsys)


def test_widgets_mode_shows_a_run_view_then_its_last_state(
    shell, monkeypatch, capsys
) -> None:
    pytest.importorskip("ipywidgets")
    widgets = pytest.importorskip("nbflow.widgets")
    from nbflow.kernel.session import current_session

    monkeypatch.setenv("NBFLOW_DISPLAY", "widgets")
    shell.run_cell(TASKS)

    handle = shell.run_cell("%nbflow run Report --background").result
    handle.wait(10)

    assert isinstance(handle.view, widgets.RunView)
    assert "started in the background" not in capsys.readouterr().out
    output = current_session().runs[0].output
    assert len(output.display_ids) == 1  # shown once, not again as the cell's result
    assert WIDGET_MIME not in output.final
    assert "succeeded: 2 tasks: 2 done" in output.final["text/plain"]

    shell.run_cell("%nbflow attach 1")  # a finished run: its last state

    out = capsys.readouterr().out
    assert "nbflow run 1 (Report(day=1)): succeeded" in out
    assert len(output.display_ids) == 2
    handle.view.close()
