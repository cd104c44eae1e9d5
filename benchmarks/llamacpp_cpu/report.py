"""The small CPU's llama-bench runs against llmcheck's estimate, as a Markdown page.

Every run of every set in ``sets.py`` (those in the speed fit, and the set held out of every fit)
is asked again through ``llmcheck.estimate.estimate()`` on the machine as llmcheck recorded it
(``tests/data/recorded/epyc-2core-vm.json``; for the AVX2-only build, the same machine without
its AVX-512 flags, as an AVX2 CPU reports itself), twice: with the CPU-class table's bandwidth
(what a user sees by default) and with the bandwidth llmcheck measured there. Writes
``docs/speed-small-cpu.md``; ``tests/test_speed_small_cpu.py`` checks the page is current.

    python -m benchmarks.llamacpp_cpu.report
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks.llamacpp_cpu.sets import RunSet, present
from llmcheck.catalog import load_catalog
from llmcheck.estimate import RunConfig, estimate
from llmcheck.snapshot import Source, SystemSnapshot, read_snapshot_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MACHINE_FILE = DATA / "recorded" / "epyc-2core-vm.json"
SIDECAR = DATA / "llamacpp" / "speed_cpu_small_machine.json"
DOC = ROOT / "docs" / "speed-small-cpu.md"
_FILE = re.compile(r"(lfm2-[\w.-]+?)-(F16|Q8_0|Q6_K|Q4_K_M|Q4_0)\.gguf$")


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One run against one estimate."""

    key: str
    test: str  # "decode" | "prompt"
    held_out: bool
    set_label: str
    measured_tokens_per_second: float
    low_tokens_per_second: float
    high_tokens_per_second: float

    @property
    def ratio(self) -> float:
        """1.0 inside; else measured over the nearer bound."""
        m = self.measured_tokens_per_second
        if m > self.high_tokens_per_second:
            return m / self.high_tokens_per_second
        if m < self.low_tokens_per_second:
            return m / self.low_tokens_per_second
        return 1.0


def machines(*, avx2_only: bool = False) -> dict[str, SystemSnapshot]:
    """The recorded machine with its table bandwidth, and with the measured one (``avx2_only``:
    without its AVX-512 flags, as the AVX2-only build sees it)."""
    table = read_snapshot_file(MACHINE_FILE)
    if avx2_only:
        features = tuple(f for f in table.cpu.features if not f.startswith(("avx512", "amx")))
        table = dataclasses.replace(table, cpu=dataclasses.replace(table.cpu, features=features))
    measured_gb_s = float(json.loads(SIDECAR.read_text())["measured_copy_gb_s"])
    memory = dataclasses.replace(
        table.memory, bandwidth_gb_s=measured_gb_s, bandwidth_source=Source.MEASURED
    )
    return {"table": table, "measured": dataclasses.replace(table, memory=memory)}


