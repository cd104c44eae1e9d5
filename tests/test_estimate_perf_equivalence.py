"""The fast paths of the estimator give exactly what the plain algorithms gave.

``max_context`` guesses the context from the plans' shapes and checks the step above the guess
with the full verdict (``estimate`` also bounds the search by the asked context's verdict);
``_layer_split`` walks its devices once. Both are compared with the straightforward versions they
replaced (bisection on the verdict; a scan per layer), on hand-made and random machines near the
boundaries.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from llmcheck import estimate as est
from llmcheck.catalog import ModelVariant, load_catalog
from llmcheck.estimate import KvType, RunConfig, Verdict
from llmcheck.estimate.budget import _machine
from llmcheck.estimate.memory import CONTEXT_PAD_TOKENS
from llmcheck.estimate.placement import _judge, _layer_split
from llmcheck.snapshot import (
    CpuInfo,
    GpuInfo,
    GpuVendor,
    MemoryInfo,
    MemoryKind,
    OsInfo,
    SystemSnapshot,
)

GIB = 1 << 30
CATALOG = load_catalog()
PAIRS = [(v, q) for v in CATALOG.variants for q in v.quants]


def bisect_max_context(
    variant: ModelVariant, quant: str, config: RunConfig, machine: SystemSnapshot
) -> int | None:
    """The bisection max_context used before the direct solve (the reference)."""
    facts = _machine(machine)
    top = variant.gguf_context_tokens // CONTEXT_PAD_TOKENS

    def fits(k: int) -> bool:
        cfg = replace(config, context_tokens=k * CONTEXT_PAD_TOKENS)
        verdict = _judge(variant, quant, cfg, facts).verdict
        return verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT)

    if top < 1 or not fits(1):
        return None
    lo, hi = 1, top
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo * CONTEXT_PAD_TOKENS


def scan_layer_split(n_items: int, weights: list[int]) -> list[int]:
    """The per-item scan _layer_split replaced."""
    total = sum(weights)
    cum, acc = [], 0
    for w in weights:
        acc += w
        cum.append(acc / total)
    counts = [0] * len(weights)
    for i in range(n_items):
        f = i / n_items
        dev = next((k for k, c in enumerate(cum) if f < c), len(weights) - 1)
        counts[dev] += 1
    return counts


def gpu(
    index: int,
    free_gib: float | None,
    *,
    kind: MemoryKind = MemoryKind.DISCRETE,
    vendor: GpuVendor = GpuVendor.NVIDIA,
) -> GpuInfo:
    free = None if free_gib is None else int(free_gib * GIB)
    return GpuInfo(
        index=index,
        vendor=vendor,
        memory_kind=kind,
        total_bytes=None if free is None else free + GIB,
        free_bytes=free,
        bandwidth_gb_s=500.0,
    )


def box(ram_gib: float | None, *gpus: GpuInfo) -> SystemSnapshot:
    ram = None if ram_gib is None else int(ram_gib * GIB)
    return SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(
            total_bytes=None if ram is None else ram + GIB,
            available_bytes=ram,
            bandwidth_gb_s=60.0,
        ),
        gpus=tuple(gpus),
    )


MACHINES = [
    box(1.5),
    box(3.0),
    box(6.0),
    box(None),
    box(8.0, gpu(0, 2.0)),
    box(4.0, gpu(0, 6.0)),
    box(16.0, gpu(0, 1.2)),
    box(32.0, gpu(0, 3.0), gpu(1, 5.0)),
    box(32.0, gpu(0, None)),
    box(32.0, gpu(0, 4.0), gpu(1, None)),
    box(24.0, gpu(0, 20.0, kind=MemoryKind.UNIFIED)),
    box(6.0, gpu(0, 20.0, kind=MemoryKind.UNIFIED)),
]
CONFIGS = [
    RunConfig(),
    RunConfig(flash_attn=False),
    RunConfig(kv_type=KvType.Q4_0, parallel=4, ubatch=2048),
    RunConfig(device="cpu", mmap=False),
    RunConfig(device="gpu:1", ubatch=64),
]


def test_max_context_matches_bisection_on_hand_made_machines() -> None:
    """Every variant x quant, on machines where whole, split and CPU plans each decide."""
    for machine in MACHINES:
        for config in CONFIGS:
            for variant, quant in PAIRS[::3]:
                want = bisect_max_context(variant, quant, config, machine)
                got = est.max_context(variant, quant, config, machine)
                assert got == want, (variant.id, quant, config, machine.memory, machine.gpus)


def test_estimate_max_context_matches_bisection_on_hand_made_machines() -> None:
    """estimate() bounds the search with the asked context's verdict: the same answer."""
    for machine in MACHINES:
        for config in CONFIGS:
            for variant, quant in PAIRS[1::6]:
                want = bisect_max_context(variant, quant, config, machine)
                got = est.estimate(variant, quant, config, machine).max_context_tokens
                assert got == want, (variant.id, quant, config, machine.memory, machine.gpus)


