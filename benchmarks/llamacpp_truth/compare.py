"""Compare llmcheck's per-term memory estimate with what llama.cpp printed, as a Markdown table.

For every successful run of a measurement JSON (``measure.py``'s output), each memory term that
llama.cpp prints is set beside ``llmcheck.estimate``'s function for that term:

* ``weights_gpu``: the GPU ``model buffer`` lines; ``weights_bytes(...)[1]``.
* ``weights_host``: the host model buffers (``CPU_Mapped`` / ``CPU`` / ``CUDA_Host``); when an
  extra repack buffer exists, ``llama_model_size`` (+ the token_embd duplicate) minus the GPU
  part; ``weights_bytes(...)[0]``.
* ``repack`` (info): extra CPU buffers (``CPU_REPACK``, ``AMX``); ``repack_bytes(...)``.
* ``kv_cache``: all ``KV buffer`` lines; ``kv_cache_bytes``.
* ``recurrent_state``: all ``RS buffer`` lines; ``recurrent_state_bytes``.
* ``output``: all ``output buffer`` lines; ``output_bytes``.
* ``compute``: the main device's ``compute buffer``; ``compute_bytes``.
* ``host_compute`` (info): the ``CUDA_Host compute buffer`` of GPU runs; ``host_compute_bytes``.
* ``overhead`` (info): NVML bytes of the process after decoding minus the GPU's printed
  buffers; ``overhead_bytes("cuda")``.
* ``total``: the sum of the terms above except repack and overhead; the same sum predicted.
* ``total_printed`` (info): every printed buffer (counts a mapped file range and its repacked
  copy both); no prediction.

Tolerances (issue #3): every term within 2 %, the total within 3 %; the printed rounding
(+-0.005 MiB) is allowed on top.

``python -m benchmarks.llamacpp_truth.compare RESULTS.json [--all-runs] [--check]``; ``--check``
exits 1 when a toleranced term is out of tolerance.
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
TOLERANCED = ("weights_gpu", "weights_host", "repack", "kv_cache", "recurrent_state", "output",
              "compute", "host_compute", "overhead", "total")
#: What "total" sums: every buffer llama.cpp prints, on every device (host weights counted as the
#: tensors the mapped range / CPU buffer holds, see weights_host), plus the CUDA context that NVML
#: shows for the process on GPU runs.
TOTAL_PARTS = ("weights_gpu", "weights_host", "repack", "kv_cache", "recurrent_state", "output",
               "compute", "host_compute", "overhead")
#: ggml "extra" CPU buffer types that hold a repacked copy of weights.
EXTRA_BUFFER_TYPES = ("CPU_REPACK", "AMX")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One term of one run.

    Attributes:
        run_id: The run.
        term: Term name (see the module docstring).
        measured_bytes: From llama.cpp's log (MiB x 2^20; the log prints two decimals).
        predicted_bytes: From llmcheck.estimate; None when it has no function for the case.
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


def _system_info_flags(run: dict[str, Any]) -> tuple[str, ...]:
    """CPU features from llama.cpp's system info ("AVX2 = 1 | AMX_INT8 = 1"), lower case."""
    info = (((run.get("child") or {}).get("api")) or {}).get("system_info") or ""
    flags = [part.split("=")[0].strip().lower() for part in info.split("|")
             if part.strip().endswith("= 1")]
    return tuple("avx512f" if f == "avx512" else f for f in flags)


