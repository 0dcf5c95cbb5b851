"""Code-aware completeness: only what changed runs again, and nbflow says why."""

from __future__ import annotations

import importlib
import linecache
import sys
import textwrap
import types
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.planning import accept, explain, plan

if TYPE_CHECKING:
    from pathlib import Path

PIPELINE = """
import nbflow

OUT = {out!r}


def shout(text):
    return text.upper()


def whisper(text):
    return text.lower()


class Raw(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(OUT + "/raw.txt")

    def run(self):
        log("Raw")
        with self.output().open("w") as f:
            f.write("Hello")


class Loud(nbflow.Task):
    def requires(self):
        return Raw()

    def output(self):
        return nbflow.LocalTarget(OUT + "/loud.txt")

    def run(self):
        log("Loud")
        with self.output().open("w") as f:
            f.write(shout(read(self.input())))


class Quiet(nbflow.Task):
    level = nbflow.IntParameter(default=1)

    def requires(self):
        return Raw()

    def output(self):
        return nbflow.LocalTarget(OUT + "/quiet.txt")

    def run(self):
        log("Quiet")
        with self.output().open("w") as f:
            f.write(whisper(read(self.input())) * self.level)


class Report(nbflow.Task):
    level = nbflow.IntParameter(default=1)

    def requires(self):
        return [Loud(), Quiet(level=self.level)]

    def output(self):
        return nbflow.LocalTarget(OUT + "/report.txt")

    def run(self):
        log("Report")
        with self.output().open("w") as f:
            f.write("|".join(read(t) for t in self.input()))


def read(target):
    with target.open() as f:
        return f.read()


def log(name):
    with open(OUT + "/runs.log", "a") as f:
        f.write(name + "\\n")
"""


