"""Fit llmcheck.speed_model's constants and prove they generalise: leave one machine out.

Data (every machine's measurements, read by :func:`load_points`):

* ``tests/data/llamacpp/speed_h100.json``: LFM2 on an H100 (CUDA) and a 16-vCPU AMX Xeon, llama.cpp
  0c1e57098 through llama-cpp-python (benchmarks/llamacpp_truth/speed.py);
* ``tests/data/speed_public/*.json``: llama-bench results other people published, with their
  sources and llama.cpp builds (model shapes in ``models.json`` there);
* the small CPU's fitted sets of ``benchmarks/llamacpp_cpu/sets.py`` when present: llama-bench
  rows of LFM2 on the 2-core VM, with the native build and with an AVX2-only build; each set's
  machine (bandwidth, cores, ISA) from its sidecar ``*_machine.json``, or the defaults in
  :data:`SMALL_CPU_DEFAULT`. The set marked held out is never read here.

Fit: log-space least squares of the central time per token (decode and prompt together) by
Levenberg-Marquardt over the constants, with a weak pull towards the starting values so that a
constant no data constrains stays where it was. The spreads are cross-validated: every machine's
measurements against a fit without that machine, and the spreads set to hold those held-out
ratios x 1.05 (within the width limits: the window that holds the most). So a range says how far
a machine the fit never saw falls, not how well the fitted ones fit. The leave-one-machine-out
table refits each fold the same way (its spreads from the other machines only).

``python -m benchmarks.speed_fit`` prints the leave-one-machine-out table;
``--write docs/speed-model.md`` regenerates the doc; ``--print-constants`` prints the all-machine
fit; ``--update`` refits, writes it into ``FITTED`` in llmcheck/speed_model.py and regenerates
the doc (run it after adding or changing measurements).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from benchmarks.llamacpp_cpu import sets
from llmcheck.catalog import load_catalog
from llmcheck.estimate.speed import model_load
from llmcheck.speed_model import (
    DECODE_MAX_WIDTH,
    FITTED,
    PROMPT_MAX_WIDTH,
    QUANT_CLASSES,
    BandwidthKind,
    CpuIsa,
    DeviceKind,
    Hardware,
    ModelLoad,
    SpeedConstants,
    cpu_matrix_tflops,
    decode_seconds_per_token,
    estimate_speed,
    gpu_fp16_tflops,
    prompt_seconds_per_token,
)

ROOT = Path(__file__).resolve().parent.parent
H100 = ROOT / "tests" / "data" / "llamacpp" / "speed_h100.json"
PUBLIC = ROOT / "tests" / "data" / "speed_public"
# The small CPU's machine when no sidecar says otherwise: 2 cores with AVX-512 (issue #10 and the
# lead's brief), and the copy bandwidth issue #10 reports `--measure-bandwidth` giving on a quiet
# 2-core machine (34-40 GB/s; the middle).
SMALL_CPU_DEFAULT: dict[str, Any] = {
    "name": "2-core AMD EPYC VM (AVX-512)",
    "bandwidth_gb_s": 37.0,
    "bandwidth_kind": "measured",
    "bandwidth_source": "issue #10: --measure-bandwidth 34-40 GB/s on a quiet 2-core machine",
    "cores": 2,
    "isa": "avx512_vnni",
    "clock_ghz": None,
}
MIB = 2**20
GIB = 2**30


@dataclass(frozen=True, slots=True)
class Point:
    """One measurement: a machine, a model load, a test and its measured tokens per second."""

    machine: str
    label: str  # "lfm2-1.2b Q4_K_M t2 d2048"
    test: str  # "decode" | "prompt"
    load: ModelLoad
    hw: Hardware
    depth_tokens: int
    measured_tokens_per_second: float
    source: str = ""  # where the measurement was published, with the llama.cpp build
    host: str = ""  # the physical machine when several builds ran on it ("" = machine)
    fitted: bool = True  # False: a check only (an old or unstated llama.cpp build), never fitted

    @property
    def unit(self) -> str:
        """What leave-one-out holds out together: the physical machine."""
        return self.host or self.machine


# ---------------------------------------------------------------------------------------------
# Loading


def lfm2_load(variant_id: str, quant: str) -> ModelLoad:
    """An LFM2 model's per-token work, as the estimator hands it to the speed model."""
    return model_load(load_catalog().variant(variant_id), quant)


def _printed_bytes(text: str) -> int:
    """'636.18 MiB' / '1.87 GiB' as llama-bench prints a size, in bytes."""
    num, unit = text.split()
    return round(float(num) * {"MiB": MIB, "GiB": GIB}[unit])