def test_estimate_asked_at_the_boundary_keeps_the_largest_context() -> None:
    """Asked at the largest context, or one step above it, estimate() still finds it: the asked
    context's verdict is the tightest bound the search can get there."""
    checked = 0
    for machine in MACHINES:
        for config in CONFIGS[:2]:
            for variant, quant in PAIRS[::4]:
                want = bisect_max_context(variant, quant, config, machine)
                if want is None:
                    continue
                for asked in (want, want + CONTEXT_PAD_TOKENS):
                    if asked > variant.gguf_context_tokens:
                        continue
                    cfg = replace(config, context_tokens=asked)
                    got = est.estimate(variant, quant, cfg, machine).max_context_tokens
                    assert got == want, (variant.id, quant, cfg, machine.memory, machine.gpus)
                    checked += 1
    assert checked > 100


@settings(max_examples=60, deadline=None)
@given(
    pair=st.sampled_from(PAIRS),
    ram_gib=st.floats(0.2, 64.0),
    gpu_gib=st.one_of(st.none(), st.floats(0.1, 48.0)),
    second_gib=st.one_of(st.none(), st.floats(0.1, 48.0)),
    unified=st.booleans(),
    config=st.builds(
        RunConfig,
        context_tokens=st.integers(1, 128_000),
        kv_type=st.sampled_from(list(KvType)),
        flash_attn=st.just(True),
        parallel=st.integers(1, 8),
        ubatch=st.sampled_from([32, 256, 512, 1000, 4096]),
    ),
)
def test_max_context_matches_bisection_on_random_machines(
    pair: tuple[ModelVariant, str],
    ram_gib: float,
    gpu_gib: float | None,
    second_gib: float | None,
    unified: bool,
    config: RunConfig,
) -> None:
    variant, quant = pair
    gpus: list[GpuInfo] = []
    if gpu_gib is not None:
        kind = MemoryKind.UNIFIED if unified else MemoryKind.DISCRETE
        gpus.append(gpu(0, gpu_gib, kind=kind))
        if second_gib is not None and not unified:
            gpus.append(gpu(1, second_gib))
    machine = box(ram_gib, *gpus)
    want = bisect_max_context(variant, quant, config, machine)
    assert est.max_context(variant, quant, config, machine) == want
    assert est.estimate(variant, quant, config, machine).max_context_tokens == want


@given(
    n_items=st.integers(0, 64), weights=st.lists(st.integers(1, 1 << 40), min_size=1, max_size=6)
)
def test_layer_split_matches_the_scan(n_items: int, weights: list[int]) -> None:
    assert _layer_split(n_items, weights) == scan_layer_split(n_items, weights)


def test_estimate_all_equals_estimate_per_pair() -> None:
    """estimate_all reads the machine once; the answers are estimate()'s, pair by pair."""
    machine = MACHINES[7]
    config = RunConfig(context_tokens=8192)
    fits = est.estimate_all(CATALOG, machine, config)
    assert fits == tuple(est.estimate(v, q, config, machine) for v, q in PAIRS)
