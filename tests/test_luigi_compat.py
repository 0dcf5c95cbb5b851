"""A pipeline written for Luigi runs unchanged with ``import nbflow as luigi``."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap

PIPELINE = textwrap.dedent("""
    import datetime
    import sys

    if sys.argv[1] == "nbflow":
        import nbflow as luigi
    else:
        import luigi

    class Numbers(luigi.Task):
        day = luigi.DateParameter()
        count = luigi.IntParameter(default=5)

        def output(self):
            return luigi.LocalTarget(f"out/numbers-{self.day:%Y%m%d}-{self.count}.txt")

        def run(self):
            with self.output().open("w") as out:
                for i in range(self.count):
                    out.write(f"{i}\\n")

    class Squares(luigi.Task):
        interval = luigi.DateIntervalParameter()

        def requires(self):
            return [Numbers(day=d) for d in self.interval.dates()]

        def output(self):
            return {"sum": luigi.LocalTarget(f"out/squares-{self.interval}.txt"),
                    "zipped": luigi.LocalTarget(f"out/squares-{self.interval}.gz",
                                                format=luigi.format.Gzip)}

        def run(self):
            total = 0
            for target in self.input():
                with target.open("r") as lines:
                    total += sum(int(x) ** 2 for x in lines)
            with self.output()["sum"].open("w") as out:
                out.write(f"{total}\\n")
            with self.output()["zipped"].open("w") as out:
                out.write(b"%d" % total)

    class All(luigi.WrapperTask):
        def requires(self):
            return Squares(interval=luigi.date_interval.Custom(
                datetime.date(2024, 6, 1), datetime.date(2024, 6, 4)))

    result = luigi.build([All()], local_scheduler=True, detailed_summary=True)
    print("IDS", sorted(t.task_id for t in [All(), *All().deps(), *All().deps()[0].deps()]))
    print("OK", result.scheduling_succeeded, result.status.name)
""")


def _run(library: str, folder) -> str:
    (folder / "pipeline.py").write_text(PIPELINE)
    out = subprocess.run(
        [sys.executable, "pipeline.py", library],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_luigi_pipeline_gives_same_files_ids_and_result(tmp_path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()

    ours_out = _run("nbflow", ours)
    theirs_out = _run("luigi", theirs)

    assert ours_out == theirs_out
    assert "OK True SUCCESS" in ours_out
    files = sorted(p.name for p in (ours / "out").iterdir())
    assert files == sorted(p.name for p in (theirs / "out").iterdir())
    for name in files:
        mine, luigis = (
            (ours / "out" / name).read_bytes(),
            (theirs / "out" / name).read_bytes(),
        )
        if name.endswith(".gz"):  # the gzip header holds a timestamp
            mine, luigis = gzip.decompress(mine), gzip.decompress(luigis)
        assert mine == luigis
