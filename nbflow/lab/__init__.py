"""nbflow's Jupyter server extension: the REST API of JupyterLab's nbflow panel.

Enabled by ``jupyter-config/jupyter_server_config.d/nbflow.json`` (installed with the
wheel as ``etc/jupyter/jupyter_server_config.d/nbflow.json``), it adds, under
``<base_url>nbflow/api``, the runs of this server's kernels (read from their run
boards, :mod:`nbflow.kernel.board`), their tasks and drawings, the settings of the
nbflow server the panel shows, and a proxy to that server. Every handler is a
jupyter_server ``APIHandler`` behind Jupyter's own login (token or cookie, XSRF).

Imports: nbflow.lab.handlers, lazily (this module is imported by the server's
extension discovery).
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Name the extension's module for jupyter_server."""
    return [{"module": "nbflow.lab"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add nbflow's handlers to ``serverapp``'s web application."""
    from nbflow.lab.handlers import install  # noqa: PLC0415  (tornado, jupyter_server)

    install(serverapp)
