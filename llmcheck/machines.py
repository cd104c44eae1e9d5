"""The what-if catalog and the reverse question: which machines run a model.

Common GPUs and unified-memory devices become SystemSnapshots. Pure Python (no Qt), so the
window, tests and benchmarks share it. Data lives in ``resources/machines.toml``; each entry
becomes a snapshot whose numbers name ``Source.TABLE``. :func:`reverse_answers` asks the
estimator (passed in, see :class:`Estimator`) about one variant on every catalogued machine.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from llmcheck.probe.apple import default_working_set_cap_bytes
from llmcheck.resources import resource_path
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    Source,
    SystemSnapshot,
)

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import DeviceBudget, Fit, RunConfig

GIB = 1 << 30
_KINDS = ("gpu", "unified", "cpu")
_MAX_NUMBER = 1e9


class MachineCatalogError(ValueError):
    """resources/machines.toml is malformed; the message names the entry and key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogMachine:
    """One catalogued machine: a device, its memory and bandwidth, and where they came from."""

    id: str
    name: str
    kind: str  # "gpu" | "unified" | "cpu"
    vendor: GpuVendor | None
    device_memory_bytes: int  # VRAM for "gpu", the shared pool for "unified", RAM for "cpu"
    bandwidth_gb_s: float
    host_ram_bytes: int
    host_ram_bandwidth_gb_s: float
    os_reserved_bytes: int
    source_note: str


def load_machines(text: str | None = None) -> tuple[CatalogMachine, ...]:
    """Read the what-if catalog.

    Args:
        text: TOML text to parse instead of the shipped ``resources/machines.toml``.

    Raises:
        MachineCatalogError: a missing or bad key, naming the entry.
    """
    if text is None:
        text = resource_path("machines.toml").read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MachineCatalogError(f"machines.toml: {exc}") from None
    except ValueError as exc:
        # tomllib lets Python's int limit through: an integer of more than 4,300 digits.
        raise MachineCatalogError(f"machines.toml: {exc}") from None
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise MachineCatalogError("machines.toml: [defaults] must be a table")
    entries = doc.get("machine", [])
    if not isinstance(entries, list) or not entries:
        raise MachineCatalogError("machines.toml: no [[machine]] entries")
    machines = tuple(_machine(entry, defaults, i) for i, entry in enumerate(entries))
    ids = [m.id for m in machines]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise MachineCatalogError(f"machines.toml: duplicate id {duplicates[0]!r}")
    return machines


def _machine(entry: Any, defaults: dict[str, Any], index: int) -> CatalogMachine:
    where = f"machines.toml: machine[{index}]"
    if not isinstance(entry, dict):
        raise MachineCatalogError(f"{where}: expected a table")
    ident = entry.get("id")
    if isinstance(ident, str):
        where = f"machines.toml: machine {ident!r}"

    def get(key: str, kind: type | tuple[type, ...], *, default: Any = None) -> Any:
        value = entry.get(key, defaults.get(key, default))
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise MachineCatalogError(f"{where}: key {key!r} is missing or not a {kind}")
        return value

    def number(key: str) -> float:
        # Finite and below any real device (1e9 GiB, 1e9 GB/s): TOML allows inf, nan and
        # integers too large for a float.
        value = get(key, (int, float))
        if not -_MAX_NUMBER < value < _MAX_NUMBER:  # also False for nan
            raise MachineCatalogError(f"{where}: key {key!r} is not a plausible number")
        return float(value)

    kind = get("kind", str)
    if kind not in _KINDS:
        raise MachineCatalogError(f"{where}: kind {kind!r} is not one of {', '.join(_KINDS)}")
    memory_key = "vram_gib" if kind == "gpu" else "memory_gib"
    memory_gib = number(memory_key)
    bandwidth = number("bandwidth_gb_s")
    if int(memory_gib * GIB) <= 0 or bandwidth <= 0:
        raise MachineCatalogError(f"{where}: memory and bandwidth must be positive")
    vendor_raw = entry.get("vendor")
    try:
        vendor = None if vendor_raw is None else GpuVendor(vendor_raw)
    except ValueError:
        raise MachineCatalogError(f"{where}: unknown vendor {vendor_raw!r}") from None
    if kind != "cpu" and vendor is None:
        raise MachineCatalogError(f"{where}: a {kind} machine needs a vendor")
    device_bytes = int(memory_gib * GIB)
    host_ram = device_bytes if kind != "gpu" else int(number("host_ram_gib") * GIB)
    host_bw = bandwidth if kind != "gpu" else number("host_ram_bandwidth_gb_s")
    return CatalogMachine(
        id=get("id", str),
        name=get("name", str),
        kind=kind,
        vendor=vendor,
        device_memory_bytes=device_bytes,
        bandwidth_gb_s=bandwidth,
        host_ram_bytes=host_ram,
        host_ram_bandwidth_gb_s=host_bw,
        os_reserved_bytes=int(number("os_reserved_gib") * GIB),
        source_note=get("source", str),
    )


