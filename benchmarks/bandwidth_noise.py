"""How noisy is a RAM bandwidth measurement? The old single shot next to the robust one.

Takes N pairs at different moments, ``--gap`` seconds apart: the old single shot (best of four
rounds in 0.3 s, load not looked at: ``run_measurement``) and the robust measurement (five
rounds, rounds under load discarded: ``measure_bandwidth``), in alternating order so neither
always runs on a warmer machine. ``--burn K`` runs K busy-loop processes during every other pair
(the "other work" a compile or a browser brings). Records the machine's load and steal around
each pair and prints a Markdown table plus the spread of each method, for docs/bandwidth.md.

Usage: ``.venv/bin/python benchmarks/bandwidth_noise.py [-n 10] [--gap 20] [--burn 1]
[--json FILE]``; ``--classes`` prints the class table of docs/bandwidth.md instead.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from llmcheck.probe.bandwidth import (
    classify_cpu,
    load_class_table,
    plan_measurement,
    run_measurement,
)
from llmcheck.probe.bandwidth_measure import measure_bandwidth, read_cpu_sample, round_disturbance
from llmcheck.probe.cpu import probe_cpu
from llmcheck.probe.memory import probe_memory


def _burn(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x += 1


def _model_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def one_pair(index: int, usable: int | None, burn: int) -> dict[str, Any]:
    """One old and one robust measurement (order alternates), with the load around them."""
    burners: list[multiprocessing.Process] = []
    burning = burn > 0 and index % 2 == 1
    if burning:
        stop_at = time.time() + 4.0
        burners = [multiprocessing.Process(target=_burn, args=(stop_at,)) for _ in range(burn)]
        for p in burners:
            p.start()
        time.sleep(0.3)
    before = read_cpu_sample()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    plan = plan_measurement(usable_bytes=usable)
    old_first = index % 2 == 0
    row: dict[str, Any] = {"pair": index, "burners": burn if burning else 0, "load_1m": load}
    for which in ("old", "new") if old_first else ("new", "old"):
        if which == "old":
            row["old_gb_s"] = run_measurement(plan, seconds_budget=0.3).gb_s
        else:
            m = measure_bandwidth(usable_bytes=usable)
            row.update(
                new_gb_s=m.copy_gb_s,
                new_busy=m.busy,
                new_kept=m.rounds_kept,
                new_total=m.rounds_total,
                new_seconds=m.seconds,
                new_worst_disturbance=m.worst_disturbance,
                new_summary=m.summary,
            )
    after = read_cpu_sample()
    judged = round_disturbance(before, after) if before and after else None
    row["others_plus_steal"] = round(judged[0], 3) if judged else None
    row["steal"] = round(judged[1], 3) if judged else None
    for p in burners:
        p.join()
    return row


def spread(values: Sequence[float]) -> str:
    """``min-max (median m, max/min r)``."""
    if not values:
        return "none"
    lo, hi = min(values), max(values)
    return (
        f"{lo:.1f}-{hi:.1f} GB/s (median {statistics.median(values):.1f}, max/min {hi / lo:.2f}x)"
    )


# What a copy reaches of a peak, as the speed model counts it (RAM_PEAK_TO_COPY in llmcheck's
# estimator; repeated here so this script does not depend on where the estimator keeps it).
PEAK_TO_COPY = 0.70


def class_table_markdown() -> str:
    """Every row of cpu_bandwidth.toml: its peak range and the copy range it stands for.

    docs/bandwidth.md carries this table verbatim (tests/probe/test_bandwidth_docs.py).
    """
    table = load_class_table()
    lines = [
        "| class | peak low / nominal / high, GB/s | copy range (x 0.70), GB/s | source |",
        "|---|---|---|---|",
    ]
    for c in table.classes:
        scaled = " (x cores: see per-core)" if c.scale_with_cores else ""
        lines.append(
            f"| {c.name} | {c.low_gb_s:g} / {c.nominal_gb_s:g} / {c.high_gb_s:g}{scaled} |"
            f" {c.low_gb_s * PEAK_TO_COPY:.0f}-{c.high_gb_s * PEAK_TO_COPY:.0f} | {c.source} |"
        )
    low, nominal, high = table.per_core_gb_s
    lines.append(
        f"| per core (server classes are capped at cores x this) | {low:g} / {nominal:g} /"
        f" {high:g} | {low * PEAK_TO_COPY:.1f}-{high * PEAK_TO_COPY:.1f} per core |"
        " Little's law; issue #10's 2-vCPU EPYC |"
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the Markdown table and the spreads."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="pairs of measurements")
    parser.add_argument("--gap", type=float, default=20.0, help="seconds between pairs")
    parser.add_argument(
        "--burn", type=int, default=0, help="busy-loop processes during every other pair"
    )
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument(
        "--classes", action="store_true", help="print the class table (Markdown) and exit"
    )
    args = parser.parse_args(argv)
    if args.classes:
        print(class_table_markdown(), end="")
        return 0
    cpu, _ = probe_cpu()
    usable = probe_memory()[0].usable_bytes
    cls = classify_cpu(cpu.brand, cpu.physical_cores or cpu.logical_cores)
    rows = []
    for i in range(args.n):
        if i:
            time.sleep(args.gap)
        rows.append(one_pair(i, usable, args.burn))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"Machine: {_model_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if cls is not None:
        print(
            f"Class table: {cls.basis}: {cls.low_gb_s}-{cls.high_gb_s} GB/s peak,"
            f" nominal {cls.gb_s}"
        )
    print()
    print("| pair | burners | load 1m | others+steal | steal | old single shot | robust |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ld = "-" if r["load_1m"] is None else f"{r['load_1m']:.2f}"
        other = "-" if r["others_plus_steal"] is None else f"{r['others_plus_steal']:.0%}"
        steal = "-" if r["steal"] is None else f"{r['steal']:.0%}"
        print(
            f"| {r['pair']} | {r['burners']} | {ld} | {other} | {steal} |"
            f" {r['old_gb_s']:.1f} | {r['new_summary']} |"
        )
    old = [r["old_gb_s"] for r in rows]
    new_all = [r["new_gb_s"] for r in rows]
    new_trusted = [r["new_gb_s"] for r in rows if not r["new_busy"]]
    print()
    print(f"- old single shot, every call: {spread(old)}")
    print(f"- robust, every call: {spread(new_all)}")
    print(
        f"- robust, calls not flagged busy ({len(new_trusted)} of {len(rows)}):"
        f" {spread(new_trusted)}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {"machine": _model_name(), "cpus": os.cpu_count(), "rows": rows}, handle, indent=1
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
