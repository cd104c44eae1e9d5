"""System RAM, swap and the container (cgroup v1 / v2) memory limit. The only psutil importer.

psutil reads host-wide numbers and ignores cgroup limits
(https://github.com/giampaolo/psutil/issues/2100), so inside a container it would promise the
host's RAM. This module resolves this process's memory cgroup the way the kernel does: the path
from ``/proc/self/cgroup`` under the mount point from ``/proc/self/mountinfo`` (the naive
``/sys/fs/cgroup/memory/memory.limit_in_bytes`` reads the *root* cgroup on hosts where the process
sits in a nested cgroup, as on the machine this was written on), then walks up to the mount point
taking the smallest limit.

Issue codes (source "memory"): ``psutil_unavailable``, ``ram_unreadable``, ``cgroup_unreadable``,
``cgroup_value_invalid``, ``wsl_memory``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from llmcheck.probe.platform_info import ReadText, parse_byte_count, parse_int, read_text_file
from llmcheck.snapshot import MAX_PLAUSIBLE_BYTES, Issue, MemoryInfo, Source
from llmcheck.units import format_bytes

SOURCE = "memory"

# cgroup v1 writes "no limit" as LONG_MAX rounded down to the page size (9223372036854771712 with
# 4 KiB pages); anything at or above 2^62 is that sentinel, not a budget.
CGROUP_V1_UNLIMITED_BYTES = 1 << 62


def _load_psutil() -> ModuleType | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil


# --- /proc/meminfo ----------------------------------------------------------------------------


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` as bytes per key ("MemTotal" -> 25276063744); bad lines are skipped."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        parts = rest.split()
        value = parse_int(parts[0]) if parts else None
        if value is None:
            continue
        if len(parts) > 1 and parts[1].lower() == "kb":
            value *= 1024
        out[key.strip()] = value
    return out


# --- cgroups ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """One line of ``/proc/self/mountinfo`` (only the fields cgroup resolution needs)."""

    root: str
    mount_point: str
    fs_type: str
    super_options: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CgroupMemory:
    """The memory limit that applies to this process, and what its cgroup uses now."""

    version: int | None = None  # 1 or 2; None: no memory cgroup found
    path: str | None = None  # the leaf cgroup directory read
    limit_bytes: int | None = None  # None: no limit applies
    working_set_bytes: int | None = None  # usage minus inactive file cache
    issues: tuple[Issue, ...] = ()


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse ``/proc/self/mountinfo`` (proc(5)); malformed lines are skipped."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mounts.append(
            Mount(
                root=_unescape(fields[3]),
                mount_point=_unescape(fields[4]),
                fs_type=tail[0],
                super_options=tuple(tail[2].split(",")),
            )
        )
    return mounts


def parse_proc_cgroup(text: str) -> tuple[str | None, str | None]:
    """``/proc/self/cgroup`` -> (v2 path of the ``0::`` line, v1 path of the memory controller)."""
    v2: str | None = None
    v1: str | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, path = parts
        if hier == "0" and controllers == "":
            v2 = path.strip()
        elif "memory" in controllers.split(","):
            v1 = path.strip()
    return v2, v1


def _relative(cgroup_path: str, mount_root: str) -> str:
    # Inside a container the mount root is often the container's own cgroup and /proc/self/cgroup
    # names either that same path or "/"; both mean "the mount point itself".
    if mount_root in ("", "/"):
        return cgroup_path.lstrip("/")
    if cgroup_path == mount_root or cgroup_path == "/":
        return ""
    if cgroup_path.startswith(mount_root.rstrip("/") + "/"):
        return cgroup_path[len(mount_root.rstrip("/")) + 1 :]
    return ""


def _parse_stat(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        value = parse_int(parts[1]) if len(parts) == 2 else None
        if value is not None:
            out[parts[0]] = value
    return out


def read_cgroup_memory(
    *, root: Path = Path("/"), read_text: ReadText = read_text_file
) -> CgroupMemory:
    """Resolve and read this process's memory cgroup (v1, v2 or hybrid). Never raises.

    Args:
        root: a filesystem prefix; ``proc/self/cgroup``, ``proc/self/mountinfo`` and the mount
            points are read under it (tests pass a recorded tree).
        read_text: the file reader seam.
    """
    try:
        cgroup_text = read_text(root / "proc" / "self" / "cgroup")
        mounts = parse_mountinfo(read_text(root / "proc" / "self" / "mountinfo"))
    except FileNotFoundError:
        return CgroupMemory()  # not Linux, or no procfs: no cgroup to honour
    except (OSError, UnicodeDecodeError) as exc:
        # procfs is there but refuses us (hardened /proc, seccomp): a limit may apply unseen.
        path = getattr(exc, "filename", None) or root / "proc" / "self"
        return CgroupMemory(issues=(_unreadable(Path(str(path)), exc),))
    v2_path, v1_path = parse_proc_cgroup(cgroup_text)
    # A controller lives on one hierarchy only: a v1 memory mount means v1 owns memory (hybrid
    # hosts also show a "0::/" line for the empty unified tree).
    v1_mount = next(
        (m for m in mounts if m.fs_type == "cgroup" and "memory" in m.super_options), None
    )
    if v1_mount is not None and v1_path is not None:
        return _walk(
            root,
            v1_mount,
            v1_path,
            read_text,
            version=1,
            limit_file="memory.limit_in_bytes",
            usage_file="memory.usage_in_bytes",
            inactive_key="total_inactive_file",
        )
    v2_mount = next((m for m in mounts if m.fs_type == "cgroup2"), None)
    if v2_mount is not None and v2_path is not None:
        return _walk(
            root,
            v2_mount,
            v2_path,
            read_text,
            version=2,
            limit_file="memory.max",
            usage_file="memory.current",
            inactive_key="inactive_file",
        )
    return CgroupMemory()


def _walk(
    root: Path,
    mount: Mount,
    cgroup_path: str,
    read_text: ReadText,
    *,
    version: int,
    limit_file: str,
    usage_file: str,
    inactive_key: str,
) -> CgroupMemory:
    top = root / mount.mount_point.lstrip("/")
    rel = _relative(cgroup_path, mount.root)
    leaf = top / rel if rel else top
    issues: list[Issue] = []
    limit: int | None = None
    node = leaf
    while True:
        try:
            raw = read_text(node / limit_file).strip()
        except FileNotFoundError:
            raw = None  # the v2 root cgroup has no memory.max
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(_unreadable(node / limit_file, exc))
            raw = None
        if raw is not None and raw != "max":
            value = parse_int(raw)
            # The kernel keeps limits in a signed 64-bit page counter: 2^63 and above is garbage
            # (v1's "unlimited" is 2^63 - 4096, below it), not a limit nor "no limit".
            if value is None or value <= 0 or value >= 1 << 63:
                issues.append(
                    Issue(
                        source=SOURCE,
                        code="cgroup_value_invalid",
                        message=f"{node / limit_file} holds {raw[:40]!r}, not a byte count.",
                        hint="The container limit is unknown; RAM figures are host-wide.",
                    )
                )
            elif value < CGROUP_V1_UNLIMITED_BYTES and value <= MAX_PLAUSIBLE_BYTES:
                limit = value if limit is None else min(limit, value)
        if node == top or node.parent == node:
            break
        node = node.parent
    working_set: int | None = None
    try:
        usage = parse_byte_count(read_text(leaf / usage_file))
        if usage is not None:
            inactive = 0
            # Without memory.stat raw usage overstates pressure a little; still usable.
            with contextlib.suppress(OSError, UnicodeDecodeError):
                inactive = _parse_stat(read_text(leaf / "memory.stat")).get(inactive_key, 0)
            working_set = max(0, usage - inactive)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(_unreadable(leaf / usage_file, exc))
    return CgroupMemory(
        version=version,
        path=str(leaf),
        limit_bytes=limit,
        working_set_bytes=working_set,
        issues=tuple(issues),
    )


def _unreadable(path: Path, exc: BaseException) -> Issue:
    return Issue(
        source=SOURCE,
        code="cgroup_unreadable",
        message=f"Could not read {path}: {exc}",
        hint="A container memory limit may apply that llmcheck cannot see.",
    )


# --- the probe --------------------------------------------------------------------------------


def probe_memory(
    *,
    psutil_module: ModuleType | None = None,
    use_psutil: bool = True,
    root: Path = Path("/"),
    read_text: ReadText = read_text_file,
    is_wsl: bool = False,
) -> tuple[MemoryInfo, tuple[Issue, ...]]:
    """RAM total/available (psutil, else ``/proc/meminfo``), swap, and the cgroup limit.

    Never raises. ``limit_bytes`` is set only when a real limit below the host's RAM applies;
    ``limit_used_bytes`` is then the cgroup's working set (usage minus inactive file cache, the
    definition Docker and cAdvisor use). DRAM bandwidth is left unknown here: the dispatcher
    fills it from Apple's chip table or :mod:`llmcheck.probe.bandwidth` (DIMMs, CPU class, or a
    measurement when asked).
    """
    issues: list[Issue] = []
    total = available = swap_total = swap_free = None
    source = Source.UNKNOWN
    ps = (psutil_module or _load_psutil()) if use_psutil else None
    if ps is not None:
        try:
            vm = ps.virtual_memory()
            total, available = _plausible(vm.total), _plausible(vm.available)
            source = Source.PSUTIL
        except (OSError, AttributeError, RuntimeError) as exc:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="ram_unreadable",
                    message=f"psutil failed: {exc}",
                    hint="Reading /proc/meminfo instead; if that fails too, RAM is unknown.",
                )
            )
        try:
            sw = ps.swap_memory()
            swap_total, swap_free = _count(sw.total), _count(sw.free)
        except (OSError, AttributeError, RuntimeError):
            pass  # swap never counts toward a fit; missing is harmless
    elif use_psutil:
        issues.append(
            Issue(
                source=SOURCE,
                code="psutil_unavailable",
                message="psutil is not installed; reading /proc/meminfo instead.",
                hint="pip install psutil",
            )
        )
    if total is None:
        try:
            info = parse_meminfo(read_text(root / "proc" / "meminfo"))
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(
                Issue(
                    source=SOURCE,
                    code="ram_unreadable",
                    message=f"Could not read the amount of RAM: {exc}",
                    hint="RAM is unknown; llmcheck cannot judge CPU inference.",
                )
            )
            info = {}
        total = _plausible(info.get("MemTotal"))
        available = _plausible(info.get("MemAvailable"))
        if swap_total is None:
            swap_total, swap_free = _count(info.get("SwapTotal")), _count(info.get("SwapFree"))
        if total is not None:
            source = Source.PROCFS
    cg = read_cgroup_memory(root=root, read_text=read_text)
    issues.extend(cg.issues)
    limit = cg.limit_bytes
    if limit is not None and total is not None and limit >= total:
        limit = None  # a limit above the host's RAM never binds
    if is_wsl and total is not None:
        issues.append(
            Issue(
                source=SOURCE,
                code="wsl_memory",
                message=f"WSL sees {format_bytes(total)}: the WSL VM's share, not all of the"
                " Windows host's RAM.",
                hint="Raise it with memory= in %UserProfile%\\.wslconfig.",
            )
        )
    return (
        MemoryInfo(
            total_bytes=total,
            available_bytes=available,
            source=source,
            limit_bytes=limit,
            limit_used_bytes=cg.working_set_bytes if limit is not None else None,
            limit_source=Source.CGROUP if limit is not None else None,
            swap_total_bytes=swap_total,
            swap_free_bytes=swap_free,
        ),
        tuple(issues),
    )


def _plausible(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PLAUSIBLE_BYTES:
        return value
    return None


def _count(value: object) -> int | None:
    # Swap may honestly be 0 (none configured); only absurd values are faults.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PLAUSIBLE_BYTES:
        return value
    return None


def physical_core_count(psutil_module: ModuleType | None = None) -> int | None:
    """Physical CPU cores via psutil (lives here: this is the one psutil importer)."""
    ps = psutil_module or _load_psutil()
    if ps is None:
        return None
    try:
        n = ps.cpu_count(logical=False)
    except (OSError, RuntimeError, AttributeError):
        return None
    return n if isinstance(n, int) and n > 0 else None


def boot_time_unix_s(psutil_module: ModuleType | None = None) -> float | None:
    """When this machine booted (psutil.boot_time), or None; keys the bandwidth cache per boot."""
    ps = psutil_module or _load_psutil()
    if ps is None:
        return None
    try:
        value = float(ps.boot_time())
    except (OSError, AttributeError, RuntimeError, TypeError, ValueError):
        return None
    return value if value > 0 else None
