"""Task runs on a Dask cluster: the executor plugin named ``dask``.

``nbflow run Task --executor dask`` (``build(..., executor="dask")``, ``%nbflow run
Task --executor dask``) runs each task on a Dask cluster while nbflow keeps the graph,
the state and the event stream: an embedded ``LocalCluster`` sized by ``--workers``,
or an existing one named by ``--dask-scheduler tcp://host:8786`` (``[dask]
scheduler_address``), or a ``distributed.Client`` passed from Python.

- :mod:`nbflow.dask.executor`: :class:`~nbflow.dask.executor.DaskExecutor`, the plugin;
- :mod:`nbflow.dask.cluster`: the cluster's lifecycle and what it declares;
- :mod:`nbflow.dask.relay`: runtime reports from Dask workers, through distributed's
  own events (``log_event`` / ``subscribe_topic``);
- :mod:`nbflow.dask.remote`: what runs on a Dask worker (cancellable, reporting);
- :mod:`nbflow.dask.errors`: what can go wrong, said clearly.

Importing this package imports nothing of Dask; only :mod:`nbflow.dask` imports
``dask`` or ``distributed`` (an import-linter contract), and only when used.

Imports: stdlib, nbflow.core.*, distributed (lazily, in the modules named above).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbflow.dask.executor import DaskExecutor


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from nbflow.dask.executor import DaskExecutor  # noqa: PLC0415  (lazy: Dask)

        return DaskExecutor
    raise AttributeError(name)


__all__ = ["DaskExecutor"]
