"""Real `nbflow run` processes that rerun a two-output task slowly, to be killed.

The pipeline module is written into a temporary folder. Its task ``Pair`` writes
``a.txt`` then ``b.txt`` through ``LocalTarget.open("w")``, noting each step in
``progress.log``; the step named by ``RERUN_PAUSE_AT`` waits (at most 30 s) so that
a test can kill the process exactly there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import signal
    from pathlib import Path

#: The steps of Pair.run(), in order.
STEPS = ("started", "writing-a", "wrote-a", "writing-b", "wrote-b")
#: Seconds any wait in these tests may last.
BOUND = 30.0

PIPELINE = textwrap.dedent(
    """
    import os
    import pathlib
    import time

    import nbflow

    OUT = pathlib.Path(os.environ["RERUN_OUT"])
    LOG = pathlib.Path(os.environ["RERUN_LOG"])


    def mark(step):
        with LOG.open("a") as log:
            log.write(step + "\\n")
        if step == os.environ.get("RERUN_PAUSE_AT"):
            time.sleep(30)


    def content(version, name):
        return f"{version}-{name}\\n" + "x" * 100_000 + "\\nend\\n"


    class Pair(nbflow.Task):
        def output(self):
            return {n: nbflow.LocalTarget(str(OUT / f"{n}.txt")) for n in "ab"}

        def run(self):
            version = os.environ["RERUN_VERSION"]
            chunks = float(os.environ.get("RERUN_CHUNK_SECONDS", "0"))
            mark("started")
            for name in "ab":
                text = content(version, name)
                with self.output()[name].open("w") as out:
                    for start in range(0, len(text), 20_000):
                        out.write(text[start : start + 20_000])
                        out.flush()
                        if not start:
                            mark(f"writing-{name}")
                        time.sleep(chunks)
                mark(f"wrote-{name}")
    """
)


def content(version: str, name: str) -> str:
    """Return what Pair writes in ``name``.txt for ``version`` (as the module does)."""
    return f"{version}-{name}\n" + "x" * 100_000 + "\nend\n"


@dataclass
class RerunProject:
    """A folder with the pipeline module, its outputs and its progress log."""

    root: Path

    @property
    def out(self) -> Path:
        """The folder of the outputs."""
        return self.root / "out"

    @property
    def log(self) -> Path:
        """The progress log of the last run."""
        return self.root / "progress.log"

    @classmethod
    def create(cls, root: Path) -> RerunProject:
        """Write the pipeline module and make the outputs of version ``old``."""
        (root / "rerun_pipeline.py").write_text(PIPELINE)
        project = cls(root)
        project.out.mkdir()
        for name in "ab":  # as a first run would (one process less per test)
            (project.out / f"{name}.txt").write_text(content("old", name))
        return project

    def start(self, version: str, *args: str, **env: str) -> subprocess.Popen[str]:
        """Start ``nbflow run --module rerun_pipeline Pair ARGS`` writing ``version``."""
        self.log.unlink(missing_ok=True)
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(self.root), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            "RERUN_OUT": str(self.out),
            "RERUN_LOG": str(self.log),
            "RERUN_VERSION": version,
            **env,
        }
        command = [sys.executable, "-m", "nbflow", "run", "--no-progress"]
        return subprocess.Popen(
            [*command, "--module", "rerun_pipeline", "Pair", *args],
            cwd=self.root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, version: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run to the end; return the finished process."""
        process = self.start(version, *args)
        stdout, stderr = process.communicate(timeout=BOUND)
        return subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )

    def wait_for(self, step: str, process: subprocess.Popen[str]) -> None:
        """Wait until the run has reached ``step`` (bounded)."""
        deadline = time.monotonic() + BOUND
        while step not in self.steps():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, stderr = process.communicate(timeout=BOUND)
                message = f"run never reached {step!r}: {self.steps()} {stderr}"
                raise AssertionError(message)
            time.sleep(0.01)

    def steps(self) -> list[str]:
        """Return the steps the last run has reached."""
        return self.log.read_text().split() if self.log.exists() else []

    def versions(self) -> dict[str, str | None]:
        """Return which version each output holds (``None``: missing or partial)."""
        found: dict[str, str | None] = {}
        for name in "ab":
            path = self.out / f"{name}.txt"
            text = path.read_text() if path.exists() else ""
            found[name] = next(
                (v for v in ("old", "new") if text == content(v, name)), None
            )
        return found

    def leftovers(self) -> list[str]:
        """Return nbflow's hidden files in the outputs' folder."""
        return sorted(
            p.name for p in self.out.iterdir() if p.name.startswith(".nbflow")
        )


def kill(process: subprocess.Popen[str], how: signal.Signals) -> str:
    """Send ``how`` to ``process``, reap it (a zombie looks alive) and return stderr."""
    process.send_signal(how)
    _, stderr = process.communicate(timeout=BOUND)
    return stderr
