"""The kernel's name for the interruptible thread pool, which now lives in the core.

:class:`nbflow.core.executor.ThreadExecutor` raises ``KeyboardInterrupt`` in the calls
it runs when interrupted, for the CLI's Ctrl-C as for the kernel's; this module only
re-exports it under the name the kernel has used.

Imports: nbflow.core.executor.
"""

from __future__ import annotations

from nbflow.core.executor import ThreadExecutor as InterruptibleThreadExecutor

__all__ = ["InterruptibleThreadExecutor"]
