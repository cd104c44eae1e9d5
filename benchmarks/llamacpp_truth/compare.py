"""Compare llmcheck's per-term memory estimate with what llama.cpp printed, as a Markdown table.

For every successful run of a measurement JSON (``measure.py``'s output), the run's parameters
become a ``RunConfig`` (front end libllama: the runs went through llama-cpp-python; ``-ngl`` as
``gpu_layers``) and ``llmcheck.estimate.estimate()`` is asked about them on the measuring machine
(``tests/data/recorded/h100-llmcheck.json``; CPU runs hid the GPU, so their machine has none).
Each memory term that llama.cpp prints is set beside the Fit's device terms:

* ``weights_gpu``: the GPU ``model buffer`` lines; the GPU devices' ``weights_bytes``.
* ``weights_host``: the host model buffers (``CPU_Mapped`` / ``CPU`` / ``CUDA_Host``); when an
  extra repack buffer exists, ``llama_model_size`` (+ the token_embd duplicate) minus the GPU
  part; the CPU device's ``weights_bytes`` + ``mmap_cache_bytes``.
* ``repack``: extra CPU buffers (``CPU_REPACK``, ``AMX``); the CPU device's ``repack_bytes``.
* ``kv_cache``: all ``KV buffer`` lines; every device's ``kv_cache_bytes``.
* ``recurrent_state``: all ``RS buffer`` lines; every device's ``recurrent_state_bytes``.
* ``output``: all ``output buffer`` lines; every device's ``output_bytes``.
* ``compute``: the main device's ``compute buffer``; that device's ``compute_bytes``.
* ``host_compute``: the ``CUDA_Host compute buffer`` of GPU runs; the CPU device's
  ``compute_bytes``.
* ``overhead``: on GPU runs, NVML bytes of the process after decoding minus the GPU's printed
  buffers; the GPU device's ``overhead_bytes`` (CUDA context, + cuBLAS when it loads). The CPU
  device's process overhead is not measured and not compared.
* ``total``: the sum of the terms above; the same sum predicted.
* ``total_printed`` (info): every printed buffer (counts a mapped file range and its repacked
  copy both); no prediction.

Tolerances (issue #3): every term within 2 %, the total within 3 %; the printed rounding
(+-0.005 MiB) is allowed on top.

``python -m benchmarks.llamacpp_truth.compare RESULTS.json [--all-runs] [--check] [--machine F]``;
``--check`` exits 1 when a toleranced term is out of tolerance.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 1 << 20
TERM_TOLERANCE = 0.02
TOTAL_TOLERANCE = 0.03
#: llama.cpp prints MiB with two decimals: a printed value is exact only to +-0.005 MiB.
PRINT_RESOLUTION_BYTES = 0.005 * MIB
#: Terms held to the tolerances; the others are reported for information (see the README).
TOLERANCED = (
    "weights_gpu",
    "weights_host",
    "repack",
    "kv_cache",
    "recurrent_state",
    "output",
    "compute",
    "host_compute",
    "overhead",
    "total",
)
#: What "total" sums: every buffer llama.cpp prints, on every device (host weights counted as the
#: tensors the mapped range / CPU buffer holds, see weights_host), plus the CUDA context that NVML
#: shows for the process on GPU runs.
TOTAL_PARTS = (
    "weights_gpu",
    "weights_host",
    "repack",
    "kv_cache",
    "recurrent_state",
    "output",
    "compute",
    "host_compute",
    "overhead",
)
#: ggml "extra" CPU buffer types that hold a repacked copy of weights.
EXTRA_BUFFER_TYPES = ("CPU_REPACK", "AMX")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One term of one run.

    Attributes:
        run_id: The run.
        term: Term name (see the module docstring).
        measured_bytes: From llama.cpp's log (MiB x 2^20; the log prints two decimals).
        predicted_bytes: From llmcheck.estimate.estimate(); None when it has no prediction.
        note: Why a value is missing or what it depends on.
    """

    run_id: str
    term: str
    measured_bytes: float
    predicted_bytes: float | None
    note: str = ""

    @property
    def error(self) -> float | None:
        """(predicted - measured) / measured; None without a prediction or a measured 0."""
        if self.predicted_bytes is None or self.measured_bytes == 0:
            return None
        return (self.predicted_bytes - self.measured_bytes) / self.measured_bytes

    def within(self, tolerance: float) -> bool | None:
        """Whether the prediction is within ``tolerance`` of the measured value.

        The printed value's own rounding (+-0.005 MiB) is allowed on top, so that a 0.16 MiB line
        (0.15625 MiB exactly) does not count as a 2.4 % miss.
        """
        if self.predicted_bytes is None:
            return None
        slack = tolerance * abs(self.measured_bytes) + PRINT_RESOLUTION_BYTES
        return abs(self.predicted_bytes - self.measured_bytes) <= slack


