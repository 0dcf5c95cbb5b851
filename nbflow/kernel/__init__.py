"""nbflow's IPython extension: ``%load_ext nbflow`` registers the ``%nbflow`` magic.

Only the extension hooks and the session accessor live here; each imports what it needs
when it is called, so importing this package loads nothing of IPython.

Imports: nbflow.kernel.magics, nbflow.kernel.session and nbflow.kernel.tracebacks,
lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbflow.kernel.session import Session

__all__ = ["current_session", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%nbflow`` line and cell magic in ``ipython``.

    Called by ``%load_ext nbflow`` (or ``nbflow.kernel``), and by IPython at start-up
    when nbflow is listed in ``c.InteractiveShellApp.extensions``.
    """
    from nbflow.kernel.magics import NbflowMagics  # noqa: PLC0415  (lazy: IPython)
    from nbflow.kernel.session import current_session  # noqa: PLC0415
    from nbflow.kernel.tracebacks import install_cell_names  # noqa: PLC0415

    ipython.register_magics(NbflowMagics(ipython, current_session(ipython)))
    install_cell_names(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the ``%nbflow`` magic from ``ipython``; runs in progress go on."""
    magics = ipython.magics_manager.magics
    magics["line"].pop("nbflow", None)
    magics["cell"].pop("nbflow", None)
    ipython.magics_manager.registry.pop("NbflowMagics", None)


def current_session(shell: Any = None) -> Session:
    """Return this kernel's :class:`~nbflow.kernel.session.Session` (made on first use)."""
    from nbflow.kernel.session import current_session as session  # noqa: PLC0415

    return session(shell)
