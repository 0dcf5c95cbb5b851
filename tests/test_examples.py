"""The README's main job: the Top Artists example pipeline, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "nbflow",
        "run",
        "--module",
        "examples.top_artists",
        "Top10Artists",
        "--date-interval",
        "2024-06-01-2024-06-04",
        "--data-dir",
        str(tmp_path / "data"),
        "--Streams-plays",
        "200",
        "--workers",
        "2",
    ]
    env_path = {"PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**__import__("os").environ, **env_path},
        check=False,
    )


def test_top_artists_runs_then_finds_everything_complete(tmp_path: Path) -> None:
    first = _run(tmp_path)
    second = _run(tmp_path)

    assert first.returncode == 0, first.stderr
    assert "5 ran successfully" in first.stdout
    top = (tmp_path / "data" / "top_artists_2024-06-01-2024-06-04.tsv").read_text()
    rows = [line.split("\t") for line in top.splitlines()]
    assert [row[0] for row in rows] == [str(rank) for rank in range(1, len(rows) + 1)]
    plays = [int(row[2]) for row in rows]
    assert plays == sorted(plays, reverse=True)
    assert sum(plays) <= 600
    assert second.returncode == 0
    assert "complete ones were encountered" in second.stdout
    assert "ran successfully" not in second.stdout