def predicted_terms(run: dict[str, Any], est: Any, variant: Any,
                    cpu_flags: tuple[str, ...] = ()) -> dict[str, float | None]:
    """llmcheck's bytes per term for the run's configuration (estimate + calibration)."""
    from llmcheck import calibration as cal
    from llmcheck.catalog import variant_tensors

    p = run["params"]
    arch = variant.architecture
    on_gpu = p["device"] == "gpu"
    ngl = max(0, min(int(p["n_gpu_layers"]), arch.n_layer + 1)) if on_gpu else 0
    host_w, gpu_w = est.weights_bytes(variant, p["quant"], gpu_layers=ngl)
    fa = p["flash_attn"] != "off"
    kv_type = p["type_k"] if p["type_k"] == p["type_v"] else None
    n_seq = int(p["n_seq_max"])
    ctx = est.padded_context(int(p["n_ctx"]))
    shape = cal.ComputeShape(
        context_tokens=ctx, ubatch=int(p["n_ubatch"]), flash_attn=fa,
        n_outputs=est.reserved_outputs(est.FrontEnd.LIBLLAMA, n_seq, int(p["n_ubatch"])),
        n_seq=n_seq, kv_unified=bool(p.get("kv_unified", False)),
        kv_quantized=p["type_k"] != "f16" or p["type_v"] != "f16",
    )
    out: dict[str, float | None] = {
        "weights_gpu": float(gpu_w),
        "kv_cache": float(est.kv_cache_bytes(arch, p["n_ctx"], est.KvType(kv_type)))
        if kv_type else None,
        "recurrent_state": float(est.recurrent_state_bytes(arch, n_seq)),
        "output": float(est.output_bytes(arch, n_seq)),
    }
    start = arch.n_layer + 1 - ngl
    cpu_attn = any(arch.is_attention_layer(il) for il in range(min(start, arch.n_layer)))
    # Repacking: CPU-only runs on this AMX Xeon (a run that uses the GPU repacks nothing).
    rp = cal.Repack()
    if not on_gpu:
        flags = cpu_flags or _system_info_flags(run)
        mode = cal.cpu_repack_mode(flags, "x86_64")
        quant = variant.quant_table.quant(p["quant"]).name
        tensors = [(t.ggml_type, t.padded_bytes, t.layer is not None, t.is_expert)
                   for t in variant_tensors(arch, quant, variant.quant_table)]
        rp = cal.repack(tensors, mode)
    out["repack"] = float(rp.total_bytes)
    out["weights_host"] = float(host_w - (0 if p.get("use_mmap", True) else rp.source_layer_bytes))
    if not on_gpu:
        out["compute"] = float(cal.cpu_compute_bytes(arch, shape))
    else:
        emb = est.weights_bytes(variant, p["quant"], gpu_layers=1)[1]  # the output matrix
        out["compute"] = float(cal.cuda_compute_bytes(
            arch, shape, cpu_attention_layers=cpu_attn, layers_on_gpu=ngl > 0,
            output_weight_bytes=emb))
        out["host_compute"] = float(cal.cuda_host_compute_bytes(arch, shape, cpu_layers=start > 0))
        floats = p["quant"] in ("F16", "BF16", "F32") or arch.is_moe
        out["overhead"] = float(cal.cuda_context_bytes(
            cublas=cal.uses_cublas(flash_attn=fa, float_matmul_weights=floats)))
    parts = [out.get(k, 0.0) for k in TOTAL_PARTS]
    out["total"] = None if any(x is None for x in parts) else float(sum(x or 0.0 for x in parts))
    out["total_printed"] = None  # informational
    return out


def compare_runs(runs: Iterable[dict[str, Any]], est: Any, variant_of: Callable[[str], Any],
                 cpu_flags: tuple[str, ...] = ()) -> list[Row]:
    """Rows for every ok run; a run whose variant the catalog lacks gets notes, not an error."""
    rows: list[Row] = []
    for run in runs:
        if run.get("status") != "ok" or (run.get("child") or {}).get("dry_run"):
            continue
        m = measured_terms(run)
        try:
            variant = variant_of(run["params"]["variant"])
            pred: dict[str, float | None] = predicted_terms(run, est, variant, cpu_flags)
            note = ""
        except (KeyError, ValueError, AttributeError, TypeError) as exc:
            pred = {}
            note = f"no prediction: {type(exc).__name__}: {exc}"
        for term, value in m.items():
            rows.append(Row(run_id=run["run_id"], term=term, measured_bytes=value,
                            predicted_bytes=pred.get(term), note=note))
    return rows


def summary(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per term: runs compared, worst |error|, runs out of tolerance."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(r.term, {"n": 0, "worst": 0.0, "worst_run": "", "out": 0,
                                    "no_prediction": 0, "sum": 0.0})
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
    lines = ["| term | runs | max abs error | mean abs error | worst run | out of tolerance |",
             "|---|---:|---:|---:|---|---:|"]
    for term, s in summary(rows).items():
        tol = "3 %" if term == "total" else ("2 %" if term in TOLERANCED else "info")
        if s["n"] == 0:
            continue
        lines.append(f"| {term} ({tol}) | {s['n']} | {100 * s['worst']:.2f} % | "
                     f"{100 * s['mean']:.2f} % | `{s['worst_run']}` | {s['out']} |")
    lines += ["", "| run | term | measured MiB | predicted MiB | error |",
              "|---|---|---:|---:|---:|"]
    for r in rows:
        tol = TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE
        bad = r.within(tol) is False
        if all_runs or bad:
            flag = " ✗" if bad and r.term in TOLERANCED else ""
            lines.append(f"| `{r.run_id}` | {r.term} | {_fmt_mib(r.measured_bytes)} | "
                         f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)}{flag} |")
    return "\n".join(lines)