def machine_snapshot(machine: CatalogMachine) -> SystemSnapshot:
    """The SystemSnapshot of an idle catalogued machine (every number from Source.TABLE)."""
    available = max(0, machine.host_ram_bytes - machine.os_reserved_bytes)
    memory = MemoryInfo(
        total_bytes=machine.host_ram_bytes,
        available_bytes=available,
        source=Source.TABLE,
        bandwidth_gb_s=machine.host_ram_bandwidth_gb_s,
        bandwidth_source=Source.TABLE,
    )
    gpus: tuple[GpuInfo, ...] = ()
    if machine.kind != "cpu" and machine.vendor is not None:
        unified = machine.kind == "unified"
        gpus = (
            GpuInfo(
                index=0,
                vendor=machine.vendor,
                name=machine.name,
                memory_kind=MemoryKind.UNIFIED if unified else MemoryKind.DISCRETE,
                total_bytes=machine.device_memory_bytes,
                # An idle device: a unified pool has what the OS leaves; a card is all free.
                free_bytes=available if unified else machine.device_memory_bytes,
                memory_source=Source.TABLE,
                bandwidth_gb_s=machine.bandwidth_gb_s,
                bandwidth_source=Source.TABLE,
                # Metal's cap, by the same documented default the Apple probe falls back to.
                working_set_cap_bytes=(
                    default_working_set_cap_bytes(machine.device_memory_bytes)
                    if machine.vendor is GpuVendor.APPLE
                    else None
                ),
                working_set_cap_source=(
                    Source.DEFAULT if machine.vendor is GpuVendor.APPLE else None
                ),
            ),
        )
    system = {"apple": "Darwin"}.get(str(machine.vendor), "Linux")
    arch = (
        "arm64"
        if machine.vendor is GpuVendor.APPLE or machine.id.startswith(("dgx-spark", "jetson"))
        else "x86_64"
    )
    return SystemSnapshot(
        os=OsInfo(system=system, machine=arch),
        cpu=CpuInfo(arch=arch, source=Source.TABLE),
        memory=memory,
        gpus=gpus,
        source=Source.TABLE,
        hostname_hint=machine.name,
    )


# --- groups, search, host RAM and the user's own machine ---------------------------------------

GROUPS = ("NVIDIA", "AMD", "Intel", "Apple", "Other unified memory", "CPU only")
CUSTOM_ID = "custom"
# What a custom machine may say: above any device sold today, below nonsense.
MAX_CUSTOM_MEMORY_GIB = 4096.0
MAX_CUSTOM_BANDWIDTH_GB_S = 20_000.0
_VENDOR_GROUP = {
    GpuVendor.NVIDIA: "NVIDIA",
    GpuVendor.AMD: "AMD",
    GpuVendor.INTEL: "Intel",
    GpuVendor.APPLE: "Apple",
}


def machine_group(machine: CatalogMachine) -> str:
    """The heading a machine is listed under (one of :data:`GROUPS`)."""
    if machine.kind == "cpu" or machine.vendor is None:
        return "CPU only"
    if machine.vendor is GpuVendor.APPLE:
        return "Apple"
    if machine.kind == "unified" and machine.vendor is not GpuVendor.NVIDIA:
        return "Other unified memory"
    return _VENDOR_GROUP.get(machine.vendor, "Other unified memory")


def grouped_machines(
    machines: Sequence[CatalogMachine], query: str = ""
) -> tuple[tuple[str, tuple[CatalogMachine, ...]], ...]:
    """``machines`` under their :func:`machine_group` headings (in :data:`GROUPS` order, the
    catalog's order within one), keeping those whose name, id or group holds every word of
    ``query`` (case-insensitive); empty groups are left out."""
    words = query.lower().split()
    out: list[tuple[str, tuple[CatalogMachine, ...]]] = []
    for group in GROUPS:
        members = tuple(
            m
            for m in machines
            if machine_group(m) == group
            and all(w in f"{m.name} {m.id} {group}".lower() for w in words)
        )
        if members:
            out.append((group, members))
    return tuple(out)


