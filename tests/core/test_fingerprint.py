"""Code-aware completeness: only what changed runs again, and nbflow says why."""

from __future__ import annotations

import importlib
import linecache
import os
import subprocess
import sys
import textwrap
import types
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.fingerprint import Fingerprinter
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

    accepted = list(accept([project.module.Report()], ["Loud"]).values())

    assert accepted == ["Loud()", "Report(level=1)"]
    assert [e.label for e in plan([project.module.Report()], mode="fingerprint")] == []


def test_outputs_without_sidecar_are_complete_and_unversioned(project) -> None:
    (project.out / "raw.txt").write_text("Hello")

    (item,) = explain([project.module.Raw()])

    assert not item.will_run
    assert item.reason.startswith("unversioned: ")
    assert "(fix: --accept Raw to adopt them, --force Raw to rebuild)" in item.reason


def test_exists_mode_outputs_after_an_edit_are_unversioned_not_up_to_date(
    project,
) -> None:
    nbflow.build([project.module.Report()])
    project.edit("return text.upper()", "return text.upper() + '!'")

    reasons = {e.label: e for e in explain([project.module.Report()])}

    assert not reasons["Report(level=1)"].will_run
    assert reasons["Report(level=1)"].reason.startswith("unversioned")
    assert "--accept Report" in reasons["Report(level=1)"].reason
    assert project.build() == []  # adopting an exists-mode pipeline rebuilds nothing


def test_adopted_pipeline_reruns_an_edited_unversioned_upstream(project) -> None:
    nbflow.build([project.module.Report()])
    accept([project.module.Report()], ["Report"])

    project.edit("return text.upper()", "return text.upper() + '!'")
    reasons = {e.label: e.reason for e in explain([project.module.Report()])}

    assert reasons["Loud()"].startswith("stale: unversioned")
    assert sorted(project.build()) == ["Loud", "Report"]
    assert (project.out / "loud.txt").read_text() == "HELLO!"


def test_deleted_sidecar_and_an_upstream_edit_rerun_everything_it_reaches(
    project,
) -> None:
    project.build()
    for sidecar in project.out.glob(".loud.txt.*.nbflow.json"):
        sidecar.unlink()

    project.edit('f.write("Hello")', 'f.write("Hi")')

    assert sorted(project.build()) == ["Loud", "Quiet", "Raw", "Report"]
    assert (project.out / "report.txt").read_text() == "HI|hi"


def test_one_output_without_sidecar_makes_the_task_unversioned(tmp_path) -> None:
    class Pair(nbflow.Task):
        def output(self):
            return [
                nbflow.LocalTarget(str(tmp_path / "a.txt")),
                nbflow.LocalTarget(str(tmp_path / "b.txt")),
            ]

        def run(self):
            for target in self.output():
                with target.open("w") as out:
                    out.write("x")

    nbflow.build([Pair()], completeness="fingerprint")
    next(tmp_path.glob(".b.txt.*.nbflow.json")).unlink()

    (item,) = explain([Pair()])

    assert item.reason.startswith("unversioned")


def test_external_task_outputs_are_complete_not_unversioned(tmp_path) -> None:
    (tmp_path / "in.txt").write_text("x")

    class Given(nbflow.ExternalTask):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "in.txt"))

    (item,) = explain([Given()])

    assert not item.will_run
    assert item.reason == "complete"


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


HELPER = """
SUFFIX = "!"
MARK = 1
TABLE = {"a": 1}
"""

CONSTANTS = """
import dataclasses
import enum

import nbflow

import {helper}
from {helper} import SUFFIX


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


@dataclasses.dataclass(frozen=True)
class Limits:
    low: int
    high: float


COLOUR = Colour.RED
LIMITS = Limits(1, 2.0)
NAMES = frozenset({{"a", "b"}})
RAW = b"x"
NOTHING = None
FLAG = False
SIZES = (1, 2.5, "x")


class Out(nbflow.Task):
    def output(self):
        return nbflow.MemoryTarget(__name__)

    def run(self):
        with self.output().open("w") as out:
            out.write(repr((SUFFIX, {helper}.MARK, {helper}.TABLE, COLOUR, LIMITS)))
        return NAMES, RAW

    def more(self):
        return (NOTHING, FLAG, SIZES)
"""