def estimate_run(run: dict[str, Any], machine: SystemSnapshot) -> tuple[float, float]:
    """The (low, high) tok/s llmcheck estimates for one llama-bench row on ``machine``: the
    context half full at the depth llama-bench filled (plus half the generated tokens), the
    row's thread count; the prompt range for a pp row, the decode range for a tg row."""
    found = _FILE.search(run["model_filename"])
    assert found is not None, run["model_filename"]
    variant, quant = found.groups()
    gen = int(run["n_gen"])
    depth = int(run["n_depth"]) + (gen // 2 if gen else 0)
    config = RunConfig(context_tokens=max(2 * depth, 512), threads=int(run["n_threads"]))
    speed = estimate(load_catalog().variant(variant), quant, config, machine).speed
    assert speed is not None
    if int(run["n_prompt"]) > 0:
        return speed.prompt_low_tokens_per_second, speed.prompt_high_tokens_per_second
    return speed.low_tokens_per_second, speed.high_tokens_per_second


def rows_for(bandwidth: str) -> list[Row]:
    """Every run of every present set, against the estimate with the ``bandwidth`` ("table" or
    "measured") of the machine its build saw."""
    out: list[Row] = []
    for run_set in present():
        machine = machines(avx2_only=run_set.avx2_only)[bandwidth]
        runs: list[dict[str, Any]] = json.loads(run_set.rows.read_text())
        for run in runs:
            low, high = estimate_run(run, machine)
            out.append(
                Row(
                    key=run["key"],
                    test="prompt" if int(run["n_prompt"]) > 0 else "decode",
                    held_out=not run_set.fitted,
                    set_label=run_set.label,
                    measured_tokens_per_second=float(run["avg_ts"]),
                    low_tokens_per_second=low,
                    high_tokens_per_second=high,
                )
            )
    return out


def _count(rows: list[Row], *, run_set: RunSet, test: str) -> str:
    chosen = [r for r in rows if r.set_label == run_set.label and r.test == test]
    if not chosen:
        return "-"
    inside = sum(r.ratio == 1.0 for r in chosen)
    text = f"{inside}/{len(chosen)} inside"
    outside = [r.ratio for r in chosen if r.ratio != 1.0]
    if outside:
        worst = max(outside, key=lambda x: max(x, 1 / x))
        text += f" (worst {worst:.2f}x)"
    return text


def page() -> str:
    """The Markdown page."""
    sidecar = json.loads(SIDECAR.read_text())
    results = {name: rows_for(name) for name in ("table", "measured")}
    table_gb_s = machines()["table"].memory.bandwidth_gb_s
    lines = [
        "# Speed on a small CPU: llama-bench against llmcheck's estimate",
        "",
        "Generated by `python -m benchmarks.llamacpp_cpu.report` (do not edit by hand).",
        f"Machine: {sidecar['name']}; llama.cpp 0c1e570 (`llama-bench`, built with",
        "`GGML_NATIVE=ON`, and once more without AVX-512 for the AVX2-only set); synthetic LFM2",
        "GGUFs (real shapes, random weights) quantized with its `llama-quantize`. Each run is the",
        "best of its interleaved repetitions (the median, the slowest and the load are in the",
        "data). The sets marked *fitted* are in the speed fit; **the set held out of every fit**",
        "never was (`benchmarks/llamacpp_cpu/sets.py`). Each run is asked again through",
        "`estimate()` with the context half full at the depth llama-bench filled, and the run's",
        "thread count.",
        "",
        f"Bandwidth: the CPU-class table's {table_gb_s} GB/s peak (what a user"
        f" sees by default), and {sidecar['measured_copy_gb_s']} GB/s measured on this VM.",
        "",
        "| runs | bandwidth | decode (tg) | prompt (pp512) |",
        "|---|---|---|---|",
    ]
    for run_set in present():
        label = f"{run_set.label} ({'fitted' if run_set.fitted else '**held out**'})"
        for name, rows in results.items():
            lines.append(
                f"| {label} | {name} | {_count(rows, run_set=run_set, test='decode')} |"
                f" {_count(rows, run_set=run_set, test='prompt')} |"
            )
    lines += [
        "",
        "## Every run",
        "",
        "| set | run | test | measured tok/s | estimate (table bw) | estimate (measured bw) |",
        "|---|---|---|---:|---:|---:|",
    ]
    for table_row, measured_row in zip(results["table"], results["measured"], strict=True):

        def cell(r: Row) -> str:
            mark = "" if r.ratio == 1.0 else f" **{r.ratio:.2f}x**"
            return f"{r.low_tokens_per_second:,.1f}-{r.high_tokens_per_second:,.1f}{mark}"

        lines.append(
            f"| {table_row.set_label} | {table_row.key} | {table_row.test} |"
            f" {table_row.measured_tokens_per_second:,.1f} | {cell(table_row)} |"
            f" {cell(measured_row)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    DOC.write_text(page(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
