"""Load each grid configuration in a fresh process and record what llama.cpp allocates.

Parent (``run``): for every :class:`~benchmarks.llamacpp_truth.grid.RunSpec` not yet in the
results file, read the GPU's NVML used bytes, start a child with its stderr (fd 2, where
llama.cpp logs) redirected to a file, parse that log, and append one record to the results
JSON (rewritten atomically after every run, so a phase cut short keeps what it measured and the
next call resumes).

Child (``child``): loads the model through llama-cpp-python's C API bindings
(``llama_model_load_from_file`` / ``llama_init_from_model``, the same calls ``llama_cpp.Llama``
makes, without its Python-side logits array), evaluates a prompt and a few decode steps, and
records ``/proc/self/status`` (VmRSS, RssAnon, RssFile, VmHWM) and NVML memory at each stage.
With ``--dry-run`` the child never imports ``llama_cpp`` and prints a small fake log, so the
whole bookkeeping can be exercised anywhere.

``python -m benchmarks.llamacpp_truth.measure run --models-dir D --results R [--budget-s 540]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.llamacpp_truth.grid import FLASH_ATTN_IDS, KV_TYPE_IDS, RunSpec, build_grid
from benchmarks.llamacpp_truth.logparse import parse_log

SCHEMA = "llmcheck-llamacpp-truth/1"
CHILD_TIMEOUT_S = 240.0
STATUS_KEYS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "VmSize")
CPU_FLAGS = (
    "sse3",
    "ssse3",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi2",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)


def _log(msg: str) -> None:
    print(f"[measure] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Readers shared by parent and child


def parse_proc_status(text: str) -> dict[str, int]:
    """``/proc/<pid>/status`` memory lines as bytes (``{"VmRSS": 123456, ...}``)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in STATUS_KEYS:
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
                out[key] = int(parts[0]) * 1024
    return out


def read_proc_status() -> dict[str, int]:
    """This process's memory counters; empty where /proc is missing."""
    try:
        return parse_proc_status(Path("/proc/self/status").read_text())
    except OSError:
        return {}


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model name, logical CPU count and a subset of flags from ``/proc/cpuinfo`` text."""
    model = None
    flags: set[str] = set()
    n = 0
    for line in text.splitlines():
        key, _, val = line.partition(":")
        key = key.strip()
        if key == "processor":
            n += 1
        elif key == "model name" and model is None:
            model = val.strip()
        elif key == "flags" and not flags:
            flags = set(val.split())
    return {
        "model_name": model,
        "logical_cpus": n or None,
        "flags": [f for f in CPU_FLAGS if f in flags],
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class NvmlReading:
    """GPU memory as NVML reports it (bytes), for device 0."""

    used_bytes: int | None
    total_bytes: int | None
    processes: tuple[dict[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "used_bytes": self.used_bytes,
            "total_bytes": self.total_bytes,
            "processes": list(self.processes),
        }


def nvml_reading() -> NvmlReading | None:
    """Device 0 used/total bytes and per-process used bytes; None without NVML or a GPU."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            h = pynvml.nvmlDeviceGetHandleByIndex(0)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            procs: list[dict[str, int]] = []
            try:
                for p in pynvml.nvmlDeviceGetComputeRunningProcesses(h):
                    used = getattr(p, "usedGpuMemory", None)
                    procs.append({"pid": int(p.pid), "used_bytes": int(used) if used else -1})
            except pynvml.NVMLError:
                pass
            return NvmlReading(
                used_bytes=int(mem.used), total_bytes=int(mem.total), processes=tuple(procs)
            )
        finally:
            pynvml.nvmlShutdown()
    except (pynvml.NVMLError, OSError):
        return None