def public_load(shape: dict[str, Any], quant: str) -> ModelLoad:
    """A public model's per-token work from its recorded shape and llama-bench's printed size."""
    q = shape["quants"][quant]
    size = _printed_bytes(q["size_as_printed"])
    embd = shape["vocab_size"] * shape["hidden_size"]
    read = size
    matmul_params = shape["parameters"]
    if not shape["tied_embeddings"]:
        read -= round(embd * q["token_embd_bits_per_weight"] / 8)  # a lookup reads one row
        matmul_params -= embd
    kv = 2 * shape["n_layer"] * shape["n_head_kv"] * shape["head_dim"] * 2
    return ModelLoad(
        weight_bytes_per_token=read,
        kv_bytes_per_context_token=kv,
        matmul_flops_per_token=2 * matmul_params,
        n_layer=shape["n_layer"],
        n_attention_layers=shape["n_layer"],
        n_head=shape["n_head"],
        head_dim=shape["head_dim"],
        quant=quant,
    )


def _h100_points(path: Path) -> list[Point]:
    data = json.loads(path.read_text())
    env = data["environment"]
    gpu_name = env["gpu"]["name"]
    gpu = Hardware(
        device=DeviceKind.CUDA,
        # NVML: bus width x max memory clock (tests/data/recorded/h100-llmcheck.json)
        bandwidth_gb_s=3352.3,
        bandwidth_kind=BandwidthKind.PEAK,
        bandwidth_source="computed",
        matrix_tflops=gpu_fp16_tflops(gpu_name) or 989.0,
    )
    cores = int(env["cpu"]["logical_cpus"])
    cpu = Hardware(
        device=DeviceKind.CPU,
        bandwidth_gb_s=float(data["memory_bandwidth"]["gb_s"]),
        bandwidth_kind=BandwidthKind.MEASURED,
        bandwidth_source="measured",
        matrix_tflops=cpu_matrix_tflops(CpuIsa.AMX, cores),
        cores=cores,
        threads=16,
        isa=CpuIsa.AMX,
    )
    build = env["build"]
    source = (
        "`tests/data/llamacpp/speed_h100.json`, llama.cpp"
        f" {build['llama_cpp_commit_from_changelog']}"
        f" (llama-cpp-python {build['llama_cpp_python']})"
    )
    points: list[Point] = []
    for run in data["runs"]:
        if run["status"] != "ok":
            continue
        p = run["params"]
        child = run["child"]
        load = lfm2_load(p["variant"], p["quant"])
        on_gpu = p["device"] == "gpu"
        machine = "h100-cuda" if on_gpu else "xeon-amx-16vcpu"
        hw = gpu if on_gpu else replace(cpu, threads=int(p["threads"]))
        depth = int(p["depth"])
        label = f"{p['variant']} {p['quant']} d{depth}"
        # speed.py: the prompt batch starts at depth - 512 (or 0); decode follows the prompt.
        points.append(
            Point(
                machine,
                label,
                "prompt",
                load,
                hw,
                max(depth - p["n_prompt"], 0),
                float(child["prompt_tokens_per_second"]),
                source,
            )
        )
        points.append(
            Point(
                machine,
                label,
                "decode",
                load,
                hw,
                max(depth, p["n_prompt"]),
                float(child["decode_tokens_per_second"]),
                source,
            )
        )
    return points


def _public_points(folder: Path) -> list[Point]:
    shapes = json.loads((folder / "models.json").read_text())["models"]
    points: list[Point] = []
    for path in sorted(folder.glob("*.json")):
        if path.name == "models.json":
            continue
        doc = json.loads(path.read_text())
        m = doc["machine"]
        device = DeviceKind(m["device"])
        cores = int(m.get("cores", 1))
        if device.is_gpu:
            tflops = gpu_fp16_tflops(m["gpu_name"])
            if tflops is None:
                raise ValueError(f"{path.name}: {m['gpu_name']} is not in GPU_FP16_TFLOPS")
        else:
            tflops = cpu_matrix_tflops(CpuIsa(m["isa"]), cores)  # no clock: as the product
        hw = Hardware(
            isa=None if device.is_gpu else CpuIsa(m["isa"]),
            device=device,
            bandwidth_gb_s=float(m["bandwidth_gb_s"]),
            bandwidth_kind=BandwidthKind(m["bandwidth_kind"]),
            bandwidth_source="spec",
            matrix_tflops=tflops,
            cores=cores,
            threads=int(doc["source"].get("threads", 1)),
        )
        for r in doc["measurements"]:
            if r.get("excluded"):
                continue
            # A page that gives decode at several thread counts says so per row.
            row_hw = replace(hw, threads=int(r["threads"])) if "threads" in r else hw
            load = public_load(shapes[r["model"]], r["quant"])
            test = "prompt" if r["test"].startswith("pp") else "decode"
            depth = int(r["n_depth"]) + (64 if test == "decode" else 0)  # tg128: mean depth
            points.append(
                Point(
                    doc["id"],
                    f"{r['model']} {r['quant']}" + (f" t{r['threads']}" if "threads" in r else ""),
                    test,
                    load,
                    row_hw,
                    depth,
                    float(r["tokens_per_second"]),
                    f"{doc['source']['url']}, llama.cpp {doc['source']['llama_cpp_build']}",
                    host=str(m.get("host", "")),  # one machine published with several builds
                    fitted=bool(doc.get("fitted", True)),
                )
            )
    return points


