"""Measure llama.cpp's prompt and decode speed for LFM2 models, one fresh process per config.

Parent (``run``): measures the machine's memory bandwidth once (multi-threaded numpy copy),
prepares only the synthetic GGUFs the speed grid needs (``prepare.py --quants``), then for every
:class:`SpeedSpec` not yet recorded starts a child and appends its result to the results JSON
(rewritten atomically after every run, copied to ``--copy-to`` as well, so a call cut short keeps
what it measured and the next call resumes). A deadline (``--budget-s``) stops new work in time.

Child (``child``): llama-cpp-python's C API (``llama_model_load_from_file`` /
``llama_init_from_model`` / ``llama_decode``). Prompt processing: one warm-up batch of
``n_prompt`` tokens, then ``reps`` timed batches of ``n_prompt`` tokens on an empty cache (like
llama-bench ``pp512``). Decode: ``n_warmup`` + ``n_decode`` single tokens, each followed by
``llama_synchronize``; decode tok/s is 1 / median per-token time after the warm-up tokens. With
``depth`` > 0 the cache is first filled with ``depth - n_prompt`` tokens and one timed prompt batch
runs at that depth. CPU configs hide every CUDA device (``CUDA_VISIBLE_DEVICES=""``).

Random weights decode at the speed of real ones: the shapes, types and kernels are the same.

``python -m benchmarks.llamacpp_truth.speed run --models-dir D --results R [--budget-s 500]``
``python -m benchmarks.llamacpp_truth.speed --table tests/data/llamacpp/speed_h100.json``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCHEMA = "llmcheck-llamacpp-speed/1"
CHILD_TIMEOUT_S = 180.0
NGL_ALL = 99


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeedSpec:
    """One speed configuration."""

    variant: str
    quant: str
    device: str  # "gpu" (all layers offloaded) | "cpu" (n_gpu_layers 0, CUDA hidden)
    n_ctx: int = 4096
    depth: int = 0  # tokens already in the KV cache when the prompt batch and decode are timed
    n_prompt: int = 512
    n_decode: int = 128
    n_warmup: int = 8
    reps: int = 3
    threads: int = 16
    n_batch: int = 2048
    n_ubatch: int = 512
    flash_attn: str = "on"

    @property
    def run_id(self) -> str:
        """Stable id used to resume."""
        return (
            f"{self.variant}/{self.quant}/{self.device}/c{self.n_ctx}/d{self.depth}"
            f"/pp{self.n_prompt}/tg{self.n_decode}/t{self.threads}/fa-{self.flash_attn}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the run id."""
        return {**asdict(self), "run_id": self.run_id}


def _spec(**kw: Any) -> SpeedSpec:
    if kw.get("device") == "cpu":
        kw.setdefault("reps", 2)  # CPU prompt batches take seconds; two timed reps
    return SpeedSpec(**kw)


#: The grid, most informative first (a call cut short keeps the front of the list).
SPECS: tuple[SpeedSpec, ...] = (
    _spec(variant="lfm2-1.2b", quant="Q4_K_M", device="gpu"),
    _spec(variant="lfm2-1.2b", quant="Q4_K_M", device="cpu"),
    _spec(variant="lfm2-1.2b", quant="Q8_0", device="gpu"),
    _spec(variant="lfm2-1.2b", quant="Q8_0", device="cpu"),
    _spec(variant="lfm2-350m", quant="Q4_K_M", device="gpu"),
    _spec(variant="lfm2-350m", quant="Q4_K_M", device="cpu"),
    _spec(variant="lfm2-2.6b", quant="Q4_K_M", device="gpu"),
    _spec(variant="lfm2-2.6b", quant="Q4_K_M", device="cpu"),
    _spec(variant="lfm2-8b-a1b", quant="Q4_K_M", device="gpu"),
    _spec(variant="lfm2-8b-a1b", quant="Q4_K_M", device="cpu"),
    _spec(variant="lfm2-1.2b", quant="Q4_K_M", device="gpu", n_ctx=32768, depth=16384, reps=1),
)

