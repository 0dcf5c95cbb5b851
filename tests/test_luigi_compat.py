"""A pipeline written for Luigi runs unchanged with ``import nbflow as luigi``."""

from __future__ import annotations

import ast
import gzip
import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbflow

PACKAGE = Path(nbflow.__file__).parent
#: The Luigi compatibility modules (shims): Luigi's module paths, re-exports only.
LUIGI_SHIMS = (
    "cmdline",
    "cmdline_parser",
    "configuration",
    "date_interval",
    "event",
    "execution_summary",
    "format",
    "interface",
    "local_target",
    "lock",
    "mock",
    "notifications",
    "parameter",
    "retcodes",
    "rpc",
    "scheduler",
    "setup_logging",
    "target",
    "task",
    "task_register",
    "util",
    "worker",
)
SHIM_HEADER = "Luigi compatibility: re-exports only"

PIPELINE = textwrap.dedent("""
    import datetime
    import sys

    if sys.argv[1] == "nbflow":
        import nbflow as luigi
    else:
        import luigi

    class Numbers(luigi.Task):
        day = luigi.DateParameter()
        count = luigi.IntParameter(default=5)

        def output(self):
            return luigi.LocalTarget(f"out/numbers-{self.day:%Y%m%d}-{self.count}.txt")

        def run(self):
            with self.output().open("w") as out:
                for i in range(self.count):
                    out.write(f"{i}\\n")

    class Squares(luigi.Task):
        interval = luigi.DateIntervalParameter()

        def requires(self):
            return [Numbers(day=d) for d in self.interval.dates()]

        def output(self):
            return {"sum": luigi.LocalTarget(f"out/squares-{self.interval}.txt"),
                    "zipped": luigi.LocalTarget(f"out/squares-{self.interval}.gz",
                                                format=luigi.format.Gzip)}

        def run(self):
            total = 0
            for target in self.input():
                with target.open("r") as lines:
                    total += sum(int(x) ** 2 for x in lines)
            with self.output()["sum"].open("w") as out:
                out.write(f"{total}\\n")
            with self.output()["zipped"].open("w") as out:
                out.write(b"%d" % total)

    class All(luigi.WrapperTask):
        def requires(self):
            return Squares(interval=luigi.date_interval.Custom(
                datetime.date(2024, 6, 1), datetime.date(2024, 6, 4)))

    result = luigi.build([All()], local_scheduler=True, detailed_summary=True)
    print("IDS", sorted(t.task_id for t in [All(), *All().deps(), *All().deps()[0].deps()]))
    print("OK", result.scheduling_succeeded, result.status.name)
""")


def _run(library: str, folder) -> str:
    (folder / "pipeline.py").write_text(PIPELINE)
    out = subprocess.run(
        [sys.executable, "pipeline.py", library],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_luigi_pipeline_gives_same_files_ids_and_result(tmp_path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()

    ours_out = _run("nbflow", ours)
    theirs_out = _run("luigi", theirs)

    assert ours_out == theirs_out
    assert "OK True SUCCESS" in ours_out
    files = sorted(p.name for p in (ours / "out").iterdir())
    assert files == sorted(p.name for p in (theirs / "out").iterdir())
    for name in files:
        mine, luigis = (
            (ours / "out" / name).read_bytes(),
            (theirs / "out" / name).read_bytes(),
        )
        if name.endswith(".gz"):  # the gzip header holds a timestamp
            mine, luigis = gzip.decompress(mine), gzip.decompress(luigis)
        assert mine == luigis


def _shim_files(name: str) -> list[Path]:
    """Return a shim's source files: ``name.py``, or every file of package ``name``."""
    module = PACKAGE / f"{name}.py"
    return [module] if module.exists() else sorted((PACKAGE / name).glob("*.py"))


def _is_shim_package(init: Path) -> bool:
    return (ast.get_docstring(ast.parse(init.read_text())) or "").startswith(
        SHIM_HEADER
    )


def test_luigi_shims_are_the_top_level_modules_the_facade_lists() -> None:
    top_level = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    top_level |= {
        init.parent.name
        for init in PACKAGE.glob("*/__init__.py")
        if _is_shim_package(init)
    }
    section = (nbflow.__doc__ or "").split("Luigi compatibility modules")[1]
    section = section.split("Real code")[0]

    assert sorted(top_level) == list(LUIGI_SHIMS)
    assert re.findall(r"``nbflow\.(\w+)``", section) == list(LUIGI_SHIMS)


#: Shims that put their core module in sys.modules under their own name, so that a
#: patch of one of their names (``mock.patch("luigi.notifications.send_email_smtp")``)
#: reaches the code that calls it: Luigi's module name -> nbflow's core module.
LUIGI_ALIASES = {"lock": "pidfile", "notifications": "notifications"}
ALIAS_STATEMENT = "sys.modules[__name__] = _implementation"


def _is_shim_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if ast.unparse(node) == ALIAS_STATEMENT:
        return True  # an alias shim (see test_luigi_alias_shims_are_their_core_module)
    targets = node.targets if isinstance(node, ast.Assign) else []
    return [ast.unparse(target) for target in targets] == ["__all__"]


def test_luigi_shims_hold_only_a_docstring_imports_and_all() -> None:
    for path in (path for name in LUIGI_SHIMS for path in _shim_files(name)):
        tree = ast.parse(path.read_text())
        docstring = ast.get_docstring(tree) or ""

        others = [ast.unparse(n) for n in tree.body[1:] if not _is_shim_statement(n)]

        assert docstring.startswith(SHIM_HEADER), path
        assert others == [], path


def test_luigi_alias_shims_are_their_core_module_so_patches_reach_it() -> None:
    aliases = {
        path.stem
        for path in PACKAGE.glob("*.py")
        if ALIAS_STATEMENT in path.read_text()
    }

    assert sorted(aliases) == list(LUIGI_ALIASES)
    for name, core in LUIGI_ALIASES.items():
        shim = importlib.import_module(f"nbflow.{name}")
        assert shim is importlib.import_module(f"nbflow.core.{core}"), name
        assert getattr(nbflow, name) is shim, name


def test_luigi_shims_export_what_their_all_names() -> None:
    for path in (path for name in LUIGI_SHIMS for path in _shim_files(name)):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        dotted = ".".join(["nbflow", *(p for p in parts if p != "__init__")])
        module = importlib.import_module(dotted)

        missing = [n for n in module.__all__ if not hasattr(module, n)]

        assert missing == [], dotted
        assert module.__all__, dotted


def _imported_modules(path: Path) -> set[str]:
    """Return every module an nbflow source file imports (``from m import x``: m.x)."""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *filter(None, [node.module])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_nbflow_module_but_the_facade_imports_a_luigi_shim() -> None:
    shims = {f"nbflow.{name}" for name in LUIGI_SHIMS}
    offenders = {}

    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue  # the facade exposes them, as luigi/__init__.py does
        imported = {
            module
            for module in _imported_modules(path)
            if module in shims or module.startswith(tuple(f"{s}." for s in shims))
        }
        if imported:
            offenders[str(path.relative_to(PACKAGE))] = sorted(imported)

    assert offenders == {}


def test_luigi_tools_range_is_reached_as_an_attribute_without_an_import() -> None:
    # Luigi's own tests write luigi.tools.range.RangeDaily after only `import luigi`
    code = (
        "import nbflow as luigi\n"
        "print(luigi.tools.range.RangeDaily.__name__)\n"
        "import sys\n"
        "print('nbflow.tools.range' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["RangeDaily", "True"]