_LFM2_FILE = re.compile(r"(lfm2[\w.]*?-[\d.]+b(?:-a\d+b)?|lfm2[\w.]*?-\d+m)-(\w+?)\.gguf", re.I)


def _small_points(
    path: Path, machine_path: Path, machine: str = "epyc-2core", host: str = ""
) -> list[Point]:
    """llama-bench rows of one small CPU; decode rows twice when the sidecar has a measured copy
    bandwidth (``measured_copy_gb_s``): with the table's bandwidth, as a user sees by default,
    and with the measured one, as after ``--measure-bandwidth``. Both must hold."""
    rows = json.loads(path.read_text())
    m = dict(SMALL_CPU_DEFAULT)
    if machine_path.exists():
        m.update(json.loads(machine_path.read_text()))
    cores = int(m["cores"])
    base = Hardware(
        device=DeviceKind.CPU,
        bandwidth_gb_s=float(m["bandwidth_gb_s"]),
        bandwidth_kind=BandwidthKind(m["bandwidth_kind"]),
        bandwidth_source=str(m["bandwidth_source"]),
        # Without the clock, as llmcheck's probe (it reads none): the fit must see what users get.
        matrix_tflops=cpu_matrix_tflops(CpuIsa(m["isa"]), cores),
        cores=cores,
        isa=CpuIsa(m["isa"]),
    )
    points: list[Point] = []
    for r in rows:
        found = _LFM2_FILE.search(Path(str(r["model_filename"])).name)
        if not found:
            raise ValueError(f"{path.name}: no LFM2 variant and quant in {r['model_filename']!r}")
        variant, quant = found.group(1).lower(), found.group(2).upper()
        load = lfm2_load(variant, quant)
        hw = replace(base, threads=int(r["n_threads"]))
        depth = int(r.get("n_depth", 0))
        test = "prompt" if int(r.get("n_prompt", 0)) > 0 else "decode"
        if test == "decode":
            depth += int(r.get("n_gen", 0)) // 2
        label = f"{variant} {quant} t{r['n_threads']} d{r.get('n_depth', 0)}"
        source = f"`{path.name}`, llama.cpp {r.get('build_commit', 'build not recorded')}"
        measured = float(r["avg_ts"])
        points.append(Point(machine, label, test, load, hw, depth, measured, source, host))
        if test == "decode" and m.get("measured_copy_gb_s"):
            hw_m = replace(
                hw,
                bandwidth_gb_s=float(m["measured_copy_gb_s"]),
                bandwidth_kind=BandwidthKind.MEASURED,
                bandwidth_source="measured",
            )
            points.append(
                Point(
                    machine, f"{label} bw measured", test, load, hw_m, depth, measured, source, host
                )
            )
    return points


def load_points() -> list[Point]:
    """Every measurement of every machine that is present (fitted or a check only)."""
    points = _h100_points(H100) + _public_points(PUBLIC)
    for run_set in sets.present(fitted=True):
        points += _small_points(run_set.rows, run_set.sidecar, run_set.machine, run_set.host)
    return points


def fitted_points(points: list[Point]) -> list[Point]:
    """The points the constants are fitted on: every one but the public checks-only tables."""
    return [p for p in points if p.fitted]


# ---------------------------------------------------------------------------------------------
# Fitting

