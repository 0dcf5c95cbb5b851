"""The trigger's durable state: each schedule's last fired interval, and every fire.

A fire is *claimed* before its run is launched: one transaction moves the schedule's
``last_fire`` forward (only forward: a compare-and-set on the old value) and inserts
the fire's row, whose ``(schedule, fire_time)`` is unique. A server that crashes
between the claim and the launch therefore never fires that interval again, and two
trigger objects on one database can never both claim it. The row then follows the
run: running (with its pid), succeeded or failed (with its exit code); a row still
claimed or running when a server starts belonged to a server that died, and is marked
lost.

Tables: ``nbflow_schedule``, ``nbflow_schedule_fire`` (defined in
:mod:`nbflow.server.store`, created by migration 0003).

Imports: stdlib, SQLAlchemy, nbflow.server.{schedules, store}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbflow.server.schedules import Schedule, parse
from nbflow.server.store import schedule_fires_table, schedules_table

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.server.store import Store

#: Fires kept per schedule (older ones are deleted as new ones are claimed).
KEEP_FIRES = 1000
#: Fire states that mean "a run may be going on".
ACTIVE_STATES = ("claimed", "running")
_LOST = (
    "the server stopped or crashed while this fire was claimed or running; its "
    "outcome was not seen (the interval is not fired again: run it by hand if needed)"
)


@dataclass(frozen=True)
class ScheduleRow:
    """A schedule as stored: its definition and its trigger state."""

    schedule: Schedule
    #: Set by the API's pause/resume; None: the definition's ``paused``.
    paused: bool | None
    created: float
    last_fire: float | None

    @property
    def is_paused(self) -> bool:
        """Whether the schedule is paused now."""
        return self.schedule.paused if self.paused is None else self.paused


@dataclass(frozen=True)
class Fire:
    """One fire of a schedule (a row of ``nbflow_schedule_fire``)."""

    id: int
    schedule: str
    fire_time: float
    value: str
    state: str
    claimed: float
    started: float | None
    ended: float | None
    exit_code: int | None
    pid: int | None
    log_path: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """Return the fire as the API's JSON object."""
        return {
            "id": self.id,
            "fire_time": self.fire_time,
            "value": self.value,
            "state": self.state,
            "claimed": self.claimed,
            "started": self.started,
            "ended": self.ended,
            "exit_code": self.exit_code,
            "log_path": self.log_path,
            "message": self.message,
        }


