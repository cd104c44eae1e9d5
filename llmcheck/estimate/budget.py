"""What each device may hold (free VRAM, Metal's working-set cap, usable RAM), the margin asked of
it, and how a need compares with it (``_level``); which devices a ``RunConfig.device`` may use
(``_candidates``), read once per machine (``_Machine``). VERDICT_RULES:
:mod:`llmcheck.estimate.placement`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmcheck.estimate.memory import CPU_OVERHEAD_BYTES, MIB, overhead_bytes
from llmcheck.estimate.types import DeviceBudget, RunConfig
from llmcheck.estimate.weights import repack_mode, repack_types
from llmcheck.snapshot import CpuInfo, GpuInfo, GpuVendor, MemoryKind, SystemSnapshot

# --- verdict thresholds (VERDICT_RULES in placement.py) ---------------------------
# llama.cpp --fit keeps 1024 MiB free per device by default (common/fit.cpp fit_params_target).
GREAT_MARGIN_BYTES = 1024 * MIB
# Available RAM moves with the page cache and other programs; 10% of it is kept free as well.
GREAT_MARGIN_RAM_FRACTION = 0.10


def _backend(gpu: GpuInfo) -> str:
    return {
        GpuVendor.NVIDIA: "cuda",
        GpuVendor.AMD: "rocm",
        GpuVendor.APPLE: "metal",
        GpuVendor.INTEL: "sycl",
    }.get(gpu.vendor, "vulkan")


def _ram_margin(budget: int | None) -> int:
    if budget is None:
        return GREAT_MARGIN_BYTES
    return max(GREAT_MARGIN_BYTES, int(budget * GREAT_MARGIN_RAM_FRACTION))


def _min_known(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def budgets(machine: SystemSnapshot) -> tuple[DeviceBudget, ...]:
    """What each device may hold, accelerators first and the CPU last.

    * discrete GPU: its free memory (never total, never summed); a GPU in MIG mode gives one
      budget per MIG instance (its own free memory);
    * unified GPU: Apple -> Metal's working-set cap, capped by usable RAM; others (GB10, Strix
      Halo) -> usable RAM, capped by the GPU's free figure when there is one;
    * integrated GPUs (carve-out + GTT) are left out: llmcheck does not offload to them;
    * CPU -> ``memory.usable_bytes`` (a container limit respected).
    None where the number was not read.
    """
    usable = machine.memory.usable_bytes
    out: list[DeviceBudget] = []
    for gpu in machine.gpus:
        backend = _backend(gpu)
        name = gpu.name or f"{gpu.vendor} GPU {gpu.index}"
        bw = gpu.bandwidth_gb_s
        bw_src = str(gpu.bandwidth_source) if gpu.bandwidth_source else None
        if gpu.memory_kind is MemoryKind.INTEGRATED:
            continue
        if gpu.memory_kind is MemoryKind.UNIFIED:
            if gpu.vendor is GpuVendor.APPLE:
                budget = _min_known(gpu.working_set_cap_bytes, usable)
                if gpu.working_set_cap_bytes is None:
                    budget = None
                src = f"Metal working-set cap ({gpu.working_set_cap_source or 'unknown'})"
            else:
                budget = _min_known(usable, gpu.free_bytes) if usable is not None else None
                src = "unified memory: usable RAM"
            out.append(
                DeviceBudget(
                    device=f"unified:{gpu.index}",
                    name=name,
                    kind="unified",
                    backend=backend,
                    budget_bytes=budget,
                    budget_source=src,
                    margin_bytes=_ram_margin(budget),
                    bandwidth_gb_s=bw if bw is not None else machine.memory.bandwidth_gb_s,
                    bandwidth_source=bw_src,
                    overhead_bytes=overhead_bytes(backend),
                    gpu_index=gpu.index,
                )
            )
            continue
        if gpu.mig_enabled and gpu.mig_instances:
            out.extend(
                DeviceBudget(
                    device=f"gpu:{gpu.index}/mig:{m.index}",
                    name=f"{name} MIG {m.name or m.index}",
                    kind="gpu",
                    backend=backend,
                    budget_bytes=m.free_bytes,
                    budget_source="MIG instance free memory",
                    margin_bytes=GREAT_MARGIN_BYTES,
                    bandwidth_gb_s=None,  # a slice's share of the bandwidth is not read
                    bandwidth_source=None,
                    overhead_bytes=overhead_bytes(backend),
                    gpu_index=gpu.index,
                )
                for m in gpu.mig_instances
            )
            continue
        out.append(
            DeviceBudget(
                device=f"gpu:{gpu.index}",
                name=name,
                kind="gpu",
                backend=backend,
                budget_bytes=gpu.free_bytes,
                budget_source=f"free VRAM ({gpu.memory_source})",
                margin_bytes=GREAT_MARGIN_BYTES,
                bandwidth_gb_s=bw,
                bandwidth_source=bw_src,
                overhead_bytes=overhead_bytes(backend),
                gpu_index=gpu.index,
            )
        )
    mem = machine.memory
    limited = mem.limit_bytes is not None
    out.append(
        DeviceBudget(
            device="cpu",
            name=machine.cpu.brand or "CPU",
            kind="cpu",
            backend="cpu",
            budget_bytes=usable,
            budget_source=(
                f"usable RAM ({mem.limit_source or 'cgroup'} limit)"
                if limited
                else f"available RAM ({mem.source})"
            ),
            margin_bytes=_ram_margin(usable),
            bandwidth_gb_s=mem.bandwidth_gb_s,
            bandwidth_source=str(mem.bandwidth_source) if mem.bandwidth_source else None,
            overhead_bytes=CPU_OVERHEAD_BYTES,
        )
    )
    return tuple(out)


_GREAT, _FITS, _NO = 2, 1, 0


def _level(need: int, budget: DeviceBudget) -> int:
    """2: fits with the margin, 1: fits, 0: does not or the budget is unknown."""
    if budget.budget_bytes is None:
        return _NO
    if need + budget.margin_bytes <= budget.budget_bytes:
        return _GREAT
    if need <= budget.budget_bytes:
        return _FITS
    return _NO


@dataclass(frozen=True, slots=True, kw_only=True)
class _Machine:
    """What the placement search needs from a snapshot, read once per call, not per plan."""

    budgets: tuple[DeviceBudget, ...]
    repack: frozenset[str]
    repack_mode: str
    cpu: CpuInfo | None = None  # ISA and cores, for the speed model
    # The candidates of each ``RunConfig.device`` asked so far: every fit of estimate_all and
    # every step of its context search asks for the same one.
    candidates: dict[str, _Candidates] = field(default_factory=dict, compare=False, hash=False)


def _machine(machine: SystemSnapshot) -> _Machine:
    return _Machine(
        budgets=budgets(machine),
        repack=repack_types(machine),
        repack_mode=repack_mode(machine),
        cpu=machine.cpu,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Candidates:
    """The devices a config may use on a machine, or why the answer is unknown."""

    cpu: DeviceBudget
    known: tuple[DeviceBudget, ...]
    unknown: tuple[DeviceBudget, ...]
    unanswerable: str | None  # the reason when the verdict is unknown whatever the model


def _candidates(config: RunConfig, machine: _Machine) -> _Candidates:
    found = machine.candidates.get(config.device)
    if found is None:
        found = machine.candidates[config.device] = _find_candidates(config, machine)
    return found


def _find_candidates(config: RunConfig, machine: _Machine) -> _Candidates:
    cpu = machine.budgets[-1]
    accels = [b for b in machine.budgets if b.kind != "cpu"]
    reason: str | None = None
    if config.device.startswith("gpu:"):
        index = int(config.device.split(":", 1)[1])
        accels = [b for b in accels if b.gpu_index == index]
        if not accels:
            reason = f"this machine has no usable GPU {index} ({config.device})"
    elif config.device == "cpu":
        accels = []
    if reason is None and cpu.budget_bytes is None:
        reason = "the usable RAM could not be read"
    return _Candidates(
        cpu=cpu,
        known=tuple(b for b in accels if b.budget_bytes is not None),
        unknown=tuple(b for b in accels if b.budget_bytes is None),
        unanswerable=reason,
    )