_SCALARS = (
    "gpu_bandwidth_efficiency",
    "cpu_bandwidth_efficiency",
    "gpu_layer_s",
    "metal_layer_s",
    "cpu_thread_bandwidth_gb_s",
    "cpu_layer_s",
    "cpu_sync_s",
    "cpu_decode_compute_efficiency",
    "gpu_attention_efficiency",
    "cpu_attention_gflops_per_thread",
    "cpu_attention_avx512_factor",
    "cpu_prompt_attention_gflops_per_thread",
    "gpu_moe_prompt_factor",
    "cpu_moe_prompt_factor",
    "metal_prompt_factor",
    "gpu_prompt_layer_s",
    "cpu_prompt_layer_s",
)
_CAPPED = {  # fractions stay fractions
    "gpu_bandwidth_efficiency",
    "cpu_bandwidth_efficiency",
    "cpu_decode_compute_efficiency",
    "gpu_attention_efficiency",
    "gpu_moe_prompt_factor",
    "cpu_moe_prompt_factor",
}
PRIOR_WEIGHT = 0.1
# Where every fit starts and what its weak prior pulls towards: first-principles and literature
# values chosen before any fit (never the result of one, so a held-out machine cannot leak into
# its own fold through the start point). Decode: 45 us per layer per GPU token and 80-200 us per
# CPU layer at 16 threads (the old estimate.py fit), bandwidth efficiencies 0.75 / 0.55;
# prompt: 10-30 % of the matrix peak.
START = SpeedConstants(
    gpu_bandwidth_efficiency=0.75,
    cpu_bandwidth_efficiency=0.55,
    cpu_peak_to_copy=0.70,
    # One x86 / Arm core streams ~10-20 GB/s from DRAM (bounded by its line-fill buffers x
    # latency); 12 before any fit.
    cpu_thread_bandwidth_gb_s=12.0,
    gpu_layer_s=45e-6,
    metal_layer_s=45e-6,
    cpu_layer_s=20e-6,
    cpu_sync_s=8e-6,
    cpu_decode_compute_efficiency=0.10,
    gpu_attention_efficiency=0.05,
    cpu_attention_gflops_per_thread=8.0,
    # One 512-bit instruction where AVX2 needs two 256-bit ones, before any fit.
    cpu_attention_avx512_factor=2.0,
    # Batched: the F16 dot products as a small GEMM (K / V in cache across 512 queries); a
    # quarter of an AVX2 core's F32 FMA peak (32 FLOPs x 3 GHz = 96 GFLOP/s), before any fit.
    cpu_prompt_attention_gflops_per_thread=24.0,
    gpu_prompt_efficiency={"float": 0.30, "q8": 0.25, "k": 0.20, "legacy": 0.25},
    # F16 on a CPU is counted at the AVX2 int8 rate (80 ops per cycle per core) while its F32
    # FMAs peak at 32 FLOPs per cycle (two 256-bit FMA ports): 0.4 at most, ~60 % of it in a
    # blocked GEMM.
    cpu_prompt_efficiency={"float": 0.25, "q8": 0.15, "k": 0.15, "legacy": 0.15},
    gpu_moe_prompt_factor=0.6,
    cpu_moe_prompt_factor=0.35,
    # NVIDIA's tensor-core FP16 peak is ~4x its shader FP32 peak (RTX 4090: 330 vs 82.6 TFLOPS,
    # Ada whitepaper); Apple's table figure is a shader peak. 2 = half that gap in log space:
    # kernels reach a larger share of a shader peak, not all of the difference.
    metal_prompt_factor=2.0,
    gpu_prompt_layer_s=300e-6,
    cpu_prompt_layer_s=1e-3,
)


def _names() -> list[str]:
    return [
        *_SCALARS,
        *(f"gpu_pp:{q}" for q in QUANT_CLASSES),
        *(f"cpu_pp:{q}" for q in QUANT_CLASSES),
    ]


def _get(c: SpeedConstants, name: str) -> float:
    if name.startswith(("gpu_pp:", "cpu_pp:")):
        kind, q = name.split(":")
        table = c.gpu_prompt_efficiency if kind == "gpu_pp" else c.cpu_prompt_efficiency
        return table[q]
    value: float = getattr(c, name)
    return value


def _set(c: SpeedConstants, name: str, value: float) -> SpeedConstants:
    if name in _CAPPED:
        value = min(value, 1.0)
    if name.startswith(("gpu_pp:", "cpu_pp:")):
        kind, q = name.split(":")
        attr = "gpu_prompt_efficiency" if kind == "gpu_pp" else "cpu_prompt_efficiency"
        table = dict(getattr(c, attr))
        table[q] = min(value, 1.0)
        return replace(c, **{attr: table})
    return replace(c, **{name: value})


def central(p: Point, c: SpeedConstants) -> float:
    """The model's central tokens per second for a point."""
    f = decode_seconds_per_token if p.test == "decode" else prompt_seconds_per_token
    return 1.0 / f(p.load, p.hw, p.depth_tokens, c)


def _loss(points: list[Point], c: SpeedConstants, start: SpeedConstants) -> float:
    err = sum(math.log(p.measured_tokens_per_second / central(p, c)) ** 2 for p in points)
    prior = sum(math.log(_get(c, n) / _get(start, n)) ** 2 for n in _names())
    return err + PRIOR_WEIGHT * prior