#: Seconds prepare.py took per variant for these quants on the H100 machine (models_h100.json:
#: F16 write + quantize), used to skip a variant that cannot be ready before the deadline.
PREPARE_S: dict[str, float] = {
    "lfm2-1.2b": 20.0,
    "lfm2-350m": 6.0,
    "lfm2-2.6b": 30.0,
    "lfm2-8b-a1b": 100.0,
}
#: Seconds a variant's configs take (load + warm-up + timed batches + decode), rough upper bound.
RUN_S: dict[str, float] = {
    "lfm2-1.2b": 45.0,
    "lfm2-350m": 15.0,
    "lfm2-2.6b": 40.0,
    "lfm2-8b-a1b": 60.0,
}


def _log(msg: str) -> None:
    print(f"[speed] {msg}", file=sys.stderr, flush=True)


def quants_needed(variant: str) -> list[str]:
    """The quantizations of ``variant`` the grid measures, in grid order."""
    out: list[str] = []
    for s in SPECS:
        if s.variant == variant and s.quant not in out:
            out.append(s.quant)
    return out


def variants_in_order() -> list[str]:
    """Variants in the order the grid first needs them."""
    out: list[str] = []
    for s in SPECS:
        if s.variant not in out:
            out.append(s.variant)
    return out


# --------------------------------------------------------------------------------------------
# Memory bandwidth


def memory_bandwidth(threads: int = 16, mib_per_thread: int = 256, reps: int = 5) -> dict[str, Any]:
    """Multi-threaded numpy copy: ``threads`` threads each copy their own ``mib_per_thread`` array.

    numpy releases the GIL inside the copy, so the threads run in parallel. GB/s counts the bytes
    read plus the bytes written (2 x size per copy), over the slowest thread of each rep; the best
    rep is reported (like STREAM).
    """
    import numpy as np

    n = mib_per_thread * (1 << 20) // 8
    barrier = threading.Barrier(threads + 1)
    times: list[list[float]] = [[0.0] * reps for _ in range(threads)]

    def worker(i: int) -> None:
        src = np.full(n, float(i))  # each thread faults in its own pages, in parallel
        dst = np.empty(n)
        np.copyto(dst, src)  # untimed: first-touch faults of dst
        for r in range(reps):
            barrier.wait()
            t0 = time.perf_counter()
            np.copyto(dst, src)
            times[i][r] = time.perf_counter() - t0
            barrier.wait()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    walls: list[float] = []
    for _ in range(reps):
        barrier.wait()
        t0 = time.perf_counter()
        barrier.wait()
        walls.append(time.perf_counter() - t0)
    for t in pool:
        t.join()
    moved = 2 * threads * n * 8
    per_rep = [moved / w / 1e9 for w in walls]
    return {
        "method": f"numpy copyto, {threads} threads x {mib_per_thread} MiB float64, {reps} reps; "
        "GB/s = (read + write bytes) / wall time of the rep",
        "threads": threads,
        "mib_per_thread": mib_per_thread,
        "gb_s_per_rep": [round(x, 2) for x in per_rep],
        "gb_s": round(max(per_rep), 2),
        "thread_copy_s": [[round(x, 4) for x in t] for t in times],
        "numpy": np.__version__,
    }


# --------------------------------------------------------------------------------------------
# Child


def _child_dry(spec: SpeedSpec) -> dict[str, Any]:
    rng = random.Random(spec.run_id)
    base = 300.0 if spec.device == "gpu" else 40.0
    per_tok = [1.0 / (base * rng.uniform(0.9, 1.1)) for _ in range(spec.n_warmup + spec.n_decode)]
    pp = [spec.n_prompt / (base * 20) for _ in range(spec.reps)]
    return _summarize(spec, pp, per_tok, {"dry_run": True}, load_s=0.0, fill_s=None)


