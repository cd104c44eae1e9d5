"""The probe: one frozen :class:`~llmcheck.snapshot.SystemSnapshot` of this machine.

:func:`probe_system` is the only dispatcher. OS, CPU and RAM are read in-process (plain files and
psutil, milliseconds). GPU probing loads native libraries (NVML) and runs tools that can hang or
crash the interpreter, so it runs in a ``spawn`` child process under a timeout: a hang becomes
``gpu_probe_timeout``, a crash ``gpu_probe_crashed``, and the rest of the snapshot survives
(Ollama does the same: ``discover/native_probe.go``). The child imports no Qt.

A GPU that was there but could not be read is *unknown*, never absent: the child names each
NVIDIA GPU before it asks for its memory (the query a wedged driver hangs in), and when it names
none the kernel's own listing (sysfs PCI, ``/proc/driver/nvidia``, ``/dev/nvidia*``) still shows
the cards. They are reported with unknown memory, so the verdicts that need them are ``unknown``.

The child dies with its parent: it asks the kernel for SIGKILL when the parent goes
(``PR_SET_PDEATHSIG`` on Linux) and watches its parent's pid elsewhere; the parent kills it on
SIGTERM / SIGHUP; and it never holds the parent's stdout or stderr, so ``llmcheck --json | wc -c``
ends when llmcheck does.

Issue codes (source "probe"): ``gpu_probe_timeout``, ``gpu_probe_crashed``,
``gpu_probe_failed``, ``gpu_unread``, ``gpu_value_inconsistent``, ``memory_value_inconsistent``,
``os_probe_failed``, ``cpu_probe_failed``, ``memory_probe_failed``, ``bandwidth_probe_failed``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmcheck.probe.unread import unread_gpus
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    Issue,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    Source,
    SystemSnapshot,
    gpu_to_dict,
    issue_to_dict,
    snapshot_from_dict,
)

__all__ = ["gpu_probe_timeout_s", "nvml_may_load", "probe_gpus", "probe_system"]

SOURCE = "probe"
DEFAULT_GPU_PROBE_TIMEOUT_S = 20.0
log = logging.getLogger(__name__)

# A healthy GPU probe answers in well under a second (a spawn child boots in 0.1-0.3 s, more on a
# loaded machine); past this the user is told what the wait is.
PROGRESS_AFTER_S = 2.0
# How often a child off Linux checks that its parent is still there.
_PARENT_POLL_S = 0.5
# A child's message naming one GPU before its memory is read: ("seen", gpu dict).
_SEEN = "seen"

# The file pynvml dlopens on Linux (nvidia-ml-py ``_LoadNvmlLibrary``: CDLL("libnvidia-ml.so.1")),
# and where the dynamic loader finds it without LD_LIBRARY_PATH: the ld cache, then the trusted
# directories; plus the driver locations of WSL2 and the NVIDIA container toolkit.
_NVML_SONAMES = ("libnvidia-ml.so.1", "libnvidia-ml.so")
_NVML_LINUX_DIRS = (
    "lib",
    "lib64",
    "usr/lib",
    "usr/lib64",
    "usr/local/lib",
    "usr/local/lib64",
    "lib/x86_64-linux-gnu",
    "usr/lib/x86_64-linux-gnu",
    "lib/aarch64-linux-gnu",
    "usr/lib/aarch64-linux-gnu",
    "usr/lib/wsl/lib",
    "usr/local/nvidia/lib",
    "usr/local/nvidia/lib64",
    "usr/local/cuda/lib64",
)


def nvml_may_load(
    system: str, *, root: Path = Path("/"), environ: Mapping[str, str] | None = None
) -> bool:
    """Whether an NVML library could be loaded here, so the GPU probe needs its child process.

    The child exists because NVML calls can hang or crash the interpreter. Where no NVML library
    exists, nvmlInit fails at once with "library not found": nothing can hang, and starting a
    ``spawn`` interpreter (0.15-0.35 s, most of ``llmcheck --json``) buys nothing (issue #2).
    Any doubt (an unreadable ld cache, an unknown OS) answers True: isolation stays the default.

    Args:
        system: ``platform.system()``.
        root: the filesystem root (tests pass a folder laid out like one).
        environ: the environment (``os.environ`` when None): LD_LIBRARY_PATH, WINDIR, ProgramFiles.
    """
    env = os.environ if environ is None else environ
    if system == "Darwin":
        return False  # NVIDIA has shipped no macOS driver since 2019 (CUDA 10.2), so no NVML
    if system == "Windows":
        # nvidia-ml-py looks in exactly these two places (``_LoadNvmlLibrary``).
        candidates = (
            Path(env.get("WINDIR", "C:/Windows"), "System32", "nvml.dll"),
            Path(
                env.get("ProgramFiles", "C:/Program Files"),
                "NVIDIA Corporation",
                "NVSMI",
                "nvml.dll",
            ),
        )
        return any(c.exists() for c in candidates)
    if system != "Linux":
        return True
    try:
        dev = root / "dev"
        if any(name.startswith(("nvidia", "dxg")) for name in os.listdir(dev)):
            return True  # a driver (or WSL2's GPU bridge) is there
        dirs = [root / d for d in _NVML_LINUX_DIRS]
        dirs += [root / d.lstrip("/") for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
        if any((d / name).exists() for d in dirs for name in _NVML_SONAMES):
            return True
        cache = root / "etc" / "ld.so.cache"
        # The cache lists each library's soname as plain text: one substring test reads it.
        return cache.exists() and b"libnvidia-ml.so" in cache.read_bytes()
    except OSError:
        return True


def _left_to_nvml(nvidia_ok: bool) -> frozenset[str]:
    """PCI vendor ids the OS probe leaves alone: NVIDIA's, once NVML has read its GPUs."""
    from llmcheck.probe.linux_gpu import NVIDIA_VENDOR_ID  # both OS probes import it anyway

    return frozenset({NVIDIA_VENDOR_ID}) if nvidia_ok else frozenset()


def probe_gpus(
    *,
    system: str,
    ram_total_bytes: int | None = None,
    on_device: Callable[[GpuInfo], None] | None = None,
) -> dict[str, Any]:
    """Every GPU this OS shows, as JSON-ready dicts: ``{"gpus": [...], "issues": [...]}``.

    Runs in the child process (so its result must pickle as plain data). NVML first; then the OS
    probe, which skips NVIDIA cards only when NVML saw some. Each probe's GPU indexes are local;
    :func:`probe_system` renumbers them. ``on_device`` hears of each NVIDIA GPU before its memory
    is read (:func:`llmcheck.probe.nvidia.probe_nvidia`).
    """
    gpus: list[GpuInfo] = []
    issues: list[Issue] = []
    nvidia_ok = False
    if ram_total_bytes is None and system == "Linux":
        from llmcheck.probe.memory import parse_meminfo

        try:
            ram_total_bytes = parse_meminfo(Path("/proc/meminfo").read_text()).get("MemTotal")
        except (OSError, UnicodeDecodeError):
            ram_total_bytes = None  # only bounds an APU's working set; unknown is fine
    try:
        # nvidia.py imports pynvml lazily, inside probe_nvidia(), so importing it cannot fail
        # for want of NVML.
        from llmcheck.probe.nvidia import probe_nvidia

        # MemTotal lets NVML tell a GB10 / Jetson pool (total ~= RAM) from VRAM.
        result = probe_nvidia(host_ram_bytes=ram_total_bytes, on_device=on_device)
        gpus.extend(result.gpus)
        issues.extend(result.issues)
        nvidia_ok = bool(result.gpus)
    except Exception as exc:  # noqa: BLE001 - boundary: one vendor's bug must not hide others
        issues.append(_failed("nvidia", exc))
    try:
        if system == "Linux" and Path("/sys/class/drm").is_dir():
            from llmcheck.probe.linux_gpu import probe_linux_gpus

            os_result = probe_linux_gpus(
                skip_vendors=_left_to_nvml(nvidia_ok), ram_total_bytes=ram_total_bytes
            )
        elif system == "Darwin" and Path("/usr/sbin/sysctl").exists():
            from llmcheck.probe.apple import probe_apple

            os_result = probe_apple()
        elif system == "Windows":
            from llmcheck.probe.windows import probe_windows_gpus

            os_result = probe_windows_gpus(skip_vendors=_left_to_nvml(nvidia_ok))
        else:
            os_result = None
        if os_result is not None:
            # Shift this probe's local indexes past NVML's so issues keep pointing at their GPU.
            offset = len(gpus)
            gpus.extend(dataclasses.replace(g, index=g.index + offset) for g in os_result.gpus)
            issues.extend(
                dataclasses.replace(i, device_index=i.device_index + offset)
                if i.device_index is not None
                else i
                for i in os_result.issues
            )
    except Exception as exc:  # noqa: BLE001 - boundary: keep NVML's GPUs if the OS probe breaks
        issues.append(_failed("gpu", exc))
    return {"gpus": [gpu_to_dict(g) for g in gpus], "issues": [issue_to_dict(i) for i in issues]}


def _failed(source: str, exc: BaseException) -> Issue:
    return Issue(
        source=SOURCE,
        code="gpu_probe_failed",
        message=f"The {source} GPU probe failed: {type(exc).__name__}: {exc}",
        hint="Please report this with the output of llmcheck --json.",
    )


def _child(conn: Any, system: str, ram_total_bytes: int | None) -> None:
    # Runs in the spawn child: name each NVIDIA GPU as it is found, then send one plain dict.
    def seen(gpu: GpuInfo) -> None:
        conn.send((_SEEN, gpu_to_dict(gpu)))

    try:
        try:
            answer = probe_gpus(system=system, ram_total_bytes=ram_total_bytes, on_device=seen)
        except Exception as exc:  # noqa: BLE001 - boundary: multiprocessing would print the
            # traceback on the user's terminal; answer with a problem record instead.
            answer = {"gpus": [], "issues": [issue_to_dict(_failed("gpu", exc))]}
        conn.send(answer)
    finally:
        conn.close()


def _child_entry(
    target: Callable[[Any, str, int | None], None],
    conn: Any,
    system: str,
    ram_total_bytes: int | None,
) -> None:
    """The child's first code: tie its life to the parent's, let go of the terminal, run."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    _die_with_parent(parent.pid if parent is not None else None)
    _let_go_of_stdio()
    target(conn, system, ram_total_bytes)


def _die_with_parent(parent_pid: int | None) -> None:
    """Make sure this child never outlives the process that started it (issue #13 item 6)."""
    if sys.platform == "linux":
        import ctypes

        try:
            # prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills us when the parent exits, even
            # by SIGKILL, where no handler of the parent's can run (man 2 prctl).
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher below still works
    if parent_pid is None:
        return
    if os.getppid() != parent_pid:
        os._exit(0)  # the parent went before the death signal was armed

    def watch() -> None:
        while True:
            time.sleep(_PARENT_POLL_S)
            if os.getppid() != parent_pid:  # reparented: the parent is gone
                os._exit(0)

    threading.Thread(target=watch, name="llmcheck-parent-watch", daemon=True).start()


def _let_go_of_stdio() -> None:
    """Point the child's stdout and stderr at the null device.

    A child inherits the parent's standard streams; while it holds a pipe's write end, the reader
    (``llmcheck --json | wc -c``) waits. The child reports through its own pipe, never a stream,
    and a native library's crash is reported by the parent as ``gpu_probe_crashed``.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


def _gpus_in_child(
    system: str,
    ram_total_bytes: int | None,
    timeout_s: float,
    target: Callable[[Any, str, int | None], None] = _child,
) -> dict[str, Any] | Issue:
    """Run ``target`` (default :func:`_child`) in a spawn child; its dict, or the Issue why not.

    ``target`` must be importable by name (spawn pickles it by reference); tests pass children
    that hang or die.
    """
    started = _start_child(system, ram_total_bytes, target)
    if isinstance(started, Issue):
        return started
    return _collect_child(*started, timeout_s).answer


def _start_child(
    system: str, ram_total_bytes: int | None, target: Callable[[Any, str, int | None], None]
) -> tuple[Any, Any] | Issue:
    import multiprocessing  # 20-40 ms of imports that only the isolated probe needs

    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child_entry,
        args=(target, writer, system, ram_total_bytes),
        name="llmcheck-gpu-probe",
        daemon=True,
    )
    try:
        proc.start()
    except OSError as exc:
        reader.close()
        return Issue(
            source=SOURCE,
            code="gpu_probe_crashed",
            message=f"Could not start the GPU probe process: {exc}",
        )
    finally:
        writer.close()
    return proc, reader


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _ChildAnswer:
    """What came back from the child: its answer (or why none), and the GPUs it named first."""

    answer: dict[str, Any] | Issue
    seen: tuple[dict[str, Any], ...] = ()


def _collect_child(
    proc: Any, reader: Any, timeout_s: float, progress: Callable[[str], None] | None = None
) -> _ChildAnswer:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    told = False
    try:
        while True:
            left = deadline - time.monotonic()
            wait = min(left, PROGRESS_AFTER_S) if not told else left
            if wait > 0 and reader.poll(wait):
                try:
                    data: Any = reader.recv()
                except (EOFError, OSError):
                    break  # the child died: its end of the pipe closed
                if isinstance(data, tuple) and len(data) == 2 and data[0] == _SEEN:
                    seen.append(data[1])
                    continue
                if data:
                    proc.join(timeout=5)
                    return _ChildAnswer(answer=data, seen=tuple(seen))
                break
            if time.monotonic() >= deadline:
                return _ChildAnswer(
                    answer=Issue(
                        source=SOURCE,
                        code="gpu_probe_timeout",
                        message=f"The GPU probe did not finish within {timeout_s:g} s and was"
                        " stopped.",
                        hint="A GPU driver may be hung; try again, or check nvidia-smi.",
                    ),
                    seen=tuple(seen),
                )
            if not told:
                told = True
                _tell(progress, f"reading the NVIDIA GPU... (timeout {timeout_s:g} s)")
        proc.join(timeout=5)
        return _ChildAnswer(
            answer=Issue(
                source=SOURCE,
                code="gpu_probe_crashed",
                message=f"The GPU probe process died (exit code {proc.exitcode}) before answering.",
                hint="A GPU driver library crashed while being read; GPUs are unknown.",
            ),
            seen=tuple(seen),
        )
    finally:
        reader.close()
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def _tell(progress: Callable[[str], None] | None, message: str) -> None:
    """Progress for a person waiting: the caller's callback, else a log record on stderr."""
    if progress is not None:
        progress(message)
    else:
        log.warning("%s", message)


@contextlib.contextmanager
def _child_dies_on_signals(proc: Any) -> Iterator[None]:
    """While the GPU child runs, SIGTERM / SIGHUP kill it first, then end this process as usual.

    Only the main thread may set handlers (a window probes from a worker thread: there the
    child's own watch on its parent does the work).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    saved: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        with contextlib.suppress(Exception):
            proc.kill()
        previous = saved.get(signum)
        if previous is None:
            previous = signal.SIG_DFL  # set outside Python: take the default action
        signal.signal(signum, previous)
        if callable(previous):
            previous(signum, frame)
        else:
            os.kill(os.getpid(), signum)  # the default action, now that the child is gone

    try:
        for sig in wanted:
            saved[sig] = signal.signal(sig, handler)
    except (ValueError, OSError):
        pass
    try:
        yield
    finally:
        for sig, previous in saved.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, previous)


def _gpus_from_dicts(data: dict[str, Any]) -> tuple[tuple[GpuInfo, ...], tuple[Issue, ...]]:
    # Reuse the snapshot reader, which checks every field, on a minimal machine document.
    doc = {
        "machine": {"os": {"system": "x"}, "cpu": {}, "memory": {}, "gpus": data.get("gpus", [])},
        "problems": data.get("issues", []),
    }
    # Not checked for consistency: probe_system clamps what contradicts itself
    # (llmcheck.probe.consistency), where a file would be refused.
    snap = snapshot_from_dict(doc, check_consistency=False)
    return snap.gpus, snap.problems


def _order_gpus(
    gpus: tuple[GpuInfo, ...], issues: tuple[Issue, ...]
) -> tuple[tuple[GpuInfo, ...], tuple[Issue, ...]]:
    """Renumber GPUs 0..n-1 (NVIDIA first, then by PCI bus), demote iGPUs beside a dGPU."""
    rank = {GpuVendor.NVIDIA: 0, GpuVendor.AMD: 1, GpuVendor.INTEL: 2, GpuVendor.APPLE: 3}
    ordered = sorted(
        gpus,
        key=lambda g: (
            g.memory_kind is MemoryKind.INTEGRATED,
            rank.get(g.vendor, 9),
            g.index if g.vendor is GpuVendor.NVIDIA else 0,
            g.pci_bus_id or "",
            g.index,
        ),
    )
    has_discrete = any(g.memory_kind is MemoryKind.DISCRETE for g in gpus)
    new_index = {g.index: i for i, g in enumerate(ordered)}
    out = tuple(
        dataclasses.replace(
            g,
            index=i,
            is_primary=g.is_primary
            and not (has_discrete and g.memory_kind is MemoryKind.INTEGRATED),
        )
        for i, g in enumerate(ordered)
    )
    renumbered = tuple(
        dataclasses.replace(x, device_index=new_index.get(x.device_index, x.device_index))
        if x.device_index is not None
        else x
        for x in issues
    )
    return out, renumbered


def probe_system(
    *,
    timeout_s: float | None = None,
    isolate: bool | None = None,
    measure_bandwidth: bool = False,
    progress: Callable[[str], None] | None = None,
    root: Path = Path("/"),
) -> SystemSnapshot:
    """Probe this machine. Never raises: what fails becomes a problem in the snapshot.

    Args:
        timeout_s: how long the GPU probe child may run before it is killed; None: the
            ``LLMCHECK_GPU_PROBE_TIMEOUT_S`` environment variable, else 20 s.
        isolate: run the GPU probe in a child process; False: in-process (tests); None (the
            default): in a child wherever an NVML library could load (:func:`nvml_may_load`).
        measure_bandwidth: measure RAM bandwidth now (about 1.2 s of every core and up to
            1 GiB, :func:`llmcheck.probe.bandwidth_cache.cached_or_measured`; without it this
            boot's cached measurement is used when there is one); the measured
            value replaces the table's. Off by default: the plain probe stays cheap.
        progress: told (one line) when the GPU probe is slow to answer; None: a log record
            (the command line shows it on stderr; ``--json`` output is unchanged).
        root: the filesystem root for the NVIDIA listing used when NVML hung (tests).
    """
    if timeout_s is None:
        timeout_s = gpu_probe_timeout_s(os.environ)
    started = time.perf_counter()
    probed_at = datetime.now(UTC).isoformat(timespec="seconds")
    problems: list[Issue] = []
    os_info = OsInfo(system="unknown")
    cpu = CpuInfo()
    memory = MemoryInfo()
    # Start the GPU child first: its interpreter boots (~0.1-0.3 s) while OS, RAM and CPU are
    # read here. It reads MemTotal itself, so it needs nothing from those readers.
    child: tuple[Any, Any] | Issue | None = None
    if isolate is None:
        try:
            isolate = nvml_may_load(platform.system())
        except Exception:  # noqa: BLE001 - boundary: when in doubt, isolate
            isolate = True
    if isolate:
        try:
            child = _start_child(platform.system(), None, _child)
        except Exception as exc:  # noqa: BLE001 - boundary
            child = _boundary("gpu", exc)
    # Each reader is its own boundary: a bug in one must leave the others' results standing.
    try:
        from llmcheck.probe.platform_info import probe_os

        os_info, found = probe_os()
        problems.extend(found)
    except Exception as exc:  # noqa: BLE001 - boundary
        problems.append(_boundary("os", exc))
    try:
        from llmcheck.probe.memory import probe_memory

        memory, found = probe_memory(is_wsl=os_info.is_wsl)
        problems.extend(found)
    except Exception as exc:  # noqa: BLE001 - boundary
        problems.append(_boundary("memory", exc))
    try:
        from llmcheck.probe.cpu import probe_cpu

        cpu, found = probe_cpu(
            system=os_info.system if os_info.system != "unknown" else None,
            machine=os_info.machine,
        )
        problems.extend(found)
    except Exception as exc:  # noqa: BLE001 - boundary
        problems.append(_boundary("cpu", exc))
    gpus: tuple[GpuInfo, ...] = ()
    try:
        if child is None:
            got = _ChildAnswer(
                answer=probe_gpus(system=os_info.system, ram_total_bytes=memory.total_bytes)
            )
        elif isinstance(child, Issue):
            got = _ChildAnswer(answer=child)
        else:
            with _child_dies_on_signals(child[0]):
                got = _collect_child(*child, timeout_s, progress)
        if isinstance(got.answer, Issue):
            problems.append(got.answer)
            seen = _gpus_from_dicts({"gpus": list(got.seen)})[0] if got.seen else ()
            gpus, gpu_issues = unread_gpus(got.answer, seen, os_info.system, root)
        else:
            gpus, gpu_issues = _gpus_from_dicts(got.answer)
        gpus, gpu_issues = _order_gpus(gpus, gpu_issues)
        problems.extend(gpu_issues)
    except Exception as exc:  # noqa: BLE001 - boundary: GPUs unknown, CPU and RAM still reported
        problems.append(_boundary("gpu", exc))
    try:
        from llmcheck.probe.consistency import clamp_inconsistent

        gpus, memory, fixes = clamp_inconsistent(gpus, memory)
        problems.extend(fixes)
    except Exception as exc:  # noqa: BLE001 - boundary: a checker bug must not cost the machine
        problems.append(_boundary("gpu", exc))
    if os_info.system == "Darwin":
        apple = next((g for g in gpus if g.vendor is GpuVendor.APPLE), None)
        if apple is not None and apple.bandwidth_gb_s is not None:
            # Unified memory: the CPU reads the same LPDDR pool at (nearly) the chip's bandwidth.
            memory = dataclasses.replace(
                memory, bandwidth_gb_s=apple.bandwidth_gb_s, bandwidth_source=Source.TABLE
            )
    try:
        # After the GPUs: Apple's chip figure, when found, outranks the CPU class table.
        # This boot's cached measurement (the window measures after its first paint) is read
        # every time; a new measurement only with --measure-bandwidth (force).
        from llmcheck.probe.bandwidth import apply_bandwidth
        from llmcheck.probe.bandwidth_cache import cached_or_measured

        usable = memory.usable_bytes
        memory, found = apply_bandwidth(
            memory,
            cpu,
            system=os_info.system,
            measure=lambda: cached_or_measured(
                cpu_brand=cpu.brand,
                logical_cores=cpu.logical_cores,
                force=measure_bandwidth,
                usable_bytes=usable,
            ),
        )
        problems.extend(found)
    except Exception as exc:  # noqa: BLE001 - boundary: bandwidth unknown, the rest stands
        problems.append(_boundary("bandwidth", exc))
    return SystemSnapshot(
        os=os_info,
        cpu=cpu,
        memory=memory,
        gpus=gpus,
        problems=tuple(problems),
        probed_at=probed_at,
        probe_seconds=round(time.perf_counter() - started, 4),
        source=Source.MEASURED,
    )


def gpu_probe_timeout_s(environ: Mapping[str, str]) -> float:
    """The GPU probe's time limit: ``LLMCHECK_GPU_PROBE_TIMEOUT_S`` (0.1-600 s), else 20 s."""
    text = environ.get("LLMCHECK_GPU_PROBE_TIMEOUT_S", "")
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_GPU_PROBE_TIMEOUT_S
    return value if 0.1 <= value <= 600 else DEFAULT_GPU_PROBE_TIMEOUT_S


def _boundary(part: str, exc: BaseException) -> Issue:
    return Issue(
        source=SOURCE,
        code=f"{part}_probe_failed",
        message=f"Reading the {part} failed: {type(exc).__name__}: {exc}",
        hint="Please report this with the output of llmcheck --json.",
    )