def _residuals(points: list[Point], c: SpeedConstants, start: SpeedConstants) -> list[float]:
    """Log errors of the central speed, then the prior's pull on each constant."""
    out = [math.log(p.measured_tokens_per_second / central(p, c)) for p in points]
    w = math.sqrt(PRIOR_WEIGHT)
    out += [w * math.log(_get(c, n) / _get(start, n)) for n in _names()]
    return out


def _from_logs(start: SpeedConstants, x: list[float]) -> SpeedConstants:
    c = start
    for name, v in zip(_names(), x, strict=True):
        c = _set(c, name, math.exp(v))
    return c


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here are ~30 x 30)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for i in range(n):
        piv = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[piv] = m[piv], m[i]
        if abs(m[i][i]) < 1e-300:
            continue
        for r in range(i + 1, n):
            f = m[r][i] / m[i][i]
            for k in range(i, n + 1):
                m[r][k] -= f * m[i][k]
    x = [0.0] * n
    for i in reversed(range(n)):
        if abs(m[i][i]) < 1e-300:
            continue
        x[i] = (m[i][n] - sum(m[i][k] * x[k] for k in range(i + 1, n))) / m[i][i]
    return x


def fit_central(
    points: list[Point], start: SpeedConstants = START, iterations: int = 60
) -> SpeedConstants:
    """Central constants by Levenberg-Marquardt in log space (the spreads left as they are)."""
    names = _names()
    x = [math.log(_get(start, n)) for n in names]
    c = _from_logs(start, x)
    r = _residuals(points, c, start)
    loss = sum(v * v for v in r)
    lam = 1e-2
    h = 1e-4
    relevant = {
        n: [
            i
            for i, p in enumerate(points)
            if (p.hw.device.is_gpu if n.startswith(("gpu", "metal")) else not p.hw.device.is_gpu)
        ]
        for n in names
    }
    for _ in range(iterations):
        cols = []
        for j, name in enumerate(names):
            xj = list(x)
            xj[j] += h
            cj = _from_logs(start, xj)
            col = [0.0] * len(r)
            for i in relevant[name]:  # a CPU constant moves only the CPU points' residuals
                col[i] = (
                    math.log(points[i].measured_tokens_per_second / central(points[i], cj)) - r[i]
                ) / h
            col[len(points) + j] = math.sqrt(PRIOR_WEIGHT)
            cols.append(col)
        jtj = [[sum(ci[k] * cj[k] for k in range(len(r))) for cj in cols] for ci in cols]
        g = [sum(ci[k] * r[k] for k in range(len(r))) for ci in cols]
        while lam < 1e8:
            a = [
                [v + (lam * (jtj[i][i] + 1e-9) if i == k else 0.0) for k, v in enumerate(row)]
                for i, row in enumerate(jtj)
            ]
            dx = _solve(a, [-v for v in g])
            trial_x = [xi + di for xi, di in zip(x, dx, strict=True)]
            trial = _from_logs(start, trial_x)
            trial_x = [math.log(_get(trial, n)) for n in names]  # the caps, back in log space
            tr = _residuals(points, trial, start)
            tl = sum(v * v for v in tr)
            if tl < loss:
                break
            lam *= 4
        else:
            break
        converged = loss - tl < 1e-9 * max(loss, 1e-12)
        x, c, r, loss = trial_x, trial, tr, tl
        lam = max(lam / 3, 1e-7)
        if converged:
            break
    return c


def held_out_ratios(points: list[Point]) -> list[tuple[str, str, float]]:
    """(host, test, measured / central) of every point, from a fit without its host."""
    out: list[tuple[str, str, float]] = []
    for m in sorted({p.unit for p in points}):
        train = [p for p in points if p.unit != m]
        if not train:
            continue
        c = fit_central(train)
        out += [
            (m, p.test, p.measured_tokens_per_second / central(p, c)) for p in points if p.unit == m
        ]
    return out


def fit(points: list[Point]) -> SpeedConstants:
    """Central constants on every point; spreads from how far *held-out* machines fall.

    The spreads are what a new machine needs, not what the fitted ones need: each machine's
    points are compared with a fit that never saw that machine (:func:`held_out_ratios`), and
    the spreads are set to hold those ratios as far as the width limits allow, and every fitted
    point in any case (:func:`spreads`).
    """
    c = fit_central(points)
    return spreads(held_out_ratios(points), c, points)