def _summarize(
    spec: SpeedSpec,
    pp_s: list[float],
    per_tok_s: list[float],
    api: dict[str, Any],
    *,
    load_s: float,
    fill_s: float | None,
) -> dict[str, Any]:
    timed = per_tok_s[spec.n_warmup :]
    med = statistics.median(timed)
    qs = statistics.quantiles(timed, n=10) if len(timed) >= 2 else [med] * 9
    return {
        "api": api,
        "load_s": round(load_s, 4),
        "fill_s": None if fill_s is None else round(fill_s, 4),
        "prompt_s": [round(x, 6) for x in pp_s],
        "prompt_tokens_per_second": round(spec.n_prompt / statistics.median(pp_s), 2),
        "decode_token_s": [round(x, 7) for x in per_tok_s],
        "decode_tokens_per_second": round(1.0 / med, 2),
        "decode_tokens_per_second_mean": round(len(timed) / sum(timed), 2),
        "decode_tokens_per_second_p10_p90": [round(1.0 / qs[8], 2), round(1.0 / qs[0], 2)],
    }


def _child_real(spec: SpeedSpec, model: Path) -> dict[str, Any]:
    import llama_cpp as lc

    from benchmarks.llamacpp_truth.grid import FLASH_ATTN_IDS

    lc.llama_backend_init()
    mp = lc.llama_model_default_params()
    mp.n_gpu_layers = NGL_ALL if spec.device == "gpu" else 0
    t = time.perf_counter()
    mdl = lc.llama_model_load_from_file(str(model).encode(), mp)
    if not mdl:
        raise RuntimeError("llama_model_load_from_file returned NULL")
    load_s = time.perf_counter() - t
    cp = lc.llama_context_default_params()
    cp.n_ctx = spec.n_ctx
    cp.n_batch = spec.n_batch
    cp.n_ubatch = spec.n_ubatch
    cp.flash_attn_type = FLASH_ATTN_IDS[spec.flash_attn]
    cp.n_threads = spec.threads
    cp.n_threads_batch = spec.threads
    ctx = lc.llama_init_from_model(mdl, cp)
    if not ctx:
        raise RuntimeError("llama_init_from_model returned NULL")
    mem = lc.llama_get_memory(ctx)
    vocab = lc.llama_model_get_vocab(mdl)
    n_vocab = lc.llama_vocab_n_tokens(vocab)
    rng = random.Random(1234)

    def decode(n: int) -> float:
        ids = [rng.randrange(300, n_vocab) for _ in range(n)]
        arr = (lc.llama_token * n)(*ids)
        t0 = time.perf_counter()
        rc = lc.llama_decode(ctx, lc.llama_batch_get_one(arr, n))
        lc.llama_synchronize(ctx)
        dt = time.perf_counter() - t0
        if rc != 0:
            raise RuntimeError(f"llama_decode({n} tokens) returned {rc}")
        return dt

    pp_s: list[float] = []
    fill_s: float | None = None
    if spec.depth > 0:
        t = time.perf_counter()
        left = spec.depth - spec.n_prompt
        while left > 0:
            step = min(spec.n_batch, left)
            decode(step)
            left -= step
        fill_s = time.perf_counter() - t
        pp_s.append(decode(spec.n_prompt))
    else:
        decode(spec.n_prompt)  # warm-up (CUDA graphs, cuBLAS handles, AMX repack paths)
        for _ in range(spec.reps):
            lc.llama_memory_clear(mem, True)
            pp_s.append(decode(spec.n_prompt))
    per_tok = [decode(1) for _ in range(spec.n_warmup + spec.n_decode)]
    sysinfo = lc.llama_print_system_info()
    api: dict[str, Any] = {
        "llama_model_size": int(lc.llama_model_size(mdl)),
        "llama_model_n_params": int(lc.llama_model_n_params(mdl)),
        "n_ctx": int(lc.llama_n_ctx(ctx)),
        "system_info": sysinfo.decode() if isinstance(sysinfo, bytes) else str(sysinfo),
    }
    lc.llama_free(ctx)
    lc.llama_model_free(mdl)
    return _summarize(spec, pp_s, per_tok, api, load_s=load_s, fill_s=fill_s)


def child_main(spec: SpeedSpec, model: Path, result: Path, *, dry_run: bool) -> int:
    """Run one config and write its JSON to ``result``; never raises."""
    out: dict[str, Any] = {"ok": False, "pid": os.getpid()}
    try:
        out.update(_child_dry(spec) if dry_run else _child_real(spec, model))
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failing configuration is a result, not a crash
        out["error"] = f"{type(exc).__name__}: {exc}"
        print(f"child error: {out['error']}", file=sys.stderr, flush=True)
    result.write_text(json.dumps(out))
    return 0 if out["ok"] else 1


