"""``%nbflow run TASK --executor dask --dask-scheduler ADDRESS`` in a kernel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.kernel.conftest import shell  # noqa: F401  (the in-process IPython shell)

if TYPE_CHECKING:
    from distributed import Client

pytestmark = pytest.mark.dask

TASK = """
class DaskMagicWhere(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, "where"))

    def run(self):
        from distributed import get_worker
        with self.output().open_atomic("w") as out:
            out.write(get_worker().scheduler.address)
"""


def test_dask_magic_runs_a_notebook_task_on_the_cluster_at_the_address(
    shell: Any,  # noqa: F811
    full_cluster: Client,
) -> None:
    address = full_cluster.scheduler.address
    shell.run_cell(TASK)

    result = shell.run_cell(
        f"%nbflow run DaskMagicWhere --executor dask --dask-scheduler {address}"
    )

    assert result.error_in_exec is None
    where = Path(shell.user_ns["workdir"]) / "where"
    assert where.read_text() == address