def spread_pair(
    held_out: list[tuple[float, float]], fitted: list[float], limit: float
) -> tuple[float, float]:
    """(low, high) spreads around a central 1.0, high x low at most ``limit``.

    ``fitted`` (measured / central of the fitted machines) must all lie inside, with a 5 %
    margin, when that fits in ``limit``; ``held_out`` ((measured / central, weight) of machines
    a fit never saw) as much of their weight as the rest of the width can hold, the window
    centred where it holds the most.
    """
    margin, width = math.log(1.05), math.log(limit)
    logs = [math.log(r) for r in fitted]
    must_lo = min(logs, default=0.0) - margin
    must_hi = max(logs, default=0.0) + margin
    pairs = [(math.log(r), w) for r, w in held_out]
    every = [v for v, _ in pairs] + logs
    lo_all, hi_all = min(every, default=0.0) - margin, max(every, default=0.0) + margin
    if hi_all - lo_all <= width:
        lo_log, hi_log = lo_all, hi_all
    elif must_hi - must_lo >= width:
        mid = (must_lo + must_hi) / 2
        lo_log, hi_log = mid - width / 2, mid + width / 2
    else:
        # Slide a window of the full width over the feasible starts; keep the one holding the
        # most held-out weight (ties: the one nearest the middle of the feasible starts).
        first, last = must_hi - width, must_lo
        steps = 400
        starts = [first + (last - first) * i / steps for i in range(steps + 1)]
        middle = (first + last) / 2

        def score(start: float) -> tuple[float, float]:
            held = sum(w for v, w in pairs if start + margin <= v <= start + width - margin)
            return round(held, 9), -abs(start - middle)

        lo_log = max(starts, key=score)
        hi_log = lo_log + width
    low = max(1.1, math.exp(-lo_log))
    high = max(1.1, math.exp(hi_log))
    if low * high > limit:
        scale = math.sqrt(limit / (low * high))
        low, high = low * scale, high * scale
    return math.floor(low * 1000) / 1000, math.floor(high * 1000) / 1000


def spreads(
    ratios: list[tuple[str, str, float]], c: SpeedConstants, points: list[Point]
) -> SpeedConstants:
    """``c`` with spreads that hold every fitted point and the held-out (machine, test,
    measured / central) ``ratios`` as far as the width limits allow.

    Each machine weighs the same however many measurements it has: the next machine is a new
    machine, not another run of the one measured most.
    """
    out = c
    for test, limit, lo_name, hi_name in (
        ("decode", DECODE_MAX_WIDTH, "decode_spread_low", "decode_spread_high"),
        ("prompt", PROMPT_MAX_WIDTH, "prompt_spread_low", "prompt_spread_high"),
    ):
        rows = [(m, r) for m, t, r in ratios if t == test]
        count = {m: sum(1 for n, _ in rows if n == m) for m, _ in rows}
        fitted = [p.measured_tokens_per_second / central(p, c) for p in points if p.test == test]
        low, high = spread_pair([(r, 1.0 / count[m]) for m, r in rows], fitted, limit)
        out = replace(out, **{lo_name: low, hi_name: high})
    return out


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True, slots=True)
class Check:
    """One measurement against its range: inside, above or below, and by how much."""

    point: Point
    low: float
    high: float

    @property
    def where(self) -> str:
        """'inside', 'above' or 'below' the range."""
        m = self.point.measured_tokens_per_second
        return "inside" if self.low <= m <= self.high else ("above" if m > self.high else "below")

    @property
    def ratio(self) -> float:
        """Measured over the nearer bound outside (1.0 when inside)."""
        m = self.point.measured_tokens_per_second
        if m > self.high:
            return m / self.high
        if m < self.low:
            return m / self.low
        return 1.0


def check(points: list[Point], c: SpeedConstants) -> list[Check]:
    """Each point against the range the constants give."""
    out = []
    for p in points:
        e = estimate_speed(p.load, p.hw, depth_tokens=p.depth_tokens, constants=c)
        if p.test == "decode":
            out.append(Check(p, e.decode_low_tokens_per_second, e.decode_high_tokens_per_second))
        else:
            out.append(Check(p, e.prompt_low_tokens_per_second, e.prompt_high_tokens_per_second))
    return out


def leave_one_out(points: list[Point], *, by_build: bool = False) -> dict[str, list[Check]]:
    """Per machine: its points checked against constants fitted on every other physical machine
    (the builds run on one host are held out together: they share its memory and cores), or
    with ``by_build`` on every other machine id (one llama.cpp build of a host out, the other
    in: what a CPU of the other ISA meets)."""
    result = {}
    units = sorted({p.machine if by_build else p.unit for p in points})
    for m in units:
        train = [p for p in points if (p.machine if by_build else p.unit) != m]
        held = [p for p in points if (p.machine if by_build else p.unit) == m]
        fold = check(held, fit(train))
        for name in sorted({c.point.machine for c in fold}):
            result[name] = [c for c in fold if c.point.machine == name]
    return result


