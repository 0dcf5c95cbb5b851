"""Range tools: a task that requires the missing moments of a recurring task.

``RangeBase`` is Luigi's: given a task family ``of`` with one date-like parameter and
an interval (``start``, ``stop``, or a window around ``now``: ``days_back`` and
``days_forward`` in the daily kind), its ``requires()`` is the oldest ``task_limit``
moments (the newest with ``reverse``) whose task is not complete. The range is
complete when nothing is missing, so running it again later fills only new gaps:
a backfill is an ordinary run, with the run's priorities, resources, workers and
executor.

The concrete kinds (daily, hourly, every N minutes, monthly) live in
:mod:`nbflow.core.range_cadence`; each names its grid of moments
(:mod:`nbflow.core.range_grid`) and its parameter types. Finding the missing moments
is the expensive part and is overridable: ``missing_datetimes(finite_datetimes)``.
The base asks each task's ``complete()``; the efficient kinds ask the family's
``bulk_complete`` or list output folders (:mod:`nbflow.core.range_listing`).

After ``requires()``, :attr:`RangeBase.plan` tells which moments were checked,
which were missing and which are required; the CLI's per-date summary and the
notebook's calendar strip are drawn from it.

Imports: nbflow.core.{errors, parameter, range_grid, task}.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from nbflow.core.errors import ParameterDeprecationWarning, ParameterError
from nbflow.core.parameter import (
    BoolParameter,
    DictParameter,
    IntParameter,
    Parameter,
    TaskParameter,
)
from nbflow.core.task import Event, Task, WrapperTask

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.range_grid import Grid

__all__ = ["RangeBase", "RangeError", "RangeEvent", "RangePlan"]

logger = logging.getLogger("nbflow.range")

#: Luigi's default for the open bounds and ``now``: None, "not given".
OPEN: Any = None


class RangeEvent(Event):
    """Names of the metrics a range reports to its event handlers (Luigi's).

    Handlers get the family of ``of`` and a number: ``DELAY`` the moments from the
    first missing one to the end of the range, ``COMPLETE_COUNT`` the complete
    moments, ``COMPLETE_FRACTION`` their share.
    """

    COMPLETE_COUNT = "event.tools.range.complete.count"
    COMPLETE_FRACTION = "event.tools.range.complete.fraction"
    DELAY = "event.tools.range.delay"


class RangeError(ParameterError, ValueError):
    """A range task's parameters do not describe a range (Luigi's ParameterException)."""

    def __init__(self, task: str, what: str, expected: str, fix: str) -> None:
        super().__init__(task, what, expected, fix)
        self.task, self.what, self.expected, self.fix = task, what, expected, fix

    def __str__(self) -> str:
        return f"{self.task}: {self.what}. Expected {self.expected}. Fix: {self.fix}."


class RangePlan(NamedTuple):
    """What a range's ``requires()`` found, oldest moment first."""

    #: The family of ``of``.
    family: str
    #: Every moment checked: the range cut to the window around ``now``.
    moments: tuple[dt.datetime, ...]
    #: The checked moments whose task was not complete.
    missing: tuple[dt.datetime, ...]
    #: The missing moments required now (at most ``task_limit``), in run order.
    required: tuple[dt.datetime, ...]
    #: The task id of each required moment, in the same order.
    required_ids: tuple[str, ...]
    #: Each checked moment as its parameter is written (``2024-01-31``).
    labels: tuple[str, ...]
    #: Moments of ``[start, stop)`` outside the window around now: not checked.
    outside: int = 0
    #: What the moments are called in summaries (dates, hours, months).
    noun: str = "dates"


