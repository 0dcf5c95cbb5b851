"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.rpc``.

Holds ``RemoteScheduler``, the client of a central scheduler speaking luigid's HTTP
protocol, and ``RPCError``. The code lives in nbflow.core.rpc; nbflow's own modules
import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.rpc import RemoteScheduler, RPCError

__all__ = ["RPCError", "RemoteScheduler"]
