"""The small CPU's llama-bench data sets: which file, which build, and whether a fit sees it.

One place for ``benchmarks/speed_fit.py`` (what it fits) and ``report.py`` (what it checks through
``estimate()``), so the two never disagree on what was held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "llamacpp"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSet:
    """One file of llama-bench rows (``collect.py``'s shape) and what it is."""

    rows: Path
    sidecar: Path  # the machine as the fit sees it: bandwidth, cores, ISA
    label: str
    machine: str  # the speed fit's machine id (one per ISA the build uses)
    host: str  # the physical machine: leave-one-out holds out a whole host
    fitted: bool
    avx2_only: bool = False  # llama.cpp built without AVX-512: the ISA of a Zen 3 / Skylake client


HOST = "epyc-2core-vm"


def _epyc(rows: str, label: str, *, fitted: bool, avx2_only: bool = False) -> RunSet:
    """A set measured on the 2-vCPU EPYC VM (its native build unless ``avx2_only``)."""
    suffix = "_avx2" if avx2_only else ""
    return RunSet(
        rows=DATA / rows,
        sidecar=DATA / f"speed_cpu_small{suffix}_machine.json",
        label=label,
        machine=f"epyc-2core{'-avx2' if avx2_only else ''}",
        host=HOST,
        fitted=fitted,
        avx2_only=avx2_only,
    )


SETS = (
    _epyc("speed_cpu_small.json", "LFM2-350M / 1.2B / 2.6B", fitted=True),
    _epyc("speed_cpu_small_moe.json", "LFM2-8B-A1B Q8_0 / Q4_K_M / Q4_0", fitted=True),
    _epyc(
        "speed_cpu_small_avx2.json",
        "AVX2-only build, LFM2-350M / 1.2B / 2.6B",
        fitted=True,
        avx2_only=True,
    ),
    _epyc(
        "speed_cpu_small_prompt_depth.json",
        "LFM2-350M / 1.2B Q4_K_M pp512 after 2,048 / 8,192 tokens, 1 thread",
        fitted=True,
    ),
    _epyc(
        "speed_cpu_small_prompt_depth_t2.json",
        "2 threads: LFM2-350M / 1.2B Q4_K_M pp512 after 2,048 / 8,192 tokens",
        fitted=False,
    ),
    _epyc(
        "speed_cpu_small_long_t1.json",
        "1 thread, long contexts: decode after 16,384 / 32,768 tokens, pp512 after 32,768",
        fitted=False,
    ),
    _epyc(
        "speed_cpu_small_heldout.json",
        "LFM2-8B-A1B F16 / Q6_K; 2 threads: F16, Q6_K, decode after 2,048-32,768 tokens",
        fitted=False,
    ),
)


def present(fitted: bool | None = None) -> tuple[RunSet, ...]:
    """The sets whose files exist (all, or only the fitted / only the held-out ones)."""
    return tuple(s for s in SETS if s.rows.exists() and (fitted is None or s.fitted is fitted))
