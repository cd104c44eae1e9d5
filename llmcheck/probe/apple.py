"""Apple silicon: the unified memory pool, the GPU's working-set cap, and bandwidth by chip.

The GPU may wire only part of the pool: Metal's ``recommendedMaxWorkingSetSize``, which llama.cpp
uses as the Metal device's total memory (``ggml/src/ggml-metal/ggml-metal-device.m``). llmcheck
does not call Metal: reaching it from Python needs pyobjc or hand-typed ``objc_msgSend``
prototypes, which crash the interpreter when a signature is wrong on arm64, and this code cannot be
run on a Mac where it is written. Instead, in order (hardware-probing.md §5.1-§5.2):

1. ``iogpu.wired_limit_mb`` (macOS 14+) when the user set it (> 0): Metal's recommendation
   follows it (https://github.com/AlexsJones/llmfit/issues/754); macOS 13's
   ``debug.iogpu.wired_limit`` is the same in bytes.
2. Else the documented default rule, labelled ``Source.DEFAULT``: about 2/3 of RAM up to 36 GB,
   3/4 above. Newer macOS grants more (≈84 % on 128 GB, macOS 26), so this errs low.

Issue codes (source "apple"): ``sysctl_failed``, ``memsize_unknown``, ``gpu_cores_unknown``,
``working_set_cap_estimated``, ``chip_not_in_table``, ``not_apple_silicon``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from typing import Any

from llmcheck.probe.linux_gpu import GpuProbeResult, table_rows
from llmcheck.probe.platform_info import (
    Run,
    parse_byte_count,
    parse_int,
    read_sysctl,
    run_command,
)
from llmcheck.resources import resource_path
from llmcheck.snapshot import MAX_PLAUSIBLE_BYTES, GpuInfo, GpuVendor, Issue, MemoryKind, Source
from llmcheck.units import format_bytes

SOURCE = "apple"
IOREG = "/usr/sbin/ioreg"
SYSTEM_PROFILER = "/usr/sbin/system_profiler"

_KEYS = [
    "hw.memsize",
    "machdep.cpu.brand_string",
    "hw.optional.arm64",
    "iogpu.wired_limit_mb",
    "debug.iogpu.wired_limit",
]
# Below this much RAM macOS historically let the GPU wire about 2/3, above it about 3/4.
_SMALL_MAC_BYTES = 36 * 2**30

# ASCII digits, bounded: a garbled tool output must not reach int() with thousands of digits.
_CORES_IOREG = re.compile(r'"gpu-core-count"\s*=\s*([0-9]{1,6})\b', re.ASCII)
_CORES_PROFILER = re.compile(r"Total Number of Cores:\s*([0-9]{1,6})\b", re.ASCII)


@functools.cache
def load_apple_table() -> dict[str, dict[str, Any]]:
    """``resources/gpus/apple.toml`` keyed by chip name; raises ValueError naming a bad row."""
    return parse_apple_table(resource_path("gpus", "apple.toml").read_text(encoding="utf-8"))


def parse_apple_table(text: str) -> dict[str, dict[str, Any]]:
    """Parse and check ``apple.toml`` text."""
    table: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(table_rows(tomllib.loads(text), "chip", "apple.toml")):
        name = row.get("name")
        has_bw = isinstance(row.get("bandwidth_gb_s"), int | float)
        bins = table_rows(row, "bin", f"apple.toml: chip[{i}]")
        if not isinstance(name, str) or not (has_bw or bins):
            raise ValueError(f"apple.toml: chip[{i}] needs a name and a bandwidth or bins")
        for b in bins:
            if not isinstance(b.get("gpu_cores"), int) or not isinstance(
                b.get("bandwidth_gb_s"), int | float
            ):
                raise ValueError(f"apple.toml: {name} bin needs gpu_cores and bandwidth_gb_s")
        table[name] = row
    return table


def chip_bandwidth_gb_s(
    chip: str, gpu_cores: int | None, table: dict[str, dict[str, Any]] | None = None
) -> float | None:
    """Peak bandwidth of an Apple chip ("Apple M4 Max"), picking the bin by GPU core count."""
    row = (load_apple_table() if table is None else table).get(chip.strip())
    if row is None:
        return None
    bins = row.get("bin", [])
    if bins:
        match = next((b for b in bins if b["gpu_cores"] == gpu_cores), None)
        return float(match["bandwidth_gb_s"]) if match else None
    return float(row["bandwidth_gb_s"])


def default_working_set_cap_bytes(memsize_bytes: int) -> int:
    """The historical default GPU working-set cap: 2/3 of RAM up to 36 GB, 3/4 above."""
    if memsize_bytes <= _SMALL_MAC_BYTES:
        return memsize_bytes * 2 // 3
    return memsize_bytes * 3 // 4


def gpu_core_count(run: Run) -> tuple[int | None, str | None]:
    """GPU cores from IORegistry (fast), else ``system_profiler`` (slow); (cores, error)."""
    errors: list[str] = []
    for argv, pattern in (
        ([IOREG, "-rc", "AGXAccelerator", "-d", "1"], _CORES_IOREG),
        ([SYSTEM_PROFILER, "SPDisplaysDataType"], _CORES_PROFILER),
    ):
        try:
            match = pattern.search(run(argv))
        except OSError as exc:
            errors.append(str(exc))
            continue
        if match:
            return int(match.group(1)), None
        errors.append(f"{argv[0]} did not report a GPU core count")
    return None, "; ".join(errors)


def probe_apple(
    *,
    run: Run = run_command,
    table: dict[str, dict[str, Any]] | None = None,
) -> GpuProbeResult:
    """The Apple silicon GPU as one unified-memory :class:`GpuInfo`. Never raises."""
    issues: list[Issue] = []
    values, error = read_sysctl(_KEYS, run)
    if error is not None or not values:
        return GpuProbeResult(
            issues=(
                Issue(
                    source=SOURCE,
                    code="sysctl_failed",
                    message=f"sysctl gave no answer: {error or 'empty output'}",
                    hint="The Apple GPU's memory is unknown.",
                ),
            )
        )
    chip = values.get("machdep.cpu.brand_string", "").strip()
    if values.get("hw.optional.arm64") != "1" and not chip.startswith("Apple"):
        return GpuProbeResult(
            issues=(
                Issue(
                    source=SOURCE,
                    code="not_apple_silicon",
                    message=f"This Mac has an Intel CPU ({chip or 'unknown'}); its GPU memory"
                    " is not probed.",
                    hint="llama.cpp's Metal backend targets Apple silicon.",
                ),
            )
        )
    memsize = parse_byte_count(values.get("hw.memsize", ""))
    if memsize is None:
        issues.append(
            Issue(
                source=SOURCE,
                code="memsize_unknown",
                message=f"hw.memsize is {values.get('hw.memsize', '')[:40]!r}, not a byte count.",
                hint="The unified memory pool is unknown; llmcheck will not guess it.",
            )
        )
    cores, core_error = gpu_core_count(run)
    if cores is None:
        issues.append(
            Issue(
                source=SOURCE,
                code="gpu_cores_unknown",
                message=f"GPU core count unknown: {core_error}",
                hint="Bandwidth of binned Max chips cannot be told apart.",
            )
        )
    cap: int | None = None
    cap_source: Source | None = None
    limit_mb = parse_int(values.get("iogpu.wired_limit_mb", ""))
    legacy = parse_byte_count(values.get("debug.iogpu.wired_limit", ""))
    if limit_mb is not None and 0 < limit_mb * 2**20 <= MAX_PLAUSIBLE_BYTES:
        cap, cap_source = limit_mb * 2**20, Source.SYSCTL
    elif legacy is not None:
        cap, cap_source = legacy, Source.SYSCTL
    elif memsize is not None:
        cap, cap_source = default_working_set_cap_bytes(memsize), Source.DEFAULT
        issues.append(
            Issue(
                source=SOURCE,
                code="working_set_cap_estimated",
                message=f"The GPU may use about {format_bytes(cap)} of {format_bytes(memsize)}"
                " (macOS default rule; recent macOS versions allow somewhat more).",
                hint="sudo sysctl iogpu.wired_limit_mb=<MiB> raises the cap until reboot.",
            )
        )
    if cap is not None and memsize is not None:
        cap = min(cap, memsize)
    try:
        bandwidth = chip_bandwidth_gb_s(chip, cores, table) if chip else None
    except (OSError, ValueError) as exc:
        bandwidth = None
        issues.append(
            Issue(
                source=SOURCE,
                code="apple_table_invalid",
                message=str(exc),
                hint="Speed estimates are unavailable; reinstall llmcheck.",
            )
        )
    if bandwidth is None and chip:
        issues.append(
            Issue(
                source=SOURCE,
                code="chip_not_in_table",
                message=f"No bandwidth on file for {chip!r}"
                f"{f' with {cores} GPU cores' if cores else ''}.",
                hint="Speed estimates are unavailable; please report this Mac.",
            )
        )
    name = chip or "Apple GPU"
    if cores:
        name = f"{name} ({cores}-core GPU)"
    gpu = GpuInfo(
        index=0,
        vendor=GpuVendor.APPLE,
        name=name,
        memory_kind=MemoryKind.UNIFIED,
        total_bytes=memsize,
        memory_source=Source.SYSCTL if memsize is not None else Source.UNKNOWN,
        working_set_cap_bytes=cap,
        working_set_cap_source=cap_source,
        bandwidth_gb_s=bandwidth,
        bandwidth_source=Source.TABLE if bandwidth is not None else None,
        gpu_cores=cores,
    )
    return GpuProbeResult(gpus=(gpu,), issues=tuple(issues))
