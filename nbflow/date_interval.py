"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.date_interval``.

Holds the date intervals (``Date``, ``Week``, ``Month``, ``Year``, ``Custom`` and
their base ``DateInterval``). The code lives in nbflow.core.date_interval; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.date_interval import Custom, Date, DateInterval, Month, Week, Year

__all__ = ["Custom", "Date", "DateInterval", "Month", "Week", "Year"]
