"""The largest context that still fits: a direct guess from the plans' shapes, then the verdict."""

from __future__ import annotations

from dataclasses import replace

from llmcheck.catalog import ModelVariant
from llmcheck.estimate.budget import _FITS, _GREAT, _candidates, _level, _Machine
from llmcheck.estimate.memory import (
    CONTEXT_PAD_TOKENS,
    ComputeRole,
    device_compute_bytes,
    kv_bytes_per_token,
)
from llmcheck.estimate.placement import _forced_plans, _judge, _Plan, _plan_gpus, _whole_plans
from llmcheck.estimate.types import DeviceBudget, RunConfig, Verdict


def _max_context(
    variant: ModelVariant,
    quant: str,
    config: RunConfig,
    machine: _Machine,
    *,
    known: tuple[int, bool] | None = None,
) -> int | None:
    """:func:`max_context`: a direct guess from the plans' shapes, then the full verdict.

    The guess (:func:`_context_guess`) solves the whole-offload and CPU plans for the context.
    It prices, at k x 256 tokens, the very plans the verdict builds there, and asks of them the
    level the verdict asks, so the verdict at the guess fits: it is not computed a second time.
    The full verdict then checks k + 1. A partial offload, which the guess leaves out, can only
    raise the answer: then bisection goes on above k, as it would have done from the start, so
    the answer is always what bisection on the verdict gives.

    ``known``: (k, fits) for a context whose verdict the caller already has (:func:`estimate`
    judges the asked context first); fitting is monotone in the context, so it bounds the search.
    """
    top = variant.gguf_context_tokens // CONTEXT_PAD_TOKENS
    if top < 1:
        return None

    def fits(k: int) -> bool:
        cfg = replace(config, context_tokens=k * CONTEXT_PAD_TOKENS)
        return _judge(variant, quant, cfg, machine).verdict in (Verdict.RUNS_GREAT, Verdict.TIGHT)

    lo, hi = 0, top  # fits(lo) (or lo == 0); no k above hi fits
    if known is not None:
        k, ok = known
        if ok:
            lo = min(k, top)
        else:
            hi = min(hi, k - 1)
    guess = _context_guess(variant, quant, config, machine, top)
    lo = max(lo, guess)
    if lo == guess and guess < hi:
        if fits(guess + 1):
            lo = guess + 1
        else:
            hi = guess
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo * CONTEXT_PAD_TOKENS if lo >= 1 else None


def _context_guess(
    variant: ModelVariant, quant: str, config: RunConfig, machine: _Machine, top: int
) -> int:
    """The largest k <= top at which a whole-offload or CPU-only plan fits (0: none does).

    A plan's devices keep their layers at every context; only the KV cache (linear in the padded
    context) and the compute buffer grow. So each plan, built once, is re-priced per k from its
    ``shape`` with a few multiplications, and k is found by bisection on that cheap test.
    """
    c = _candidates(config, machine)
    if c.unanswerable is not None:
        return 0
    mode = machine.repack_mode
    want = _FITS if not c.unknown else _GREAT  # with an unreadable GPU only "runs great" counts
    if config.gpu_layers is not None:
        plans = _forced_plans(variant, quant, config, c, mode)
        cpu_too = False
    else:
        plans = _whole_plans(variant, quant, config, c, mode)
        cpu_too = not c.unknown
    arch = variant.architecture
    kv_per_token = kv_bytes_per_token(arch, config.kv_type, n_layers=1)
    priced = [_priced(p, kv_per_token) for p in plans]

    def any_fits(k: int) -> bool:
        tokens = k * CONTEXT_PAD_TOKENS
        compute: dict[ComputeRole, int] = {}
        for uses in priced:
            needs = []
            for b, kind, fixed, per_token, role in uses:
                if role not in compute:
                    compute[role] = device_compute_bytes(arch, config, role, tokens)
                needs.append((b, kind, fixed + per_token * tokens + compute[role]))
            unified = sum(need for _, kind, need in needs if kind == "unified")
            if all(
                _level(need + unified if kind == "cpu" else need, b) >= want
                for b, kind, need in needs
            ):
                return True
        return False

    if priced and any_fits(top):
        return top  # the model's whole context fits on an accelerator: no CPU plan, no search
    if cpu_too:
        cpu = _plan_gpus(variant, quant, config, [], c.cpu, 0, mode)
        priced.append(_priced(cpu, kv_per_token))
        if any_fits(top):
            return top
    if not priced:
        return 0
    lo, hi = 0, top - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if any_fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _priced(
    plan: _Plan, kv_per_token: int
) -> list[tuple[DeviceBudget, str, int, int, ComputeRole]]:
    """Per use of ``plan``: budget, kind, bytes that do not grow with the context, KV bytes per
    context token, compute role (the compute buffer is priced per context)."""
    return [
        (b, b.kind, fixed, n_attn * kv_per_token, role)
        for (b, _, _), (fixed, n_attn, role) in zip(plan.uses, plan.shape, strict=True)
    ]
