"""DRAM bandwidth for CPU inference: a measurement, the DIMMs (SMBIOS), or a platform class.

Token generation on a CPU streams the weights from RAM once per token, so RAM bandwidth sets its
speed. No OS reports it, so this module answers, best source first:

1. A measurement (:mod:`llmcheck.probe.bandwidth_measure`): threads copying large buffers, short
   rounds, the best quiet one kept. Source ``measured``. Taken when asked (``llmcheck
   --measure-bandwidth``, the window after first paint) and kept for the rest of the boot in the
   user's cache directory (:mod:`llmcheck.probe.bandwidth_cache`), so a later plain run reuses it.
   A measurement taken on a busy machine is reported (``bandwidth_machine_busy``), never used.
2. SMBIOS type 17 ("Memory Device", :mod:`llmcheck.probe.bandwidth_smbios`): each DIMM's type,
   data width and speed; peak = sum of widths x MT/s. Source ``computed``. Linux exposes it only
   to root (``/sys/firmware/dmi/entries/17-*/raw``, mode 0400); Windows to everyone
   (``GetSystemFirmwareTable('RSMB')``: no WMI, no admin).
3. A platform class from ``resources/memory/cpu_bandwidth.toml``, chosen by the CPU brand string:
   a nominal peak with the class's honest low..high spread (docs/bandwidth.md). Source ``table``.
   Apple chips come from ``resources/gpus/apple.toml``.
4. Nothing matched: ``None`` ("unknown"), never a guess.

Issue codes (source "memory"): ``bandwidth_table_invalid``, ``bandwidth_measure_failed``,
``bandwidth_machine_busy``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

from llmcheck.probe.bandwidth_cache import (
    CachedBandwidth,
    cache_dir,
    cached_or_measured,
    read_cached_bandwidth,
    write_cached_bandwidth,
)
from llmcheck.probe.bandwidth_measure import (
    MEASURE_SECONDS,
    BandwidthMeasurement,
    Measurement,
    MeasurePlan,
    measure_bandwidth,
    plan_measurement,
    run_measurement,
)
from llmcheck.probe.bandwidth_smbios import (
    MemoryDevice,
    RawTable,
    devices_from_table,
    parse_rsmb,
    parse_type17,
    read_linux_type17,
    read_windows_smbios,
    walk_smbios_table,
)
from llmcheck.resources import resource_path
from llmcheck.snapshot import CpuInfo, Issue, MemoryInfo, Source

__all__ = [
    "BandwidthClass",
    "BandwidthEstimate",
    "BandwidthMeasurement",
    "CachedBandwidth",
    "MachineBusyError",
    "MeasurePlan",
    "Measurement",
    "MemoryDevice",
    "apply_bandwidth",
    "bandwidth_from_devices",
    "cache_dir",
    "cached_or_measured",
    "classify_cpu",
    "devices_from_table",
    "load_class_table",
    "measure_bandwidth",
    "measure_memory_bandwidth",
    "parse_rsmb",
    "parse_type17",
    "plan_measurement",
    "read_cached_bandwidth",
    "read_linux_type17",
    "read_windows_smbios",
    "run_measurement",
    "walk_smbios_table",
    "write_cached_bandwidth",
]

SOURCE = "memory"
GB = 1e9
MIB = 1 << 20
GIB = 1 << 30

# --- the class table ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthClass:
    """One row of ``cpu_bandwidth.toml``: a platform's peak DRAM bandwidth range."""

    id: str
    name: str
    patterns: tuple[re.Pattern[str], ...]
    nominal_gb_s: float
    low_gb_s: float
    high_gb_s: float
    bus_bits: int
    scale_with_cores: bool
    source: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClassTable:
    """The whole table: rows in match order, and the per-core bound for server parts."""

    classes: tuple[BandwidthClass, ...]
    per_core_gb_s: tuple[float, float, float]  # low, nominal, high


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthEstimate:
    """A bandwidth with its range and where it came from (what MemoryInfo gets)."""

    gb_s: float
    low_gb_s: float | None
    high_gb_s: float | None
    source: Source
    basis: str  # the class name, the DIMMs, or "measured" (for logs and tests)


