"""Where llama.cpp puts the layers of a model on a machine, and the verdict for it.

Candidate placements (one accelerator holds every layer, several GPUs of one backend split by
layer, a partial offload, the CPU alone) are priced term by term and judged against the devices'
budgets.

VERDICT_RULES
=============
Per device, ``need`` is the sum of the terms placed there and ``budget`` is what the device may
still allocate (free VRAM, Apple's working-set cap, usable RAM; see :func:`budgets`).

* fits with margin: ``need + margin <= budget``. The margin is ``GREAT_MARGIN_BYTES`` (1024 MiB:
  llama.cpp's own ``--fit`` keeps that much free per device, ``fit_params_target`` in
  ``common/fit.cpp``), and for RAM-backed budgets (CPU, unified memory) at least
  ``GREAT_MARGIN_RAM_FRACTION`` of the budget, because available RAM moves with other programs.
* fits: ``need <= budget``.

``runs_great``: the whole model (weights, KV, state, compute) fits with margin on the fastest memory
the machine has: one GPU / unified device, or several GPUs of one backend split by layer (llama.cpp
``--split-mode layer``), or the CPU when the machine has no usable GPU.
``tight``: it fits, but only without the margin, or only by splitting layers between a GPU and the
CPU (``-ngl`` below all layers), or only on the CPU while a GPU exists.
``wont_fit``: no placement fits. ``unknown``: a budget the answer depends on was not read (never a
guess): the RAM budget, or a GPU's free memory when the model does not run great elsewhere.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from llmcheck import calibration
from llmcheck.catalog import ModelVariant
from llmcheck.estimate.budget import _GREAT, _NO, _Candidates, _candidates, _level, _Machine
from llmcheck.estimate.memory import (
    ComputeRole,
    device_compute_bytes,
    kv_cache_bytes,
    output_bytes,
    overhead_bytes,
    recurrent_state_bytes,
)
from llmcheck.estimate.moe_offload import (
    decode_seconds_per_token,
    expert_offload_reads,
    layer_split_reads,
    moved_expert_bytes,
)
from llmcheck.estimate.types import DeviceBudget, MemoryTerms, Placement, RunConfig, Verdict
from llmcheck.estimate.weights import FLOAT_WEIGHT_QUANTS, _cpu_repack, _facts
from llmcheck.units import format_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """One candidate placement: the devices used and their terms."""

    placement: Placement
    uses: tuple[tuple[DeviceBudget, MemoryTerms, int], ...]  # budget, terms, layers
    gpu_layers: int
    level: int
    # Per use, what the context does not change: (bytes, attention layers, compute role).
    # max_context re-prices a plan at another context from these alone.
    shape: tuple[tuple[int, int, ComputeRole], ...] = ()
    # --n-cpu-moe N: every layer on the GPU but the routed experts of layers < N in RAM.
    n_cpu_moe: int = 0


def _layer_split(n_items: int, weights: Sequence[int]) -> list[int]:
    """llama.cpp's layer split: item i goes to the first device whose cumulative share exceeds
    i / n_items (tensor split proportional to free memory, --split-mode layer)."""
    if len(weights) == 1:
        return [n_items]
    total = sum(weights)
    cum, acc = [], 0
    for w in weights:
        acc += w
        cum.append(acc / total)
    counts = [0] * len(weights)
    last = len(weights) - 1
    dev = 0  # i / n_items grows with i, so the first device whose share exceeds it never goes back
    for i in range(n_items):
        f = i / n_items
        while dev < last and not f < cum[dev]:
            dev += 1
        counts[dev] += 1
    return counts


def _cublas(variant: ModelVariant, quant: str, config: RunConfig) -> bool:
    """Whether a CUDA run of this model loads cuBLAS (FA off, float weights, the MoE router)."""
    floats = quant in FLOAT_WEIGHT_QUANTS or variant.architecture.is_moe
    return calibration.uses_cublas(flash_attn=config.flash_attn, float_matmul_weights=floats)


def _terms_for_layers(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    first: int,
    stop: int,
    *,
    has_output: bool,
    budget: DeviceBudget,
    has_input: bool,
    role: ComputeRole,
    repack_mode: str = "none",
) -> tuple[MemoryTerms, tuple[int, int, ComputeRole]]:
    """The terms of one device that holds layers ``first..stop-1`` (and the output / input layer
    if asked), and the plan ``shape`` entry (bytes that do not grow with the context, attention
    layers, compute role).

    ``repack_mode`` other than "none" only for the CPU of a run without a GPU, which holds every
    tensor: the repacked copies go to ``repack_bytes`` and the layer tensors they replace leave
    ``weights_bytes`` (under mmap their file pages stay as ``mmap_cache_bytes``).
    """
    arch = variant.architecture
    facts = _facts(arch, quant, variant.quant_table)
    w = facts.weights
    weights = facts.layer_prefix[stop] - facts.layer_prefix[first]
    if has_output:
        weights += w.token_embd_bytes + w.output_norm_bytes
    if has_input and not has_output:
        weights += w.token_embd_bytes  # when the CPU holds both, the tied matrix loads once
    n_attn = facts.attn_prefix[stop] - facts.attn_prefix[first]
    n_conv = stop - first - n_attn
    kv = kv_cache_bytes(arch, config.context_tokens, config.kv_type, n_layers=n_attn)
    rs = recurrent_state_bytes(arch, config.parallel, n_layers=n_conv)
    compute = device_compute_bytes(arch, config, role)
    out = output_bytes(arch, config.parallel) if budget.kind == "cpu" else 0
    repacked = mmap_cache = 0
    if budget.kind == "cpu" and repack_mode != "none":
        rp = _cpu_repack(arch, quant, variant.quant_table, repack_mode)
        repacked = rp.total_bytes
        weights -= rp.source_layer_bytes
        mmap_cache = rp.source_layer_bytes if config.mmap else 0
    if budget.kind != "cpu" and variant.vision is not None and has_output:
        weights += variant.vision.size_bytes
    overhead = budget.overhead_bytes
    if budget.backend == "cuda":
        overhead = overhead_bytes("cuda", cublas=_cublas(variant, quant, config))
    terms = MemoryTerms(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        recurrent_state_bytes=rs,
        compute_bytes=compute,
        output_bytes=out,
        overhead_bytes=overhead,
        repack_bytes=repacked,
        mmap_cache_bytes=mmap_cache,
    )
    fixed = terms.total_bytes - kv - compute
    return terms, (fixed, n_attn, role)


def _plan_gpus(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: Sequence[DeviceBudget],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str = "none",
) -> _Plan:
    """:func:`_build_plan`, cached: the verdict and the context search of one fit ask for the
    same whole-offload and CPU plans (pure, frozen result)."""
    return _cached_plan(variant, quant, config, tuple(gpus), cpu, ngl, repack_mode)


@functools.lru_cache(maxsize=1024)
def _cached_plan(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: tuple[DeviceBudget, ...],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str,
) -> _Plan:
    return _build_plan(variant, quant, config, gpus, cpu, ngl, repack_mode)


def _build_plan(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: Sequence[DeviceBudget],
    cpu: DeviceBudget,
    ngl: int,
    repack_mode: str = "none",
) -> _Plan:
    """``-ngl ngl`` with the offloaded layers split over ``gpus`` by budget; the rest on the CPU.

    No ``gpus``: a run without a GPU (``-dev none``), whose CPU repacks per ``repack_mode``.
    ``ngl`` 0 with ``gpus``: ``-ngl 0`` with the first GPU visible, which llama.cpp still uses
    for the big matmuls (CUDA context and a compute buffer there, nothing repacked).
    """
    arch = variant.architecture
    n = arch.n_layer
    ngl = max(0, min(ngl, n + 1))
    start = n + 1 - ngl  # items start..n are offloaded; item n is the output layer
    cpu_stop = min(start, n)
    facts = _facts(arch, quant, variant.quant_table)
    cpu_attention = facts.attn_prefix[cpu_stop] > 0
    weights = [g.budget_bytes or 1 for g in gpus]
    counts = _layer_split(ngl, weights) if gpus else []
    uses: list[tuple[DeviceBudget, MemoryTerms, int]] = []
    shape: list[tuple[int, int, ComputeRole]] = []
    pos = start
    for i, (g, c) in enumerate(zip(gpus, counts, strict=True)):
        if not c and not (ngl == 0 and i == 0):
            continue
        first, end = pos, pos + c  # items first..end-1
        pos = end
        stop = min(end, n)
        role = ComputeRole(kind="gpu", cpu_layers=cpu_attention)
        if ngl == 0:
            first = stop = n  # no layer: the op-offload buffer only
            w = facts.weights
            role = ComputeRole(
                kind="gpu",
                cpu_layers=True,
                layers_on_gpu=False,
                output_weight_bytes=w.token_embd_bytes + w.output_norm_bytes,
            )
        terms, form = _terms_for_layers(
            variant,
            quant,
            config,
            first,
            stop,
            has_output=c > 0 and end > n,
            budget=g,
            has_input=False,
            role=role,
        )
        uses.append((g, terms, stop - first))
        shape.append(form)
    with_gpu = bool(uses)
    cpu_role = (
        ComputeRole(kind="host", cpu_layers=start > 0) if with_gpu else ComputeRole(kind="cpu")
    )
    cpu_terms, cpu_form = _terms_for_layers(
        variant,
        quant,
        config,
        0,
        cpu_stop,
        has_output=ngl == 0,
        budget=cpu,
        has_input=True,
        role=cpu_role,
        repack_mode="none" if with_gpu else repack_mode,
    )
    if ngl == 0 and variant.vision is not None:
        cpu_terms = replace(
            cpu_terms, weights_bytes=cpu_terms.weights_bytes + variant.vision.size_bytes
        )
        cpu_form = (cpu_form[0] + variant.vision.size_bytes, *cpu_form[1:])
    uses.append((cpu, cpu_terms, cpu_stop))
    shape.append(cpu_form)
    level = _GREAT
    for budget, terms, _ in uses:
        need = terms.total_bytes
        if budget.kind == "cpu":
            # A unified GPU draws from the same RAM as the host side.
            need += sum(t.total_bytes for b, t, _ in uses if b.kind == "unified")
        level = min(level, _level(need, budget))
    if ngl == 0:
        placement = Placement.CPU
    elif ngl < n + 1:
        placement = Placement.SPLIT
    elif any(g.kind == "unified" for g in gpus):
        placement = Placement.UNIFIED
    else:
        placement = Placement.GPU
    return _Plan(
        placement=placement, uses=tuple(uses), gpu_layers=ngl, level=level, shape=tuple(shape)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Judgement:
    verdict: Verdict
    plan: _Plan | None
    reason: str


def _whole_plans(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    c: _Candidates,
    mode: str,
    ngl: int | None = None,
) -> list[_Plan]:
    """``-ngl ngl`` (default: every layer) on one accelerator, or split by layer over several
    GPUs of one backend."""
    n_all = variant.architecture.n_layer + 1 if ngl is None else ngl
    plans = [_plan_gpus(variant, quant, config, [g], c.cpu, n_all, mode) for g in c.known]
    discrete = [g for g in c.known if g.kind == "gpu"]
    for backend in sorted({g.backend for g in discrete}):
        group = [g for g in discrete if g.backend == backend]
        if len(group) > 1 and n_all > 0:
            plans.append(_plan_gpus(variant, quant, config, group, c.cpu, n_all, mode))
    return plans


def _forced_plans(
    variant: ModelVariant, quant: str, config: RunConfig, c: _Candidates, mode: str
) -> list[_Plan]:
    """The plans of a config that pins ``-ngl`` (``config.gpu_layers``): on each known
    accelerator (or GPU group); ``-ngl 0`` keeps the first GPU visible; without a GPU, the CPU."""
    assert config.gpu_layers is not None
    if not c.known and not c.unknown:
        # No GPU to offload to: llama.cpp runs every layer on the CPU whatever -ngl says.
        return [_plan_gpus(variant, quant, config, [], c.cpu, 0, mode)]
    if config.gpu_layers == 0:
        return [_plan_gpus(variant, quant, config, c.known[:1], c.cpu, 0, mode)] if c.known else []
    return _whole_plans(variant, quant, config, c, mode, config.gpu_layers)


def _best(plans: list[_Plan]) -> _Plan | None:
    fitting = [p for p in plans if p.level > _NO]
    return max(fitting, key=lambda p: (p.level, _plan_bandwidth(p)), default=None)


def _judge_forced(
    variant: ModelVariant, quant: str, config: RunConfig, c: _Candidates, mode: str
) -> _Judgement:
    """The verdict for a pinned ``-ngl`` (VERDICT_RULES, with the placement given)."""
    plans = _forced_plans(variant, quant, config, c, mode)
    plan = _best(plans)
    if c.unknown and (plan is None or plan.level != _GREAT):
        names = ", ".join(b.device for b in c.unknown)
        return _Judgement(
            verdict=Verdict.UNKNOWN, plan=None, reason=f"free memory of {names} could not be read"
        )
    if plan is None:
        worst = plans[0]
        return _Judgement(
            verdict=Verdict.WONT_FIT, plan=worst, reason=_wont_fit_reason(variant, quant, worst)
        )
    whole = plan.placement in (Placement.GPU, Placement.UNIFIED)
    cpu_only = plan.placement is Placement.CPU and len(plan.uses) == 1 and not c.known
    great = plan.level == _GREAT and (whole or cpu_only)
    verdict = Verdict.RUNS_GREAT if great else Verdict.TIGHT
    return _Judgement(verdict=verdict, plan=plan, reason=_reason(variant, plan, great=great))


def _judge(variant: ModelVariant, quant: str, config: RunConfig, machine: _Machine) -> _Judgement:
    """The verdict and placement per VERDICT_RULES (no max context, no speed)."""
    c = _candidates(config, machine)
    if c.unanswerable is not None:
        return _Judgement(verdict=Verdict.UNKNOWN, plan=None, reason=c.unanswerable)
    cpu, known, unknown, mode = c.cpu, c.known, c.unknown, machine.repack_mode
    if config.gpu_layers is not None:
        return _judge_forced(variant, quant, config, c, mode)

    # 1. one accelerator holds every layer; 2. several GPUs of one backend split by free memory
    whole = _best(_whole_plans(variant, quant, config, c, mode))
    if whole is not None and whole.level == _GREAT:
        return _Judgement(
            verdict=Verdict.RUNS_GREAT, plan=whole, reason=_reason(variant, whole, great=True)
        )
    if unknown:
        names = ", ".join(b.device for b in unknown)
        return _Judgement(
            verdict=Verdict.UNKNOWN,
            plan=None,
            reason=f"free memory of {names} could not be read",
        )
    if whole is not None:
        return _Judgement(verdict=Verdict.TIGHT, plan=whole, reason=_reason(variant, whole))
    # 3. partial offload: as many layers as fit on the best accelerator, the rest on the CPU
    split: list[_Plan] = []
    for g in known:
        ngl = _max_gpu_layers(variant, quant, config, g, cpu)
        if ngl >= 1:
            split.append(_plan_gpus(variant, quant, config, [g], cpu, ngl, mode))
    partial = _best(split)
    experts = _best_expert_offload(variant, quant, config, known, cpu)
    if experts is not None and _faster(variant, quant, experts, partial):
        partial = experts
    if partial is not None:
        return _Judgement(verdict=Verdict.TIGHT, plan=partial, reason=_reason(variant, partial))
    # 4. the CPU alone (-dev none: the GPU hidden)
    cpu_plan = _plan_gpus(variant, quant, config, [], cpu, 0, mode)
    if cpu_plan.level > _NO:
        verdict = Verdict.RUNS_GREAT if cpu_plan.level == _GREAT else Verdict.TIGHT
        if known:
            verdict = Verdict.TIGHT  # a GPU exists but cannot take even the output layer
        return _Judgement(
            verdict=verdict,
            plan=cpu_plan,
            reason=_reason(variant, cpu_plan, great=verdict is Verdict.RUNS_GREAT),
        )
    return _Judgement(
        verdict=Verdict.WONT_FIT,
        plan=cpu_plan,
        reason=_wont_fit_reason(variant, quant, cpu_plan),
    )


def _expert_offload_plan(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpu: DeviceBudget,
    cpu: DeviceBudget,
    n_cpu_moe: int,
) -> _Plan:
    """``-ngl`` all layers with ``--n-cpu-moe n_cpu_moe`` on one discrete GPU
    (:mod:`llmcheck.estimate.moe_offload`).

    GPU: every layer's tensors but the moved experts, the output layer, the KV cache and the
    compute buffer, which also holds the copy of one layer's experts that a prompt batch offloads
    to the GPU. Host: token_embd, the moved experts, the output buffer and the CPU side's compute
    buffer.
    """
    arch = variant.architecture
    n = arch.n_layer
    moved, one_layer = moved_expert_bytes(variant, quant, n_cpu_moe)
    gpu_role = ComputeRole(kind="gpu")
    gpu_terms, (gpu_fixed, n_attn, _) = _terms_for_layers(
        variant,
        quant,
        config,
        0,
        n,
        has_output=True,
        budget=gpu,
        has_input=False,
        role=gpu_role,
    )
    gpu_terms = replace(
        gpu_terms,
        weights_bytes=gpu_terms.weights_bytes - moved,
        compute_bytes=gpu_terms.compute_bytes + one_layer,
    )
    host_role = ComputeRole(kind="host", cpu_layers=True)
    cpu_terms, (cpu_fixed, _, _) = _terms_for_layers(
        variant,
        quant,
        config,
        0,
        0,
        has_output=False,
        budget=cpu,
        has_input=True,
        role=host_role,
    )
    cpu_terms = replace(cpu_terms, weights_bytes=cpu_terms.weights_bytes + moved)
    uses = ((gpu, gpu_terms, n), (cpu, cpu_terms, 0))
    level = min(_level(t.total_bytes, b) for b, t, _ in uses)
    shape = ((gpu_fixed - moved + one_layer, n_attn, gpu_role), (cpu_fixed + moved, 0, host_role))
    return _Plan(
        placement=Placement.SPLIT,
        uses=uses,
        gpu_layers=n + 1,
        level=level,
        shape=shape,
        n_cpu_moe=n_cpu_moe,
    )


def _best_expert_offload(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpus: Sequence[DeviceBudget],
    cpu: DeviceBudget,
) -> _Plan | None:
    """The fewest ``--n-cpu-moe`` layers whose GPU share fits with the margin, on the best
    discrete GPU (None: not a MoE model, no such GPU, or nothing fits)."""
    arch = variant.architecture
    if not arch.is_moe:
        return None
    plans = []
    for g in gpus:
        if g.kind != "gpu" or g.budget_bytes is None:
            continue

        def gpu_ok(k: int, g: DeviceBudget = g) -> bool:
            plan = _expert_offload_plan(variant, quant, config, g, cpu, k)
            return _level(plan.uses[0][1].total_bytes, g) == _GREAT

        if not gpu_ok(arch.n_layer):
            continue
        lo, hi = arch.n_dense_lead_layers + 1, arch.n_layer  # gpu_ok(hi); the GPU need shrinks
        while lo < hi:
            mid = (lo + hi) // 2
            if gpu_ok(mid):
                hi = mid
            else:
                lo = mid + 1
        plan = _expert_offload_plan(variant, quant, config, g, cpu, lo)
        if plan.level > _NO:
            plans.append(plan)
    return _best(plans)


def _decode_seconds(variant: ModelVariant, quant: str, plan: _Plan) -> float | None:
    """:func:`~llmcheck.estimate.moe_offload.decode_seconds_per_token` of a GPU + CPU plan
    (None when a bandwidth is unknown)."""
    gpu = next((b for b, _, _ in plan.uses if b.kind != "cpu"), None)
    cpu = plan.uses[-1][0]
    if gpu is None or not gpu.bandwidth_gb_s or not cpu.bandwidth_gb_s:
        return None
    if plan.n_cpu_moe:
        reads = expert_offload_reads(variant, quant, plan.n_cpu_moe)
    else:
        reads = layer_split_reads(variant, quant, plan.gpu_layers)
    return decode_seconds_per_token(reads, gpu.bandwidth_gb_s, cpu.bandwidth_gb_s)


def _faster(variant: ModelVariant, quant: str, experts: _Plan, split: _Plan | None) -> bool:
    """Whether the experts-in-RAM plan beats the layer split (by the decode model; a layer
    split is kept where a bandwidth is unknown, and where the split fits with more to spare)."""
    if split is None:
        return True
    if experts.level != split.level:
        return experts.level > split.level
    mine, theirs = _decode_seconds(variant, quant, experts), _decode_seconds(variant, quant, split)
    if mine is None or theirs is None:
        return False
    return mine < theirs


def _max_gpu_layers(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    gpu: DeviceBudget,
    cpu: DeviceBudget,
) -> int:
    """The largest -ngl whose GPU share fits with the margin and whose CPU share fits.

    GPU need grows with ngl and CPU need shrinks, so the GPU bound is found by bisection.
    """
    assert gpu.budget_bytes is not None

    def gpu_ok(ngl: int) -> bool:
        # Built, not cached: a cached plan may hold an equal budget of another machine, and
        # these bisection steps are not asked for again.
        plan = _build_plan(variant, quant, config, [gpu], cpu, ngl)
        return all(_level(t.total_bytes, b) == _GREAT for b, t, _ in plan.uses if b is gpu)

    lo, hi = 0, variant.architecture.n_layer  # full offload was judged already
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if gpu_ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _plan_bandwidth(plan: _Plan) -> float:
    """The slowest bandwidth among the devices holding layers (0 when unknown)."""
    values = [b.bandwidth_gb_s or 0.0 for b, _, n in plan.uses if n or b.kind != "cpu"]
    return min(values, default=0.0)


def _reason(variant: ModelVariant, plan: _Plan, *, great: bool = False) -> str:
    where = {
        Placement.GPU: "on the GPU" + ("s" if len(plan.uses) > 2 else ""),
        Placement.UNIFIED: "in unified memory",
        Placement.CPU: "on the CPU",
        Placement.SPLIT: (
            f"with every layer on the GPU and the routed experts of the first {plan.n_cpu_moe} "
            "in RAM"
            if plan.n_cpu_moe
            else f"with {plan.gpu_layers} of {variant.architecture.n_layer + 1} layers "
            "on the GPU and the rest on the CPU"
        ),
        Placement.NONE: "",
    }[plan.placement]
    if great:
        return f"fits {where} with room to spare"
    if plan.level == _GREAT:
        return f"fits only {where}"
    return f"fits {where}, but with less than the safety margin free"


def _wont_fit_reason(variant: ModelVariant, quant: str, plan: _Plan) -> str:
    need = sum(t.total_bytes for _, t, _ in plan.uses)
    return (
        f"{variant.name} {quant} needs {format_bytes(need)} and no device (or GPU + CPU split) "
        "has that much free"
    )
