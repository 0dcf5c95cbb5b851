from __future__ import annotations

import nbflow
from nbflow.core.bulk import MixinNaiveBulkComplete

DONE = {"A", "C"}


class BulkLoaded(MixinNaiveBulkComplete, nbflow.Task):
    table = nbflow.Parameter()
    part = nbflow.Parameter(default="all")

    def complete(self):
        return self.table in DONE


def test_bulk_complete_takes_single_values_tuples_and_dicts() -> None:
    singles = BulkLoaded.bulk_complete(["A", "B", "C"])
    tuples = BulkLoaded.bulk_complete([("A", "1"), ("B", "2"), ("C", "3")])
    dicts = BulkLoaded.bulk_complete([{"table": "B"}, {"table": "C", "part": "x"}])

    assert singles == ["A", "C"]
    assert tuples == [("A", "1"), ("C", "3")]
    assert dicts == [{"table": "C", "part": "x"}]


def test_bulk_complete_of_nothing_is_empty() -> None:
    assert BulkLoaded.bulk_complete(iter([])) == []
