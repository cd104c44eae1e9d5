"""Decode and prompt speed of LFM2 on a small CPU, measured with llama.cpp's own llama-bench.

Issue #10: the speed model was fitted on one big machine; this records what a 2-core VM does.
The synthetic LFM2 GGUFs of ``benchmarks/llamacpp_truth/synth.py`` (real shapes, random weights:
llama.cpp does the same work per token) are quantized with ``llama-quantize`` and timed with
``llama-bench`` (pp512 = prompt of 512 tokens, tg = generation; ``-d`` fills the context first).

A shared machine is noisy, so every timed call is gated and recorded:

- **Interleaved**: the configurations run round-robin, one repetition each per round, so a slow
  minute spreads over all of them instead of spoiling one.
- **Quiet gate**: before each call the CPU time of every other process is sampled from /proc/stat
  over 1 s; the call waits (up to ``--max-wait-s``) until the rest of the machine uses under
  ``--busy-threshold`` of the CPUs. The load average and the steal time before and after are kept
  with every run, so a reader can drop runs.
- **Median and spread**: ``summarise`` keeps, per configuration, the median tok/s and the min / max
  over the repetitions.

The 2-core VM this was written on is shared with other work. The first one-thread runs were
started under ``nice -n -20`` beside other jobs (load average 4-5), on the reasoning that the
others then get about 1 % of a core; that was wrong: the same runs on the idle machine were 5-36 %
faster (LFM2-1.2B Q4_K_M decode 20.3 -> 28.7 tok/s, after 2,048 tokens 13.7 -> 18.0; LFM2-350M
pp512 178 -> 242), since the other jobs still share the memory bus and the caches. Those rounds are
kept in the raw files and dropped when the rows are collected (``sets.MAX_BUSY``); every run in a
fit was taken with nothing else running. Even then this VM's host makes runs differ by up to
+-25 % between rounds (steal under 5 %), which is why each row is the best of its rounds.

Run (from the repository root, llama.cpp built with ``-DGGML_NATIVE=ON``)::

    python -m benchmarks.llamacpp_cpu.bench --bin BUILD/bin --models /work/models \
        --out tests/data/llamacpp/speed_cpu_small.json --rounds 3

The output file is rewritten after every call (resumable: a finished call is not repeated).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

VARIANTS = ("lfm2-350m", "lfm2-1.2b", "lfm2-2.6b", "lfm2-8b-a1b")
QUANTS = ("F16", "Q8_0", "Q6_K", "Q4_K_M", "Q4_0")
THREADS = (1, 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """One timed llama-bench call: a model file, threads, prompt / generation lengths, depth."""

    variant: str
    quant: str
    threads: int
    n_prompt: int
    n_gen: int
    n_depth: int

    @property
    def key(self) -> str:
        return (
            f"{self.variant}/{self.quant}/t{self.threads}/p{self.n_prompt}/n{self.n_gen}"
            f"/d{self.n_depth}"
        )


def grid(
    variants: tuple[str, ...],
    quants: tuple[str, ...],
    *,
    depths: bool,
    threads: tuple[int, ...] = THREADS,
    depth_values: tuple[int, ...] = (2048, 8192),
    only_depths: bool = False,
    depth_tests: tuple[str, ...] = ("tg",),
) -> list[Config]:
    """Depth 0: pp512 and tg64 for every model x quant x thread count (unless ``only_depths``).
    With ``depths``: after a filled context of each of ``depth_values`` tokens, for the Q4_K_M
    of the two small models among ``variants``, each of ``depth_tests``: "tg" (decode) and / or
    "pp" (a pp512: what a prompt costs once the conversation has grown)."""
    out: list[Config] = []
    for v in variants if not only_depths else ():
        for q in quants:
            for t in threads:
                out.append(Config(variant=v, quant=q, threads=t, n_prompt=512, n_gen=0, n_depth=0))
                out.append(Config(variant=v, quant=q, threads=t, n_prompt=0, n_gen=64, n_depth=0))
    # (prompt tokens, generated tokens) of each test after a filled context
    shapes = {"tg": (0, 32), "pp": (512, 0)}
    if depths:
        for v in [x for x in ("lfm2-350m", "lfm2-1.2b") if x in variants]:
            for d in depth_values:
                for t in threads:
                    for test in (x for x in ("tg", "pp") if x in depth_tests):
                        p, n = shapes[test]
                        out.append(
                            Config(
                                variant=v, quant="Q4_K_M", threads=t, n_prompt=p, n_gen=n, n_depth=d
                            )
                        )
    return out


# --- the machine's state ----------------------------------------------------------------------


def _cpu_times() -> tuple[int, int, int]:
    """(busy, total, steal) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (parts + [0] * 8)[:8]
    total = sum(parts[:8])
    return user + nice + system + irq + softirq, total, steal


def busy_fraction(window_s: float = 1.0) -> tuple[float, float]:
    """(busy, steal) as fractions of all CPUs over ``window_s`` (this process is idle meanwhile)."""
    b0, t0, s0 = _cpu_times()
    time.sleep(window_s)
    b1, t1, s1 = _cpu_times()
    span = max(t1 - t0, 1)
    return (b1 - b0) / span, (s1 - s0) / span


