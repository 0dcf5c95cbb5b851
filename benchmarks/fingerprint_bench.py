"""What code-aware completeness costs: the all-complete check, exists vs fingerprint.

Builds N tasks whose outputs (and, for fingerprint mode, sidecars) already exist, and
times the build that finds everything complete, in both modes, in fresh processes.
Goal: fingerprinting adds <= 20 % to the all-complete check of a 10,000-task graph.
Prints numbers and PASS/MISS; never asserts.

    python benchmarks/fingerprint_bench.py [--size 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

GOAL = 1.20


def _one(size: int, mode: str, repeat: int, shape: str) -> float:
    import nbflow

    folder = tempfile.mkdtemp(prefix="nbflow-fp-bench-")

    class Done(nbflow.Task):
        n = nbflow.IntParameter()

        def requires(self):
            return [Done(self.n - 1)] if shape == "chain" and self.n else []

        def output(self):
            return nbflow.LocalTarget(f"{folder}/{self.n}.txt")

        def run(self):
            with self.output().open("w") as out:
                out.write("x")

    roots = [Done(size - 1)] if shape == "chain" else [Done(i) for i in range(size)]
    nbflow.build(roots, completeness="fingerprint")  # make outputs and sidecars
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        nbflow.build(roots, completeness=mode)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--one", nargs=2, metavar=("MODE", "SHAPE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.size, args.one[0], args.repeat, args.one[1])))
        return
    print(f"all-complete check, {args.size:,} tasks, best of {args.repeat}")
    for shape in ("roots", "chain"):
        times = {}
        for mode in ("exists", "fingerprint"):
            command = [
                sys.executable,
                __file__,
                "--size",
                str(args.size),
                "--repeat",
                str(args.repeat),
                "--one",
                mode,
                shape,
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            times[mode] = json.loads(out.stdout)
        ratio = times["fingerprint"] / times["exists"]
        verdict = "PASS" if ratio <= GOAL else "MISS"
        print(
            f"  {shape:<6} exists {times['exists']:.3f} s   fingerprint "
            f"{times['fingerprint']:.3f} s   ratio {ratio:.2f} (goal <= {GOAL})  {verdict}"
        )
    print(
        "  (chain: exists mode checks only the root; fingerprint mode must walk the whole"
    )
    print("   chain, since the root's fingerprint depends on every task below it)")


if __name__ == "__main__":
    main()