def gpu_info() -> dict[str, Any] | None:
    """Name, driver, CUDA driver version and memory of GPU 0 (NVML); None without one."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            h = pynvml.nvmlDeviceGetHandleByIndex(0)
            name = pynvml.nvmlDeviceGetName(h)
            driver = pynvml.nvmlSystemGetDriverVersion()
            cuda = pynvml.nvmlSystemGetCudaDriverVersion()
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            return {
                "name": name.decode() if isinstance(name, bytes) else name,
                "driver": driver.decode() if isinstance(driver, bytes) else driver,
                "cuda_driver_version": cuda,
                "total_bytes": int(mem.total),
                "used_bytes_idle": int(mem.used),
                "count": pynvml.nvmlDeviceGetCount(),
            }
        finally:
            pynvml.nvmlShutdown()
    except (pynvml.NVMLError, OSError):
        return None


# --------------------------------------------------------------------------------------------
# Child


def _stage(stages: dict[str, Any], name: str, t0: float) -> None:
    reading = nvml_reading()
    stages[name] = {
        "t_s": round(time.monotonic() - t0, 4),
        "proc": read_proc_status(),
        "nvml": reading.to_dict() if reading else None,
    }


def _child_dry(spec: RunSpec, stages: dict[str, Any], t0: float) -> dict[str, Any]:
    """Fake run: prints log lines shaped like llama.cpp's, imports nothing native."""
    cells = -(-spec.n_ctx // 256) * 256
    kv_mib = 6 * cells * 512 * 2 * 2 / (1 << 20)
    fa = {"on": "enabled", "off": "disabled", "auto": "auto"}[spec.flash_attn]
    for line in (
        "dry-run: no llama.cpp",
        f"llama_context: n_ctx         = {cells}",
        f"llama_context: n_ubatch      = {spec.n_ubatch}",
        f"llama_context: flash_attn    = {fa}",
        f"llama_kv_cache:        CPU KV buffer size = {kv_mib:8.2f} MiB",
    ):
        print(line, file=sys.stderr)
    sys.stderr.flush()
    for name in ("after_import", "after_load", "after_context", "after_prompt", "after_decode"):
        _stage(stages, name, t0)
    return {"dry_run": True}


def _child_real(spec: RunSpec, model: Path, stages: dict[str, Any], t0: float) -> dict[str, Any]:
    """Load, build the context, decode; returns llama.cpp API values and timings."""
    import ctypes

    import llama_cpp as lc

    _stage(stages, "after_import", t0)
    lc.llama_backend_init()
    mp = lc.llama_model_default_params()
    mp.n_gpu_layers = spec.n_gpu_layers
    if hasattr(mp, "load_mode"):
        mp.load_mode = lc.LLAMA_LOAD_MODE_MMAP if spec.use_mmap else lc.LLAMA_LOAD_MODE_NONE
    else:
        mp.use_mmap = spec.use_mmap
    t_load = time.monotonic()
    mdl = lc.llama_model_load_from_file(str(model).encode(), mp)
    if not mdl:
        raise RuntimeError("llama_model_load_from_file returned NULL")
    t_load = time.monotonic() - t_load
    _stage(stages, "after_load", t0)

    cp = lc.llama_context_default_params()
    cp.n_ctx = spec.n_ctx
    cp.n_batch = spec.n_batch
    cp.n_ubatch = spec.n_ubatch
    cp.n_seq_max = spec.n_seq_max
    cp.kv_unified = spec.kv_unified
    cp.flash_attn_type = FLASH_ATTN_IDS[spec.flash_attn]
    cp.type_k = KV_TYPE_IDS[spec.type_k]
    cp.type_v = KV_TYPE_IDS[spec.type_v]
    cp.offload_kqv = spec.offload_kqv
    threads = os.cpu_count() or 4
    cp.n_threads = threads
    cp.n_threads_batch = threads
    t_ctx = time.monotonic()
    ctx = lc.llama_init_from_model(mdl, cp)
    if not ctx:
        raise RuntimeError("llama_init_from_model returned NULL")
    t_ctx = time.monotonic() - t_ctx
    _stage(stages, "after_context", t0)

    vocab = lc.llama_model_get_vocab(mdl)
    n_vocab = lc.llama_vocab_n_tokens(vocab)
    rng = random.Random(1234)
    ids = [rng.randrange(300, n_vocab) for _ in range(spec.n_prompt)]
    arr = (lc.llama_token * len(ids))(*ids)
    t_prompt = time.monotonic()
    rc = lc.llama_decode(ctx, lc.llama_batch_get_one(arr, len(ids)))
    if rc != 0:
        raise RuntimeError(f"llama_decode(prompt) returned {rc}")
    t_prompt = time.monotonic() - t_prompt
    _stage(stages, "after_prompt", t0)
    t_dec = time.monotonic()
    for _ in range(spec.n_decode):
        one = (lc.llama_token * 1)(rng.randrange(300, n_vocab))
        rc = lc.llama_decode(ctx, lc.llama_batch_get_one(one, 1))
        if rc != 0:
            raise RuntimeError(f"llama_decode(token) returned {rc}")
    t_dec = time.monotonic() - t_dec
    _stage(stages, "after_decode", t0)

    api: dict[str, Any] = {
        "llama_model_size": int(lc.llama_model_size(mdl)),
        "llama_model_n_params": int(lc.llama_model_n_params(mdl)),
        "n_vocab": int(n_vocab),
        "n_ctx": int(lc.llama_n_ctx(ctx)),
    }
    if hasattr(lc, "llama_n_ctx_seq"):
        api["n_ctx_seq"] = int(lc.llama_n_ctx_seq(ctx))
    sysinfo = lc.llama_print_system_info()
    api["system_info"] = sysinfo.decode() if isinstance(sysinfo, bytes) else str(sysinfo)
    lc.llama_free(ctx)
    lc.llama_model_free(mdl)
    del ctypes
    return {
        "api": api,
        "timings_s": {
            "load": round(t_load, 4),
            "context": round(t_ctx, 4),
            "prompt": round(t_prompt, 4),
            "decode": round(t_dec, 4),
        },
        "n_threads": threads,
    }


def child_main(spec: RunSpec, model: Path, result: Path, *, dry_run: bool) -> int:
    """Run one configuration and write its JSON to ``result``; never raises."""
    t0 = time.monotonic()
    stages: dict[str, Any] = {}
    _stage(stages, "start", t0)
    out: dict[str, Any] = {"ok": False, "pid": os.getpid()}
    try:
        extra = _child_dry(spec, stages, t0) if dry_run else _child_real(spec, model, stages, t0)
        out.update(extra)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - a failing configuration is a result, not a crash
        out["error"] = f"{type(exc).__name__}: {exc}"
        print(f"child error: {out['error']}", file=sys.stderr, flush=True)
    out["stages"] = stages
    result.write_text(json.dumps(out))
    return 0 if out["ok"] else 1


# --------------------------------------------------------------------------------------------
# Parent


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildOutcome:
    """What a launched child left behind."""

    returncode: int | None
    timed_out: bool
    wall_s: float


#: launcher(spec, model_path, log_path, result_path, env) -> ChildOutcome
Launcher = Callable[[RunSpec, Path, Path, Path, dict[str, str]], ChildOutcome]


def subprocess_launcher(*, dry_run: bool, timeout_s: float = CHILD_TIMEOUT_S) -> Launcher:
    """A launcher that runs ``python -m benchmarks.llamacpp_truth.measure child ...``."""

    def launch(
        spec: RunSpec, model: Path, log: Path, result: Path, env: dict[str, str]
    ) -> ChildOutcome:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.llamacpp_truth.measure",
            "child",
            "--spec",
            json.dumps(spec.to_dict()),
            "--model",
            str(model),
            "--result",
            str(result),
        ]
        if dry_run:
            cmd.append("--dry-run")
        t0 = time.monotonic()
        with log.open("wb") as fh:
            try:
                proc = subprocess.run(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=fh,
                    stderr=fh,
                    env=env,
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return ChildOutcome(returncode=None, timed_out=True, wall_s=time.monotonic() - t0)
        return ChildOutcome(
            returncode=proc.returncode, timed_out=False, wall_s=time.monotonic() - t0
        )

    return launch


def spec_from_dict(d: dict[str, Any]) -> RunSpec:
    """Inverse of :meth:`RunSpec.to_dict`."""
    fields = {k: v for k, v in d.items() if k != "run_id"}
    return RunSpec(**fields)


def child_env(spec: RunSpec, base: dict[str, str]) -> dict[str, str]:
    """The child's environment: CPU runs hide every CUDA device."""
    env = dict(base)
    if spec.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def load_results(path: Path) -> dict[str, Any] | None:
    """The results file, or None when missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None
    return data


def write_results(path: Path, data: dict[str, Any]) -> None:
    """Atomic rewrite."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def record_run(
    spec: RunSpec,
    model: Path,
    log_text: str,
    child: dict[str, Any] | None,
    outcome: ChildOutcome,
    nvml_before: NvmlReading | None,
) -> dict[str, Any]:
    """One run's record (the ``runs[]`` item of the schema)."""
    parsed = parse_log(log_text)
    if outcome.timed_out:
        status = "timeout"
    elif child is not None and child.get("ok"):
        status = "ok"
    else:
        status = "failed"
    rec: dict[str, Any] = {
        "run_id": spec.run_id,
        "params": spec.to_dict(),
        "status": status,
        "returncode": outcome.returncode,
        "wall_s": round(outcome.wall_s, 3),
        "model_file": model.name,
        "file_size_bytes": model.stat().st_size if model.exists() else None,
        "nvml_before": nvml_before.to_dict() if nvml_before else None,
        "child": child,
        "llama_log": parsed.to_dict(),
    }
    if status != "ok":
        rec["log_tail"] = log_text.splitlines()[-40:]
    return rec