#: Runs the model cannot reproduce, and why (kept visible as failures, never hidden).
KNOWN_MISSES = {
    "lfm2-1.2b/Q4_K_M/cpu/ngl0/c2048/ub512/b2048/fa-on/": (
        "CPU compute 142.01 MiB vs 136: the f32 and f16 KQ masks (4 + 2 MiB at 2k) stay below the "
        "logits in ggml-alloc's buffer; at 8k and for the 350M at 2k they do not. Placement by "
        "the graph allocator's free-block order, not a size law: reproducing it needs a "
        "simulation of ggml_gallocr over the whole LFM2 graph."),
    "lfm2-350m/Q4_K_M/cpu/ngl0/c32768/ub2048/b2048/fa-on/": (
        "CPU compute 648.05 MiB vs 528 (the 1.2B at the same setting is 544 = predicted): the "
        "logits land above a 136 MiB block (f16 mask 128 + one d-wide tensor) still placed low "
        "in the buffer; the same allocator placement effect, 120 MiB here."),
}


def calibration_page(rows: list[Row], *, source: str) -> str:
    """docs/calibration.md: summary per term, the worst runs per term, and the known misses."""
    worst: dict[str, Row] = {}
    for r in rows:
        if r.predicted_bytes is None or r.error is None:
            continue
        if r.term not in worst or abs(r.error) > abs(worst[r.term].error or 0.0):
            worst[r.term] = r
    bad = [r for r in rows if r.term in TOLERANCED
           and r.within(TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE) is False]
    out = [
        "# Estimator vs llama.cpp: error table",
        "",
        f"Generated by `python -m benchmarks.llamacpp_truth.compare tests/data/llamacpp/{source} "
        "--write docs/calibration.md` (do not edit by hand). llama.cpp 0c1e57098 "
        "(llama-cpp-python 0.3.36), NVIDIA H100 80GB HBM3 + Xeon with AMX, 106 runs. Tolerances "
        "(issue #3): every term 2 %, total 3 %, plus the log's print rounding (0.005 MiB).",
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
        out.append(f"| {term} | `{r.run_id}` | {_fmt_mib(r.measured_bytes)} | "
                   f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)} |")
    out += ["", f"## Out of tolerance ({len(bad)} rows)", ""]
    if bad:
        out += ["| run | term | measured MiB | predicted MiB | error | why |",
                "|---|---|---:|---:|---:|---|"]
        for r in bad:
            why = next((v for k, v in KNOWN_MISSES.items() if r.run_id.startswith(k)),
                       "not explained")
            out.append(f"| `{r.run_id}` | {r.term} | {_fmt_mib(r.measured_bytes)} | "
                       f"{_fmt_mib(r.predicted_bytes)} | {_fmt_err(r)} ✗ | {why} |")
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
    args = ap.parse_args(argv)
    try:
        data = json.loads(args.results.read_text())
        runs = data["runs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: cannot read measurements from {args.results}: {exc}", file=sys.stderr)
        return 2
    try:
        from llmcheck import estimate as est
        from llmcheck.catalog import load_catalog

        catalog = load_catalog()
    except (ImportError, ValueError) as exc:
        print(f"error: llmcheck.estimate / catalog unavailable: {exc}", file=sys.stderr)
        return 2
    flags = tuple(((data.get("environment") or {}).get("cpu") or {}).get("flags") or ())
    rows = compare_runs(runs, est, catalog.variant, flags)
    print(markdown(rows, all_runs=args.all_runs))
    if args.write:
        args.write.write_text(calibration_page(rows, source=args.results.name), encoding="utf-8")
    if args.check:
        bad = [r for r in rows if r.term in TOLERANCED
               and r.within(TOTAL_TOLERANCE if r.term == "total" else TERM_TOLERANCE) is False]
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