class Project:
    """A pipeline module on disk that tests edit and reload."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.out = tmp_path / "out"
        self.out.mkdir()
        self.path = tmp_path / f"{name}.py"
        self.name = name
        self.source = PIPELINE.format(out=str(self.out))
        self.path.write_text(self.source)
        sys.path.insert(0, str(tmp_path))
        self.module = importlib.import_module(name)

    def edit(self, old: str, new: str) -> None:
        assert old in self.source
        self.source = self.source.replace(old, new)
        self.path.write_text(self.source)
        linecache.checkcache(str(self.path))
        importlib.invalidate_caches()
        self.module = importlib.reload(self.module)

    def build(self, **kwargs) -> list[str]:
        log = self.out / "runs.log"
        log.write_text("")
        result = nbflow.build(
            [self.module.Report(**kwargs)],
            completeness="fingerprint",
            detailed_summary=True,
        )
        assert result.scheduling_succeeded, result.summary_text
        return log.read_text().split()


@pytest.fixture
def project(tmp_path, request):
    name = f"fp_pipeline_{request.node.name}"
    yield Project(tmp_path, name)
    sys.modules.pop(name, None)
    sys.path.remove(str(tmp_path))


def test_first_run_runs_everything_and_writes_sidecars(project) -> None:
    assert sorted(project.build()) == ["Loud", "Quiet", "Raw", "Report"]

    assert list(project.out.glob(".report.txt.*.nbflow.json"))
    assert project.build() == []


def test_editing_a_helper_reruns_exactly_its_task_and_downstream(project) -> None:
    project.build()

    project.edit("return text.upper()", "return text.upper() + '!'")

    assert sorted(project.build()) == ["Loud", "Report"]
    assert (project.out / "loud.txt").read_text() == "HELLO!"


def test_comment_and_formatting_edits_rerun_nothing(project) -> None:
    project.build()

    project.edit(
        "def shout(text):\n    return text.upper()",
        "def shout(text):\n    # make it loud\n    return (text.upper())  ",
    )
    project.edit(
        "class Raw(nbflow.Task):\n", 'class Raw(nbflow.Task):\n    """Say hello."""\n\n'
    )

    assert project.build() == []


def test_changing_a_parameter_reruns_only_the_tasks_it_reaches(project) -> None:
    project.build()

    assert sorted(project.build(level=2)) == ["Quiet", "Report"]
    assert (project.out / "quiet.txt").read_text() == "hellohello"


def test_why_explains_what_would_run(project) -> None:
    project.build()
    project.edit("return text.lower()", "return text.lower().strip()")

    reasons = {e.label: e for e in explain([project.module.Report()])}

    assert reasons["Quiet(level=1)"].will_run
    assert "code changed in whisper" in reasons["Quiet(level=1)"].reason
    assert reasons["Report(level=1)"].will_run
    assert "upstream Quiet(level=1) changed" in reasons["Report(level=1)"].reason
    assert not reasons["Raw()"].will_run
    assert reasons["Loud()"].reason == "up to date"


def test_force_reruns_a_task_and_everything_downstream(project) -> None:
    project.build()

    log = project.out / "runs.log"
    log.write_text("")
    nbflow.build([project.module.Report()], completeness="fingerprint", force=["Quiet"])

    assert sorted(log.read_text().split()) == ["Quiet", "Report"]


def test_accept_records_the_new_fingerprint_without_running(project) -> None:
    project.build()
    project.edit("return text.upper()", "return text.upper()  or ''")

    accepted = accept([project.module.Report()], ["Loud"])

    assert accepted == ["Loud()", "Report(level=1)"]
    assert [e.label for e in plan([project.module.Report()], mode="fingerprint")] == []


def test_outputs_without_sidecar_are_complete_and_unversioned(project) -> None:
    (project.out / "raw.txt").write_text("Hello")

    reasons = {e.label: e.reason for e in explain([project.module.Raw()])}

    assert reasons == {"Raw()": "unversioned"}


def test_exists_mode_writes_no_sidecars(project) -> None:
    nbflow.build([project.module.Report()])

    assert not list(project.out.glob(".*.nbflow.json"))


def test_stale_rerun_that_fails_keeps_the_old_output(project) -> None:
    project.build()
    project.edit("f.write(shout(read(self.input())))", 'raise RuntimeError("broken")')

    result = nbflow.build(
        [project.module.Report()], completeness="fingerprint", detailed_summary=True
    )

    assert result.tasks["failed"] == [project.module.Loud().task_id]
    assert (project.out / "loud.txt").read_text() == "HELLO"
    assert not [p for p in project.out.iterdir() if "nbflow-tmp" in p.name]


def test_redefined_notebook_cell_reruns_exactly_that_task(tmp_path) -> None:
    out = str(tmp_path)
    module = types.ModuleType("__nbflow_cells__")
    sys.modules[module.__name__] = module

    def cell(source: str, number: int) -> None:
        filename = f"<cell-{number}>"
        source = textwrap.dedent(source)
        linecache.cache[filename] = (
            len(source),
            None,
            source.splitlines(True),
            filename,
        )
        exec(compile(source, filename, "exec"), module.__dict__)

    cell(
        f"""
        import nbflow
        class A(nbflow.Task):
            def output(self):
                return nbflow.LocalTarget({out!r} + "/a.txt")
            def run(self):
                self.output().open("w").close()
        """,
        1,
    )
    cell(
        f"""
        class B(nbflow.Task):
            def requires(self):
                return A()
            def output(self):
                return nbflow.LocalTarget({out!r} + "/b.txt")
            def run(self):
                with self.output().open("w") as f:
                    f.write("v1")
        """,
        2,
    )
    try:
        nbflow.build([module.B()], completeness="fingerprint")
        cell(
            f"""
            class B(nbflow.Task):
                def requires(self):
                    return A()
                def output(self):
                    return nbflow.LocalTarget({out!r} + "/b.txt")
                def run(self):
                    with self.output().open("w") as f:
                        f.write("v2")
            """,
            3,
        )
        would_run = [e.label for e in plan([module.B()], mode="fingerprint")]
        nbflow.build([module.B()], completeness="fingerprint")
    finally:
        del sys.modules[module.__name__]

    assert would_run == ["B()"]
    assert (tmp_path / "b.txt").read_text() == "v2"