def _mib(d: dict[str, float], keep: Callable[[str], bool] = lambda _k: True) -> float:
    return sum(v for k, v in d.items() if keep(k)) * MIB


def _is_gpu_buft(name: str) -> bool:
    return name.startswith(("CUDA", "ROCm", "Metal", "Vulkan")) and not name.endswith("_Host")


def measured_terms(run: dict[str, Any]) -> dict[str, float]:
    """The measured bytes per term of one run (see the module docstring)."""
    log = run["llama_log"]
    b = log["buffers_mib"]
    p = run["params"]
    model = b["model"]
    out: dict[str, float] = {}
    out["weights_gpu"] = _mib(model, _is_gpu_buft)
    extra = _mib(model, lambda k: k in EXTRA_BUFFER_TYPES)
    host_plain = _mib(model, lambda k: not _is_gpu_buft(k) and k not in EXTRA_BUFFER_TYPES)
    api = ((run.get("child") or {}).get("api")) or {}
    if extra and not p.get("use_mmap", True):
        # Without mmap the repacked layer tensors are not loaded a second time.
        out["weights_host"] = host_plain
        out["repack"] = extra
    elif extra and "llama_model_size" in api:
        # The mapped file range no longer equals the tensors the CPU keeps once some are repacked.
        dup = 0.0
        if p["n_gpu_layers"] > 0 and out["weights_gpu"] > 0:
            dup = _mib({k: v for k, v in model.items() if k in ("CPU_Mapped", "CPU", "CUDA_Host")})
        out["weights_host"] = float(api["llama_model_size"]) - out["weights_gpu"] + dup
        out["repack"] = extra
    else:
        out["weights_host"] = host_plain
    out["kv_cache"] = _mib(b["kv"])
    out["recurrent_state"] = _mib(b["rs"])
    out["output"] = _mib(b["output"])
    compute = b["compute"]
    main = [k for k in compute if _is_gpu_buft(k)] if p["device"] == "gpu" else []
    if main:
        out["compute"] = _mib(compute, lambda k: k in main)
        out["host_compute"] = _mib(compute, lambda k: k not in main)
    else:
        out["compute"] = _mib(compute)
    out["total_printed"] = sum(_mib(b[k]) for k in ("model", "kv", "rs", "output", "compute"))
    stages = (run.get("child") or {}).get("stages") or {}
    nvml = (stages.get("after_decode") or {}).get("nvml") or {}
    pid = (run.get("child") or {}).get("pid")
    procs = [q for q in nvml.get("processes", []) if q.get("pid") == pid and q["used_bytes"] > 0]
    if p["device"] == "gpu" and procs:
        gpu_printed = sum(
            _mib(b[k], _is_gpu_buft) for k in ("model", "kv", "rs", "output", "compute")
        )
        out["overhead"] = procs[0]["used_bytes"] - gpu_printed
    out["total"] = sum(out.get(k, 0.0) for k in TOTAL_PARTS)
    return out


#: The machine the recorded runs were measured on, as llmcheck's probe saw it.
MEASURING_MACHINE = Path(__file__).parents[2] / "tests" / "data" / "recorded" / "h100-llmcheck.json"