class RangeBase(WrapperTask):
    """Require the missing moments of the recurring task ``of`` (Luigi's RangeBase).

    Subclasses give the grid and the parameter types; see
    :class:`~nbflow.core.range_cadence.RangeDailyBase` and its siblings.

    .. versionadded:: 0.1.0
    """

    of = TaskParameter(doc="The recurring task; it takes one date-like parameter.")
    of_params = DictParameter(
        default={}, doc="Other parameters of every task of `of` (a JSON object)."
    )
    start: Parameter[Any] = Parameter(default=None, doc="First moment, inclusive.")
    stop: Parameter[Any] = Parameter(default=None, doc="Last moment, exclusive.")
    reverse = BoolParameter(
        default=False,
        doc="Fill the newest gaps first (default: the oldest first).",
    )
    task_limit = IntParameter(
        default=50, doc="At most this many tasks of `of` are required at once."
    )
    now = IntParameter(
        default=OPEN, doc="The current time in seconds since the epoch (for tests)."
    )
    param_name: Parameter[str | None] = Parameter(
        default=None,
        positional=False,
        doc="The parameter of `of` that takes the moment (default: its first "
        "positional parameter).",
    )

    #: What the moments are called in summaries.
    moment_noun = "dates"

    # -- what each kind provides (Luigi's hooks) --------------------------------------

    @property
    def grid(self) -> Grid:
        """The moments of this kind of range."""
        raise NotImplementedError

    def datetime_to_parameter(self, moment: dt.datetime) -> Any:
        """Return the value of the range parameter for ``moment``."""
        raise NotImplementedError

    def parameter_to_datetime(self, value: Any) -> dt.datetime:
        """Return the moment a value of the range parameter stands for."""
        raise NotImplementedError

    def moving_start(self, now: dt.datetime) -> dt.datetime:
        """Return the oldest moment checked at ``now`` (``days_back`` and the like)."""
        raise NotImplementedError

    def moving_stop(self, now: dt.datetime) -> dt.datetime:
        """Return the end of the moments checked at ``now`` (``days_forward`` ...)."""
        raise NotImplementedError

    def finite_datetimes(
        self, finite_start: dt.datetime, finite_stop: dt.datetime
    ) -> list[dt.datetime]:
        """Return the moments in ``[finite_start, finite_stop)``, oldest first."""
        return self.grid.moments(finite_start, finite_stop)

    def datetime_to_parameters(self, moment: dt.datetime) -> dict[str, Any]:
        """Return every parameter of the task of ``of`` for ``moment``."""
        return self._task_parameters(self.datetime_to_parameter(moment))

    def parameters_to_datetime(self, parameters: dict[str, Any]) -> dt.datetime:
        """Return the moment in a dict of the parameters of a task of ``of``."""
        return self.parameter_to_datetime(parameters[self._param_name])

    # -- the tasks of `of` -------------------------------------------------------------

    @property
    def of_cls(self) -> type[Task]:
        """The class of ``of`` (Luigi's old name; use ``of``)."""
        of: type[Task] = self.of
        return of

    @property
    def _param_name(self) -> str:
        if self.param_name is not None:
            return str(self.param_name)
        for name, parameter in self.of.get_params():
            if parameter.positional:
                return str(name)
        raise RangeError(
            self.get_task_family(),
            f"{self.of.get_task_family()} has no positional parameter to take the date",
            "a task whose first positional parameter is the date",
            "pass param_name= (--param-name) naming the date parameter",
        )

    def _task_parameters(self, value: Any) -> dict[str, Any]:
        return {**self.of_params, self._param_name: value}

    def _instantiate_task_cls(self, value: Any) -> Task:
        return self.of(**self._task_parameters(value))  # type: ignore[no-any-return]

    def _format_datetime(self, moment: dt.datetime) -> str:
        serialize = self.__dict__.get("_range_serialize")
        if serialize is None:  # looked up once: labels are made for every moment
            serialize = dict(self.get_params())["start"].serialize
            self.__dict__["_range_serialize"] = serialize
        return str(serialize(self.datetime_to_parameter(moment)))

    def _format_range(self, moments: list[dt.datetime]) -> str:
        first, last = moments[0], moments[-1]
        return f"[{self._format_datetime(first)}, {self._format_datetime(last)}]"

    # -- requires ----------------------------------------------------------------------

    def requires(self) -> list[Task]:
        """Return the tasks of the missing moments to run now (computed once)."""
        cached: list[Task] | None = self.__dict__.get("_range_requires")
        if cached is None:
            cached = self._plan_requires()
            self.__dict__["_range_requires"] = cached
        return cached

    def complete(self) -> bool:
        """Return whether no moment of the range is missing.

        The required moments are asked the way they were found missing (bulk, listing
        or one by one), so the range and its requirements never disagree. Once they
        are all done, the range is looked at again if it had more gaps than
        ``task_limit`` or follows the clock (no ``now``): a notebook that runs the
        same range again (the same cached instance) gets the next gaps.
        """
        plan = self.plan
        if plan is None:
            return not self.requires()
        if plan.required and list(self._missing_datetimes(sorted(plan.required))):
            return False
        if len(plan.missing) > len(plan.required) or self.now is None:
            self.__dict__.pop("_range_requires", None)
            self.__dict__.pop("_range_plan", None)
            return not self.requires()
        return True

    @property
    def plan(self) -> RangePlan | None:
        """What ``requires()`` found, or None before it ran."""
        return self.__dict__.get("_range_plan")

    def _plan_requires(self) -> list[Task]:
        self._check_bounds()
        now = self._now()
        finite_start = self.moving_start(now)
        if self.start is not None:
            finite_start = max(self.parameter_to_datetime(self.start), finite_start)
        finite_stop = self.moving_stop(now)
        if self.stop is not None:
            finite_stop = min(self.parameter_to_datetime(self.stop), finite_stop)
        moments = self.finite_datetimes(finite_start, finite_stop)
        outside = self._warn_if_cut(finite_start, finite_stop)
        missing = sorted(self._missing_datetimes(moments)) if moments else []
        family = self.of.get_task_family()
        logger.debug("%s: %d of %d moments missing", family, len(missing), len(moments))
        self._emit_metrics(missing, finite_start, finite_stop)
        limit = max(0, self.task_limit)
        required = missing[::-1][:limit] if self.reverse else missing[:limit]
        tasks = [
            self._instantiate_task_cls(self.datetime_to_parameter(m)) for m in required
        ]
        self.__dict__["_range_plan"] = RangePlan(
            family,
            tuple(moments),
            tuple(missing),
            tuple(required),
            tuple(task.task_id for task in tasks),
            tuple(map(self._format_datetime, moments)),
            outside,
            self.moment_noun,
        )
        return tasks

    def _check_bounds(self) -> None:
        family = self.get_task_family()
        if self.start is None and self.stop is None:
            raise RangeError(
                family,
                "neither start nor stop is given",
                "at least one of them",
                "pass start= (--start), or stop= with reverse=True",
            )
        if self.start is None and not self.reverse:
            raise RangeError(
                family,
                "no start is given and reverse is False",
                "a start, or reverse=True to work back from stop",
                "pass start= (--start), or reverse=True (--reverse)",
            )
        if self.start is not None and self.stop is not None and self.start > self.stop:
            raise RangeError(
                family,
                f"start {self.start} is after stop {self.stop}",
                "start <= stop (stop is exclusive)",
                "swap them",
            )

    def _warn_if_cut(self, finite_start: dt.datetime, finite_stop: dt.datetime) -> int:
        """Log and count the moments of ``[start, stop)`` outside the window."""
        start = None if self.start is None else self.parameter_to_datetime(self.start)
        stop = None if self.stop is None else self.parameter_to_datetime(self.stop)
        if start is not None and stop is not None:  # the range less what was checked
            cut = self.grid.count(start, stop) - self.grid.count(
                finite_start, finite_stop
            )
        elif start is not None:
            cut = self.grid.count(start, finite_start)
        else:
            cut = 0 if stop is None else self.grid.count(finite_stop, stop)
        if cut:
            window = ", ".join(
                f"{name}={getattr(self, name)}"
                for name, _ in self.get_params()
                if name.endswith(("_back", "_forward"))
            )
            logger.warning(
                "%s: %d moments of the range lie outside the window checked around "
                "now (%s) and are not checked; widen the window (--days-back N and "
                "the like) to backfill them",
                self.get_task_family(),
                cut,
                window,
            )
        return cut

    def _now(self) -> dt.datetime:
        given = cast("int | None", self.now)  # Luigi's None default: not given
        seconds = time.time() if given is None else given
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).replace(tzinfo=None)

    def _emit_metrics(
        self,
        missing: list[dt.datetime],
        finite_start: dt.datetime,
        finite_stop: dt.datetime,
    ) -> None:
        """Report delay and completeness over the whole range.

        That is the window checked, widened to ``start`` and ``stop`` where they lie
        outside it (so the numbers do not depend on ``days_back``).
        """
        start, stop = finite_start, finite_stop
        if self.start is not None:
            start = min(start, self.parameter_to_datetime(self.start))
        if self.stop is not None:
            stop = max(stop, self.parameter_to_datetime(self.stop))
        expected = self.grid.count(start, stop)
        delay = self.grid.count(missing[0], stop) if missing and expected else 0
        complete = expected - len(missing)
        family = self.of.get_task_family()
        self.trigger_event(RangeEvent.DELAY, family, delay)
        self.trigger_event(RangeEvent.COMPLETE_COUNT, family, complete)
        fraction = complete / expected if expected else 1.0
        self.trigger_event(RangeEvent.COMPLETE_FRACTION, family, fraction)

    # -- finding the missing moments -----------------------------------------------------

    def missing_datetimes(
        self, finite_datetimes: list[dt.datetime]
    ) -> Iterable[dt.datetime]:
        """Return the moments whose task is not complete (one check per moment).

        Override to check many at once; the efficient kinds (``RangeDaily``, ...) ask
        ``bulk_complete`` or list output folders instead.
        """
        return [
            moment
            for moment in finite_datetimes
            if not self._instantiate_task_cls(
                self.datetime_to_parameter(moment)
            ).complete()
        ]

    def _missing_datetimes(
        self, finite_datetimes: list[dt.datetime]
    ) -> Iterable[dt.datetime]:
        """Call ``missing_datetimes``, also in Luigi's old ``(task_cls, datetimes)`` form."""
        check = self.missing_datetimes
        positional = [
            p
            for p in inspect.signature(check).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(positional) < 2:  # noqa: PLR2004  (the old form's two arguments)
            return check(finite_datetimes)
        warnings.warn(
            ParameterDeprecationWarning(
                type(self).__qualname__,
                "missing_datetimes(task_cls, finite_datetimes) is Luigi's old form",
                "define missing_datetimes(self, finite_datetimes) and use self.of",
            ),
            stacklevel=3,
        )
        old_form: Any = check
        return old_form(self.of, finite_datetimes)  # type: ignore[no-any-return]