class Modules:
    """A task module and the helper module it imports, on disk, edited by tests."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.folder, self.name, self.helper = tmp_path, name, f"{name}_helper"
        self.sources = {
            self.helper: HELPER,
            name: CONSTANTS.format(helper=self.helper),
        }
        for module, source in self.sources.items():
            (tmp_path / f"{module}.py").write_text(source)
        sys.path.insert(0, str(tmp_path))

    def digest(self) -> str:
        for module in (self.name, self.helper):
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        task = importlib.import_module(self.name).Out()
        return Fingerprinter().digest_of(task)

    def edit(self, module: str, old: str, new: str) -> None:
        source = self.sources[module]
        assert old in source
        self.sources[module] = source.replace(old, new)
        (self.folder / f"{module}.py").write_text(self.sources[module])

    def close(self) -> None:
        for module in (self.name, self.helper):
            sys.modules.pop(module, None)
        sys.path.remove(str(self.folder))


@pytest.fixture
def modules(tmp_path, request):
    found = Modules(tmp_path, f"fp_constants_{request.node.name.split('[')[0]}")
    yield found
    found.close()


@pytest.mark.parametrize(
    ("where", "old", "new"),
    [
        ("helper", 'SUFFIX = "!"', 'SUFFIX = "?"'),
        ("helper", "MARK = 1", "MARK = 2"),
        ("task", "RED = 1", "RED = 3"),
        ("task", "LIMITS = Limits(1, 2.0)", "LIMITS = Limits(1, 2.5)"),
        ("task", "COLOUR = Colour.RED", "COLOUR = Colour.BLUE"),
        ("task", '{"a", "b"}', '{"a", "c"}'),
        ("task", 'RAW = b"x"', 'RAW = b"y"'),
        ("task", "NOTHING = None", "NOTHING = 0"),
        ("task", "FLAG = False", "FLAG = True"),
        ("task", '(1, 2.5, "x")', '(1, 2.5, "y")'),
    ],
)
def test_fingerprint_includes_constants_the_code_reads(
    modules, where, old, new
) -> None:
    before = modules.digest()

    modules.edit(modules.helper if where == "helper" else modules.name, old, new)

    assert modules.digest() != before


def test_fingerprint_leaves_out_mutable_containers(modules) -> None:
    before = modules.digest()

    modules.edit(modules.helper, 'TABLE = {"a": 1}', 'TABLE = {"a": 2}')

    assert modules.digest() == before


def test_why_names_the_constant_that_changed(tmp_path, modules) -> None:
    task = importlib.import_module(modules.name).Out()
    nbflow.build([task], completeness="fingerprint")
    modules.edit(modules.helper, 'SUFFIX = "!"', 'SUFFIX = "?"')
    modules.digest()  # re-imports both modules

    (item,) = explain([importlib.import_module(modules.name).Out()])

    assert item.reason == f"stale: constant {modules.name}.SUFFIX changed"


def test_frozenset_constants_digest_the_same_under_any_hash_seed(tmp_path) -> None:
    (tmp_path / "fp_seeded.py").write_text(
        "import nbflow\n"
        "class Seeded(nbflow.Task):\n"
        "    NAMES = frozenset({'alpha', 'beta', 'gamma', 'delta', 'epsilon'})\n"
        "    def run(self):\n"
        "        return self.NAMES\n"
    )
    script = (
        "import fp_seeded\n"
        "from nbflow.core.fingerprint import Fingerprinter\n"
        "print(Fingerprinter().digest_of(fp_seeded.Seeded()))\n"
    )

    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in (1, 2, 3)
    }

    assert len(digests) == 1