def load_machine(path: Path = MEASURING_MACHINE) -> Any:
    """The measuring machine's SystemSnapshot (an ``llmcheck --json`` document)."""
    from llmcheck.snapshot import snapshot_from_dict

    return snapshot_from_dict(json.loads(path.read_text(encoding="utf-8")))


def run_config(run: dict[str, Any]) -> Any:
    """The run's llama.cpp parameters as an llmcheck RunConfig (llama-cpp-python: libllama)."""
    from llmcheck.estimate import FrontEnd, KvType, RunConfig

    p = run["params"]
    if p["type_k"] != p["type_v"]:
        raise ValueError(f"K/V types differ ({p['type_k']} / {p['type_v']})")
    on_gpu = p["device"] == "gpu"
    return RunConfig(
        context_tokens=int(p["n_ctx"]),
        kv_type=KvType(p["type_k"]),
        flash_attn=p["flash_attn"] != "off",  # "auto" resolves to on for these backends
        parallel=int(p["n_seq_max"]),
        ubatch=int(p["n_ubatch"]),
        device="gpu:0" if on_gpu else "cpu",
        mmap=bool(p.get("use_mmap", True)),
        front_end=FrontEnd.LIBLLAMA,
        gpu_layers=int(p["n_gpu_layers"]) if on_gpu else 0,
    )


def predicted_terms(run: dict[str, Any], variant: Any, machine: Any) -> dict[str, float | None]:
    """llmcheck's bytes per term for the run: ``llmcheck.estimate.estimate()``'s Fit, read off
    its devices. CPU runs hid the GPU (CUDA_VISIBLE_DEVICES=""): the machine without its GPUs."""
    from dataclasses import replace

    from llmcheck.estimate import estimate

    p = run["params"]
    on_gpu = p["device"] == "gpu"
    if not on_gpu:
        machine = replace(machine, gpus=())
    fit = estimate(variant, p["quant"], run_config(run), machine)
    cpu = next(d for d in fit.devices if d.device == "cpu")
    gpus = [d for d in fit.devices if d.device != "cpu"]
    out: dict[str, float | None] = {
        "weights_gpu": float(sum(d.terms.weights_bytes for d in gpus)),
        # The mapped range (or CPU buffer) holds the tensors not repacked, plus under mmap the
        # file pages of those repacked.
        "weights_host": float(cpu.terms.weights_bytes + cpu.terms.mmap_cache_bytes),
        "repack": float(cpu.terms.repack_bytes),
        "kv_cache": float(sum(d.terms.kv_cache_bytes for d in fit.devices)),
        "recurrent_state": float(sum(d.terms.recurrent_state_bytes for d in fit.devices)),
        "output": float(sum(d.terms.output_bytes for d in fit.devices)),
    }
    if gpus:
        out["compute"] = float(sum(d.terms.compute_bytes for d in gpus))
        out["host_compute"] = float(cpu.terms.compute_bytes)
        out["overhead"] = float(sum(d.terms.overhead_bytes for d in gpus))
    else:
        out["compute"] = float(cpu.terms.compute_bytes)
    out["total"] = float(sum(out.get(k) or 0.0 for k in TOTAL_PARTS))
    out["total_printed"] = None  # informational
    return out


def compare_runs(
    runs: Iterable[dict[str, Any]], variant_of: Callable[[str], Any], machine: Any
) -> list[Row]:
    """Rows for every ok run; a run whose variant the catalog lacks gets notes, not an error."""
    rows: list[Row] = []
    for run in runs:
        if run.get("status") != "ok" or (run.get("child") or {}).get("dry_run"):
            continue
        m = measured_terms(run)
        try:
            variant = variant_of(run["params"]["variant"])
            pred: dict[str, float | None] = predicted_terms(run, variant, machine)
            note = ""
        except (KeyError, ValueError, AttributeError, TypeError, StopIteration) as exc:
            pred = {}
            note = f"no prediction: {type(exc).__name__}: {exc}"
        for term, value in m.items():
            rows.append(
                Row(
                    run_id=run["run_id"],
                    term=term,
                    measured_bytes=value,
                    predicted_bytes=pred.get(term),
                    note=note,
                )
            )
    return rows


