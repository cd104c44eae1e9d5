"""The robust bandwidth measurement: rounds, load per round, busy verdict, bounds.

The copier, the clocks and the CPU-time reader are fakes passed through the seams of
:func:`measure_bandwidth`; the rounds, the sizing, the judging and the result are the real code.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from llmcheck.probe.bandwidth_measure import (
    DISTURBED_FRACTION,
    MEASURE_HARD_LIMIT_SECONDS,
    CopyPool,
    CpuSample,
    MeasurePlan,
    measure_bandwidth,
    parse_proc_stat,
    read_cpu_sample,
    round_disturbance,
)

MiB = 2**20
PLAN = MeasurePlan(threads=2, buffer_bytes=64 * MiB)
BYTES_PER_COPY = 2 * 2 * 64 * MiB  # read + written, two threads


class FakeClock:
    """A perf_counter that moves only when the fake copier copies."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakePool:
    """Copies at scripted rates (GB/s per call, the first being the untimed warm-up)."""

    def __init__(self, clock: FakeClock, rates_gb_s: list[float]) -> None:
        self.clock = clock
        self.rates = iter(rates_gb_s)
        self.calls: list[int] = []
        self.closed = False

    def copy(self, repeats: int) -> None:
        self.calls.append(repeats)
        self.clock.now += BYTES_PER_COPY * repeats / (next(self.rates) * 1e9)

    def close(self) -> None:
        self.closed = True


class FakeLoad:
    """CPU-time samples: each round's share of other processes and steal, scripted.

    A 2-CPU machine at 100 ticks/s: the time between two samples is read off the fake clock, this
    process gets the rest.
    """

    def __init__(self, clock: FakeClock, others: list[float], steal: float = 0.0) -> None:
        self.clock = clock
        self.others = iter(others)
        self.busy = self.steal = self.total = self.own = 0
        self.last = clock.now
        self.share = 0.0
        self.steal_share = steal
        self.calls = 0

    def __call__(self) -> CpuSample:
        self.calls += 1
        ticks = round((self.clock.now - self.last) * 100 * 2)
        self.last = self.clock.now
        if ticks:
            others = round(ticks * self.share)
            steal = round(ticks * self.steal_share)
            self.total += ticks
            self.steal += steal
            self.busy += ticks - steal  # every CPU busy: this process and the others
            self.own += ticks - steal - others
        if self.calls % 2 == 1:  # a "before" sample: the next round's load
            self.share = next(self.others, 0.0)
        return CpuSample(
            busy_ticks=self.busy, steal_ticks=self.steal, total_ticks=self.total, own_ticks=self.own
        )


def run(
    rates: list[float],
    others: list[float] | None,
    *,
    loadavg: float | None = None,
    steal: float = 0.0,
    rounds: int = 5,
) -> tuple[object, FakePool]:
    clock = FakeClock()
    pool = FakePool(clock, rates)
    load = FakeLoad(clock, others, steal) if others is not None else (lambda: None)
    result = measure_bandwidth(
        plan=PLAN,
        rounds=rounds,
        pool_factory=lambda plan: pool,
        sample_load=load,
        loadavg=lambda: loadavg,
        clock=clock,
        wall_clock=lambda: 1_700_000_000.0,
    )
    return result, pool


def test_the_answer_is_rounded_from_the_round_as_reported() -> None:
    """56.849 is reported as the round 56.85, so the answer is 56.9, never 56.8 beside it."""
    result, _ = run([20.0, 50.82, 56.849, 55.31, 54.67, 50.0], [0.0] * 5)
    assert max(result.rounds_gb_s) == 56.85
    assert result.copy_gb_s == 56.9


def test_quiet_rounds_are_all_kept_and_the_best_wins() -> None:
    result, pool = run([20.0, 30.0, 34.0, 38.0, 35.0, 36.0], [0.0] * 5)
    assert result.copy_gb_s == 38.0
    assert (result.rounds_total, result.rounds_kept, result.busy) == (5, 5, False)
    assert result.load_known
    assert result.summary == "38.0 GB/s, best of 5 quiet rounds of 5"
    assert result.measured_at_unix_s == 1_700_000_000.0
    assert pool.closed
    # The warm-up sizes the rounds: ~1.2 s left over 5 rounds at 0.027 s per copy -> 8 copies.
    assert pool.calls[0] == 1
    assert len(set(pool.calls[1:])) == 1
    assert pool.calls[1] > 1


def test_a_round_under_load_is_discarded_even_when_fastest() -> None:
    """The best round must be a quiet one: a round measured under load says nothing."""
    result, _ = run([20.0, 30.0, 45.0, 34.0, 33.0, 31.0], [0.0, 0.5, 0.0, 0.0, 0.0])
    assert result.copy_gb_s == 34.0
    assert (result.rounds_total, result.rounds_kept, result.busy) == (5, 4, False)
    assert result.worst_disturbance is not None
    assert result.worst_disturbance > DISTURBED_FRACTION


def test_every_round_under_load_is_too_busy_with_a_lower_bound() -> None:
    result, _ = run([8.0, 9.8, 12.0, 36.0, 11.0, 10.0], [0.6, 0.7, 0.5, 0.8, 0.9])
    assert result.busy
    assert result.rounds_kept == 0
    assert result.copy_gb_s == 36.0  # the best of all: a lower bound, flagged
    assert result.summary.startswith("too busy: 5 of 5 rounds under load")


def test_one_quiet_round_of_five_is_not_enough() -> None:
    result, _ = run([20.0] * 6, [0.5, 0.5, 0.0, 0.5, 0.5])
    assert (result.rounds_kept, result.busy) == (1, True)


