"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.setup_logging``.

Holds ``InterfaceLogging`` (a command-line run's logging) and ``DaemonLogging`` (a
scheduler daemon's), set up once per process from the command line, a logging config
file or a ``[logging]`` config section. The code lives in nbflow.core.logging_setup;
nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.logging_setup import DaemonLogging, InterfaceLogging
from nbflow.core.logging_setup import LoggingSetup as BaseLogging

__all__ = ["BaseLogging", "DaemonLogging", "InterfaceLogging"]