def summary(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per term: runs compared, worst |error|, runs out of tolerance."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(
            r.term,
            {"n": 0, "worst": 0.0, "worst_run": "", "out": 0, "no_prediction": 0, "sum": 0.0},
        )
        if r.predicted_bytes is None:
            s["no_prediction"] += 1
            continue
        s["n"] += 1
        tol = TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE
        err = abs(r.error) if r.error is not None else 0.0
        s["sum"] += err
        s["mean"] = s["sum"] / s["n"]
        if err >= s["worst"]:
            s["worst"], s["worst_run"] = err, r.run_id
        if not r.within(tol):
            s["out"] += 1
    return out


def _fmt_mib(x: float | None) -> str:
    return "-" if x is None else f"{x / MIB:,.2f}"


def _fmt_err(r: Row) -> str:
    if r.predicted_bytes is None:
        return "-"
    if r.measured_bytes == 0:
        return f"{(r.predicted_bytes - r.measured_bytes) / MIB:+.2f} MiB"
    return f"{100 * (r.error or 0.0):+.2f} %"


def markdown(rows: list[Row], *, all_runs: bool) -> str:
    """The README tables: a per-term summary, then per-run rows (all or the out-of-tolerance)."""
    lines = [
        "| term | runs | max abs error | mean abs error | worst run | out of tolerance |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for term, s in summary(rows).items():
        tol = "3 %" if term == "total" else ("2 %" if term in TOLERANCED else "info")
        if s["n"] == 0:
            continue
        lines.append(
            f"| {term} ({tol}) | {s['n']} | {100 * s['worst']:.2f} % | "
            f"{100 * s['mean']:.2f} % | `{s['worst_run']}` | {s['out']} |"
        )
    lines += [
        "",
        "| run | term | measured MiB | predicted MiB | error |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        tol = TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE
        bad = r.within(tol) is False
        if all_runs or bad:
            flag = " ✗" if bad and r.term in TOLERANCED else ""
            lines.append(
                f"| `{r.run_id}` | {r.term} | {_fmt_mib(r.measured_bytes)} | "
                f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)}{flag} |"
            )
    return "\n".join(lines)


#: Runs the model cannot reproduce, and why (kept visible as failures, never hidden).
KNOWN_MISSES = {
    "lfm2-1.2b/Q4_K_M/cpu/ngl0/c2048/ub512/b2048/fa-on/": (
        "CPU compute 142.01 MiB vs 136: the f32 and f16 KQ masks (4 + 2 MiB at 2k) stay below the "
        "logits in ggml-alloc's buffer; at 8k and for the 350M at 2k they do not. Placement by "
        "the graph allocator's free-block order, not a size law: reproducing it needs a "
        "simulation of ggml_gallocr over the whole LFM2 graph."
    ),
    "lfm2-350m/Q4_K_M/cpu/ngl0/c32768/ub2048/b2048/fa-on/": (
        "CPU compute 648.05 MiB vs 528 (the 1.2B at the same setting is 544 = predicted): the "
        "logits land above a 136 MiB block (f16 mask 128 + one d-wide tensor) still placed low "
        "in the buffer; the same allocator placement effect, 120 MiB here."
    ),
}


