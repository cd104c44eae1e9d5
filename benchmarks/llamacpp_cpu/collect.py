"""Turn the raw runs of ``bench.py`` into the rows the speed fit reads.

One row per configuration, in llama-bench's own JSON shape (``model_filename``, ``n_threads``,
``n_prompt``, ``n_gen``, ``n_depth``, ``avg_ts``, ``build_commit``, ``cpu_info``) so
``benchmarks/speed_fit.py`` reads it like any llama-bench output. ``avg_ts`` is the **best** of
the interleaved repetitions: on a shared machine another process can only slow a run down, so the
fastest repetition is the least disturbed one. The median, the slowest, the count and the worst
load seen before a repetition are kept beside it, so a reader can judge each row.

``--max-busy`` drops every repetition taken while the rest of the machine used more than that
share of the CPUs (the gate's ``busy_before``): a round the quiet gate gave up waiting for is not a
measurement of this machine, and no later best-of can tell how much it lost (one-thread decode
after 2,048 tokens ran 7.7 and 13.7 tok/s in two such rounds, 16.5 on a quiet machine). A
configuration with no quiet repetition left is dropped, and said so.

    python -m benchmarks.llamacpp_cpu.collect RAW.json [RAW2.json ...] --out ROWS.json \
        [--max-busy 0.10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any


def collect(
    raw_docs: list[dict[str, Any]], *, max_busy: float | None = None
) -> list[dict[str, Any]]:
    """One llama-bench-shaped row per configuration, best repetition first; with ``max_busy``,
    only the repetitions taken while the rest of the machine was at most that busy."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for doc in raw_docs:
        for run in doc.get("runs", []):
            if "avg_ts" not in run:
                continue
            if max_busy is not None and run.get("busy_before", 0.0) > max_busy:
                continue
            by_key.setdefault(run["key"], []).append(run)
    rows: list[dict[str, Any]] = []
    for key in sorted(by_key):
        runs = by_key[key]
        best = max(runs, key=lambda r: r["avg_ts"])
        speeds = [r["avg_ts"] for r in runs]
        row = dict(best["row"])
        row.update(
            avg_ts=round(best["avg_ts"], 3),
            median_ts=round(statistics.median(speeds), 3),
            min_ts=round(min(speeds), 3),
            repetitions=len(speeds),
            max_busy_before=max(r.get("busy_before", 0.0) for r in runs),
            max_steal=max(max(r.get("steal_before", 0.0), r.get("steal_after", 0.0)) for r in runs),
            key=key,
        )
        row.pop("samples_ns", None)
        row.pop("samples_ts", None)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-busy", type=float, default=None, help="drop busier repetitions")
    args = parser.parse_args(argv)
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in args.raw]
    rows = collect(docs, max_busy=args.max_busy)
    every = {r["key"] for d in docs for r in d.get("runs", []) if "avg_ts" in r}
    dropped = sorted(every - {r["key"] for r in rows})
    args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(rows)} configurations")
    for key in dropped:
        print(f"  dropped (no repetition at most {args.max_busy} busy): {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
