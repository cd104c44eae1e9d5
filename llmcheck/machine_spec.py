"""Machines given by hand: memory sizes as people write them, and overrides of a probed machine.

``llmcheck --gpu-memory 24G --ram 64G --bandwidth 936`` judges the probed (or ``--snapshot``)
machine with these numbers in place of the ones read; each number so replaced carries
:attr:`~llmcheck.snapshot.Source.USER` as its source, so the JSON and the text say the user
gave it.

Sizes: "24G", "24GB", "24GiB", "24 gib", "24576M", "1.5T". **G, GB and GiB all mean 2**30
bytes** (M = 2**20, T = 2**40): memory is built and sold in binary sizes, so a GPU sold as
"8 GB" has 8 GiB, and a reader who writes "GB" means that card. A bare number is refused (it
could be bytes, MB or GB).

Pure functions over frozen dataclasses; errors are :class:`SpecError` (a ``ValueError``) with a
message for one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from llmcheck.snapshot import GpuInfo, GpuVendor, MemoryKind, Source, SystemSnapshot
from llmcheck.units import clean_text

__all__ = [
    "MAX_BANDWIDTH_GB_S",
    "MAX_FLEET_MACHINES",
    "MAX_SIZE_BYTES",
    "Overrides",
    "SpecError",
    "apply_overrides",
    "parse_bandwidth",
    "parse_gpu_memory",
    "parse_size",
    "snapshot_labels",
    "snapshot_paths",
]

MAX_SIZE_BYTES = 1 << 50  # 1 PiB: more than any machine llmcheck judges
MAX_BANDWIDTH_GB_S = 100_000.0
# A fleet: at most this many machine files in one question (each is read and judged in turn).
MAX_FLEET_MACHINES = 1000
# A folder is listed up to this many entries (other files included) before llmcheck gives up.
MAX_FOLDER_ENTRIES = 20_000
_UNITS = {"": None, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE_RE = re.compile(r"\s*(\d{1,9}(?:\.\d{1,6})?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_GPU_KEY_RE = re.compile(r"\s*gpu:(\d{1,3})\s*=(.*)", re.IGNORECASE | re.DOTALL)
_BW_KEY_RE = re.compile(r"\s*(ram|cpu|gpu:\d{1,3})\s*=(.*)", re.IGNORECASE | re.DOTALL)
_GB_S_RE = re.compile(r"\s*(\d{1,6}(?:\.\d{1,3})?)\s*(?:gb/s)?\s*", re.IGNORECASE)

# The GPU a machine without one gets from --gpu-memory: a discrete card of unknown make.
ADDED_GPU_NAME = "GPU given on the command line"


class SpecError(ValueError):
    """A size, bandwidth or GPU key that cannot be read (one line for the user)."""


class Overrides:
    """What the command line replaces: GPU memory per GPU index (None: every GPU), RAM, and
    bandwidth per "gpu" (every GPU), "gpu:N" or "ram"."""

    __slots__ = ("bandwidth_gb_s", "gpu_bytes", "ram_bytes")

    def __init__(
        self,
        *,
        gpu_bytes: dict[int | None, int] | None = None,
        ram_bytes: int | None = None,
        bandwidth_gb_s: dict[str, float] | None = None,
    ) -> None:
        self.gpu_bytes = dict(gpu_bytes or {})
        self.ram_bytes = ram_bytes
        self.bandwidth_gb_s = dict(bandwidth_gb_s or {})

    def __bool__(self) -> bool:
        return bool(self.gpu_bytes or self.ram_bytes is not None or self.bandwidth_gb_s)


def parse_size(text: str, *, option: str = "SIZE") -> int:
    """A memory size in bytes: "24G" = "24GB" = "24GiB" = 24 x 2**30; "24576M" the same.

    Raises:
        SpecError: no unit, not a number, zero, or above :data:`MAX_SIZE_BYTES`.
    """
    match = _SIZE_RE.fullmatch(text)
    if match is None:
        raise SpecError(f"{option}: {_quote(text)} is not a size (write e.g. 24G, 24GiB or 24576M)")
    unit = _UNITS[match.group(2).lower()]
    if unit is None:
        raise SpecError(
            f"{option}: {_quote(text)} has no unit (write e.g. 24G; G, GB and GiB"
            " all mean 2^30 bytes)"
        )
    value = int(float(match.group(1)) * unit)
    if value <= 0:
        raise SpecError(f"{option}: the size must be above zero, got {_quote(text)}")
    if value > MAX_SIZE_BYTES:
        raise SpecError(f"{option}: {_quote(text)} is larger than any machine llmcheck judges")
    return value


def parse_gpu_memory(values: Iterable[str]) -> dict[int | None, int]:
    """``--gpu-memory`` values: "24G" (every GPU) or "gpu:1=12G" (one), repeatable."""
    out: dict[int | None, int] = {}
    for text in values:
        keyed = _GPU_KEY_RE.fullmatch(text)
        index = None if keyed is None else int(keyed.group(1))
        out[index] = parse_size(text if keyed is None else keyed.group(2), option="--gpu-memory")
    return out


def parse_bandwidth(values: Iterable[str]) -> dict[str, float]:
    """``--bandwidth`` values in GB/s (10**9 bytes/s): "936" (every GPU, else the RAM),
    "gpu:0=936", "ram=68"."""
    out: dict[str, float] = {}
    for text in values:
        keyed = _BW_KEY_RE.fullmatch(text)
        key = "gpu" if keyed is None else keyed.group(1).lower().replace("cpu", "ram")
        number = text if keyed is None else keyed.group(2)
        match = _GB_S_RE.fullmatch(number)
        if match is None:
            raise SpecError(
                f"--bandwidth: {_quote(text)} is not a bandwidth in GB/s (write e.g."
                " 936, gpu:0=936 or ram=68)"
            )
        value = float(match.group(1))
        if not 0 < value <= MAX_BANDWIDTH_GB_S:
            raise SpecError(
                f"--bandwidth: must be above 0 and at most"
                f" {MAX_BANDWIDTH_GB_S:,.0f} GB/s, got {_quote(text)}"
            )
        out[key] = value
    return out


def apply_overrides(snapshot: SystemSnapshot, overrides: Overrides) -> SystemSnapshot:
    """The machine with the user's numbers in place of the read ones (source "user").

    * GPU memory: the GPU's total and free memory (all of it free: what llmcheck may plan
      for); a unified GPU's working-set cap; MIG slices are dropped (the size is the card's).
      A machine without a GPU gets one discrete GPU per index given (vendor "other").
    * RAM: total and available, with any container limit dropped (the user describes the
      machine, not this process's cgroup).
    * Bandwidth: per GPU, or the RAM's ("ram"); a bare value applies to every GPU, or to the RAM
      on a machine without one.

    Raises:
        SpecError: ``gpu:N`` names a GPU the machine does not have (and it has some).
    """
    gpus = list(snapshot.gpus)
    if overrides.gpu_bytes and not gpus:
        indices = sorted({0 if i is None else i for i in overrides.gpu_bytes})
        gpus = [GpuInfo(index=i, vendor=GpuVendor.OTHER, name=ADDED_GPU_NAME) for i in indices]
    have = {g.index for g in gpus}
    named = [i for i in overrides.gpu_bytes if i is not None and i not in have]
    named += [
        int(k[4:])
        for k in overrides.bandwidth_gb_s
        if k.startswith("gpu:") and int(k[4:]) not in have
    ]
    if named:
        listing = ", ".join(f"gpu:{i}" for i in sorted(have)) or "no GPU"
        raise SpecError(f"this machine has no gpu:{named[0]} (it has {listing})")
    gpus = [_gpu(g, overrides) for g in gpus]
    memory = snapshot.memory
    if overrides.ram_bytes is not None:
        memory = replace(
            memory,
            total_bytes=overrides.ram_bytes,
            available_bytes=overrides.ram_bytes,
            source=Source.USER,
            limit_bytes=None,
            limit_used_bytes=None,
            limit_source=None,
        )
    ram_bw = overrides.bandwidth_gb_s.get("ram")
    if ram_bw is None and not gpus:
        ram_bw = overrides.bandwidth_gb_s.get("gpu")
    if ram_bw is not None:
        memory = replace(
            memory,
            bandwidth_gb_s=ram_bw,
            bandwidth_source=Source.USER,
            bandwidth_low_gb_s=None,
            bandwidth_high_gb_s=None,
        )
    return replace(snapshot, gpus=tuple(gpus), memory=memory)


def _gpu(gpu: GpuInfo, overrides: Overrides) -> GpuInfo:
    size = overrides.gpu_bytes.get(gpu.index, overrides.gpu_bytes.get(None))
    if size is not None:
        gpu = replace(
            gpu,
            total_bytes=size,
            free_bytes=size,
            used_bytes=None,
            reserved_bytes=None,
            memory_source=Source.USER,
            mig_enabled=False,
            mig_instances=(),
        )
        if gpu.memory_kind is MemoryKind.UNIFIED:
            gpu = replace(gpu, working_set_cap_bytes=size, working_set_cap_source=Source.USER)
    bandwidth = overrides.bandwidth_gb_s.get(
        f"gpu:{gpu.index}", overrides.bandwidth_gb_s.get("gpu")
    )
    if bandwidth is not None:
        gpu = replace(gpu, bandwidth_gb_s=bandwidth, bandwidth_source=Source.USER)
    return gpu


def snapshot_labels(paths: Sequence[str]) -> list[str]:
    """A short, unique label per machine file: its name without ".json" (numbered if repeated)."""
    labels: list[str] = []
    for path in paths:
        base = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        stem = base[:-5] if base.lower().endswith(".json") else base
        label, n = stem or "-", 2
        while label in labels:
            label, n = f"{stem} ({n})", n + 1
        labels.append(label)
    return labels


def snapshot_paths(values: Sequence[str], *, limit: int = MAX_FLEET_MACHINES) -> list[str]:
    """The machine files of ``--snapshot`` values: each file as given, each folder's ``*.json``
    files (not its sub-folders) in name order.

    Raises:
        SpecError: a folder that cannot be listed, holds no .json file or too many entries, or
            more than ``limit`` files in all.
    """
    out: list[str] = []
    for value in values:
        folder = Path(value)
        if value != "-" and folder.is_dir():
            out.extend(_folder_files(folder, value))
        else:
            out.append(value)
        if len(out) > limit:
            raise SpecError(
                f"--snapshot: more than {limit} machine files in one question; split the fleet"
            )
    return out


def _folder_files(folder: Path, shown: str) -> list[str]:
    found: list[str] = []
    try:
        for n, entry in enumerate(folder.iterdir()):
            if n >= MAX_FOLDER_ENTRIES:
                raise SpecError(
                    f"--snapshot {_quote(shown)}: the folder has more than"
                    f" {MAX_FOLDER_ENTRIES} entries"
                )
            if entry.name.lower().endswith(".json") and entry.is_file():
                found.append(str(entry))
    except OSError as exc:
        raise SpecError(
            f"--snapshot {_quote(shown)}: cannot list the folder:"
            f" {exc.strerror or type(exc).__name__}"
        ) from None
    if not found:
        raise SpecError(f"--snapshot {_quote(shown)}: the folder holds no .json file")
    return sorted(found)


def _quote(text: str) -> str:
    return repr(clean_text(text, limit=40))