# --------------------------------------------------------------------------------------------
# Parent


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def _save(data: dict[str, Any], results: Path, copy_to: Path | None) -> None:
    _write(results, data)
    if copy_to is not None:
        _write(copy_to, data)


def _prepare(models_dir: Path, variant: str, threads: int, dry_run: bool) -> dict[str, Any]:
    """Write + quantize what ``variant`` needs (subprocess, so a crash stays contained)."""
    from benchmarks.llamacpp_truth.prepare import model_path

    quants = quants_needed(variant)
    missing = [q for q in quants if not model_path(models_dir, variant, q).exists()]
    if not missing:
        return {"seconds": 0.0, "skipped": "files exist"}
    if dry_run:
        models_dir.mkdir(parents=True, exist_ok=True)
        for q in missing:
            model_path(models_dir, variant, q).write_bytes(b"dry")
        return {"seconds": 0.0, "dry_run": True}
    t = time.monotonic()
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.llamacpp_truth.prepare",
        "--models-dir",
        str(models_dir),
        "--threads",
        str(threads),
        "--variants",
        variant,
        "--quants",
        *quants,
    ]
    rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode
    return {"seconds": round(time.monotonic() - t, 1), "returncode": rc}


def run(
    *,
    models_dir: Path,
    results: Path,
    work_dir: Path,
    budget_s: float,
    copy_to: Path | None = None,
    dry_run: bool = False,
    build_info: Path | None = None,
    threads: int = 16,
    bandwidth_mib: int = 256,
) -> dict[str, Any]:
    """Measure every spec not yet in ``results`` before the deadline; returns the results."""
    from benchmarks.llamacpp_truth.measure import environment

    t_end = time.monotonic() + budget_s
    data: dict[str, Any] = {}
    if results.exists():
        try:
            data = json.loads(results.read_text())
        except ValueError:
            data = {}
    if data.get("schema") != SCHEMA:
        data = {
            "schema": SCHEMA,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "dry_run": dry_run,
            "runs": [],
            "prepare": {},
        }
    data["environment"] = environment(build_info)
    if "memory_bandwidth" not in data:
        data["memory_bandwidth"] = memory_bandwidth(threads, 16 if dry_run else bandwidth_mib)
        _log(f"memory bandwidth {data['memory_bandwidth']['gb_s']} GB/s")
    _save(data, results, copy_to)
    done = {r["run_id"] for r in data["runs"] if r.get("status") == "ok"}
    work_dir.mkdir(parents=True, exist_ok=True)
    from benchmarks.llamacpp_truth.prepare import model_path

    for variant in variants_in_order():
        todo = [s for s in SPECS if s.variant == variant and s.run_id not in done]
        if not todo:
            continue
        left = t_end - time.monotonic()
        need = PREPARE_S[variant] + RUN_S[variant] / 2
        have_files = all(
            model_path(models_dir, variant, q).exists() for q in quants_needed(variant)
        )
        if not have_files and left < need:
            _log(f"{variant}: skipped, {left:.0f} s left < {need:.0f} s to prepare and run")
            continue
        data["prepare"][variant] = _prepare(models_dir, variant, threads, dry_run)
        _save(data, results, copy_to)
        for spec in todo:
            left = t_end - time.monotonic()
            if left < 15:
                _log(f"{spec.run_id}: skipped, {left:.0f} s left")
                continue
            model = model_path(models_dir, spec.variant, spec.quant)
            rec = _launch(spec, model, work_dir, min(CHILD_TIMEOUT_S, left), dry_run)
            data["runs"] = [r for r in data["runs"] if r["run_id"] != spec.run_id] + [rec]
            _save(data, results, copy_to)
            c = rec.get("child") or {}
            _log(
                f"{spec.run_id}: {rec['status']} pp {c.get('prompt_tokens_per_second')} "
                f"tg {c.get('decode_tokens_per_second')} tok/s ({rec['wall_s']:.1f} s)"
            )
    data["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _save(data, results, copy_to)
    return data


def _launch(
    spec: SpeedSpec, model: Path, work_dir: Path, timeout_s: float, dry_run: bool
) -> dict[str, Any]:
    safe = spec.run_id.replace("/", "_")
    log, result = work_dir / f"{safe}.log", work_dir / f"{safe}.json"
    result.unlink(missing_ok=True)
    env = dict(os.environ)
    if spec.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.llamacpp_truth.speed",
        "child",
        "--spec",
        json.dumps(asdict(spec)),
        "--model",
        str(model),
        "--result",
        str(result),
    ]
    if dry_run:
        cmd.append("--dry-run")
    t0 = time.monotonic()
    timed_out = False
    rc: int | None = None
    with log.open("wb") as fh:
        try:
            rc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=fh,
                env=env,
                timeout=timeout_s,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            timed_out = True
    wall = time.monotonic() - t0
    child: dict[str, Any] | None = None
    try:
        child = json.loads(result.read_text())
    except (OSError, ValueError):
        child = None
    status = "timeout" if timed_out else ("ok" if child and child.get("ok") else "failed")
    rec: dict[str, Any] = {
        "run_id": spec.run_id,
        "params": spec.to_dict(),
        "status": status,
        "returncode": rc,
        "wall_s": round(wall, 3),
        "model_file": model.name,
        "file_size_bytes": model.stat().st_size if model.exists() else None,
        "child": child,
    }
    if status != "ok":
        try:
            rec["log_tail"] = log.read_text(errors="replace").splitlines()[-40:]
        except OSError:
            rec["log_tail"] = []
    return rec


