"""The aggregated tensor plan gives exactly what the per-tensor plan gave.

``tensor_summary`` types each distinct block once and only re-types the position-dependent
tensors (attn_v, ffn_down) per block; the estimator's per-layer sums, the CPU repack and the
GGUF size are read from it. Each is compared with the per-tensor computation it replaced
(:func:`tensor_plan`), on every catalog architecture x every supported ftype and on hand-made
architectures (MoE with dense lead layers, odd rows that force a type fallback).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from llmcheck import calibration
from llmcheck.catalog import Architecture, QuantTable, gguf_size, load_catalog
from llmcheck.catalog.quant import (
    SUPPORTED_FTYPES,
    TensorInfo,
    info_table_bytes,
    tensor_data_bytes,
    tensor_info_table_bytes,
    tensor_plan,
    tensor_summary,
)
from llmcheck.estimate import weights as est

CATALOG = load_catalog()
TABLE = CATALOG.quant_table
TYPES = TABLE.types_by_name()
FTYPES = sorted(q.name for q in TABLE.quants if q.name in SUPPORTED_FTYPES)


def _hand_made() -> list[Architecture]:
    base = {a.id: a for a in CATALOG.architectures}
    dense, moe = base["lfm2-1.2b"], base["lfm2-8b-a1b"]
    return [
        # Rows that are not a multiple of 256: K-quants fall back (Q4_K -> Q5_0, ...).
        dataclasses.replace(
            dense,
            id="odd-rows",
            hidden_size=2080,
            ffn_size=4160,
            n_layer=9,
            attention_layers=(0, 4, 8),
        ),
        # Every layer attention, 33 layers: use_more_bits at every boundary.
        dataclasses.replace(
            dense, id="all-attention", n_layer=33, attention_layers=tuple(range(33))
        ),
        # No attention layer at all.
        dataclasses.replace(dense, id="no-attention", attention_layers=()),
        # MoE with three dense lead layers, one of them attention.
        dataclasses.replace(
            moe, id="moe-lead3", n_dense_lead_layers=3, attention_layers=(1, 6, 10, 14, 18, 21)
        ),
    ]


ARCHS = list(CATALOG.architectures) + _hand_made()


def _expand(
    arch: Architecture, ftype: str
) -> list[tuple[int | None, str, tuple[int, ...], str, int, bool]]:
    """The summary expanded back to one (layer, role, shape, type, bytes, expert) per tensor."""
    s = tensor_summary(arch, ftype, TABLE.quant(ftype).default_type.name, TYPES)
    out: list[tuple[int | None, str, tuple[int, ...], str, int, bool]] = []
    for g in s.global_groups:
        out += [(None, g.role, g.shape, g.ggml_type, g.nbytes, g.is_expert)] * g.count
    for il, k in enumerate(s.layer_kinds):
        for g in s.kinds[k]:
            out += [(il, g.role, g.shape, g.ggml_type, g.nbytes, g.is_expert)] * g.count
    return out


def _plan(arch: Architecture, ftype: str) -> tuple[TensorInfo, ...]:
    return tensor_plan(arch, ftype, TABLE.quant(ftype).default_type.name, TYPES)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.id)
def test_summary_holds_the_same_tensors(arch: Architecture) -> None:
    """Same multiset of (layer, shape, type, bytes, expert) for every ftype."""
    for ftype in FTYPES:
        plan = _plan(arch, ftype)
        want = Counter((t.layer, t.shape, t.ggml_type, t.nbytes, t.is_expert) for t in plan)
        got = Counter((il, shape, ty, n, e) for il, _, shape, ty, n, e in _expand(arch, ftype))
        assert got == want, (arch.id, ftype)
        assert len(plan) == sum(want.values())


def _old_weights(arch: Architecture, quant: str) -> est._Weights:
    """The per-tensor _weights the summary replaced (the reference)."""
    plan = _plan(arch, quant)
    layer = [0] * arch.n_layer
    expert = [0] * arch.n_layer
    types: list[dict[str, int]] = [{} for _ in range(arch.n_layer)]
    embd = norm = 0
    embd_type = ""
    for t in plan:
        if t.layer is not None:
            layer[t.layer] += t.padded_bytes
            types[t.layer][t.ggml_type] = types[t.layer].get(t.ggml_type, 0) + t.nbytes
            if t.is_expert:
                expert[t.layer] += t.padded_bytes
        elif t.name == "token_embd.weight":
            embd, embd_type = t.padded_bytes, t.ggml_type
        else:
            norm += t.padded_bytes
    return est._Weights(
        layer_bytes=tuple(layer),
        layer_expert_bytes=tuple(expert),
        layer_types=tuple(tuple(sorted(d.items())) for d in types),
        token_embd_bytes=embd,
        token_embd_type=embd_type,
        output_norm_bytes=norm,
        data_bytes=sum(layer) + embd + norm,
    )


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.id)
def test_weights_repack_and_size_match_the_per_tensor_sums(arch: Architecture) -> None:
    table: QuantTable = TABLE
    for ftype in FTYPES:
        plan = _plan(arch, ftype)
        assert est._weights(arch, ftype, table) == _old_weights(arch, ftype), ftype
        for mode in ("amx", "avx512", "avx2", "arm", "none"):
            old = (
                calibration.repack(
                    ((t.ggml_type, t.padded_bytes, t.layer is not None, t.is_expert) for t in plan),
                    mode,
                )
                if mode != "none"
                else calibration.Repack()
            )
            assert est._cpu_repack(arch, ftype, table, mode) == old, (ftype, mode)
        size = gguf_size(dataclasses.replace(CATALOG.variants[0], architecture=arch), ftype)
        assert size.tensor_data_bytes == tensor_data_bytes(plan)
        assert size.token_embd_bytes == sum(t.nbytes for t in plan if t.name == "token_embd.weight")
        assert size.expert_bytes == sum(t.nbytes for t in plan if t.is_expert)
    assert info_table_bytes(arch) == tensor_info_table_bytes(_plan(arch, "Q4_K_M"))


def test_blocks_with_the_same_tensors_share_a_kind() -> None:
    """The point of the summary: a 16-layer model has a handful of distinct blocks."""
    arch = next(a for a in CATALOG.architectures if a.id == "lfm2-1.2b")
    s = tensor_summary(arch, "Q4_K_M", "Q4_K", TYPES)
    assert len(s.layer_kinds) == arch.n_layer
    assert len(s.kinds) < arch.n_layer // 2


def test_unknown_ftype_is_refused() -> None:
    arch = CATALOG.architectures[0]
    with pytest.raises(ValueError, match="no llama-quantize rules"):
        tensor_summary(arch, "Q2_K_XL", "Q4_K", TYPES)
