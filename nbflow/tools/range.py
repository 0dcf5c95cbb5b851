"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.tools.range``.

Holds the range tools (``RangeDaily``, ``RangeHourly``, ``RangeByMinutes``,
``RangeMonthly``, their ``...Base`` classes, ``RangeEvent``) and the listing helpers
Luigi's tests import. The code lives in nbflow.core.range_task, range_cadence and
range_listing; nbflow's own modules import it from there, never from here.
"""

from __future__ import annotations

from nbflow.core.range_cadence import (
    RangeByMinutes,
    RangeByMinutesBase,
    RangeDaily,
    RangeDailyBase,
    RangeHourly,
    RangeHourlyBase,
    RangeMonthly,
)
from nbflow.core.range_listing import (
    _constrain_glob,
    _get_filesystems_and_globs,
    _get_per_location_glob,
    _list_existing,
    infer_bulk_complete_from_fs,
    most_common,
)
from nbflow.core.range_task import RangeBase, RangeEvent

__all__ = [
    "RangeBase",
    "RangeByMinutes",
    "RangeByMinutesBase",
    "RangeDaily",
    "RangeDailyBase",
    "RangeEvent",
    "RangeHourly",
    "RangeHourlyBase",
    "RangeMonthly",
    "_constrain_glob",
    "_get_filesystems_and_globs",
    "_get_per_location_glob",
    "_list_existing",
    "infer_bulk_complete_from_fs",
    "most_common",
]
