"""The small CPU's llama-bench data sets: which file, which build, and whether a fit sees it.

One place for ``benchmarks/speed_fit.py`` (what it fits) and ``report.py`` (what it checks through
``estimate()``), so the two never disagree on what was held out.

Every rows file is rebuilt from the raw runs of ``bench.py`` (``cpu_small_raw/``) by ``collect.py``
with the repetitions taken on a busy machine dropped (:data:`MAX_BUSY`)::

    python -m benchmarks.llamacpp_cpu.sets

``tests/test_bench_collect.py`` checks that every rows file is what its raw runs give.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.llamacpp_cpu.collect import collect

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "llamacpp"
RAW = DATA / "cpu_small_raw"
#: A repetition taken while the rest of the machine used more than this share of the CPUs is
#: not a measurement of the machine (the first one-thread runs, taken with both vCPUs busy and a
#: load average of 4-5, ran 5-36 % below the same runs on the quiet machine).
MAX_BUSY = 0.10


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSet:
    """One file of llama-bench rows (``collect.py``'s shape) and what it is."""

    rows: Path
    sidecar: Path  # the machine as the fit sees it: bandwidth, cores, ISA
    label: str
    machine: str  # the speed fit's machine id (one per ISA the build uses)
    host: str  # the physical machine: leave-one-out holds out a whole host
    fitted: bool
    raw: tuple[str, ...]  # bench.py outputs in cpu_small_raw/ the rows are collected from
    moe: bool | None = None  # only LFM2-8B-A1B (True), only dense models (False), or any
    depth_only: bool = False  # only runs after a filled context (their raw files hold references)
    avx2_only: bool = False  # llama.cpp built without AVX-512: the ISA of a Zen 3 / Skylake client

    def wants(self, key: str) -> bool:
        """True when a run (``bench.py``'s key) belongs in this set."""
        if self.moe is not None and ("-a1b/" in key) is not self.moe:
            return False
        return not self.depth_only or not key.endswith("/d0")

    def collected(self) -> list[dict[str, Any]]:
        """The set's rows, from its raw runs (busy repetitions dropped)."""
        docs = [json.loads((RAW / f"{name}.json").read_text(encoding="utf-8")) for name in self.raw]
        return [r for r in collect(docs, max_busy=MAX_BUSY) if self.wants(r["key"])]


HOST = "epyc-2core-vm"


def _epyc(
    rows: str,
    label: str,
    *,
    fitted: bool,
    raw: tuple[str, ...],
    moe: bool | None = None,
    depth_only: bool = False,
    avx2_only: bool = False,
) -> RunSet:
    """A set measured on the 2-vCPU EPYC VM (its native build unless ``avx2_only``)."""
    suffix = "_avx2" if avx2_only else ""
    return RunSet(
        rows=DATA / rows,
        sidecar=DATA / f"speed_cpu_small{suffix}_machine.json",
        label=label,
        machine=f"epyc-2core{'-avx2' if avx2_only else ''}",
        host=HOST,
        fitted=fitted,
        raw=raw,
        moe=moe,
        depth_only=depth_only,
        avx2_only=avx2_only,
    )


SETS = (
    _epyc(
        "speed_cpu_small.json",
        "LFM2-350M / 1.2B / 2.6B",
        fitted=True,
        raw=("epyc2_t1", "epyc2_t2", "epyc2_quiet_t1", "epyc2_quiet_grid_t1", "epyc2_ab_native_t1"),
        moe=False,
    ),
    _epyc(
        "speed_cpu_small_moe.json",
        "LFM2-8B-A1B Q8_0 / Q4_K_M / Q4_0",
        fitted=True,
        raw=("epyc2_moe_t1", "epyc2_t2", "epyc2_quiet_moe_t1"),
        moe=True,
    ),
    _epyc(
        "speed_cpu_small_avx2.json",
        "AVX2-only build, LFM2-350M / 1.2B / 2.6B",
        fitted=True,
        raw=("epyc2_avx2_t1", "epyc2_ab_avx2_t1", "epyc2_quiet_avx2_grid_t1"),
        avx2_only=True,
    ),
    _epyc(
        "speed_cpu_small_prompt_depth.json",
        "LFM2-350M / 1.2B Q4_K_M pp512 after 2,048 / 8,192 tokens, 1 thread",
        fitted=True,
        raw=("epyc2_prompt_depth_t1",),
        depth_only=True,
    ),
    _epyc(
        "speed_cpu_small_prompt_depth_t2.json",
        "2 threads: LFM2-350M / 1.2B Q4_K_M pp512 after 2,048 / 8,192 tokens",
        fitted=False,
        raw=("epyc2_prompt_depth_t2",),
        depth_only=True,
    ),
    _epyc(
        "speed_cpu_small_long_t1.json",
        "1 thread, long contexts: decode after 16,384 / 32,768 tokens",
        fitted=False,
        raw=("epyc2_16k_t1", "epyc2_32k_t1_12b", "epyc2_32k_t1"),
    ),
    _epyc(
        "speed_cpu_small_long_t2.json",
        "2 threads, long contexts: decode after 16,384 / 24,576 tokens",
        fitted=False,
        raw=("epyc2_long_t2", "epyc2_long_t2_24k"),
    ),
    _epyc(
        "speed_cpu_small_heldout.json",
        "LFM2-8B-A1B F16 / Q6_K; 2 threads: F16, Q6_K, decode after 2,048-32,768 tokens",
        fitted=False,
        raw=("epyc2_heldout",),
    ),
)


def present(fitted: bool | None = None) -> tuple[RunSet, ...]:
    """The sets whose files exist (all, or only the fitted / only the held-out ones)."""
    return tuple(s for s in SETS if s.rows.exists() and (fitted is None or s.fitted is fitted))


def rebuild() -> list[str]:
    """Rewrite every set's rows file whose raw runs are all present; one line per file."""
    out = []
    for run_set in SETS:
        if not all((RAW / f"{name}.json").exists() for name in run_set.raw):
            out.append(f"{run_set.rows.name}: raw runs missing, left as it is")
            continue
        rows = run_set.collected()
        tmp = run_set.rows.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        tmp.replace(run_set.rows)
        out.append(f"{run_set.rows.name}: {len(rows)} runs")
    return out


if __name__ == "__main__":
    sys.stdout.write("\n".join(rebuild()) + "\n")