def wait_quiet(threshold: float, max_wait_s: float) -> dict[str, float]:
    """Wait until the machine is quiet; returns what was seen (busy, steal, waited)."""
    start = time.monotonic()
    while True:
        busy, steal = busy_fraction()
        waited = time.monotonic() - start
        if busy < threshold or waited > max_wait_s:
            return {
                "busy_before": round(busy, 3),
                "steal_before": round(steal, 3),
                "waited_s": round(waited, 1),
                "gate_timed_out": waited > max_wait_s,
            }


def _loadavg() -> float:
    return os.getloadavg()[0]


# --- running ------------------------------------------------------------------------------------


def run_one(bench: Path, model: Path, cfg: Config, timeout_s: float) -> dict[str, Any]:
    cmd = [
        str(bench),
        "-m",
        str(model),
        "-t",
        str(cfg.threads),
        "-p",
        str(cfg.n_prompt),
        "-n",
        str(cfg.n_gen),
        "-d",
        str(cfg.n_depth),
        "-r",
        "1",
        "-o",
        "json",
    ]
    started = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:], "returncode": proc.returncode}
    rows = json.loads(proc.stdout)
    row = rows[0]
    return {
        "avg_ts": row["avg_ts"],
        "stddev_ts": row.get("stddev_ts"),
        "wall_s": round(time.time() - started, 2),
        "row": row,
    }


def model_path(models: Path, variant: str, quant: str) -> Path:
    return models / f"{variant}-{quant}.gguf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=Path, required=True, help="folder with llama-bench")
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--quants", default=",".join(QUANTS))
    parser.add_argument("--depths", action="store_true")
    parser.add_argument("--depth-values", default="2048,8192", help="filled contexts, tokens")
    parser.add_argument("--only-depths", action="store_true", help="no depth-0 runs")
    parser.add_argument(
        "--depth-tests", default="tg", help="with --depths: tg (decode), pp (pp512) or tg,pp"
    )
    parser.add_argument("--threads", default=",".join(str(t) for t in THREADS))
    parser.add_argument("--busy-threshold", type=float, default=0.10)
    parser.add_argument("--max-wait-s", type=float, default=120.0)
    parser.add_argument("--timeout-s", type=float, default=900.0)
    args = parser.parse_args(argv)

    doc: dict[str, Any] = {"runs": []}
    if args.out.exists():
        doc = json.loads(args.out.read_text(encoding="utf-8"))
    done = {(r["key"], r["round"]) for r in doc["runs"] if "avg_ts" in r}
    doc["machine"] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "note": "shared 2-core VM; every run carries the load it was taken under",
    }
    configs = grid(
        tuple(args.variants.split(",")),
        tuple(args.quants.split(",")),
        depths=args.depths,
        threads=tuple(int(t) for t in args.threads.split(",")),
        depth_values=tuple(int(d) for d in args.depth_values.split(",")),
        only_depths=args.only_depths,
        depth_tests=tuple(args.depth_tests.split(",")),
    )
    configs = [c for c in configs if model_path(args.models, c.variant, c.quant).exists()]
    bench = args.bin / "llama-bench"
    for rnd in range(args.rounds):
        for cfg in configs:
            if (cfg.key, rnd) in done:
                continue
            gate = wait_quiet(args.busy_threshold, args.max_wait_s)
            load_before = _loadavg()
            result = run_one(
                bench, model_path(args.models, cfg.variant, cfg.quant), cfg, args.timeout_s
            )
            busy_after, steal_after = busy_fraction(0.5)
            record = {
                "key": cfg.key,
                "round": rnd,
                **asdict(cfg),
                **gate,
                "loadavg_before": round(load_before, 2),
                "busy_after": round(busy_after, 3),
                "steal_after": round(steal_after, 3),
                **result,
            }
            doc["runs"].append(record)
            _write(args.out, doc)
            shown = result.get("avg_ts", "ERROR")
            print(f"{cfg.key} round {rnd}: {shown} tok/s (busy {gate['busy_before']})", flush=True)
    doc["summary"] = summarise(doc["runs"])
    _write(args.out, doc)
    return 0


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration: median tok/s, min, max and the number of repetitions."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if "avg_ts" in r:
            by_key.setdefault(r["key"], []).append(r)
    out = []
    for key, rs in sorted(by_key.items()):
        speeds = [r["avg_ts"] for r in rs]
        first = rs[0]
        out.append(
            {
                "key": key,
                "variant": first["variant"],
                "quant": first["quant"],
                "threads": first["threads"],
                "n_prompt": first["n_prompt"],
                "n_gen": first["n_gen"],
                "n_depth": first["n_depth"],
                "median_ts": round(statistics.median(speeds), 3),
                "min_ts": round(min(speeds), 3),
                "max_ts": round(max(speeds), 3),
                "repetitions": len(speeds),
                "max_busy_before": max(r["busy_before"] for r in rs),
            }
        )
    return out


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