def with_host_ram(machine: CatalogMachine, host_ram_gib: float) -> CatalogMachine:
    """``machine`` in a host with ``host_ram_gib`` of RAM (a discrete card only: a unified pool
    or a CPU-only machine has one memory, its size is the machine). Its id says the RAM, so the
    window caches its answers apart from the catalogued entry.

    Raises:
        ValueError: not a discrete card, or a RAM size that is not plausible.
    """
    if machine.kind != "gpu":
        raise ValueError(f"{machine.name} has one memory pool: its RAM is not set apart")
    if not 1 <= host_ram_gib <= MAX_CUSTOM_MEMORY_GIB:
        raise ValueError(f"host RAM must be 1-{MAX_CUSTOM_MEMORY_GIB:,.0f} GiB")
    ram = int(host_ram_gib * GIB)
    base = machine.id.split("@", 1)[0]
    same = machine.id == base and ram == machine.host_ram_bytes
    return replace(machine, id=base if same else f"{base}@ram{host_ram_gib:g}", host_ram_bytes=ram)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomMachineSpec:
    """The user's own machine as the window's form describes it (and QSettings keeps it).

    ``vendor``: "nvidia" | "amd" | "intel" | "apple" | "cpu" (no GPU). ``gpu_memory_gib`` is the
    card's VRAM (ignored for a CPU-only machine and for a unified pool, whose size is
    ``ram_gib``). ``bandwidth_gb_s`` is the GPU's (the pool's when unified, RAM's when CPU only);
    ``ram_bandwidth_gb_s`` the host RAM's next to a card.
    """

    name: str = ""
    vendor: str = "nvidia"
    gpu_memory_gib: float = 8.0
    ram_gib: float = 32.0
    bandwidth_gb_s: float = 300.0
    ram_bandwidth_gb_s: float = 89.6
    unified: bool = False


def custom_machine(spec: CustomMachineSpec) -> CatalogMachine:
    """The :class:`CatalogMachine` of the user's own machine.

    Raises:
        ValueError: one sentence naming the first value that is wrong.
    """
    vendors = {"nvidia", "amd", "intel", "apple", "cpu"}
    if spec.vendor not in vendors:
        raise ValueError(f"Choose a GPU maker ({', '.join(sorted(vendors))}), not {spec.vendor!r}.")
    checks = [
        ("RAM", spec.ram_gib, 1.0, MAX_CUSTOM_MEMORY_GIB, "GiB"),
        ("Bandwidth", spec.bandwidth_gb_s, 1.0, MAX_CUSTOM_BANDWIDTH_GB_S, "GB/s"),
    ]
    kind = (
        "cpu"
        if spec.vendor == "cpu"
        else ("unified" if spec.unified or spec.vendor == "apple" else "gpu")
    )
    if kind == "gpu":
        checks += [
            ("GPU memory", spec.gpu_memory_gib, 0.25, MAX_CUSTOM_MEMORY_GIB, "GiB"),
            ("RAM bandwidth", spec.ram_bandwidth_gb_s, 1.0, MAX_CUSTOM_BANDWIDTH_GB_S, "GB/s"),
        ]
    for label, value, low, high, unit in checks:
        if not (isinstance(value, int | float) and low <= value <= high):  # False for nan
            raise ValueError(f"{label} must be between {low:g} and {high:,.0f} {unit}.")
    ram = int(spec.ram_gib * GIB)
    reserved = min(3 * GIB, ram // 4)
    name = " ".join(spec.name.split())[:80]
    vendor = None if kind == "cpu" else GpuVendor(spec.vendor)
    if not name:
        name = {"cpu": "CPU only", "unified": "unified memory", "gpu": "GPU"}[kind]
        size = spec.ram_gib if kind != "gpu" else spec.gpu_memory_gib
        maker = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel", "apple": "Apple"}.get(
            spec.vendor, ""
        )
        name = f"{maker} {name}, {size:g} GiB".strip()
    return CatalogMachine(
        id=CUSTOM_ID,
        name=name,
        kind=kind,
        vendor=vendor,
        device_memory_bytes=int(spec.gpu_memory_gib * GIB) if kind == "gpu" else ram,
        bandwidth_gb_s=float(spec.bandwidth_gb_s),
        host_ram_bytes=ram,
        host_ram_bandwidth_gb_s=float(
            spec.ram_bandwidth_gb_s if kind == "gpu" else spec.bandwidth_gb_s
        ),
        os_reserved_bytes=reserved,
        source_note="entered by you",
    )


