"""Issue #6 fault matrix: each probe source x each failure it can have (cases in ``cases.py``).

For every case: nothing raises; the fault leaves a problem record with a stable code, a message
and a hint; the other sources are still reported; and where the fault made a budget unknown the
estimator answers "unknown" for that device instead of a number it did not read.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from llmcheck.catalog import ModelVariant, load_catalog
from llmcheck.estimate import RunConfig, Verdict, budgets, estimate
from llmcheck.snapshot import SystemSnapshot
from tests.faults.cases import FaultCase, Outcome, all_cases

CASES = all_cases()
CODE = re.compile(r"[a-z][a-z0-9_]*")


@cache
def _variant() -> ModelVariant:
    return next(v for v in load_catalog().variants if v.id == "lfm2-350m")


def _param(case: FaultCase) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
    return pytest.param(case, id=case.id, marks=marks)


def check_outcome(outcome: Outcome) -> None:
    """The promises of issue #6 for one faulted machine (raises AssertionError when broken)."""
    snap = outcome.snapshot
    assert isinstance(snap, SystemSnapshot)
    for issue in snap.problems:
        assert CODE.fullmatch(issue.code), f"unstable code {issue.code!r}"
        assert issue.message.strip(), f"{issue.code}: empty message"
        assert "Traceback" not in issue.message
    if outcome.codes:
        found = [i for i in snap.problems if i.code in outcome.codes]
        assert found, (
            f"expected one of {sorted(outcome.codes)}, got {[i.code for i in snap.problems]}"
        )
        assert all(i.hint.strip() for i in found), f"{found[0].code}: no hint for the user"
    # The other sources are still reported.
    assert len(snap.gpus) >= outcome.gpus_at_least, f"GPUs lost: {snap.gpus}"
    if outcome.ram_known:
        assert snap.memory.total_bytes is not None, "RAM lost to a fault elsewhere"
    # Never a guess: a verdict other than unknown rests on budgets that were read.
    variant = _variant()
    known = {b.device: b.budget_bytes for b in budgets(snap)}
    devices = ["auto", "cpu", *(f"gpu:{g.index}" for g in snap.gpus)]
    for device in devices:
        fit = estimate(variant, "Q4_K_M", RunConfig(device=device), snap)
        if fit.verdict is not Verdict.UNKNOWN:
            for use in fit.devices:
                assert use.budget_bytes is not None, f"{device}: verdict on unknown {use.device}"
        if device in outcome.unknown_devices:
            assert fit.verdict is Verdict.UNKNOWN, (
                f"{device}: budget unknown ({known}) but the verdict is {fit.verdict}"
            )


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_fault_is_survived(case: FaultCase) -> None:
    """One source fails one way; llmcheck reports it and keeps the rest honest."""
    check_outcome(case.build())


def test_matrix_covers_every_source() -> None:
    """Each probe source named in issue #6 has cases (so the README table has its row)."""
    sources = {c.source.split()[0] for c in CASES}
    for needed in (
        "NVML",
        "sysfs",
        "sysctl",
        "registry",
        "cgroup",
        "/proc/meminfo",
        "psutil",
        "/proc/cpuinfo",
        "GPU",
    ):
        assert needed in sources, needed
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


def test_unknown_device_check_can_fail() -> None:
    """The checker itself rejects a machine whose unknown budget still gets a verdict."""
    from tests.faults.cases import machine

    snap = machine()  # RAM known: the CPU verdict is a real one
    with pytest.raises(AssertionError, match="budget unknown"):
        check_outcome(Outcome(snapshot=snap, unknown_devices=("cpu",)))
    with pytest.raises(AssertionError, match="expected one of"):
        check_outcome(Outcome(snapshot=snap, codes=frozenset({"nvml_gpu_lost"})))
