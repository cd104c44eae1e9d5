"""Measure this machine's RAM copy bandwidth, robustly: short rounds, the quiet ones kept.

Threads copy large buffers with ``ctypes.memmove`` (a foreign call, so the GIL is released and
N threads keep N cores copying). One copy of B bytes counts 2 x B (read + written), as STREAM's
"Copy" does. A measurement is a few short rounds; around each round the CPU time of the whole
machine is read (Linux ``/proc/stat``: busy and steal time, less this process's own from
``/proc/self/stat``), and a round during which other processes or the hypervisor took more than
:data:`DISTURBED_FRACTION` of the CPUs is discarded. The best kept round is the answer: the least
disturbed one. When too few rounds were quiet the result says so (``busy``), with the best
round of all as a lower bound. Elsewhere the 1-minute load average (``os.getloadavg``) judges
the whole measurement; where neither exists (Windows) every round is kept and
``load_known`` is False.

Bounded: at most min(1 GiB, usable RAM / 8) of buffers and about :data:`MEASURE_SECONDS` of wall
time (allocation included, hard stop at :data:`MEASURE_HARD_LIMIT_SECONDS`).

Seams for tests (fakes below the real code): ``pool_factory`` (the copier: a fake one advances a
fake clock), ``clock`` / ``wall_clock``, and ``sample_load`` (the CPU-time reader).
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = [
    "DISTURBED_FRACTION",
    "BandwidthMeasurement",
    "CopyPool",
    "CpuSample",
    "MeasurePlan",
    "Measurement",
    "measure_bandwidth",
    "parse_proc_stat",
    "plan_measurement",
    "read_cpu_sample",
    "round_disturbance",
    "run_measurement",
]

GB = 1e9
MIB = 1 << 20
GIB = 1 << 30

MEASURE_MAX_BYTES = GIB  # never more than this ...
MEASURE_RAM_FRACTION = 8  # ... nor more than 1/8 of the usable RAM
# Each buffer should dwarf the caches: 64 MiB per buffer, at least 2 MiB (total >> any L3 is
# what matters: at the 1 GiB cap the set is 2.7x a 384 MiB EPYC 9654 L3).
MEASURE_BUFFER_MAX_BYTES = 64 * MIB
MEASURE_BUFFER_MIN_BYTES = 2 * MIB
MEASURE_MAX_THREADS = 64
# Rounds and time: five rounds of ~0.2 s after the untimed first copy. At the kernel's 100 Hz
# tick a 0.2 s round on 2 CPUs spans ~40 ticks, so one stray tick is 2.5 %: fine enough to
# tell a quiet round from one that shared the CPUs with a compiler.
MEASURE_ROUNDS = 5
MEASURE_SECONDS = 1.2
MEASURE_HARD_LIMIT_SECONDS = 1.5
# A round is disturbed when other processes (busy) plus the hypervisor (steal) took more than this
# share of all CPUs while it ran. Each copying thread needs its core and the memory bus; another
# busy core takes bus bandwidth too.
DISTURBED_FRACTION = 0.15
# Without /proc/stat: the whole measurement is judged by the 1-minute load average per CPU.
LOADAVG_BUSY_PER_CPU = 0.5
# Fewer quiet rounds than this (or than the rounds taken, when fewer) and the result is "busy".
MIN_ROUNDS_KEPT = 2


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MeasurePlan:
    """How a measurement will run: threads, and one source + one destination buffer each."""

    threads: int
    buffer_bytes: int  # per buffer; each thread has two

    @property
    def total_bytes(self) -> int:
        """All buffers together (the memory the measurement holds)."""
        return 2 * self.threads * self.buffer_bytes


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """A single-shot result (:func:`run_measurement`): best round, every round, the plan."""

    gb_s: float
    rounds_gb_s: tuple[float, ...]
    plan: MeasurePlan
    seconds: float


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthMeasurement:
    """A robust measurement (:func:`measure_bandwidth`): the best quiet round and how it went.

    ``copy_gb_s`` is the best kept round (bytes read + written per second, 10^9); when ``busy``
    it is the best of all rounds, a lower bound. ``worst_disturbance`` is the largest share of
    the CPUs other processes and steal took during any round (None: not known).
    """

    copy_gb_s: float
    rounds_gb_s: tuple[float, ...]
    rounds_total: int
    rounds_kept: int
    busy: bool
    load_known: bool
    worst_disturbance: float | None
    steal_fraction: float | None  # steal time over all rounds, share of the CPUs
    load_1m: float | None  # the 1-minute load average before measuring
    threads: int
    buffer_bytes: int
    seconds: float
    measured_at_unix_s: float

    @property
    def rounds_under_load(self) -> int:
        """Rounds discarded because the machine was busy while they ran."""
        return self.rounds_total - self.rounds_kept

    @property
    def summary(self) -> str:
        """One line: ``"38.2 GB/s, best of 4 quiet rounds of 5"`` or ``"too busy: ..."``."""
        if self.busy:
            return (
                f"too busy: {self.rounds_under_load} of {self.rounds_total} rounds under"
                f" load (best {self.copy_gb_s:.1f} GB/s, a lower bound)"
            )
        if not self.load_known:
            return (
                f"{self.copy_gb_s:.1f} GB/s, best of {self.rounds_total} rounds"
                " (the machine's load could not be read)"
            )
        return (
            f"{self.copy_gb_s:.1f} GB/s, best of {self.rounds_kept} quiet rounds of"
            f" {self.rounds_total}"
        )


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def plan_measurement(*, threads: int | None = None, usable_bytes: int | None = None) -> MeasurePlan:
    """Threads (the CPUs this process may use) and a buffer size within the memory cap.

    The cap is min(1 GiB, usable RAM / 8); with RAM unknown, 256 MiB.
    """
    n = max(1, min(threads or _cpu_count(), MEASURE_MAX_THREADS))
    cap = (
        MEASURE_MAX_BYTES
        if usable_bytes is None
        else min(MEASURE_MAX_BYTES, usable_bytes // MEASURE_RAM_FRACTION)
    )
    if usable_bytes is None:
        cap = min(cap, 256 * MIB)
    per_buffer = min(MEASURE_BUFFER_MAX_BYTES, cap // (2 * n))
    per_buffer -= per_buffer % 4096
    if per_buffer < MEASURE_BUFFER_MIN_BYTES:
        # Too little room for every thread: fewer threads, each still past the caches.
        n = max(1, cap // (2 * MEASURE_BUFFER_MIN_BYTES))
        per_buffer = max(4096, min(MEASURE_BUFFER_MIN_BYTES, cap // (2 * n)) // 4096 * 4096)
    return MeasurePlan(threads=n, buffer_bytes=per_buffer)


# --- the copier --------------------------------------------------------------------------------


class Pool(Protocol):
    """What :func:`measure_bandwidth` needs of a copier (tests pass a fake one)."""

    def copy(self, repeats: int) -> None:
        """Every thread copies its buffer ``repeats`` times; returns when all are done."""

    def close(self) -> None:
        """Stop the threads and free the buffers."""


class CopyPool:
    """``plan.threads`` threads, each with a source and a destination buffer, copying on demand.

    Raises MemoryError (from the constructor) when the buffers cannot be allocated.
    """

    def __init__(self, plan: MeasurePlan) -> None:
        n, size = plan.threads, plan.buffer_bytes
        self._size = size
        # bytearray memory comes from calloc: untouched pages until the first copy faults them in.
        self._buffers = [(bytearray(size), bytearray(size)) for _ in range(n)]
        for _, src in self._buffers:
            # Untouched calloc pages all map the kernel's one zero page: reading them would hit
            # the cache. Writing a byte per page gives every source page its own frame.
            src[::4096] = b"\x01" * len(range(0, size, 4096))
        addresses = [
            (
                ctypes.addressof((ctypes.c_char * size).from_buffer(dst)),
                ctypes.addressof((ctypes.c_char * size).from_buffer(src)),
            )
            for dst, src in self._buffers
        ]
        self._repeats = 1
        self._stop = False
        self._start = threading.Barrier(n + 1)
        self._done = threading.Barrier(n + 1)
        self._threads = [
            threading.Thread(target=self._work, args=a, daemon=True) for a in addresses
        ]
        for t in self._threads:
            t.start()

    def _work(self, dst: int, src: int) -> None:
        memmove = ctypes.memmove  # a CFUNCTYPE call: the GIL is released while it copies
        while True:
            self._start.wait()
            if self._stop:
                return
            for _ in range(self._repeats):
                memmove(dst, src, self._size)
            self._done.wait()

    def copy(self, repeats: int) -> None:
        """Every thread copies its buffer ``repeats`` times; returns when all are done."""
        self._repeats = repeats
        self._start.wait()
        self._done.wait()

    def close(self) -> None:
        """Stop the threads and drop the buffers."""
        if not self._stop:
            self._stop = True
            self._start.wait()
            for t in self._threads:
                t.join()
        self._buffers = []


# --- how busy the machine is --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CpuSample:
    """Cumulative CPU time in clock ticks: the whole machine, and this process."""

    busy_ticks: int  # user + nice + system + irq + softirq, every CPU (guest is inside user)
    steal_ticks: int
    total_ticks: int  # everything, idle and iowait included
    own_ticks: int  # this process: utime + stime, every thread


def parse_proc_stat(stat: str, self_stat: str) -> CpuSample | None:
    """``/proc/stat`` (its ``cpu`` line) and ``/proc/self/stat``; None when either is garbled.

    Field order from proc(5): ``cpu user nice system idle iowait irq softirq steal guest
    guest_nice``; in ``/proc/<pid>/stat`` utime and stime are fields 14 and 15, counted after
    the ``(comm)`` that may itself hold spaces and parentheses.
    """
    line = next((x for x in stat.splitlines() if x.startswith("cpu ")), None)
    try:
        if line is None:
            return None
        values = [int(v) for v in line.split()[1:]]
        user, nice, system, idle = values[:4]
        iowait, irq, softirq, steal = [*values[4:8], 0, 0, 0, 0][:4]
        fields = self_stat.rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
        own = int(fields[11]) + int(fields[12])
    except (ValueError, IndexError):
        return None
    busy = user + nice + system + irq + softirq
    return CpuSample(
        busy_ticks=busy, steal_ticks=steal, total_ticks=busy + idle + iowait + steal, own_ticks=own
    )


def read_cpu_sample(proc: Path = Path("/proc")) -> CpuSample | None:
    """The machine's and this process's CPU time from procfs; None where there is no procfs."""
    try:
        stat = (proc / "stat").read_text(encoding="ascii", errors="replace")
        self_stat = (proc / "self" / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_proc_stat(stat, self_stat)


def round_disturbance(before: CpuSample, after: CpuSample) -> tuple[float, float] | None:
    """(others + steal, steal) as shares of all CPU time between two samples; None if no time.

    Others = the machine's busy time less this process's own (its copying threads).
    """
    total = after.total_ticks - before.total_ticks
    if total <= 0:
        return None
    steal = max(0, after.steal_ticks - before.steal_ticks)
    others = max(0, (after.busy_ticks - before.busy_ticks) - (after.own_ticks - before.own_ticks))
    return min(1.0, (others + steal) / total), min(1.0, steal / total)


# os.getloadavg exists on Unix only; a module-level platform check is one mypy reads.
if sys.platform == "win32":

    def _loadavg() -> float | None:
        return None  # Windows has no load average

else:

    def _loadavg() -> float | None:
        try:
            return float(os.getloadavg()[0])
        except OSError:
            return None


# --- the measurement ---------------------------------------------------------------------------


def measure_bandwidth(
    *,
    usable_bytes: int | None = None,
    threads: int | None = None,
    plan: MeasurePlan | None = None,
    rounds: int = MEASURE_ROUNDS,
    seconds_budget: float = MEASURE_SECONDS,
    hard_limit_s: float = MEASURE_HARD_LIMIT_SECONDS,
    pool_factory: Callable[[MeasurePlan], Pool] = CopyPool,
    sample_load: Callable[[], CpuSample | None] = read_cpu_sample,
    loadavg: Callable[[], float | None] = _loadavg,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.time,
) -> BandwidthMeasurement:
    """Copy bandwidth of this machine in GB/s: the best of a few quiet rounds.

    ``usable_bytes`` sizes the buffers (min(1 GiB, usable / 8)); ``plan`` overrides the sizing.
    Takes about ``seconds_budget``; starts no round that would end past ``hard_limit_s`` unless
    none was timed yet.

    Raises:
        MemoryError: the buffers could not be allocated.
        RuntimeError: no round could be timed (a clock that does not advance).
    """
    plan = plan or plan_measurement(threads=threads, usable_bytes=usable_bytes)
    started = clock()
    measured_at = wall_clock()
    load_1m = loadavg()
    pool = pool_factory(plan)
    moved_per_copy = 2 * plan.buffer_bytes * plan.threads
    results: list[tuple[float, float | None]] = []  # (GB/s, share others + steal took)
    steal_ticks = total_ticks = 0
    try:
        t0 = clock()
        pool.copy(1)  # untimed: faults the destination pages in, sizes the rounds
        first = max(clock() - t0, 1e-6)
        left = max(0.0, seconds_budget - (clock() - started))
        repeats = max(1, min(64, int(left / rounds / first)))
        hard_limit = max(seconds_budget, hard_limit_s)
        for _ in range(rounds):
            expected = repeats * first
            if results and clock() - started + expected > hard_limit:
                break
            before = sample_load()
            t0 = clock()
            pool.copy(repeats)
            elapsed = clock() - t0
            after = sample_load()
            judged = round_disturbance(before, after) if before and after else None
            if before and after:
                steal_ticks += max(0, after.steal_ticks - before.steal_ticks)
                total_ticks += max(0, after.total_ticks - before.total_ticks)
            if elapsed > 0:
                results.append(
                    (moved_per_copy * repeats / elapsed / GB, judged[0] if judged else None)
                )
    finally:
        pool.close()
    results = [(r, d) for r, d in results if math.isfinite(r) and r > 0]
    rates = [r for r, _ in results]
    if not rates:
        raise RuntimeError("no copy round could be timed")
    per_round = [d for _, d in results]
    if all(d is not None for d in per_round):
        load_known = True
        kept = [r for r, d in results if d is not None and d <= DISTURBED_FRACTION]
        worst = max(d for d in per_round if d is not None)
    elif load_1m is not None:
        # No per-round reading: the load average (which counts this process's threads only
        # after the fact) judges every round at once.
        load_known = True
        quiet = load_1m <= LOADAVG_BUSY_PER_CPU * _cpu_count()
        kept = rates if quiet else []
        worst = None
    else:
        load_known, kept, worst = False, rates, None
    busy = len(kept) < min(MIN_ROUNDS_KEPT, len(rates))
    best = max(kept) if kept and not busy else max(rates)
    # The answer is rounded from the round as reported (2 decimals), so a reader who sees the
    # rounds finds the answer among them: 56.849 -> 56.85 -> 56.9, never 56.8 beside 56.85.
    return BandwidthMeasurement(
        copy_gb_s=round(round(best, 2), 1),
        rounds_gb_s=tuple(round(r, 2) for r in rates),
        rounds_total=len(rates),
        rounds_kept=len(kept),
        busy=busy,
        load_known=load_known,
        worst_disturbance=None if worst is None else round(worst, 3),
        steal_fraction=round(steal_ticks / total_ticks, 3) if total_ticks else None,
        load_1m=load_1m,
        threads=plan.threads,
        buffer_bytes=plan.buffer_bytes,
        seconds=round(clock() - started, 3),
        measured_at_unix_s=round(measured_at, 3),
    )


def run_measurement(plan: MeasurePlan, *, seconds_budget: float = 0.3) -> Measurement:
    """The old single shot: best of a few rounds within ``seconds_budget``, load not checked.

    Kept for the noise benchmark (benchmarks/bandwidth_noise.py compares it with
    :func:`measure_bandwidth`).

    Raises:
        MemoryError: the buffers could not be allocated.
        RuntimeError: no round could be timed.
    """
    started = time.perf_counter()
    result = measure_bandwidth(
        plan=plan,
        rounds=4,
        seconds_budget=seconds_budget,
        hard_limit_s=seconds_budget,
        sample_load=lambda: None,
        loadavg=lambda: None,
    )
    return Measurement(
        gb_s=result.copy_gb_s,
        rounds_gb_s=result.rounds_gb_s,
        plan=plan,
        seconds=round(time.perf_counter() - started, 3),
    )
