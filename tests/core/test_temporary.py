"""Temporary names: who owns them, whether the owner lives, and that they fit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nbflow.core.temporary import (
    NAME_MAX,
    Owner,
    current_owner,
    fit_name,
    parse_leftover,
    temporary_sibling,
)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def test_temporary_sibling_names_its_owner_and_keeps_the_name() -> None:
    path = temporary_sibling("data/out.csv.gz", ".previous")

    leftover = parse_leftover(path.rpartition("/")[2])

    assert path.startswith("data/.nbflow-tmp-")
    assert path.endswith("-out.csv.gz.previous")
    assert leftover is not None
    assert leftover.owner == current_owner()
    assert leftover.name == "out.csv.gz.previous"


@pytest.mark.parametrize("name", ["n" * 230 + ".csv", "é" * 120 + ".csv", "x" * 255])
def test_temporary_sibling_of_a_long_name_fits_and_keeps_the_suffix(name: str) -> None:
    first = temporary_sibling(f"d/{name}", ".previous").rpartition("/")[2]
    second = temporary_sibling(f"d/{name}").rpartition("/")[2]

    assert len(first.encode()) <= NAME_MAX
    assert len(second.encode()) <= NAME_MAX
    assert first.endswith(name[-4:] + ".previous")
    assert second.endswith(name[-4:])
    assert first.startswith(".nbflow-tmp-")


def test_temporary_sibling_of_a_long_name_can_be_created(tmp_path: Path) -> None:
    path = temporary_sibling(str(tmp_path / ("n" * 240 + ".csv")), ".previous")

    Path(path).write_text("fits")

    assert parse_leftover(Path(path).name) is not None


def test_fit_name_keeps_names_that_fit() -> None:
    assert fit_name(".p-", "a" * 252) == ".p-" + "a" * 252
    assert len(fit_name(".p-", "a" * 253).encode()) == NAME_MAX


def test_owner_of_this_process_is_alive() -> None:
    assert current_owner().is_alive() is True


def test_owner_that_exited_is_dead() -> None:
    owner = Owner(current_owner().host, dead_pid(), 0)

    assert owner.is_alive() is False


def test_owner_with_another_start_time_is_a_reused_pid() -> None:
    here = current_owner()

    assert Owner(here.host, here.pid, here.start + 1).is_alive() is False


def test_owner_on_another_host_cannot_be_judged() -> None:
    assert Owner("zzzzzz", os.getpid(), 0).is_alive() is None


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_owner_that_is_a_zombie_is_dead() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{process.pid}/stat")
    deadline = time.monotonic() + 30
    while stat.read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    owner = Owner(current_owner().host, process.pid, 0)

    alive = owner.is_alive()
    process.wait(timeout=30)

    assert alive is False


def test_parse_leftover_reads_old_names_and_ignores_others() -> None:
    old = parse_leftover(".nbflow-tmp-0123456789ab-out.csv.previous")

    assert old is not None
    assert old.owner is None
    assert old.name == "out.csv.previous"
    assert parse_leftover(".nbflow-tmp-odd") is None
    assert parse_leftover("out.csv") is None
