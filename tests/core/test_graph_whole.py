"""GraphBuilder(expand_complete=True) and stop_at_complete: drawings of the whole graph."""

from __future__ import annotations

import nbflow
from nbflow.core.completeness import ExistenceCheck
from nbflow.core.events import RetryPolicy
from nbflow.core.graph import GraphBuilder
from nbflow.core.target import MemoryTarget


class WholeRaw(nbflow.Task):
    key = nbflow.Parameter()

    def output(self) -> MemoryTarget:
        return MemoryTarget(f"whole-raw-{self.key}")

    def run(self) -> None:
        pass


class WholeClean(nbflow.Task):
    key = nbflow.Parameter()

    def requires(self) -> WholeRaw:
        return WholeRaw(key=self.key)

    def output(self) -> MemoryTarget:
        return MemoryTarget(f"whole-clean-{self.key}")

    def run(self) -> None:
        pass


class WholeReport(nbflow.Task):
    key = nbflow.Parameter()

    def requires(self) -> WholeClean:
        return WholeClean(key=self.key)

    def output(self) -> MemoryTarget:
        return MemoryTarget(f"whole-report-{self.key}")

    def run(self) -> None:
        pass


class WholeBrokenRequires(nbflow.Task):
    def requires(self) -> WholeRaw:
        raise ValueError("no requirements today")

    def output(self) -> MemoryTarget:
        return MemoryTarget("whole-broken-requires")

    def run(self) -> None:
        pass


def _make(*tasks: nbflow.Task) -> None:
    for task in tasks:
        output = task.output()
        assert isinstance(output, MemoryTarget)
        with output.open("w") as out:
            out.write("done")


def _discover(root: nbflow.Task, *, expand_complete: bool) -> dict[str, object]:
    builder = GraphBuilder(
        ExistenceCheck(), RetryPolicy(), expand_complete=expand_complete
    )
    discovery = builder.discover([root])
    return {
        "specs": {spec.family: spec for spec in discovery.specs},
        "unneeded": {
            builder.tasks[task_id].get_task_family() for task_id in discovery.unneeded
        },
    }


def test_graph_expand_complete_draws_everything_below_a_complete_root() -> None:
    root = WholeReport(key="all")
    _make(root, WholeClean(key="all"), WholeRaw(key="all"))

    found = _discover(root, expand_complete=True)

    specs = found["specs"]
    assert isinstance(specs, dict)
    assert set(specs) == {"WholeReport", "WholeClean", "WholeRaw"}
    assert all(spec.complete for spec in specs.values())
    assert specs["WholeReport"].deps == (WholeClean(key="all").task_id,)
    assert specs["WholeClean"].deps == (WholeRaw(key="all").task_id,)
    assert found["unneeded"] == set()


def test_graph_without_expand_complete_stops_at_a_complete_root() -> None:
    root = WholeReport(key="short")
    _make(root)

    found = _discover(root, expand_complete=False)

    specs = found["specs"]
    assert isinstance(specs, dict)
    assert set(specs) == {"WholeReport"}
    assert specs["WholeReport"].deps == ()


def test_graph_incomplete_task_below_complete_ones_is_unneeded() -> None:
    root = WholeReport(key="gap")
    _make(root, WholeRaw(key="gap"))  # the middle output was deleted

    found = _discover(root, expand_complete=True)

    specs = found["specs"]
    assert isinstance(specs, dict)
    assert not specs["WholeClean"].complete
    assert found["unneeded"] == {"WholeClean"}


def test_graph_complete_task_whose_requires_raises_stays_complete() -> None:
    root = WholeBrokenRequires()
    _make(root)

    found = _discover(root, expand_complete=True)

    specs = found["specs"]
    assert isinstance(specs, dict)
    spec = specs["WholeBrokenRequires"]
    assert (spec.complete, spec.broken, spec.deps) == (True, None, ())
    assert "requirements not shown: ValueError: no requirements today" in spec.reason