def test_steal_time_counts_as_load() -> None:
    """A VM whose host takes the CPUs back is as disturbed as one sharing them."""
    result, _ = run([20.0] * 6, [0.0] * 5, steal=0.3)
    assert result.busy
    assert result.steal_fraction == pytest.approx(0.3, abs=0.02)


@pytest.mark.parametrize(
    ("loadavg", "busy", "known"), [(0.2, False, True), (3.5, True, True), (None, False, False)]
)
def test_without_procfs_the_load_average_judges_the_whole_measurement(
    loadavg: float | None, busy: bool, known: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmcheck.probe.bandwidth_measure._cpu_count", lambda: 2)
    result, _ = run([20.0, 30.0, 31.0, 32.0, 33.0, 34.0], None, loadavg=loadavg)
    assert (result.busy, result.load_known) == (busy, known)
    assert result.rounds_kept == (0 if busy else 5)
    assert result.copy_gb_s == 34.0
    assert ("could not be read" in result.summary) == (not known)


def test_a_slow_machine_stops_at_the_hard_limit_with_one_round_at_least() -> None:
    # 0.4 GB/s: one copy of 256 MiB takes 0.67 s; the warm-up eats the whole budget.
    result, pool = run([0.4] * 6, [0.0] * 5)
    assert result.rounds_total == 1
    assert pool.calls == [1, 1]
    assert result.seconds <= MEASURE_HARD_LIMIT_SECONDS + 0.7
    assert not result.busy  # one quiet round of the one taken


def test_a_clock_that_never_advances_raises_and_frees_the_threads() -> None:
    class Stuck:
        closed = False

        def copy(self, repeats: int) -> None:
            pass

        def close(self) -> None:
            Stuck.closed = True

    with pytest.raises(RuntimeError, match="no copy round"):
        measure_bandwidth(
            plan=PLAN,
            pool_factory=lambda p: Stuck(),
            sample_load=lambda: None,
            loadavg=lambda: None,
            clock=lambda: 5.0,
        )
    assert Stuck.closed


def test_a_copier_that_fails_still_closes() -> None:
    class Broken(FakePool):
        def copy(self, repeats: int) -> None:
            raise MemoryError("no room")

    pool = Broken(FakeClock(), [])
    with pytest.raises(MemoryError):
        measure_bandwidth(plan=PLAN, pool_factory=lambda p: pool, sample_load=lambda: None)
    assert pool.closed


# --- reading the load -------------------------------------------------------------------------

PROC_STAT = (
    "cpu  42784 48294 11998 14614 214 0 197 686 0 0\n"
    "cpu0 21000 24000 6000 7000 100 0 100 300 0 0\n"
    "intr 1 2 3\n"
)
# A comm with a space and a parenthesis: fields are counted after the last ")".
SELF_STAT = "4242 (py thon) x) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 40 0 0 20 0 3 0 1 2 3\n"


def test_proc_stat_parses_busy_steal_total_and_own_time() -> None:
    sample = parse_proc_stat(PROC_STAT, SELF_STAT)
    assert sample == CpuSample(
        busy_ticks=42784 + 48294 + 11998 + 0 + 197,
        steal_ticks=686,
        total_ticks=42784 + 48294 + 11998 + 14614 + 214 + 197 + 686,
        own_ticks=290,
    )


@pytest.mark.parametrize(
    ("stat", "self_stat"),
    [
        ("", SELF_STAT),
        ("cpu  1 2 x 4\n", SELF_STAT),
        (PROC_STAT, "4242 (py"),
        (PROC_STAT, "4242 (p) R 1 2"),
        ("cpu  1 2\n", SELF_STAT),
    ],
)
def test_garbled_proc_stat_is_none(stat: str, self_stat: str) -> None:
    assert parse_proc_stat(stat, self_stat) is None


def test_old_kernels_without_steal_columns_read_as_no_steal() -> None:
    sample = parse_proc_stat("cpu  10 0 5 85\n", SELF_STAT)
    assert sample is not None
    assert (sample.steal_ticks, sample.total_ticks) == (0, 100)


def test_disturbance_subtracts_this_process_and_adds_steal() -> None:
    before = CpuSample(busy_ticks=100, steal_ticks=10, total_ticks=400, own_ticks=50)
    after = CpuSample(busy_ticks=180, steal_ticks=14, total_ticks=440, own_ticks=110)
    # 40 ticks: own 60 of busy 80 -> others 20; steal 4 -> 24 / 40.
    assert round_disturbance(before, after) == (pytest.approx(0.6), pytest.approx(0.1))
    assert round_disturbance(after, after) is None


def test_procfs_reader_on_a_recorded_tree_and_without_one(tmp_path: Path) -> None:
    root = tmp_path
    (root / "self").mkdir()
    (root / "stat").write_text(PROC_STAT)
    (root / "self" / "stat").write_text(SELF_STAT)
    assert read_cpu_sample(root) == parse_proc_stat(PROC_STAT, SELF_STAT)
    assert read_cpu_sample(root / "missing") is None


# --- the real copier, briefly -----------------------------------------------------------------


def test_real_copy_pool_copies_and_stops() -> None:
    pool = CopyPool(MeasurePlan(threads=2, buffer_bytes=2 * MiB))
    try:
        pool.copy(2)
        pool.copy(1)
    finally:
        pool.close()
    pool.close()  # twice is harmless


def test_real_measurement_is_bounded() -> None:
    result = measure_bandwidth(
        plan=MeasurePlan(threads=2, buffer_bytes=4 * MiB), seconds_budget=0.05
    )
    assert math.isfinite(result.copy_gb_s)
    assert result.copy_gb_s > 0
    assert 1 <= result.rounds_total <= 5
    assert 0 <= result.rounds_kept <= result.rounds_total
