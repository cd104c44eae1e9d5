"""Wall time of ``llmcheck --json`` next to a bare ``python -c pass`` on the same machine.

Runs each command N times in a fresh subprocess (the way a script would call llmcheck), takes the
median, and prints one Markdown table for the README. Target (issue #2): ``llmcheck --json``
under 3x the bare interpreter start.

Usage: ``.venv/bin/python benchmarks/probe.py [-n 7] [--snapshot FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence


def time_command(command: Sequence[str], runs: int) -> tuple[float, list[float]]:
    """Median wall seconds of ``runs`` runs (after one warm-up run), and every sample."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(command, capture_output=True, check=False, env=env, timeout=120)  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False, env=env, timeout=120)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}"
            )
    return statistics.median(samples), samples


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--snapshot", help="also time judging a recorded machine")
    args = parser.parse_args(argv)
    python = sys.executable
    # pip compiles bytecode at install; an editable checkout whose .pyc files are stale (and
    # PYTHONDONTWRITEBYTECODE below) would recompile llmcheck on every run and time the compiler.
    import compileall

    import llmcheck

    compileall.compile_dir(os.path.dirname(llmcheck.__file__), quiet=1)
    rows = [
        ("`python -c pass`", [python, "-c", "pass"]),
        ("`llmcheck --version`", [python, "-m", "llmcheck", "--version"]),
        ("`llmcheck --json`", [python, "-m", "llmcheck", "--json"]),
    ]
    if args.snapshot:
        rows.append(
            (
                f"`llmcheck --snapshot {os.path.basename(args.snapshot)} --json`",
                [python, "-m", "llmcheck", "--snapshot", args.snapshot, "--json"],
            )
        )
    results = [(label, *time_command(cmd, args.runs)) for label, cmd in rows]
    base = results[0][1]
    probe_doc = json.loads(
        subprocess.run(rows[2][1], capture_output=True, check=True, timeout=120).stdout
    )
    models = len(probe_doc.get("models", []))
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"median of {args.runs} runs; `--json` estimates {models} variant x quant pairs."
    )
    print()
    print("| command | median wall time | vs `python -c pass` |")
    print("|---|---|---|")
    for label, median, _samples in results:
        print(f"| {label} | {median * 1000:.0f} ms | {median / base:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