def parse_class_table(text: str) -> ClassTable:
    """Parse and check ``cpu_bandwidth.toml`` text; raises ValueError naming the bad row."""
    doc = tomllib.loads(text)
    per = doc.get("per_core", {})
    try:
        per_core = (float(per["low_gb_s"]), float(per["nominal_gb_s"]), float(per["high_gb_s"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError("cpu_bandwidth.toml: [per_core] needs low/nominal/high_gb_s") from None
    rows = doc.get("class", [])
    if not isinstance(rows, list):
        raise ValueError("cpu_bandwidth.toml: class must be an array of tables ([[class]])")
    out: list[BandwidthClass] = []
    for i, row in enumerate(rows):
        where = f"cpu_bandwidth.toml: class[{i}] ({row.get('id', '?')})"
        try:
            low, nominal, high = (float(row[k]) for k in ("low_gb_s", "nominal_gb_s", "high_gb_s"))
            patterns = tuple(re.compile(p) for p in row["match"])
            cls = BandwidthClass(
                id=str(row["id"]),
                name=str(row["name"]),
                patterns=patterns,
                nominal_gb_s=nominal,
                low_gb_s=low,
                high_gb_s=high,
                bus_bits=int(row["bus_bits"]),
                scale_with_cores=bool(row.get("scale_with_cores", False)),
                source=str(row["source"]),
            )
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ValueError(f"{where}: {type(exc).__name__}: {exc}") from None
        if not (0 < low <= nominal <= high) or not patterns or cls.bus_bits <= 0:
            raise ValueError(f"{where}: needs 0 < low <= nominal <= high, a match and bus_bits")
        out.append(cls)
    return ClassTable(classes=tuple(out), per_core_gb_s=per_core)


def load_class_table() -> ClassTable:
    """``resources/memory/cpu_bandwidth.toml``; raises ValueError naming a bad row."""
    text = resource_path("memory", "cpu_bandwidth.toml").read_text(encoding="utf-8")
    return parse_class_table(text)


_BRAND_NOISE = re.compile(r"\((r|tm)\)|®|™|\bcpu\b|@.*$")


def normalise_brand(brand: str) -> str:
    """``"Intel(R) Core(TM) i7-1165G7 @ 2.80GHz"`` -> ``"intel core i7-1165g7"``."""
    return " ".join(_BRAND_NOISE.sub(" ", brand.lower()).split())


def find_class(brand: str | None, table: ClassTable) -> BandwidthClass | None:
    """The first class whose pattern finds the normalised brand; None when none does."""
    if not brand:
        return None
    key = normalise_brand(brand)
    return next((c for c in table.classes if any(p.search(key) for p in c.patterns)), None)


def classify_cpu(
    brand: str | None,
    cores: int | None = None,
    *,
    table: ClassTable | None = None,
    apple_table: dict[str, dict[str, Any]] | None = None,
) -> BandwidthEstimate | None:
    """The bandwidth class of a CPU from its brand string (and core count); None when unknown.

    Server and workstation classes (``scale_with_cores``) are capped at cores x the table's
    per-core figures: a 2-vCPU slice of a 12-channel host cannot use twelve channels.
    """
    if not brand:
        return None
    if brand.strip().startswith("Apple M"):
        return _apple_class(brand.strip(), apple_table)
    table = load_class_table() if table is None else table
    cls = find_class(brand, table)
    if cls is None:
        return None
    low, nominal, high = cls.low_gb_s, cls.nominal_gb_s, cls.high_gb_s
    basis = cls.name
    if cls.scale_with_cores and cores is not None and cores > 0:
        per_low, per_nominal, per_high = table.per_core_gb_s
        capped = (
            min(low, cores * per_low),
            min(nominal, cores * per_nominal),
            min(high, cores * per_high),
        )
        if capped != (low, nominal, high):
            basis += f"; capped for {cores} core(s)"
        low, nominal, high = capped
    return BandwidthEstimate(
        gb_s=round(nominal, 1),
        low_gb_s=round(low, 1),
        high_gb_s=round(high, 1),
        source=Source.TABLE,
        basis=basis,
    )


def _apple_class(
    chip: str, apple_table: dict[str, dict[str, Any]] | None
) -> BandwidthEstimate | None:
    from llmcheck.probe.apple import load_apple_table

    row = (load_apple_table() if apple_table is None else apple_table).get(chip)
    if row is None:
        return None
    # Max chips come in two bins told apart only by GPU cores, which the CPU brand lacks.
    values = [float(b["bandwidth_gb_s"]) for b in row.get("bin", [])] or [
        float(row["bandwidth_gb_s"])
    ]
    return BandwidthEstimate(
        gb_s=min(values),
        low_gb_s=min(values),
        high_gb_s=max(values),
        source=Source.TABLE,
        basis=f"{chip} (resources/gpus/apple.toml)",
    )


# --- SMBIOS type 17 (records parsed in llmcheck.probe.bandwidth_smbios) -------------------


def bandwidth_from_devices(
    devices: Sequence[MemoryDevice], cls: BandwidthClass | None = None
) -> BandwidthEstimate | None:
    """Peak bandwidth from the populated memory devices: sum of data widths x slowest speed.

    Two DIMMs can share one channel, and SMBIOS does not say which: the width is capped at the
    platform class's bus (``bus_bits``). With no class and more than two DIMMs, the range runs from
    two channels (128 bits) to one channel per DIMM. Returns None when no populated device has a
    speed.
    """
    used = [d for d in devices if d.populated and d.effective_speed_mts]
    if not used:
        return None
    speed = min(d.effective_speed_mts or 0 for d in used)
    # DDR DIMMs without a data width are 64-bit; a soldered part without one cannot be sized.
    widths = [
        d.data_width_bits or (64 if (d.memory_type or "").startswith("DDR") else 0) for d in used
    ]
    bits = sum(widths)
    if bits <= 0:
        return None
    kinds = sorted({d.memory_type or "unknown type" for d in used})
    basis = f"{len(used)} x {'/'.join(kinds)}-{speed}, {bits} bits of data bus (SMBIOS)"
    peak = bits / 8 * speed * 1e6 / GB
    if cls is not None and bits > cls.bus_bits:
        capped = cls.bus_bits / 8 * speed * 1e6 / GB
        return BandwidthEstimate(
            gb_s=round(capped, 1),
            low_gb_s=None,
            high_gb_s=None,
            source=Source.COMPUTED,
            basis=f"{basis}; capped at the platform's {cls.bus_bits} bits",
        )
    if cls is None and len(used) > 2:
        low = min(bits, 128) / 8 * speed * 1e6 / GB
        return BandwidthEstimate(
            gb_s=round(low, 1),
            low_gb_s=round(low, 1),
            high_gb_s=round(peak, 1),
            source=Source.COMPUTED,
            basis=f"{basis}; channels unknown",
        )
    return BandwidthEstimate(
        gb_s=round(peak, 1), low_gb_s=None, high_gb_s=None, source=Source.COMPUTED, basis=basis
    )


# --- measurement (llmcheck.probe.bandwidth_measure) and the per-boot cache -------------------


class MachineBusyError(RuntimeError):
    """Too few rounds were quiet to trust the measurement; ``measurement`` has the details."""

    def __init__(self, measurement: BandwidthMeasurement) -> None:
        super().__init__(measurement.summary)
        self.measurement = measurement


def measure_memory_bandwidth(
    seconds_budget: float = MEASURE_SECONDS,
    *,
    usable_bytes: int | None = None,
    threads: int | None = None,
) -> float:
    """Measured copy bandwidth of this machine in GB/s (read + written), best quiet round.

    The number only (:func:`measure_bandwidth` has the rounds and the load). Holds at most
    min(1 GiB, usable RAM / 8) (usable RAM read by the memory probe when not given).

    Raises:
        MachineBusyError: the machine was too busy to trust the measurement.
        MemoryError: the buffers could not be allocated.
        RuntimeError: no round could be timed.
    """
    if usable_bytes is None:
        from llmcheck.probe.memory import probe_memory

        usable_bytes = probe_memory()[0].usable_bytes
    result = measure_bandwidth(
        usable_bytes=usable_bytes, threads=threads, seconds_budget=seconds_budget
    )
    if result.busy:
        raise MachineBusyError(result)
    return result.copy_gb_s


# --- putting it together -----------------------------------------------------------------------

# What ``measure`` may return: a bare number (a caller's own measurement), a measurement, a cached
# one with its age, or None (nothing cached and nothing measured).
MeasureResult = float | BandwidthMeasurement | CachedBandwidth | None
Measure = Callable[[], MeasureResult]


def apply_bandwidth(
    memory: MemoryInfo,
    cpu: CpuInfo,
    *,
    system: str | None = None,
    measure: Measure | None = None,
    linux_devices: Callable[[], list[MemoryDevice]] = read_linux_type17,
    windows_table: RawTable = read_windows_smbios,
    table: ClassTable | None = None,
) -> tuple[MemoryInfo, tuple[Issue, ...]]:
    """``memory`` with its bandwidth filled: measured (when ``measure`` gives a quiet one), else a
    value already there (Apple's chip table), else the DIMMs (SMBIOS), else the CPU's class. Never
    raises for a known failure; those become Issues.

    ``measure`` is typically ``lambda: cached_or_measured(cpu_brand=..., logical_cores=...,
    force=measure_flag, usable_bytes=...)``: the cache when not forced. A busy measurement is
    not used (it measured the other processes as much as the RAM, and a speed or a verdict built
    on it would call a busy machine slow); it adds ``bandwidth_machine_busy``.
    """
    issues: list[Issue] = []
    cls: BandwidthClass | None = None
    try:
        table = load_class_table() if table is None else table
        cls = find_class(cpu.brand, table)
    except (OSError, ValueError) as exc:
        table = None
        issues.append(
            Issue(
                source=SOURCE,
                code="bandwidth_table_invalid",
                message=f"The CPU bandwidth table could not be read: {exc}",
                hint="The installed llmcheck is damaged; reinstall it.",
            )
        )
    if measure is not None:
        result: MeasureResult = None
        try:
            result = measure()
        except MachineBusyError as exc:
            result = exc.measurement
        except (MemoryError, RuntimeError, OSError) as exc:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="bandwidth_measure_failed",
                    message=f"Measuring RAM bandwidth failed: {exc}",
                    hint="The table's estimate is used instead.",
                )
            )
        value, busy = _measured_value(result)
        if busy is not None:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="bandwidth_machine_busy",
                    message=f"RAM bandwidth not measured reliably: {busy}",
                    hint="Measure again when the machine is idle (llmcheck --measure-bandwidth).",
                )
            )
        elif value is not None:
            return _with(
                memory,
                BandwidthEstimate(
                    gb_s=value,
                    low_gb_s=None,
                    high_gb_s=None,
                    source=Source.MEASURED,
                    basis="measured",
                ),
            ), tuple(issues)
    if memory.bandwidth_gb_s is not None:
        return memory, tuple(issues)
    estimate: BandwidthEstimate | None = None
    devices: list[MemoryDevice] = []
    if system == "Linux":
        devices = linux_devices()
    elif system == "Windows":
        raw = windows_table()
        devices = devices_from_table(raw) if raw else []
    if devices:
        estimate = bandwidth_from_devices(devices, cls)
    if estimate is None and table is not None:
        cores = cpu.physical_cores or cpu.logical_cores
        estimate = classify_cpu(cpu.brand, cores, table=table)
    return (_with(memory, estimate) if estimate else memory), tuple(issues)


def _measured_value(result: MeasureResult) -> tuple[float | None, str | None]:
    """(GB/s or None, why it is not trusted or None) from whatever ``measure`` returned."""
    if isinstance(result, CachedBandwidth):
        result = result.measurement
    if isinstance(result, BandwidthMeasurement):
        value: float | None = result.copy_gb_s
        busy = result.summary if result.busy else None
    else:
        value, busy = result, None
    if value is None or not math.isfinite(value) or value <= 0:
        return None, None
    return value, busy


def _with(memory: MemoryInfo, estimate: BandwidthEstimate) -> MemoryInfo:
    return dataclasses.replace(
        memory,
        bandwidth_gb_s=estimate.gb_s,
        bandwidth_source=estimate.source,
        bandwidth_low_gb_s=estimate.low_gb_s,
        bandwidth_high_gb_s=estimate.high_gb_s,
    )