def environment(build_info: Path | None) -> dict[str, Any]:
    """Machine and version facts recorded once per results file."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        env["cpu"] = parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        env["cpu"] = None
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
        env["mem_total_bytes"] = int(meminfo[1]) * 1024
    except (OSError, IndexError, ValueError):
        env["mem_total_bytes"] = None
    env["gpu"] = gpu_info()
    if build_info is not None and build_info.exists():
        try:
            env["build"] = json.loads(build_info.read_text())
        except ValueError:
            env["build"] = {"error": f"unreadable {build_info}"}
    return env


def run_grid(
    specs: tuple[RunSpec, ...],
    *,
    models_dir: Path,
    results_path: Path,
    work_dir: Path,
    launcher: Launcher,
    nvml: Callable[[], NvmlReading | None] = nvml_reading,
    env_info: dict[str, Any] | None = None,
    models_info: dict[str, Any] | None = None,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    dry_run: bool = False,
    base_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run every spec not already recorded; returns the results document.

    Args:
        specs: The grid.
        models_dir: Where ``{variant}-{quant}.gguf`` files are.
        results_path: The results JSON (read to resume, rewritten after every run).
        work_dir: Scratch directory for child logs and result files.
        launcher: Starts one child (a seam: tests pass a fake that writes recorded output).
        nvml: Reads the GPU's used memory before each child.
        env_info: Machine facts to store (kept from an existing file when None).
        models_info: The prepare phase's ``models.json`` contents.
        budget_s: Stop starting new runs after this many seconds (resume later).
        clock: Monotonic clock (a seam for tests).
        dry_run: Mark the document as a dry run.
        base_env: Environment the children inherit (default: this process's).

    Returns:
        The results document as written.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    data = load_results(results_path) or {
        "schema": SCHEMA,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": [],
    }
    data["dry_run"] = dry_run
    if env_info is not None:
        data["environment"] = env_info
    if models_info is not None:
        data["models"] = models_info
    data["grid"] = [s.run_id for s in specs]
    done = {r["run_id"] for r in data["runs"] if r.get("status") in ("ok", "failed", "timeout")}
    start = clock()
    base = dict(os.environ if base_env is None else base_env)
    todo = [s for s in specs if s.run_id not in done]
    _log(f"{len(todo)} of {len(specs)} runs to do")
    for i, spec in enumerate(todo):
        if budget_s is not None and clock() - start > budget_s:
            data["incomplete"] = True
            _log(
                f"time budget of {budget_s:.0f} s reached; {len(todo) - i} runs left "
                "(run again to resume)"
            )
            break
        model = models_dir / f"{spec.variant}-{spec.quant}.gguf"
        if not model.exists() and not dry_run:
            data["runs"].append(
                {
                    "run_id": spec.run_id,
                    "params": spec.to_dict(),
                    "status": "missing_model",
                    "model_file": model.name,
                }
            )
            write_results(results_path, data)
            continue
        log_path = work_dir / "child.log"
        result_path = work_dir / "child.json"
        result_path.unlink(missing_ok=True)
        before = nvml() if spec.device == "gpu" else None
        outcome = launcher(spec, model, log_path, result_path, child_env(spec, base))
        try:
            log_text = log_path.read_text(errors="replace")
        except OSError:
            log_text = ""
        try:
            child = json.loads(result_path.read_text())
        except (OSError, ValueError):
            child = None
        rec = record_run(spec, model, log_text, child, outcome, before)
        data["runs"].append(rec)
        write_results(results_path, data)
        kv = rec["llama_log"]["buffers_mib"]
        _log(
            f"[{i + 1}/{len(todo)}] {spec.run_id}: {rec['status']} in {outcome.wall_s:.1f} s "
            f"model={kv['model']} kv={kv['kv']} compute={kv['compute']}"
        )
        if rec["status"] != "ok":
            for line in rec.get("log_tail", [])[-8:]:
                _log(f"    | {line}")
    else:
        data.pop("incomplete", None)
    data["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_results(results_path, data)
    return data


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``run``, ``child``, ``list``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the grid (resumes an existing results file)")
    r.add_argument("--models-dir", type=Path, required=True)
    r.add_argument("--results", type=Path, required=True)
    r.add_argument("--work-dir", type=Path, default=None)
    r.add_argument("--build-info", type=Path, default=None)
    r.add_argument("--budget-s", type=float, default=None)
    r.add_argument("--only", default=None, help="substring a run id must contain")
    r.add_argument("--max-runs", type=int, default=None)
    r.add_argument("--dry-run", action="store_true")
    c = sub.add_parser("child", help="one configuration (internal)")
    c.add_argument("--spec", required=True)
    c.add_argument("--model", type=Path, required=True)
    c.add_argument("--result", type=Path, required=True)
    c.add_argument("--dry-run", action="store_true")
    sub.add_parser("list", help="print the grid")
    args = p.parse_args(argv)

    if args.cmd == "child":
        return child_main(
            spec_from_dict(json.loads(args.spec)), args.model, args.result, dry_run=args.dry_run
        )
    specs = build_grid()
    if args.cmd == "list":
        for s in specs:
            print(s.run_id)
        return 0
    if args.only:
        specs = tuple(s for s in specs if args.only in s.run_id)
    if args.max_runs is not None:
        specs = specs[: args.max_runs]
    models_json = args.models_dir / "models.json"
    models_info = None
    if models_json.exists():
        try:
            models_info = json.loads(models_json.read_text())
        except ValueError:
            models_info = {"error": f"unreadable {models_json}"}
    data = run_grid(
        specs,
        models_dir=args.models_dir,
        results_path=args.results,
        work_dir=args.work_dir or args.results.parent / "work",
        launcher=subprocess_launcher(dry_run=args.dry_run),
        env_info=environment(args.build_info),
        models_info=models_info,
        budget_s=args.budget_s,
        dry_run=args.dry_run,
    )
    n_ok = sum(1 for r in data["runs"] if r.get("status") == "ok")
    _log(f"{n_ok} ok of {len(data['runs'])} recorded; results in {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
