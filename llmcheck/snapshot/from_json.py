"""Reading a snapshot back: the one file reader the CLI and the window share, and the checks
that refuse a malformed or self-contradictory document with one line naming the field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from llmcheck.snapshot.to_json import (
    SnapshotError,
)
from llmcheck.snapshot.types import (
    MAX_PLAUSIBLE_BANDWIDTH_GB_S,
    MAX_PLAUSIBLE_BYTES,
    MAX_SNAPSHOT_FILE_BYTES,
    SNAPSHOT_SCHEMA_VERSION,
    CpuInfo,
    GpuInfo,
    GpuVendor,
    Issue,
    MemoryInfo,
    MemoryKind,
    MigInstance,
    OsInfo,
    Source,
    SystemSnapshot,
)

# --- reading back ----------------------------------------------------------------------------


def snapshot_from_dict(doc: Mapping[str, Any], *, check_consistency: bool = True) -> SystemSnapshot:
    """Read a snapshot back from its JSON form.

    Accepts either a whole ``llmcheck --json`` document (with "machine" and "problems") or the
    bare "machine" object. Every field is checked; a bad one raises :class:`SnapshotError` naming
    its path. Unknown extra fields are ignored (newer llmcheck versions may add fields).

    With ``check_consistency`` (the default) the fields must also agree with one another
    (:func:`inconsistencies`): a file that claims more free memory than the device has is refused,
    never believed. The live probe passes False and clamps instead (``llmcheck.probe``).
    """
    if not isinstance(doc, Mapping):
        raise SnapshotError("snapshot: expected a JSON object at the top level")
    problems_doc: Any = []
    if "machine" in doc:
        version = doc.get("schema_version")
        if version is not None and version != SNAPSHOT_SCHEMA_VERSION:
            raise SnapshotError(
                f"schema_version: this llmcheck reads version {SNAPSHOT_SCHEMA_VERSION!r},"
                f" the file has {version!r}"
            )
        problems_doc = doc.get("problems", [])
        machine = _obj(doc["machine"], "machine")
    else:
        machine = doc
    os_doc = _obj(machine.get("os"), "machine.os")
    cpu_doc = _obj(machine.get("cpu"), "machine.cpu")
    mem_doc = _obj(machine.get("memory"), "machine.memory")
    gpus_doc = _list(machine.get("gpus", []), "machine.gpus")
    os_info = OsInfo(
        system=_req_str(os_doc.get("system"), "machine.os.system"),
        release=_opt_s(os_doc.get("release"), "machine.os.release"),
        version=_opt_s(os_doc.get("version"), "machine.os.version"),
        machine=_opt_s(os_doc.get("machine"), "machine.os.machine"),
        is_wsl=_bool(os_doc.get("is_wsl", False), "machine.os.is_wsl"),
        in_container=_bool(os_doc.get("in_container", False), "machine.os.in_container"),
    )
    features = _list(cpu_doc.get("features", []), "machine.cpu.features")
    cpu = CpuInfo(
        brand=_opt_s(cpu_doc.get("brand"), "machine.cpu.brand"),
        arch=_opt_s(cpu_doc.get("arch"), "machine.cpu.arch"),
        physical_cores=_opt_count(cpu_doc.get("cores"), "machine.cpu.cores"),
        logical_cores=_opt_count(cpu_doc.get("logical_cores"), "machine.cpu.logical_cores"),
        features=tuple(
            _req_str(f, f"machine.cpu.features[{i}]").lower() for i, f in enumerate(features)
        ),
        source=_source(cpu_doc.get("source"), "machine.cpu.source"),
    )
    memory = MemoryInfo(
        total_bytes=_opt_bytes(mem_doc.get("total_bytes"), "machine.memory.total_bytes"),
        available_bytes=_opt_bytes(
            mem_doc.get("available_bytes"), "machine.memory.available_bytes"
        ),
        source=_source(mem_doc.get("source"), "machine.memory.source"),
        limit_bytes=_opt_bytes(mem_doc.get("limit_bytes"), "machine.memory.limit_bytes"),
        limit_used_bytes=_opt_bytes(
            mem_doc.get("limit_used_bytes"), "machine.memory.limit_used_bytes"
        ),
        limit_source=_opt_source(mem_doc.get("limit_source"), "machine.memory.limit_source"),
        swap_total_bytes=_opt_bytes(
            mem_doc.get("swap_total_bytes"), "machine.memory.swap_total_bytes"
        ),
        swap_free_bytes=_opt_bytes(
            mem_doc.get("swap_free_bytes"), "machine.memory.swap_free_bytes"
        ),
        bandwidth_gb_s=_opt_bw(mem_doc.get("bandwidth_gb_s"), "machine.memory.bandwidth_gb_s"),
        bandwidth_source=_opt_source(
            mem_doc.get("bandwidth_source"), "machine.memory.bandwidth_source"
        ),
        # Absent in snapshots written before llmcheck 0.1.x gave a range: read as None.
        bandwidth_low_gb_s=_opt_bw(
            mem_doc.get("bandwidth_low_gb_s"), "machine.memory.bandwidth_low_gb_s"
        ),
        bandwidth_high_gb_s=_opt_bw(
            mem_doc.get("bandwidth_high_gb_s"), "machine.memory.bandwidth_high_gb_s"
        ),
    )
    gpus = tuple(_gpu_from_dict(g, f"machine.gpus[{i}]") for i, g in enumerate(gpus_doc))
    problems = tuple(
        _issue_from_dict(p, f"problems[{i}]") for i, p in enumerate(_list(problems_doc, "problems"))
    )
    snapshot = SystemSnapshot(
        os=os_info,
        cpu=cpu,
        memory=memory,
        gpus=gpus,
        problems=problems,
        probed_at=_opt_s(machine.get("probed_at"), "machine.probed_at"),
        probe_seconds=_opt_float(machine.get("probe_seconds"), "machine.probe_seconds"),
        source=Source.SNAPSHOT,
    )
    if check_consistency:
        found = inconsistencies(snapshot)
        if found:
            raise SnapshotError(found[0])
    return snapshot


def inconsistencies(snapshot: SystemSnapshot) -> tuple[str, ...]:
    """Fields that contradict one another, each as "path: why" (empty when all agree).

    A part can never hold more than its whole: free, used, reserved and CPU-visible VRAM are at
    most the GPU's total, GTT free at most GTT total, a MIG slice (and all slices together) at most
    its card, a slice's free at most the slice; available RAM at most total RAM, free swap at most
    total swap. GPU indexes (and MIG indexes within a GPU) are unique: ``--device gpu:0`` must
    name one device.
    """
    found: list[str] = []

    def over(path: str, part: int | None, what: str, whole: int | None, of: str) -> None:
        if part is not None and whole is not None and part > whole:
            found.append(f"{path}: {part} bytes {what} is more than the {of} ({whole} bytes)")

    mem = snapshot.memory
    over(
        "machine.memory.available_bytes",
        mem.available_bytes,
        "available",
        mem.total_bytes,
        "total_bytes",
    )
    over(
        "machine.memory.swap_free_bytes",
        mem.swap_free_bytes,
        "free",
        mem.swap_total_bytes,
        "swap_total_bytes",
    )
    first_at: dict[int, int] = {}
    for i, gpu in enumerate(snapshot.gpus):
        path = f"machine.gpus[{i}]"
        if gpu.index in first_at:
            found.append(
                f"{path}.index: GPU index {gpu.index} appears twice"
                f" (also machine.gpus[{first_at[gpu.index]}])"
            )
        first_at.setdefault(gpu.index, i)
        total = gpu.total_bytes
        over(f"{path}.free_bytes", gpu.free_bytes, "free", total, "total_bytes")
        over(f"{path}.used_bytes", gpu.used_bytes, "used", total, "total_bytes")
        over(f"{path}.reserved_bytes", gpu.reserved_bytes, "reserved", total, "total_bytes")
        over(f"{path}.visible_vram_bytes", gpu.visible_vram_bytes, "visible", total, "total_bytes")
        over(
            f"{path}.gtt_free_bytes",
            gpu.gtt_free_bytes,
            "free",
            gpu.gtt_total_bytes,
            "gtt_total_bytes",
        )
        slices: set[int] = set()
        for k, mig in enumerate(gpu.mig_instances):
            mpath = f"{path}.mig_instances[{k}]"
            if mig.index in slices:
                found.append(f"{mpath}.index: MIG index {mig.index} appears twice")
            slices.add(mig.index)
            over(
                f"{mpath}.total_bytes",
                mig.total_bytes,
                "in a MIG slice",
                total,
                "GPU's total_bytes",
            )
            over(f"{mpath}.free_bytes", mig.free_bytes, "free", mig.total_bytes, "slice's total")
            over(
                f"{mpath}.free_bytes",
                mig.free_bytes,
                "free in a MIG slice",
                total,
                "GPU's total_bytes",
            )
        known = [m.total_bytes for m in gpu.mig_instances if m.total_bytes is not None]
        over(
            f"{path}.mig_instances",
            sum(known) if known else None,
            "in MIG slices",
            total,
            "GPU's total_bytes",
        )
    return tuple(found)


def _gpu_from_dict(raw: Any, path: str) -> GpuInfo:
    doc = _obj(raw, path)
    vendor_raw = _req_str(doc.get("vendor"), f"{path}.vendor")
    try:
        vendor = GpuVendor(vendor_raw)
    except ValueError:
        raise SnapshotError(f"{path}.vendor: unknown vendor {vendor_raw!r}") from None
    kind_raw = doc.get("memory_kind")
    if kind_raw is None:
        unified = _bool(doc.get("unified_memory", False), f"{path}.unified_memory")
        kind = MemoryKind.UNIFIED if unified else MemoryKind.DISCRETE
    else:
        try:
            kind = MemoryKind(_req_str(kind_raw, f"{path}.memory_kind"))
        except ValueError:
            raise SnapshotError(f"{path}.memory_kind: unknown kind {kind_raw!r}") from None
    migs = tuple(
        MigInstance(
            index=_req_count(
                _obj(m, f"{path}.mig_instances[{i}]").get("index"),
                f"{path}.mig_instances[{i}].index",
            ),
            name=_opt_s(m.get("name"), f"{path}.mig_instances[{i}].name"),
            uuid=_opt_s(m.get("uuid"), f"{path}.mig_instances[{i}].uuid"),
            total_bytes=_opt_bytes(m.get("total_bytes"), f"{path}.mig_instances[{i}].total_bytes"),
            free_bytes=_opt_bytes(m.get("free_bytes"), f"{path}.mig_instances[{i}].free_bytes"),
        )
        for i, m in enumerate(_list(doc.get("mig_instances", []), f"{path}.mig_instances"))
    )
    return GpuInfo(
        index=_req_count(doc.get("index"), f"{path}.index"),
        vendor=vendor,
        name=_opt_s(doc.get("name"), f"{path}.name"),
        uuid=_opt_s(doc.get("uuid"), f"{path}.uuid"),
        pci_bus_id=_opt_s(doc.get("pci_bus_id"), f"{path}.pci_bus_id"),
        pci_id=_opt_s(doc.get("pci_id"), f"{path}.pci_id"),
        memory_kind=kind,
        total_bytes=_opt_bytes(doc.get("total_bytes"), f"{path}.total_bytes"),
        free_bytes=_opt_bytes(doc.get("free_bytes"), f"{path}.free_bytes"),
        used_bytes=_opt_bytes(doc.get("used_bytes"), f"{path}.used_bytes"),
        reserved_bytes=_opt_bytes(doc.get("reserved_bytes"), f"{path}.reserved_bytes"),
        memory_source=_source(doc.get("source"), f"{path}.source"),
        visible_vram_bytes=_opt_bytes(doc.get("visible_vram_bytes"), f"{path}.visible_vram_bytes"),
        gtt_total_bytes=_opt_bytes(doc.get("gtt_total_bytes"), f"{path}.gtt_total_bytes"),
        gtt_free_bytes=_opt_bytes(doc.get("gtt_free_bytes"), f"{path}.gtt_free_bytes"),
        working_set_cap_bytes=_opt_bytes(
            doc.get("working_set_cap_bytes"), f"{path}.working_set_cap_bytes"
        ),
        working_set_cap_source=_opt_source(
            doc.get("working_set_cap_source"), f"{path}.working_set_cap_source"
        ),
        bandwidth_gb_s=_opt_bw(doc.get("bandwidth_gb_s"), f"{path}.bandwidth_gb_s"),
        bandwidth_source=_opt_source(doc.get("bandwidth_source"), f"{path}.bandwidth_source"),
        memory_bus_width_bits=_opt_count(
            doc.get("memory_bus_width_bits"), f"{path}.memory_bus_width_bits"
        ),
        max_memory_clock_mhz=_opt_count(
            doc.get("max_memory_clock_mhz"), f"{path}.max_memory_clock_mhz"
        ),
        gpu_cores=_opt_count(doc.get("gpu_cores"), f"{path}.gpu_cores"),
        compute_capability=_opt_s(doc.get("compute_capability"), f"{path}.compute_capability"),
        driver_version=_opt_s(doc.get("driver_version"), f"{path}.driver_version"),
        cuda_driver_version=_opt_s(doc.get("cuda_driver_version"), f"{path}.cuda_driver_version"),
        mig_enabled=_opt_bool(doc.get("mig_enabled"), f"{path}.mig_enabled"),
        mig_instances=migs,
        processes_used_bytes=_opt_bytes(
            doc.get("processes_used_bytes"), f"{path}.processes_used_bytes"
        ),
        is_primary=_bool(doc.get("is_primary", True), f"{path}.is_primary"),
    )


def _issue_from_dict(raw: Any, path: str) -> Issue:
    doc = _obj(raw, path)
    return Issue(
        source=_req_str(doc.get("source"), f"{path}.source"),
        code=_req_str(doc.get("code"), f"{path}.code"),
        message=_req_str(doc.get("message"), f"{path}.message"),
        hint=_opt_s(doc.get("hint"), f"{path}.hint") or "",
        device_index=_opt_count(doc.get("device_index"), f"{path}.device_index"),
    )


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SnapshotError(f"{path}: expected an object, got {_kind(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(f"{path}: expected a list, got {_kind(value)}")
    return value


def _req_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise SnapshotError(f"{path}: expected a string, got {_kind(value)}")
    if len(value) > 4096:
        raise SnapshotError(f"{path}: string longer than 4096 characters")
    return value


def _opt_s(value: Any, path: str) -> str | None:
    return None if value is None else _req_str(value, path)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(f"{path}: expected true or false, got {_kind(value)}")
    return value


def _opt_bool(value: Any, path: str) -> bool | None:
    return None if value is None else _bool(value, path)


def _req_count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000:
        raise SnapshotError(
            f"{path}: expected a whole number from 0 to 1000000, got {_short(value)}"
        )
    return value


def _opt_count(value: Any, path: str) -> int | None:
    return None if value is None else _req_count(value, path)


def _opt_bytes(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SnapshotError(f"{path}: expected a whole number of bytes or null, got {_kind(value)}")
    if value < 0 or value > MAX_PLAUSIBLE_BYTES:
        raise SnapshotError(f"{path}: {_short(value)} bytes is not a plausible memory size")
    return value


def _opt_float(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SnapshotError(f"{path}: expected a number or null, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        # An integer of 310+ digits (JSON allows it; Python's int limit is 4,300 digits).
        raise SnapshotError(f"{path}: {_short(value)} is too large a number") from None
    if not math.isfinite(number) or number < 0:
        raise SnapshotError(f"{path}: {_short(value)} is not a finite, non-negative number")
    return number


def _opt_bw(value: Any, path: str) -> float | None:
    number = _opt_float(value, path)
    if number is not None and (number == 0 or number > MAX_PLAUSIBLE_BANDWIDTH_GB_S):
        raise SnapshotError(f"{path}: {number} GB/s is not a plausible bandwidth")
    return number


def _source(value: Any, path: str) -> Source:
    if value is None:
        return Source.UNKNOWN
    raw = _req_str(value, path)
    try:
        return Source(raw)
    except ValueError:
        raise SnapshotError(f"{path}: unknown source {raw!r}") from None


def _opt_source(value: Any, path: str) -> Source | None:
    return None if value is None else _source(value, path)


def _short(value: Any) -> str:
    """``repr(value)`` cut to one readable length: a 4,000-digit number is named, not printed."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------------------------
