"""Bundle size and start-up time of both executables of the PyInstaller app (and of the venv).

Build first (``packaging/build_linux.sh``), then::

    .venv/bin/python benchmarks/bundle.py [--app dist/llmcheck] [--runs 5]

Sizes: the folder's bytes (files only, as ``du -sb`` counts them) and the tarball's. Start-up:
wall time of whole processes, ``llmcheck --json`` and ``llmcheck-gui --smoke-test`` (offscreen,
exits after the first paint). The first run after a build is the coldest the page cache allows
here (the cache is not dropped: that needs root and slows every other process on the machine);
the median of the following runs is the warm start. The load average is printed because other
processes share the cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def folder_bytes(folder: Path) -> int:
    """Total size of the regular files under ``folder`` (symlinks not followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def time_runs(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall seconds of ``runs`` runs of ``command``; a failing run stops the benchmark."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, check=False, timeout=300)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            tail = result.stderr.decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{tail}")
    return times


def main() -> int:
    """Print the size table and the start-up table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=REPO / "dist" / "llmcheck")
    parser.add_argument("--runs", type=int, default=6, help="runs per command (first = cold)")
    parser.add_argument("--no-venv", action="store_true", help="skip the venv comparison")
    args = parser.parse_args()
    if not (args.app / "llmcheck-gui").is_file():
        print(f"no bundle at {args.app}: run packaging/build_linux.sh first", file=sys.stderr)
        return 2

    tarballs = sorted(args.app.parent.glob("llmcheck-*-linux-*.tar.gz"))
    print(f"bundle folder: {folder_bytes(args.app) / 1e6:.1f} MB  ({args.app})")
    for tarball in tarballs:
        print(f"tarball:       {tarball.stat().st_size / 1e6:.1f} MB  ({tarball.name})")

    env = {
        "HOME": os.environ.get("HOME", "/tmp"),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    venv_bin = Path(sys.executable).parent
    commands = {
        "bundle llmcheck --json": [str(args.app / "llmcheck"), "--json"],
        "bundle llmcheck-gui --smoke-test": [str(args.app / "llmcheck-gui"), "--smoke-test"],
    }
    if not args.no_venv:
        commands["venv llmcheck --json"] = [str(venv_bin / "llmcheck"), "--json"]
        commands["venv llmcheck-gui --smoke-test"] = [
            str(venv_bin / "llmcheck-gui"),
            "--smoke-test",
        ]
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"{'command':36} {'first s':>8} {'median s':>9} {'min s':>7}  runs")
    for label, command in commands.items():
        times = time_runs(command, args.runs, env)
        rest = times[1:] or times
        print(
            f"{label:36} {times[0]:8.2f} {statistics.median(rest):9.2f} {min(rest):7.2f}"
            f"  {len(times)}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