class Estimator(Protocol):
    """The estimator's entry points the window and the reverse answers use.

    The window takes one as an argument, so a test can pass one that records the thread of
    each call; :class:`LlmcheckEstimator` is the real one.
    """

    def estimate_all(
        self, catalog: Catalog, machine: SystemSnapshot, config: RunConfig
    ) -> Sequence[Fit]:
        """Every variant x published quant."""
        ...

    def estimate(
        self, variant: ModelVariant, quant: str, config: RunConfig, machine: SystemSnapshot
    ) -> Fit:
        """One variant in one quant."""
        ...

    def best_quant(
        self, variant: ModelVariant, machine: SystemSnapshot, config: RunConfig
    ) -> str | None:
        """The recommended quant, or None when none fits."""
        ...

    def budgets(self, machine: SystemSnapshot) -> Sequence[DeviceBudget]:
        """What each device may hold."""
        ...


class LlmcheckEstimator:
    """:mod:`llmcheck.estimate`, imported on first use (the window paints before it loads)."""

    def estimate_all(
        self, catalog: Catalog, machine: SystemSnapshot, config: RunConfig
    ) -> Sequence[Fit]:
        """``llmcheck.estimate.estimate_all``."""
        from llmcheck.estimate import estimate_all

        return estimate_all(catalog, machine, config)

    def estimate(
        self, variant: ModelVariant, quant: str, config: RunConfig, machine: SystemSnapshot
    ) -> Fit:
        """``llmcheck.estimate.estimate``."""
        from llmcheck.estimate import estimate

        return estimate(variant, quant, config, machine)

    def best_quant(
        self, variant: ModelVariant, machine: SystemSnapshot, config: RunConfig
    ) -> str | None:
        """``llmcheck.estimate.best_quant``."""
        from llmcheck.estimate import best_quant

        return best_quant(variant, machine, config)

    def budgets(self, machine: SystemSnapshot) -> Sequence[DeviceBudget]:
        """``llmcheck.estimate.budgets``."""
        from llmcheck.estimate import budgets

        return tuple(budgets(machine))


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineAnswer:
    """The reverse view's answer for one catalogued machine: its best fit for one variant."""

    machine: CatalogMachine
    fit: Fit | None  # None: the estimator had no answer (e.g. no published quant)


_VERDICT_RANK = {"runs_great": 0, "tight": 1, "unknown": 2, "wont_fit": 3}


def reverse_answers(
    variant: ModelVariant,
    machines: Sequence[CatalogMachine],
    config: RunConfig,
    estimator: Estimator | None = None,
) -> tuple[MachineAnswer, ...]:
    """For each catalogued machine, the estimator's best answer for one variant.

    The estimator's recommended quantization (``best_quant``) is shown where it has one; where
    nothing fits, the smallest published quantization shows how far off it is. Sorted best
    verdict first, then smallest memory.
    """
    judge = estimator or LlmcheckEstimator()
    answers: list[MachineAnswer] = []
    for machine in machines:
        snapshot = machine_snapshot(machine)
        fit: Fit | None = None
        try:
            best = judge.best_quant(variant, snapshot, config)
            if best is not None:
                fit = judge.estimate(variant, best, config, snapshot)
            elif variant.quants:
                fits = [judge.estimate(variant, q, config, snapshot) for q in variant.quants]
                fit = min(fits, key=lambda f: f.total_bytes)
        except Exception:  # noqa: BLE001 - one machine's fault must not hide the others
            fit = None
        answers.append(MachineAnswer(machine=machine, fit=fit))
    answers.sort(
        key=lambda a: (
            _VERDICT_RANK.get(str(a.fit.verdict) if a.fit else "unknown", 2),
            a.machine.device_memory_bytes,
        )
    )
    return tuple(answers)


def data_source_notes() -> tuple[str, ...]:
    """Each shipped data file's own opening comment: where its numbers come from."""
    notes: list[str] = []
    files = [resource_path("machines.toml")]
    catalog_dir = resource_path("catalog")
    if catalog_dir.is_dir():
        files = (
            sorted(
                (f for f in catalog_dir.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name
            )
            + files
        )
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        comment: list[str] = []
        for line in lines:
            if not line.startswith("#"):
                break
            text = line.lstrip("#").strip()
            if not text:
                break
            comment.append(text)
        if comment:
            notes.append(f"{file.name}: {' '.join(comment)}")
    return tuple(notes)