class ScheduleStore:
    """Reads and writes the schedule tables of one server's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- schedules ---------------------------------------------------------------------

    def rows(self) -> list[ScheduleRow]:
        """Return every stored schedule (config ones no longer declared included)."""
        with self.store.engine.connect() as connection:
            found = connection.execute(
                sa.select(schedules_table).order_by(schedules_table.c.name)
            ).all()
        return [_row(row) for row in found]

    def put_config(self, schedules: Iterable[Schedule], now: float) -> None:
        """Store the config's definitions; keep each one's last fire and pause state.

        A schedule the API added under a name the config now declares is replaced by
        the config's (its last fire is kept).
        """
        table = schedules_table
        with self.store.write() as connection:
            known = {
                row.name: row for row in connection.execute(sa.select(table)).all()
            }
            for schedule in schedules:
                definition = json.dumps(schedule.to_json(), sort_keys=True)
                if schedule.name in known:
                    connection.execute(
                        table.update()
                        .where(table.c.name == schedule.name)
                        .values(source="config", definition=definition)
                    )
                    continue
                connection.execute(
                    table.insert(),
                    {
                        "name": schedule.name,
                        "source": "config",
                        "definition": definition,
                        "paused": None,
                        "created": now,
                        "last_fire": None,
                    },
                )

    def add(self, schedule: Schedule, now: float) -> bool:
        """Store a schedule added through the API; False when the name is taken."""
        values = {
            "name": schedule.name,
            "source": schedule.source,
            "definition": json.dumps(schedule.to_json(), sort_keys=True),
            "paused": None,
            "created": now,
            "last_fire": None,
        }
        try:
            with self.store.write() as connection:
                connection.execute(schedules_table.insert(), values)
        except sa.exc.IntegrityError:
            return False
        return True

    def remove(self, name: str) -> None:
        """Forget a schedule and its fires."""
        with self.store.write() as connection:
            connection.execute(
                schedule_fires_table.delete().where(
                    schedule_fires_table.c.schedule == name
                )
            )
            connection.execute(
                schedules_table.delete().where(schedules_table.c.name == name)
            )

    def set_paused(self, name: str, *, paused: bool) -> None:
        """Pause or resume a schedule (kept across restarts)."""
        with self.store.write() as connection:
            connection.execute(
                schedules_table.update()
                .where(schedules_table.c.name == name)
                .values(paused=paused)
            )

    # --- fires ---------------------------------------------------------------------------

    def claim(self, fire: Fire) -> int | None:
        """Claim ``fire`` (its schedule's next interval): its row's id, None if taken.

        Taken: the schedule's last fire is already at or past ``fire.fire_time``.
        """
        table = schedules_table
        with self.store.write() as connection:
            moved = connection.execute(
                table.update()
                .where(table.c.name == fire.schedule)
                .where(
                    sa.or_(
                        table.c.last_fire.is_(None), table.c.last_fire < fire.fire_time
                    )
                )
                .values(last_fire=fire.fire_time)
            )
            if moved.rowcount != 1:
                return None
            values = _fire_values(fire)
            result = connection.execute(schedule_fires_table.insert(), values)
            key = result.inserted_primary_key
            _forget_old_fires(connection, fire.schedule)
        assert key is not None  # noqa: S101  (an insert has a key)
        return int(key[0])

    def skip_to(self, name: str, fire_time: float) -> bool:
        """Move a schedule's last fire to ``fire_time`` without firing (skipped)."""
        table = schedules_table
        with self.store.write() as connection:
            moved = connection.execute(
                table.update()
                .where(table.c.name == name)
                .where(
                    sa.or_(table.c.last_fire.is_(None), table.c.last_fire < fire_time)
                )
                .values(last_fire=fire_time)
            )
        return bool(moved.rowcount == 1)

    def update_fire(self, fire_id: int, **values: Any) -> None:
        """Record what happened to a fire (state, started, pid, ended, exit code...)."""
        with self.store.write() as connection:
            connection.execute(
                schedule_fires_table.update()
                .where(schedule_fires_table.c.id == fire_id)
                .values(**values)
            )

    def mark_lost(self, now: float) -> int:
        """Mark the fires a dead server left claimed or running as lost; return how many."""
        table = schedule_fires_table
        with self.store.write() as connection:
            result = connection.execute(
                table.update()
                .where(table.c.state.in_(ACTIVE_STATES))
                .values(state="lost", ended=now, message=_LOST)
            )
        return int(result.rowcount)

    def fires(self, name: str, limit: int = 20) -> list[Fire]:
        """Return the newest fires of a schedule, newest first."""
        table = schedule_fires_table
        query = (
            sa.select(table)
            .where(table.c.schedule == name)
            .order_by(table.c.fire_time.desc())
            .limit(limit)
        )
        with self.store.engine.connect() as connection:
            return [_fire(row) for row in connection.execute(query).all()]

    def last_fires(self, *, finished: bool = False) -> dict[str, Fire]:
        """Return each schedule's newest fire (``finished``: newest that ended)."""
        table = schedule_fires_table
        newest_query = sa.select(
            table.c.schedule, sa.func.max(table.c.fire_time).label("at")
        )
        if finished:
            newest_query = newest_query.where(table.c.state.not_in(ACTIVE_STATES))
        newest = newest_query.group_by(table.c.schedule).subquery()
        query = sa.select(table).join(
            newest,
            sa.and_(
                table.c.schedule == newest.c.schedule,
                table.c.fire_time == newest.c.at,
            ),
        )
        with self.store.engine.connect() as connection:
            return {row.schedule: _fire(row) for row in connection.execute(query).all()}


def _forget_old_fires(connection: sa.Connection, name: str) -> None:
    """Delete the fires of ``name`` older than its newest :data:`KEEP_FIRES`."""
    table = schedule_fires_table
    oldest_kept = (
        sa.select(table.c.fire_time)
        .where(table.c.schedule == name)
        .order_by(table.c.fire_time.desc())
        .offset(KEEP_FIRES - 1)
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(
        table.delete()
        .where(table.c.schedule == name)
        .where(table.c.fire_time < oldest_kept)
    )


def _fire_values(fire: Fire) -> dict[str, Any]:
    return {
        "schedule": fire.schedule,
        "fire_time": fire.fire_time,
        "value": fire.value,
        "state": fire.state,
        "claimed": fire.claimed,
        "started": fire.started,
        "ended": fire.ended,
        "exit_code": fire.exit_code,
        "pid": fire.pid,
        "log_path": fire.log_path,
        "message": fire.message,
    }


def _row(row: Any) -> ScheduleRow:
    definition = json.loads(row.definition)
    name = definition.pop("name")
    source = definition.pop("source", row.source)
    schedule = parse(name, definition, f"[schedule.{name}] as stored", source=source)
    return ScheduleRow(schedule, row.paused, row.created, row.last_fire)


def _fire(row: Any) -> Fire:
    return Fire(
        id=int(row.id),
        schedule=row.schedule,
        fire_time=row.fire_time,
        value=row.value,
        state=row.state,
        claimed=row.claimed,
        started=row.started,
        ended=row.ended,
        exit_code=row.exit_code,
        pid=row.pid,
        log_path=row.log_path,
        message=row.message,
    )


__all__ = ["ACTIVE_STATES", "KEEP_FIRES", "Fire", "ScheduleRow", "ScheduleStore"]