def calibration_page(rows: list[Row], *, source: str) -> str:
    """docs/calibration.md: summary per term, the worst runs per term, and the known misses."""
    worst: dict[str, Row] = {}
    for r in rows:
        if r.predicted_bytes is None or r.error is None:
            continue
        if r.term not in worst or abs(r.error) > abs(worst[r.term].error or 0.0):
            worst[r.term] = r
    bad = [
        r
        for r in rows
        if r.term in TOLERANCED
        and r.within(TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE) is False
    ]
    out = [
        "# Estimator vs llama.cpp: error table",
        "",
        f"Generated by `python -m benchmarks.llamacpp_truth.compare tests/data/llamacpp/{source} "
        "--write docs/calibration.md` (do not edit by hand). llama.cpp 0c1e57098 "
        "(llama-cpp-python 0.3.36), NVIDIA H100 80GB HBM3 + Xeon with AMX, 106 runs. Tolerances "
        "(issue #3): every term 2 %, total 3 %, plus the log's print rounding (0.005 MiB).",
        "",
        "This page is memory. Speed has its own proof, a leave-one-machine-out table of decode "
        "and prompt speeds against llama.cpp on every measured machine: "
        "[speed-model.md](speed-model.md) (`python -m benchmarks.speed_fit --update`).",
        "",
        "**predicted** = what users see: `llmcheck.estimate.estimate()` for each run's "
        "configuration (`RunConfig` with front end libllama and the run's `-ngl` as "
        "`gpu_layers`) on the measuring machine as llmcheck's probe recorded it "
        "(`tests/data/recorded/h100-llmcheck.json`; CPU runs without its GPU), read off the "
        "Fit's per-device terms.",
        "",
        "**total** = every buffer llama.cpp prints on every device (model, KV, RS, output, "
        "compute incl. `CUDA_Host`, the `AMX` / `CPU_REPACK` copies; host weights as the tensor "
        "bytes the mapped range or CPU buffer holds) + on GPU runs the CUDA context that NVML "
        "shows for the process beyond those buffers (`overhead`).",
        "",
        "## Summary per term",
        "",
        *markdown(rows, all_runs=False).split("\n\n")[0].splitlines(),
        "",
        "## Worst run per term",
        "",
        "| term | run | measured MiB | predicted MiB | error |",
        "|---|---|---:|---:|---:|",
    ]
    for term, r in worst.items():
        out.append(
            f"| {term} | `{r.run_id}` | {_fmt_mib(r.measured_bytes)} | "
            f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)} |"
        )
    out += ["", f"## Out of tolerance ({len(bad)} rows)", ""]
    if bad:
        out += [
            "| run | term | measured MiB | predicted MiB | error | why |",
            "|---|---|---:|---:|---:|---|",
        ]
        for r in bad:
            why = next(
                (v for k, v in KNOWN_MISSES.items() if r.run_id.startswith(k)), "not explained"
            )
            out.append(
                f"| `{r.run_id}` | {r.term} | {_fmt_mib(r.measured_bytes)} | "
                f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)} ✗ | {why} |"
            )
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """CLI: print the Markdown error table; exit 1 with --check when out of tolerance."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--all-runs", action="store_true", help="list every run, not only misses")
    ap.add_argument("--check", action="store_true", help="exit 1 when a term is out of tolerance")
    ap.add_argument("--write", type=Path, help="also write the page (docs/calibration.md)")
    ap.add_argument(
        "--machine",
        type=Path,
        default=MEASURING_MACHINE,
        help="llmcheck --json of the measuring machine (default: the recorded H100)",
    )
    args = ap.parse_args(argv)
    try:
        data = json.loads(args.results.read_text())
        runs = data["runs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: cannot read measurements from {args.results}: {exc}", file=sys.stderr)
        return 2
    try:
        from llmcheck.catalog import load_catalog

        catalog = load_catalog()
        machine = load_machine(args.machine)
    except (ImportError, OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: llmcheck catalog / measuring machine unavailable: {exc}", file=sys.stderr)
        return 2
    rows = compare_runs(runs, catalog.variant, machine)
    print(markdown(rows, all_runs=args.all_runs))
    if args.write:
        args.write.write_text(calibration_page(rows, source=args.results.name), encoding="utf-8")
    if args.check:
        bad = [
            r
            for r in rows
            if r.term in TOLERANCED
            and r.within(TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE) is False
        ]
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
