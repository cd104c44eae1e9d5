"""The public entry points: :func:`estimate`, :func:`estimate_all`, :func:`best_quant`,
:func:`max_context`."""

from __future__ import annotations

from dataclasses import replace

from llmcheck.catalog import Catalog, ModelVariant
from llmcheck.estimate.budget import _Machine, _machine
from llmcheck.estimate.command import _assumptions, llama_cpp_command
from llmcheck.estimate.context import _max_context
from llmcheck.estimate.memory import CONTEXT_PAD_TOKENS, padded_context
from llmcheck.estimate.moe_offload import offload_speed_factor
from llmcheck.estimate.placement import _judge, _plan_gpus
from llmcheck.estimate.speed import tokens_per_second
from llmcheck.estimate.types import (
    DeviceBudget,
    DeviceUse,
    Fit,
    Limit,
    Placement,
    RunConfig,
    SpeedRange,
    Verdict,
)
from llmcheck.estimate.weights import file_size_bytes
from llmcheck.snapshot import SystemSnapshot


def _resolve_quant(variant: ModelVariant, quant_name: str) -> str:
    return variant.quant_table.quant(quant_name).name


def max_context(
    variant: ModelVariant, quant: str, config: RunConfig, machine: SystemSnapshot
) -> int | None:
    """The largest context (a multiple of 256, at most the GGUF's) that still fits, else None.

    Memory never shrinks as the context grows, so "fits" is monotone in the context and the
    answer is the one context k x 256 that fits while (k + 1) x 256 does not.
    """
    return _max_context(variant, _resolve_quant(variant, quant), config, _machine(machine))


def estimate(
    variant: ModelVariant, quant_name: str, config: RunConfig, machine: SystemSnapshot
) -> Fit:
    """The full answer for one variant x quant x config on ``machine``.

    Raises:
        KeyError: ``quant_name`` is not a known quantization.
    """
    return _estimate(variant, quant_name, config, _machine(machine))


def _estimate(
    variant: ModelVariant,
    quant_name: str,
    config: RunConfig,
    machine: _Machine,
    *,
    model_file: str | None = None,
    mmproj_file: str | None = None,
) -> Fit:
    quant = _resolve_quant(variant, quant_name)
    if config.context_tokens > variant.gguf_context_tokens:
        # A context beyond the GGUF's context_length (a script's 131072 for "128K"): llama.cpp
        # would accept it (with a warning), but the model was not built for it, so the answer is
        # for the model's own maximum (the CLI refuses such a --ctx with a clear message).
        config = replace(config, context_tokens=variant.gguf_context_tokens)
    judgement = _judge(variant, quant, config, machine)
    # The asked context's verdict bounds the largest-context search (fitting is monotone in it).
    fits = judgement.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT)
    asked = padded_context(config.context_tokens) // CONTEXT_PAD_TOKENS
    max_context_tokens = _max_context(variant, quant, config, machine, known=(asked, fits))
    repack = machine.repack
    plan = judgement.plan
    if plan is None:
        # Unknown budget: still report what llama.cpp would allocate for a CPU run.
        cpu = machine.budgets[-1]
        plan = _plan_gpus(variant, quant, config, [], cpu, 0, machine.repack_mode)
        placement = Placement.NONE
    else:
        placement = plan.placement if judgement.verdict is not Verdict.WONT_FIT else Placement.NONE
    devices = tuple(
        DeviceUse(
            device=b.device,
            name=b.name,
            budget_bytes=b.budget_bytes,
            budget_source=b.budget_source,
            terms=t,
            layers=n,
        )
        for b, t, n in plan.uses
    )
    speed: SpeedRange | None = None
    if judgement.verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT):
        used = [(b, n) for b, _, n in plan.uses if n > 0]
        speed = tokens_per_second(variant, quant, config, used, machine.cpu)
        if plan.n_cpu_moe and speed is not None:
            speed = _experts_in_ram_speed(variant, quant, plan.n_cpu_moe, speed, plan.uses[-1][0])
    verdict, reason, limited_by = _with_speed(judgement.verdict, judgement.reason, speed, config)
    gpus = [b for b, _, n in plan.uses if b.kind != "cpu"]
    split = [n for b, _, n in plan.uses if b.kind != "cpu"] if len(gpus) > 1 else []
    main_gpu = gpus[0].gpu_index if len(gpus) == 1 else None
    command = llama_cpp_command(
        variant,
        quant,
        config,
        gpu_layers=plan.gpu_layers,
        split=split,
        main_gpu=main_gpu,
        gpu_hidden=not gpus,
        model_file=model_file,
        mmproj_file=mmproj_file,
        n_cpu_moe=plan.n_cpu_moe if placement is not Placement.NONE else 0,
    )
    return Fit(
        variant_id=variant.id,
        quant=quant,
        config=config,
        verdict=verdict,
        placement=placement,
        devices=devices,
        total_bytes=sum(d.terms.total_bytes for d in devices),
        max_context_tokens=max_context_tokens,
        gpu_layers=plan.gpu_layers if placement is not Placement.NONE else None,
        speed=speed,
        llama_cpp_command=command,
        assumptions=tuple(
            _assumptions(
                variant,
                config,
                repack,
                cpu_only=not gpus,
                quant=quant,
                n_cpu_moe=plan.n_cpu_moe if placement is not Placement.NONE else 0,
            )
        ),
        reason=reason,
        file_size_bytes=file_size_bytes(variant, quant),
        offloadable_layers=variant.architecture.n_layer + 1,
        budgets=machine.budgets,
        limited_by=limited_by,
        n_cpu_moe=plan.n_cpu_moe if placement is not Placement.NONE else 0,
    )


