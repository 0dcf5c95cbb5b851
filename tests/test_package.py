from __future__ import annotations

import json
import subprocess
import sys

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


def test_all_is_sorted_and_complete() -> None:
    names = [name for name in nbflow.__all__ if name != "__version__"]

    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    for name in nbflow.__all__:
        assert hasattr(nbflow, name), name


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