# Reading a snapshot file: the one reader the CLI and the window share.
# --------------------------------------------------------------------------------------------


def read_snapshot_file(path: str | Path, *, stdin: BinaryIO | None = None) -> SystemSnapshot:
    """Read a recorded machine from a file, or from ``stdin`` (bytes) when ``path`` is "-".

    Reads at most :data:`MAX_SNAPSHOT_FILE_BYTES`; accepts UTF-8 with or without a byte-order mark
    and UTF-16 with one (what Windows PowerShell 5.1's ``>`` writes).

    Raises:
        SnapshotError: missing, unreadable, too large, not text, not JSON, or not a snapshot; the
            message is one line that names the file.
    """
    name = str(path)
    try:
        if name == "-":
            if stdin is None:
                raise SnapshotError("snapshot -: no standard input to read")
            data = stdin.read(MAX_SNAPSHOT_FILE_BYTES + 1)
        else:
            file = Path(path)
            if file.is_dir():
                raise SnapshotError(f"snapshot {name}: is a folder, not a file")
            with file.open("rb") as handle:
                data = handle.read(MAX_SNAPSHOT_FILE_BYTES + 1)
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_SNAPSHOT_FILE_BYTES:
        raise SnapshotError(f"snapshot {name}: larger than {MAX_SNAPSHOT_FILE_BYTES >> 20} MiB")
    return snapshot_from_json_bytes(data, name=name)


def snapshot_from_json_bytes(data: bytes, *, name: str = "snapshot") -> SystemSnapshot:
    """Decode, parse and validate a snapshot document; every failure is one SnapshotError."""
    text = _decode(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"snapshot {name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise SnapshotError(f"snapshot {name}: nested too deeply to be a snapshot") from None
    except ValueError:
        # Not a JSONDecodeError: a number of more than 4,300 digits (Python's int limit).
        raise SnapshotError(f"snapshot {name}: holds a number too long to be a snapshot") from None
    try:
        return snapshot_from_dict(doc)
    except SnapshotError as exc:
        raise SnapshotError(f"snapshot {name}: {exc}") from None
    except (RecursionError, OverflowError, ValueError, TypeError) as exc:
        # A hostile value the field checks did not foresee is still bad input, never a crash.
        raise SnapshotError(f"snapshot {name}: {type(exc).__name__} in a field") from None


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # the BOM says which byte order
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise SnapshotError(
            f"snapshot {name}: not a text file (expected UTF-8 or UTF-16 JSON)"
        ) from None
