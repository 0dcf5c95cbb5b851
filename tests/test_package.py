from __future__ import annotations

import json
import subprocess
import sys

import luigi

import nbflow

FORBIDDEN = (
    "IPython",
    "ipykernel",
    "ipywidgets",
    "papermill",
    "tornado",
    "dask",
    "distributed",
    "pandas",
    "nbformat",
    "fsspec",
    "rich",
    "cloudpickle",
)


#: Facade attributes that are not API: import plumbing and IPython's extension hooks.
NOT_API = {
    "Any",
    "TYPE_CHECKING",
    "annotations",
    "importlib",
    "load_ipython_extension",
    "unload_ipython_extension",
}
#: Names in ``luigi.__all__`` (3.8) that nbflow does not offer at the top level.
NOT_FROM_LUIGI = {
    "RPCError",  # the central scheduler's client: nbflow.server, a later issue
    "RemoteScheduler",
    "rpc",
    "configuration",  # nbflow reads [tool.nbflow] through nbflow.core.config
    "local_target",  # LocalTarget is nbflow.LocalTarget and nbflow.target.LocalTarget
    "range",  # luigi.tools.range's autoloaded Range* tasks
    "LuigiStatusCode",  # nbflow.execution_summary.LuigiStatusCode; nbflow.RunStatus
    "ChoiceListParameter",  # not implemented yet
    "StrParameter",  # not implemented yet (Parameter holds strings)
}


def test_all_is_sorted() -> None:
    names = [name for name in nbflow.__all__ if name != "__version__"]

    assert names == sorted(names, key=lambda n: (n[0].islower(), n))


def test_all_names_every_public_name_of_the_facade() -> None:
    public = {
        name
        for name, value in vars(nbflow).items()
        if not name.startswith("_")
        and not hasattr(value, "__path__")  # a subpackage, set by its own import
    }

    assert sorted(public - NOT_API - set(nbflow.__all__)) == []
    assert [name for name in nbflow.__all__ if not hasattr(nbflow, name)] == []


def test_all_has_the_luigi_top_level_names_nbflow_promises() -> None:
    promised = set(luigi.__all__) - NOT_FROM_LUIGI

    assert sorted(promised - set(nbflow.__all__)) == []
    assert sorted(NOT_FROM_LUIGI - set(luigi.__all__)) == []


def test_import_nbflow_is_light_in_a_fresh_interpreter() -> None:
    code = (
        "import json, sys; import nbflow; "
        f"print(json.dumps([m for m in {list(FORBIDDEN)!r} if m in sys.modules]))"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert json.loads(out.stdout) == []


def test_import_nbflow_reads_no_config(tmp_path) -> None:
    (tmp_path / "nbflow.toml").write_text("this is [not toml")
    code = "import nbflow; print('ok')"

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )

    assert out.stdout.strip() == "ok"


def test_luigi_module_names_are_available() -> None:
    from nbflow.execution_summary import LuigiStatusCode
    from nbflow.parameter import MissingParameterException
    from nbflow.task import flatten

    assert flatten([[1], 2]) == [1, 2]
    assert LuigiStatusCode.SUCCESS.value[0] == ":)"
    assert issubclass(MissingParameterException, nbflow.NbflowError)
    assert nbflow.format.Gzip is not None
    assert nbflow.date_interval.Month(2024, 6).dates()[0].isoformat() == "2024-06-01"