def _experts_in_ram_speed(
    variant: ModelVariant, quant: str, n_cpu_moe: int, speed: SpeedRange, cpu: DeviceBudget
) -> SpeedRange:
    """The all-on-GPU ``speed`` slowed by reading the active experts of the first ``n_cpu_moe``
    layers from RAM (:func:`~llmcheck.estimate.moe_offload.offload_speed_factor`)."""
    if not cpu.bandwidth_gb_s:
        return speed
    f = offload_speed_factor(variant, quant, n_cpu_moe, speed.bandwidth_gb_s, cpu.bandwidth_gb_s)
    return replace(
        speed,
        low_tokens_per_second=speed.low_tokens_per_second * f,
        high_tokens_per_second=speed.high_tokens_per_second * f,
        prompt_low_tokens_per_second=speed.prompt_low_tokens_per_second * f,
        prompt_high_tokens_per_second=speed.prompt_high_tokens_per_second * f,
        basis=f"{speed.basis}; x{f:.2f} for the experts of the first {n_cpu_moe} layers read "
        f"from RAM at {cpu.bandwidth_gb_s:.0f} GB/s (--n-cpu-moe)",
    )


def _with_speed(
    verdict: Verdict, reason: str, speed: SpeedRange | None, config: RunConfig
) -> tuple[Verdict, str, Limit | None]:
    """The memory verdict, made "tight" when it fits but generates slower than the setting.

    "Runs great" needs the low end of the generation range at or above
    ``config.min_decode_tokens_per_second`` (issue #10): fitting with room to spare is not great
    when a reply trickles out at 3 tok/s. An unknown speed leaves the memory verdict alone.
    """
    if verdict in (Verdict.TIGHT, Verdict.WONT_FIT):
        return verdict, reason, Limit.MEMORY
    if verdict is not Verdict.RUNS_GREAT:
        return verdict, reason, None
    floor = config.min_decode_tokens_per_second
    if speed is None or floor <= 0 or speed.low_tokens_per_second >= floor:
        return verdict, reason, None
    low, high = speed.low_tokens_per_second, speed.high_tokens_per_second
    why = (
        f"fits, but generates only ~{_rate(low)}-{_rate(high)} tok/s here (below the"
        f" {_rate(floor)} tok/s asked for; --min-speed)"
    )
    return Verdict.TIGHT, why, Limit.SPEED


def _rate(tokens_per_second: float) -> str:
    return f"{tokens_per_second:.1f}" if tokens_per_second < 9.95 else f"{tokens_per_second:.0f}"


def estimate_all(catalog: Catalog, machine: SystemSnapshot, config: RunConfig) -> tuple[Fit, ...]:
    """:func:`estimate` for every variant x published quant of the catalog, in catalog order."""
    facts = _machine(machine)
    return tuple(
        _estimate(variant, quant, config, facts)
        for variant in catalog.variants
        for quant in variant.quants
    )


# Above Q8_0 quality no longer buys anything a user can notice (Q8_0 is "practically
# indistinguishable from F16", quants.toml), while F16/BF16 double the memory and halve decode
# speed on bandwidth-bound hardware. So the recommendation ranks every quant at or above Q8_0's
# quality as equal and takes the smallest of them.
RECOMMENDATION_QUALITY_CAP_QUANT = "Q8_0"


def best_quant(variant: ModelVariant, machine: SystemSnapshot, config: RunConfig) -> str | None:
    """The best published quant that runs great, else the best that is tight, else None.

    "Best" is the highest quality up to Q8_0's (:data:`RECOMMENDATION_QUALITY_CAP_QUANT`); among
    quants at or above that cap the smallest file wins, so F16/BF16 are recommended only where
    no Q8_0 is published.
    """
    facts = _machine(machine)
    table = variant.quant_table
    cap = table.quant(RECOMMENDATION_QUALITY_CAP_QUANT).quality_rank

    def rank(q: str) -> tuple[int, int]:
        return (min(table.quant(q).quality_rank, cap), -file_size_bytes(variant, q))

    ranked = sorted(variant.quants, key=rank, reverse=True)
    tight: str | None = None
    for q in ranked:
        judgement = _judge(variant, q, config, facts)
        verdict = judgement.verdict
        if verdict is Verdict.RUNS_GREAT and judgement.plan is not None:
            used = [(b, n) for b, _, n in judgement.plan.uses if n > 0]
            speed = tokens_per_second(variant, q, config, used, facts.cpu)
            verdict = _with_speed(verdict, judgement.reason, speed, config)[0]
        if verdict is Verdict.RUNS_GREAT:
            return q
        if verdict is Verdict.TIGHT and tight is None:
            tight = q
    return tight
