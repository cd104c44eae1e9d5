"""The operating system and the sandbox it runs in, plus the small I/O seams every probe shares.

Probes read the machine only through two seams so tests can feed recorded text through the real
parsers: ``read_text(path) -> str`` (sysfs, procfs, cgroupfs) and ``run(argv) -> str`` (a bounded
subprocess such as ``/usr/sbin/sysctl``; never a shell). Both raise ``OSError`` on failure and the
probes turn that into an :class:`~llmcheck.snapshot.Issue`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from llmcheck.snapshot import MAX_PLAUSIBLE_BYTES, Issue, OsInfo

ReadText = Callable[[Path], str]
Run = Callable[[list[str]], str]

# Subprocess bounds per tool (hardware-probing.md §8.1: ioreg 3 s, system_profiler 10 s).
DEFAULT_RUN_TIMEOUT_S = 3.0


def read_text_file(path: Path) -> str:
    """Read a small text file (sysfs, procfs); raises ``OSError`` (or ``UnicodeDecodeError``)."""
    return path.read_text(encoding="utf-8", errors="replace")


def run_command(argv: list[str], timeout_s: float = DEFAULT_RUN_TIMEOUT_S) -> str:
    """Run a tool without a shell and return its stdout, whatever its exit status.

    ``sysctl`` prints the keys it knows and complains on stderr about the others, exiting non-zero,
    so stdout is still useful. A tool that cannot start or runs past ``timeout_s`` raises
    ``OSError``.
    """
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"{argv[0]} did not answer within {timeout_s:g} s") from exc
    except (OSError, ValueError) as exc:
        raise OSError(f"{argv[0]} could not run: {exc}") from exc
    return done.stdout


# Kernel counters are ASCII decimal and fit in 64 bits (20 digits). ``str.isdigit()`` alone also
# accepts "²" (int() then raises) and lets a 5000-digit line reach int(), which Python 3.11 refuses
# with ValueError (the int max-str-digits limit): both escaped the probes as crashes.
_DECIMAL = re.compile(r"[0-9]{1,20}", re.ASCII)


def parse_int(text: str) -> int | None:
    """A non-negative ASCII decimal of at most 20 digits (surrounding blanks allowed), else None."""
    text = text.strip()
    if _DECIMAL.fullmatch(text) is None:
        return None
    return int(text)


def parse_byte_count(text: str) -> int | None:
    """A plausible positive byte count from sysfs-style text, else ``None`` (0 is not a budget)."""
    value = parse_int(text)
    if value is None or value <= 0 or value > MAX_PLAUSIBLE_BYTES:
        return None
    return value


def probe_os(
    *,
    proc_root: Path = Path("/proc"),
    fs_root: Path = Path("/"),
    read_text: ReadText = read_text_file,
    environ: Mapping[str, str] | None = None,
    uname: platform.uname_result | None = None,
) -> tuple[OsInfo, tuple[Issue, ...]]:
    """The OS, and whether this runs under WSL or in a container.

    Never raises. WSL: ``WSL_DISTRO_NAME`` / ``WSL_INTEROP`` or "microsoft" in the kernel release
    (hardware-probing.md §6.1). Container: ``/.dockerenv``, ``/run/.containerenv``, the
    ``container`` variable, or a docker/kubepods/containerd/lxc path in ``/proc/1/cgroup``.
    """
    env = os.environ if environ is None else environ
    issues: list[Issue] = []
    try:
        u = platform.uname() if uname is None else uname
    except OSError as exc:  # platform shells out on a few systems
        return OsInfo(system="unknown"), (
            Issue(source="os", code="os_unknown", message=f"Could not read the OS name: {exc}"),
        )
    system = u.system or "unknown"
    is_wsl = False
    in_container = False
    if system == "Linux":
        release = u.release
        with contextlib.suppress(OSError, UnicodeDecodeError):  # uname's release is the same
            release = read_text(proc_root / "sys" / "kernel" / "osrelease").strip() or release
        is_wsl = "WSL_DISTRO_NAME" in env or "WSL_INTEROP" in env or "microsoft" in release.lower()
        in_container = _in_container(proc_root, fs_root, read_text, env)
    elif system not in ("Darwin", "Windows"):
        issues.append(
            Issue(
                source="os",
                code="os_unsupported",
                message=f"llmcheck has no GPU probe for {system!r}; CPU and RAM only.",
                hint="Results for this OS are a best effort.",
            )
        )
    return (
        OsInfo(
            system=system,
            release=u.release or None,
            version=u.version or None,
            machine=u.machine or None,
            is_wsl=is_wsl,
            in_container=in_container,
        ),
        tuple(issues),
    )


_CONTAINER_MARKERS = ("docker", "kubepods", "containerd", "lxc", "libpod", "podman")


def _in_container(
    proc_root: Path, fs_root: Path, read_text: ReadText, env: Mapping[str, str]
) -> bool:
    if env.get("container"):
        return True
    for marker in (fs_root / ".dockerenv", fs_root / "run" / ".containerenv"):
        try:
            if marker.exists():
                return True
        except OSError:
            continue
    try:
        text = read_text(proc_root / "1" / "cgroup")
    except (OSError, UnicodeDecodeError):
        return False
    return any(m in text for m in _CONTAINER_MARKERS)


SYSCTL = "/usr/sbin/sysctl"


def parse_sysctl(text: str) -> dict[str, str]:
    """``sysctl key ...`` output ("hw.memsize: 34359738368") as a key -> value dict.

    Also accepts the ``key = value`` form some BSDs print. Unknown keys are simply absent (sysctl
    reports them on stderr).
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        for sep in (": ", " = ", ":"):
            key, found, value = line.partition(sep)
            if found and key.strip() and " " not in key.strip():
                out[key.strip()] = value.strip()
                break
    return out


def read_sysctl(keys: list[str], run: Run) -> tuple[dict[str, str], str | None]:
    """Ask ``/usr/sbin/sysctl`` for ``keys`` in one call; returns (values, error or None)."""
    try:
        return parse_sysctl(run([SYSCTL, *keys])), None
    except OSError as exc:
        return {}, str(exc)
