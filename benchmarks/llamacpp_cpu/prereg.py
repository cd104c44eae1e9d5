"""Predictions for llama-bench runs not yet made, written down before the runs (issue #10).

Each key (``bench.py``'s ``VARIANT/QUANT/tTHREADS/pPROMPT/nGEN/dDEPTH``) is asked through the same
``estimate()`` path as ``report.py``, with the CPU-class table's bandwidth and with the measured
one, and printed with the commit the constants come from. Save the output beside the raw runs
(``tests/data/llamacpp/cpu_small_raw/prereg_*.txt``) and commit it before measuring::

    python -m benchmarks.llamacpp_cpu.prereg lfm2-350m/Q4_K_M/t2/p0/n32/d16384 ...
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys

from benchmarks.llamacpp_cpu.report import estimate_run, machines

_KEY = re.compile(r"^(lfm2-[\w.-]+)/(\w+)/t(\d+)/p(\d+)/n(\d+)/d(\d+)$")


def row_for(key: str) -> dict[str, object]:
    """A llama-bench-shaped row for ``key`` (what ``estimate_run`` reads), or ValueError."""
    found = _KEY.match(key)
    if found is None:
        raise ValueError(f"not a run key: {key!r}")
    variant, quant, threads, prompt, gen, depth = found.groups()
    return {
        "model_filename": f"{variant}-{quant}.gguf",
        "n_threads": int(threads),
        "n_prompt": int(prompt),
        "n_gen": int(gen),
        "n_depth": int(depth),
    }


def lines(keys: list[str], *, avx2_only: bool = False) -> list[str]:
    """One line per key and bandwidth: the range and its geometric centre, tok/s."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    today = datetime.date.today().isoformat()
    out = [f"Pre-registered {today} before measuring: FITTED at commit {commit or 'unknown'}"]
    both = machines(avx2_only=avx2_only)
    for key in keys:
        row = row_for(key)
        for name, machine in both.items():
            low, high = estimate_run(row, machine)
            test = "prompt" if row["n_prompt"] else "decode"
            out.append(
                f"{key} {test} bandwidth={name} central {(low * high) ** 0.5:.2f}"
                f" range {low:.2f}-{high:.2f}"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="+")
    parser.add_argument("--avx2-only", action="store_true", help="the AVX2-only build's machine")
    args = parser.parse_args(argv)
    try:
        text = lines(args.keys, avx2_only=args.avx2_only)
    except ValueError as err:
        sys.stderr.write(f"prereg: {err}\n")
        return 2
    sys.stdout.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
