"""Quants nobody at Liquid AI published (issue #12): llama-quantize's rules, checked against
``llama-quantize --dry-run`` at llama.cpp 0c1e57098 (docs/community-quants.md)."""

from __future__ import annotations

import pytest

from llmcheck.catalog import community_quants, is_published, load_catalog, variant_tensors
from llmcheck.estimate import RunConfig, estimate
from llmcheck.estimate.command import COMMUNITY_QUANT_NOTE
from llmcheck.snapshot import CpuInfo, MemoryInfo, OsInfo, SystemSnapshot

CATALOG = load_catalog()
MIB = 1 << 20

# "quant size" printed by `llama-quantize --dry-run lfm2-1.2b-F16.gguf FTYPE` (llama.cpp 0c1e57098,
# CPU build; the F16 file converted from LiquidAI/LFM2-1.2B): the tensor data without padding, MiB
# to 2 decimals. No imatrix was given, so the ftypes whose types depend on one are listed apart.
DRY_RUN_MIB = {
    "Q2_K": 458.73,
    "Q2_K_S": 437.18,
    "Q3_K_S": 530.03,
    "Q3_K_M": 570.26,
    "Q3_K_L": 603.76,
    "Q4_K_S": 665.75,
    "Q4_K_M": 694.76,
    "Q4_1": 723.00,
    "Q5_0": 784.75,
    "Q5_1": 846.50,
    "Q5_K_S": 784.75,
    "Q5_K_M": 802.01,
    "Q6_K": 915.96,
    "IQ3_M": 538.26,
    "IQ3_S": 530.03,
    "IQ3_XS": 510.62,
    "IQ2_M": 411.75,
    "IQ2_S": 382.81,
    "IQ2_XS": 375.57,
    "IQ2_XXS": 345.89,
    "IQ1_M": 309.71,
    "IQ1_S": 288.01,
    "TQ2_0": 360.21,
    "TQ1_0": 313.90,
}
# Without an imatrix llama-quantize bumps the first eighth of ffn_down (IQ4_*: Q5_K; IQ3_XXS:
# Q4_K, the rest Q3_K, attn_v IQ3_S); llmcheck sizes the imatrix files people publish.
DRY_RUN_NO_IMATRIX_MIB = {"IQ4_NL": 665.25, "IQ4_XS": 635.37, "IQ3_XXS": 482.50}


def _mib(quant: str) -> float:
    v = CATALOG.variant("lfm2-1.2b")
    return round(
        sum(t.nbytes for t in variant_tensors(v.architecture, quant, v.quant_table)) / MIB, 2
    )


@pytest.mark.parametrize("quant", sorted(DRY_RUN_MIB))
def test_sizes_match_llama_quantize_dry_run(quant: str) -> None:
    assert _mib(quant) == DRY_RUN_MIB[quant]


def test_imatrix_quants_differ_from_the_no_imatrix_dry_run_by_the_ffn_down_bump() -> None:
    v = CATALOG.variant("lfm2-1.2b")
    for quant, no_imatrix in DRY_RUN_NO_IMATRIX_MIB.items():
        plan = {t.name: t for t in variant_tensors(v.architecture, quant, v.quant_table)}
        assert plan["blk.0.ffn_down.weight"].ggml_type == quant  # no bump with an imatrix
        assert _mib(quant) != no_imatrix
    # IQ4_XS: blocks 0-1 (16 // 8) at IQ4_XS instead of Q5_K: 2 x (11.00 - 8.50) MiB less.
    assert _mib("IQ4_XS") == pytest.approx(635.37 - 2 * (11.00 - 8.50), abs=0.01)


def test_low_bit_attn_v_depends_on_the_experts() -> None:
    dense, moe = CATALOG.variant("lfm2-1.2b"), CATALOG.variant("lfm2-8b-a1b")

    def attn_v(v: object, quant: str) -> str:
        arch = v.architecture  # type: ignore[attr-defined]
        plan = variant_tensors(arch, quant, v.quant_table)  # type: ignore[attr-defined]
        return next(t.ggml_type for t in plan if t.name.endswith("attn_v.weight"))

    assert attn_v(dense, "IQ2_XXS") == "Q2_K"
    assert attn_v(dense, "IQ2_M") == "IQ3_S"
    assert attn_v(moe, "IQ2_XXS") == "Q4_K"  # n_expert >= 4


def test_every_variant_answers_every_quant_and_says_which_are_community() -> None:
    machine = SystemSnapshot(
        os=OsInfo(system="Linux"),
        cpu=CpuInfo(arch="x86_64", features=("avx2",)),
        memory=MemoryInfo(total_bytes=65 << 30, available_bytes=64 << 30, bandwidth_gb_s=60.0),
    )
    config = RunConfig(context_tokens=2048)
    for variant in CATALOG.variants:
        community = community_quants(variant)
        assert set(community).isdisjoint(variant.quants)
        assert {"Q3_K_M", "IQ4_XS"} <= set(community)
        for quant in ("Q3_K_M", "IQ2_XXS", "Q4_K_M"):
            fit = estimate(variant, quant, config, machine)
            notes = [a for a in fit.assumptions if a.startswith(COMMUNITY_QUANT_NOTE)]
            assert bool(notes) == (not is_published(variant, quant)), (variant.id, quant)
            assert fit.file_size_bytes > 0
    assert is_published(CATALOG.variant("lfm2-1.2b"), "q4_k_m")
    assert not is_published(CATALOG.variant("lfm2-vl-1.6b"), "Q4_K_M")