def _summary(checks: list[Check], test: str) -> str:
    rows = [c for c in checks if c.point.test == test]
    if not rows:
        return "-"
    inside = sum(c.where == "inside" for c in rows)
    worst = max(rows, key=lambda c: abs(math.log(c.ratio)))
    text = f"{inside}/{len(rows)} inside"
    if worst.ratio != 1.0:
        above = sum(c.where == "above" for c in rows)
        below = sum(c.where == "below" for c in rows)
        text += f" ({above} above, {below} below; worst {worst.ratio:.2f}x)"
    return text


def table(
    loo: dict[str, list[Check]],
    in_sample: list[Check],
    by_build: dict[str, list[Check]],
    never_fitted: list[Check],
) -> str:
    """The Markdown of docs/speed-model.md."""
    lines = [
        "# Speed model: leave-one-machine-out",
        "",
        "Generated by `python -m benchmarks.speed_fit --update` (refits `FITTED`, then writes"
        " this file; do not edit by hand). Model: `llmcheck/speed_model.py`; data:"
        " `tests/data/llamacpp/speed_h100.json`,"
        " `tests/data/speed_public/*.json` (sources and llama.cpp builds inside),"
        " the small CPU's fitted sets (`benchmarks/llamacpp_cpu/sets.py`: the 2-core EPYC VM"
        " with its native build, `epyc-2core`, and an AVX2-only build, `epyc-2core-avx2`).",
        "",
        "Each row: the constants fitted on every other physical machine (the two builds of the"
        " EPYC VM are held out together), then this machine's measurements against the ranges"
        f" they give (decode at most {DECODE_MAX_WIDTH}x wide, prompt at most"
        f" {PROMPT_MAX_WIDTH}x). *worst* is measured / nearer bound for a measurement outside its"
        " range (> 1: faster than the range). The spreads of every fit, these folds' too, come"
        " from how far machines it never saw fall (an inner leave-one-out over its own"
        " machines, each machine weighing the same), so the table tests the ranges as a new"
        " machine meets them. Small-CPU decode rows count twice: with the CPU-class table's"
        " bandwidth (the default) and with the one llmcheck measured there.",
        "",
        "The model, per token: decode = max(bytes read / min(bandwidth x efficiency, threads x"
        " one thread's bandwidth), FLOPs / CPU matrix rate) + attention FLOPs at the filled"
        " context / attention rate + layers x (per-layer cost + per-thread barrier cost x"
        " (threads - 1)); prompt (pp512) = FLOPs / (matrix throughput x quant efficiency [x MoE"
        " factor] [x Metal factor]) + attention (on a CPU at a batch's own rate: a batch reuses K"
        " and V across its queries) + per-layer cost of the batch / 512. The matrix throughput is"
        " the GPU table (`GPU_FP16_TFLOPS`) or cores x int8 ops per cycle by ISA x 3 GHz (the probe"
        " reads no clock; AMX only for dense MUL_MAT of the types ggml tiles). Inputs are"
        " architecture-generic, so the public Llama measurements test the same code as the LFM2"
        " ones.",
        "",
        "| held-out machine | decode (tg) | prompt (pp512) |",
        "|---|---|---|",
    ]
    for m, checks in loo.items():
        lines.append(_row(m, checks))
    lines += [
        "",
        "## One llama.cpp build of the EPYC VM out, the other in",
        "",
        "The strict table above holds out the whole EPYC VM, and with it the only CPU measured at"
        " F16, Q6_K and Q4_0: those quants then rest on the fit's starting values. Holding out one"
        " build at a time keeps the quants and the VM's memory in the fit and asks only whether"
        " the ISA table carries the kernels of one build to the other (what a CPU of the other"
        " ISA meets):",
        "",
        "| held-out build | decode (tg) | prompt (pp512) |",
        "|---|---|---|",
    ]
    for m, checks in by_build.items():
        if m.startswith("epyc"):
            lines.append(_row(m, checks))
    lines += [
        "",
        "## Machines",
        "",
        "| machine | device | bandwidth | matrix TFLOPS | threads | measurements | source |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    all_points = [c.point for c in in_sample + never_fitted]
    for m in sorted({p.machine for p in all_points}):
        rows = [p for p in all_points if p.machine == m]
        hw = rows[0].hw
        threads = ", ".join(str(t) for t in sorted({p.hw.threads for p in rows}))
        sources = "; ".join(sorted({p.source for p in rows}))
        lines.append(
            f"| {m}{'' if rows[0].fitted else ' (check only)'} | {hw.device} |"
            f" {hw.bandwidth_gb_s:,.0f} GB/s {hw.bandwidth_kind} |"
            f" {hw.matrix_tflops:,.1f} | {threads if not hw.device.is_gpu else '-'} |"
            f" {len(rows)} | {sources} |"
        )
    lines += [
        "",
        "## Outside their held-out range",
        "",
        "| machine | measurement | test | measured tok/s | range | where |",
        "|---|---|---|---:|---:|---|",
    ]
    for m, checks in loo.items():
        for c in checks:
            if c.where != "inside":
                lines.append(
                    f"| {m} | {c.point.label} | {c.point.test} |"
                    f" {c.point.measured_tokens_per_second:,.1f} | {c.low:,.1f}-{c.high:,.1f} |"
                    f" {c.where} {c.ratio:.2f}x |"
                )
    lines += _never_fitted_lines(never_fitted)
    lines += [
        "",
        "## In sample (constants in llmcheck/speed_model.py, fitted on all machines)",
        "",
        "| machine | decode (tg) | prompt (pp512) |",
        "|---|---|---|",
    ]
    lines += _per_machine(in_sample)
    return "\n".join(lines) + "\n"


def _never_fitted_lines(checks: list[Check]) -> list[str]:
    """The public tables that only check the model: measured with a llama.cpp build from before
    the kernels the fitted data ran (or one the source does not state), so never fitted."""
    if not checks:
        return []
    lines = [
        "",
        "## Never fitted: public tables from older or unstated llama.cpp builds",
        "",
        "Measurements other people published with a llama.cpp build older than the fitted data's"
        " (or with the build line missing from the copy kept here). llama.cpp's kernels have"
        " changed since, so these check the model without setting it: each against the"
        " constants in llmcheck/speed_model.py, which never saw them. Why each is held back:"
        " `not_fitted_why` in its file.",
        "",
        "| machine | decode (tg) | prompt (pp512) |",
        "|---|---|---|",
    ]
    lines += _per_machine(checks)
    lines.append(_row(f"all {len({c.point.machine for c in checks})}", checks))
    return lines


def _row(name: str, checks: list[Check]) -> str:
    """A table row: a machine (or group) and its decode and prompt summaries."""
    return f"| {name} | {_summary(checks, 'decode')} | {_summary(checks, 'prompt')} |"


def _per_machine(checks: list[Check]) -> list[str]:
    """One row per machine among ``checks``, in name order."""
    machines = sorted({c.point.machine for c in checks})
    return [_row(m, [c for c in checks if c.point.machine == m]) for m in machines]


def rounded(c: SpeedConstants) -> SpeedConstants:
    """``c`` as FITTED is written (three significant figures; spreads as they are), so the doc
    written beside FITTED is computed from the same numbers the module holds."""
    values: dict[str, Any] = {}
    for f in fields(c):
        v = getattr(c, f.name)
        if isinstance(v, dict):
            values[f.name] = {k: float(f"{v[k]:.3g}") for k in v}
        elif "spread" not in f.name:
            values[f.name] = float(f"{v:.3g}")
    return replace(c, **values)


def _constants_text(c: SpeedConstants) -> str:
    parts = []
    for f in fields(c):
        v = getattr(c, f.name)
        if isinstance(v, dict):
            inner = ", ".join(f'"{k}": {v[k]:.3g}' for k in QUANT_CLASSES)
            parts.append(f"    {f.name}={{{inner}}},")
        elif "spread" in f.name:  # already floored to 3 decimals; rounding up could widen
            parts.append(f"    {f.name}={v!r},")
        else:
            parts.append(f"    {f.name}={v:.3g},")
    return "FITTED = SpeedConstants(\n" + "\n".join(parts) + "\n)"


def main(argv: list[str] | None = None) -> int:
    """Print (or write) the leave-one-machine-out table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="write the Markdown table to this file")
    ap.add_argument("--print-constants", action="store_true", help="print the all-machine fit")
    ap.add_argument(
        "--update",
        action="store_true",
        help="refit on every machine, write FITTED into llmcheck/speed_model.py and the doc",
    )
    args = ap.parse_args(argv)
    every = load_points()
    points = fitted_points(every)
    if args.print_constants:
        sys.stdout.write(_constants_text(fit(points)) + "\n")
        return 0
    constants = FITTED
    if args.update:
        constants = rounded(fit(points))
        module = ROOT / "llmcheck" / "speed_model.py"
        source = module.read_text()
        new_source, n = re.subn(
            r"FITTED = SpeedConstants\(\n.*?\n\)\n",
            lambda _: _constants_text(constants) + "\n",
            source,
            flags=re.S,
        )
        if n != 1:
            sys.stderr.write("speed_fit: FITTED not found in llmcheck/speed_model.py\n")
            return 1
        module.write_text(new_source)
        args.write = args.write or ROOT / "docs" / "speed-model.md"
    text = table(
        leave_one_out(points),
        check(points, constants),
        leave_one_out(points, by_build=True),
        check([p for p in every if not p.fitted], constants),
    )
    if args.write:
        args.write.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