# --------------------------------------------------------------------------------------------
# Comparison with llmcheck.estimate


#: The snapshot llmcheck recorded on the machine the speed runs used (H100, 16-vCPU Xeon).
RECORDED_SNAPSHOT = Path(__file__).resolve().parents[2] / "tests/data/recorded/h100-llmcheck.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One recorded config against llmcheck's SpeedRange for it."""

    run_id: str
    label: str
    decode_measured: float
    decode_low: float
    decode_high: float
    prompt_measured: float
    prompt_low: float
    prompt_high: float
    placement: str

    @property
    def decode_inside(self) -> bool:
        """Measured decode tok/s within [low, high]."""
        return self.decode_low <= self.decode_measured <= self.decode_high

    @property
    def prompt_inside(self) -> bool:
        """Measured prompt tok/s within [low, high]."""
        return self.prompt_low <= self.prompt_measured <= self.prompt_high


def machine_for(device: str, data: dict[str, Any], snapshot_doc: dict[str, Any]) -> Any:
    """The snapshot llmcheck would see for a run on ``device``.

    GPU runs: the recorded snapshot as is (NVML's computed 3,352 GB/s for the H100). CPU runs:
    the same snapshot with the memory bandwidth this results file measured (Source.MEASURED),
    as ``llmcheck`` would report after measuring it; the GPU stays listed (NVML sees it) and the
    run config pins the CPU.
    """
    from dataclasses import replace

    from llmcheck.snapshot import Source, snapshot_from_dict

    snap = snapshot_from_dict(snapshot_doc)
    if device == "cpu":
        bw = float(data["memory_bandwidth"]["gb_s"])
        snap = replace(
            snap, memory=replace(snap.memory, bandwidth_gb_s=bw, bandwidth_source=Source.MEASURED)
        )
    return snap


