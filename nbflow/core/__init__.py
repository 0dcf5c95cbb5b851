"""nbflow.core: the task model, the pure scheduler and the worker (stdlib only)."""
