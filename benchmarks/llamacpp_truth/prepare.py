"""Write the synthetic F16 GGUFs and quantize them with llama.cpp's own quantizer.

Resumable: a file that exists is kept (files are written under a ``.tmp`` name and renamed).
Writes ``models.json`` next to the models: per variant the architecture, the tensor plan's
parameter count and F16 tensor bytes, and per quantization the file size and the seconds it took.

``python -m benchmarks.llamacpp_truth.prepare --models-dir DIR [--variants ...] [--quants ...]
[--threads 16]``

``--quants`` limits the work to those quantizations (the F16 source is written only as their
source, and kept or dropped by the usual rule); the speed benchmark uses it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.llamacpp_truth.grid import QUANTS
from benchmarks.llamacpp_truth.synth import (
    CONFIGS,
    parameter_count,
    tensor_data_bytes,
    tensor_plan,
    write_gguf,
)

#: Variants whose F16 source is deleted once quantized (disk space on the device machine).
DROP_SOURCE = ("lfm2-2.6b", "lfm2-8b-a1b")
#: Q8_0 of a big variant is skipped unless this fraction of the F16 source (its Q8_0 size is
#: 0.53 of it) plus ``DISK_MARGIN_BYTES`` is free.
Q8_FRACTION_OF_F16 = 0.6
DISK_MARGIN_BYTES = 2 * 10**9


def model_path(models_dir: Path, variant: str, quant: str) -> Path:
    """Where the file for ``variant`` at ``quant`` lives."""
    return models_dir / f"{variant}-{quant}.gguf"


def _log(msg: str) -> None:
    print(f"[prepare] {msg}", file=sys.stderr, flush=True)


def quantize(src: Path, dst: Path, quant: str, threads: int) -> float:
    """Quantize ``src`` (F16) to ``dst`` with ``llama_model_quantize``; returns seconds taken.

    Raises:
        RuntimeError: llama.cpp reported a failure.
    """
    import llama_cpp  # only on the device machine

    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = threads
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant}")
    tmp = dst.with_name(dst.name + ".tmp")
    t0 = time.monotonic()
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({src.name} -> {quant}) returned {rc}")
    tmp.replace(dst)
    return time.monotonic() - t0


def prepare(
    models_dir: Path, variants: tuple[str, ...], threads: int, quants: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Write and quantize every requested variant; returns the ``models`` record.

    ``quants`` (None: every quant of the grid) limits which quantizations are written.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    record_path = models_dir / "models.json"
    record: dict[str, Any] = {}
    if record_path.exists():
        record = json.loads(record_path.read_text())
    for v in variants:
        cfg = CONFIGS[v]
        entry = record.setdefault(v, {})
        entry["config"] = asdict(cfg)
        entry["head_count_kv"] = cfg.head_count_kv_array()
        entry["parameter_count"] = parameter_count(cfg)
        entry["f16_tensor_data_bytes"] = tensor_data_bytes(cfg)
        entry["n_tensors"] = len(tensor_plan(cfg))
        files = entry.setdefault("files", {})
        src = model_path(models_dir, v, "F16")
        wanted = [q for q in QUANTS[v] if quants is None or q in quants]
        pending = [q for q in wanted if q != "F16" and not model_path(models_dir, v, q).exists()]
        if not src.exists() and (pending or "F16" in wanted):
            t0 = time.monotonic()
            write_gguf(cfg, src)
            files["F16"] = {
                "size_bytes": src.stat().st_size,
                "seconds": time.monotonic() - t0,
                "kept": True,
            }
            f16 = files["F16"]
            _log(f"{src.name}: {f16['size_bytes']} bytes in {f16['seconds']:.1f} s")
        for q in pending:
            dst = model_path(models_dir, v, q)
            if v in DROP_SOURCE and q == "Q8_0":
                free = shutil.disk_usage(models_dir).free
                if free < Q8_FRACTION_OF_F16 * src.stat().st_size + DISK_MARGIN_BYTES:
                    files[q] = {"skipped": f"only {free} bytes free"}
                    _log(f"{dst.name}: skipped, {free} bytes free")
                    continue
            try:
                secs = quantize(src, dst, q, threads)
            except (RuntimeError, OSError) as exc:
                files[q] = {"error": str(exc)}
                _log(f"{dst.name}: FAILED {exc}")
                continue
            files[q] = {"size_bytes": dst.stat().st_size, "seconds": secs}
            _log(f"{dst.name}: {files[q]['size_bytes']} bytes in {secs:.1f} s")
            record_path.write_text(json.dumps(record, indent=1))
        for q in QUANTS[v]:
            p = model_path(models_dir, v, q)
            if p.exists():
                files.setdefault(q, {})["size_bytes"] = p.stat().st_size
        if v in DROP_SOURCE and src.exists() and "F16" not in QUANTS[v]:
            files.setdefault("F16", {})["size_bytes"] = src.stat().st_size
            files["F16"]["kept"] = False
            src.unlink()
            _log(f"{src.name}: deleted after quantizing (disk space)")
        record_path.write_text(json.dumps(record, indent=1))
    return record


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models-dir", type=Path, required=True)
    p.add_argument("--variants", nargs="*", default=list(QUANTS), choices=list(QUANTS))
    p.add_argument(
        "--quants",
        nargs="*",
        default=None,
        help="only these quantizations (default: every one of the grid)",
    )
    p.add_argument("--threads", type=int, default=os.cpu_count() or 4)
    args = p.parse_args(argv)
    t0 = time.monotonic()
    quants = tuple(args.quants) if args.quants else None
    prepare(args.models_dir, tuple(args.variants), args.threads, quants)
    _log(f"done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