def compare(data: dict[str, Any], snapshot_doc: dict[str, Any] | None = None) -> list[Comparison]:
    """Every ok run of ``data`` against ``llmcheck.estimate.estimate`` on the recorded machine."""
    from llmcheck.catalog import load_catalog
    from llmcheck.estimate import RunConfig, estimate

    if snapshot_doc is None:
        snapshot_doc = json.loads(RECORDED_SNAPSHOT.read_text())
    catalog = load_catalog()
    rows: list[Comparison] = []
    for r in data["runs"]:
        if r.get("status") != "ok":
            continue
        spec = r["params"]
        config = RunConfig(
            context_tokens=spec["n_ctx"],
            flash_attn=spec["flash_attn"] == "on",
            ubatch=spec["n_ubatch"],
            device="gpu:0" if spec["device"] == "gpu" else "cpu",
        )
        fit = estimate(
            catalog.variant(spec["variant"]),
            spec["quant"],
            config,
            machine_for(spec["device"], data, snapshot_doc),
        )
        if fit.speed is None:
            raise ValueError(f"{r['run_id']}: the estimator gave no speed ({fit.reason})")
        depth = f", {spec['depth'] // 1024}k in KV" if spec["depth"] else ""
        name = catalog.variant(spec["variant"]).name
        label = (
            f"{name} {spec['quant']} {spec['device'].upper()} ctx {spec['n_ctx'] // 1024}k{depth}"
        )
        child = r["child"]
        # A prompt on an empty cache meets the first-prompt range; one after a filled cache the
        # range at the estimate's depth (the context half full, which is where these runs are).
        if spec["depth"]:
            p_low, p_high = (
                fit.speed.prompt_low_tokens_per_second,
                fit.speed.prompt_high_tokens_per_second,
            )
        else:
            p_low = fit.speed.prompt_empty_low_tokens_per_second
            p_high = fit.speed.prompt_empty_high_tokens_per_second
        if p_low is None or p_high is None:
            raise ValueError(f"{r['run_id']}: the estimator gave no first-prompt range")
        rows.append(
            Comparison(
                run_id=r["run_id"],
                label=label,
                placement=str(fit.placement),
                decode_measured=float(child["decode_tokens_per_second"]),
                decode_low=fit.speed.low_tokens_per_second,
                decode_high=fit.speed.high_tokens_per_second,
                prompt_measured=float(child["prompt_tokens_per_second"]),
                prompt_low=p_low,
                prompt_high=p_high,
            )
        )
    return rows


def table(path: Path) -> str:
    """Markdown table: config, measured prompt / decode tok/s, estimated ranges."""
    rows = compare(json.loads(path.read_text()))
    lines = [
        "| config | decode measured | decode estimate | pp512 measured | pp512 estimate |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        mark_d = "" if r.decode_inside else " **outside**"
        mark_p = "" if r.prompt_inside else " **outside**"
        lines.append(
            f"| {r.label} | {r.decode_measured:,.1f}{mark_d}"
            f" | {r.decode_low:,.1f} - {r.decode_high:,.1f}"
            f" | {r.prompt_measured:,.0f}{mark_p} | {r.prompt_low:,.0f} - {r.prompt_high:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--table", type=Path, help="print the Markdown comparison table of a results file"
    )
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run")
    r.add_argument("--models-dir", type=Path, required=True)
    r.add_argument("--results", type=Path, required=True)
    r.add_argument("--work-dir", type=Path, required=True)
    r.add_argument("--copy-to", type=Path)
    r.add_argument("--build-info", type=Path)
    r.add_argument("--budget-s", type=float, default=500.0)
    r.add_argument("--threads", type=int, default=16)
    r.add_argument("--bandwidth-mib", type=int, default=256)
    r.add_argument("--dry-run", action="store_true")
    c = sub.add_parser("child")
    c.add_argument("--spec", required=True)
    c.add_argument("--model", type=Path, required=True)
    c.add_argument("--result", type=Path, required=True)
    c.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0
    if args.cmd == "child":
        return child_main(
            SpeedSpec(**json.loads(args.spec)), args.model, args.result, dry_run=args.dry_run
        )
    if args.cmd == "run":
        data = run(
            models_dir=args.models_dir,
            results=args.results,
            work_dir=args.work_dir,
            budget_s=args.budget_s,
            copy_to=args.copy_to,
            dry_run=args.dry_run,
            build_info=args.build_info,
            threads=args.threads,
            bandwidth_mib=args.bandwidth_mib,
        )
        ok = sum(1 for x in data["runs"] if x["status"] == "ok")
        _log(f"{ok} of {len(SPECS)} configs ok")
        return 0 if ok == len(SPECS) else 1
    p.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
