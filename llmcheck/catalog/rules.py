"""llama-quantize's per-tensor type rules for LFM2: which ggml type each tensor is written in.

``llama_tensor_get_type_impl`` and ``tensor_type_fallback`` in ``src/llama-quant.cpp`` of llama.cpp
at commit 0c1e57098, restricted to the tensors LFM2 has and the ftypes the catalog lists; the
facts and their sources are in ``docs/gguf-file-sizes.md`` (§5, §6). One LFM2 quirk decides
several branches: ``hparams.n_gqa()`` reads layer 0, a short-conv layer with no KV heads, so it is
0 and every ``n_gqa() >= 4`` bump is off.

The rules are code because they are llama.cpp's logic; the numbers they use (block sizes, the
default type of each ftype) are data in ``resources/catalog/quants.toml``. Pure functions of
strings and integers: :mod:`llmcheck.catalog.quant` applies them to an architecture's tensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcheck.catalog.values import GgmlType

# Ftypes whose per-tensor rules this module implements exactly (src/llama-quant.cpp). A quant in
# the catalog outside this set is rejected at load time.
SUPPORTED_FTYPES = frozenset(
    {
        "F32",
        "F16",
        "BF16",
        "Q8_0",
        "Q6_K",
        "Q5_K_M",
        "Q5_K_S",
        "Q5_1",
        "Q5_0",
        "Q4_K_M",
        "Q4_K_S",
        "Q4_1",
        "Q4_0",
        "Q3_K_L",
        "Q3_K_M",
        "Q2_K",
        # Community quants (docs/community-quants.md): llama-quantize's rules for them, with an
        # importance matrix assumed where it decides a type (the IQ ftypes; the IQ1 / IQ2 ftypes
        # and Q2_K_S refuse to run without one).
        "Q3_K_S",
        "Q2_K_S",
        "IQ4_NL",
        "IQ4_XS",
        "IQ3_M",
        "IQ3_S",
        "IQ3_XS",
        "IQ3_XXS",
        "IQ2_M",
        "IQ2_S",
        "IQ2_XS",
        "IQ2_XXS",
        "IQ1_M",
        "IQ1_S",
        "TQ2_0",
        "TQ1_0",
    }
)

# The ftypes of llama-quant.cpp's low-bit branch (IQ1 / IQ2): their own attn_v / ffn_down /
# attn_output rules, and a Q5_K tied embedding.
_LOW_BIT_FTYPES = frozenset({"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M"})
# The ftypes that assume an importance matrix (what the has_imatrix branches then pick).
IMATRIX_FTYPES = frozenset({"Q2_K_S", "IQ4_NL", "IQ4_XS", "IQ3_XXS"}) | _LOW_BIT_FTYPES

# Ftypes written by convert_hf_to_gguf directly: no llama-quantize override applies.
_CONVERTER_FTYPES = frozenset({"F32", "F16", "BF16"})


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama-quant.cpp's ``use_more_bits``: first and last eighth, and every third between."""
    return (
        i_layer < n_layers // 8
        or i_layer >= 7 * n_layers // 8
        or (i_layer - n_layers // 8) % 3 == 2
    )


def tensor_type(
    ftype: str,
    role: str,
    row: int,
    default_type: str,
    position: int,
    n_v: int,
    n_layer: int,
    types: Mapping[str, GgmlType],
    *,
    n_expert: int = 0,
) -> str:
    """The ggml type llama-quantize writes one tensor in.

    ``position`` is what llama-quant.cpp reads of the tensor's place: the attn_v counter for
    attn_v, the block index for ffn_down, ffn_gate and ffn_up, 0 for every other role.
    ``n_expert`` (0 for a dense model) decides the low-bit ftypes' attn_v.
    """
    if role in ("norm", "conv", "router", "bias"):
        return "F32"  # forced by the converter, never re-typed by llama-quantize
    if ftype in _CONVERTER_FTYPES:
        return default_type
    if ftype in _LOW_BIT_FTYPES:
        chosen = _low_bit(ftype, role, default_type, position, n_layer, n_expert)
    elif ftype in _COMMUNITY_OTHER:
        chosen = _community(ftype, role, default_type, position, n_layer)
    else:
        chosen = _override(ftype, role, default_type, position, n_v, n_layer)
    return _fallback(chosen, row, types)


_COMMUNITY_OTHER = frozenset(
    {
        "Q3_K_S",
        "Q2_K_S",
        "IQ4_NL",
        "IQ4_XS",
        "IQ3_M",
        "IQ3_S",
        "IQ3_XS",
        "IQ3_XXS",
        "TQ2_0",
        "TQ1_0",
    }
)


def _low_bit(
    ftype: str, role: str, default: str, position: int, n_layer: int, n_expert: int
) -> str:
    """llama_tensor_get_type_impl's IQ1 / IQ2 branch for one LFM2 tensor (imatrix assumed)."""
    wide = ftype in ("IQ2_S", "IQ2_M")
    if role == "token_embd":
        return "Q5_K"  # tied: the output rule's low-bit case (IQ2_S and IQ2_M included)
    if role == "attn_v":
        # n_gqa() is 0 for LFM2 (layer 0 is a conv layer); LFM2-MoE has 32 or 64 experts.
        if n_expert >= 4:
            return "Q4_K"
        return "IQ3_S" if wide else "Q2_K"
    if role == "ffn_down":
        # i_ffn_down < n_ffn_down / 8: one ffn_down per LFM2 block, so the counter is the block.
        if position < n_layer // 8:
            return "IQ3_S" if wide else "Q2_K"
        return default
    if role == "attn_output":
        if ftype in ("IQ1_S", "IQ1_M"):
            return "IQ2_XXS"
        return "IQ3_S" if wide else default
    return default


def _community(ftype: str, role: str, default: str, position: int, n_layer: int) -> str:
    """llama_tensor_get_type_impl's general branch for the community ftypes the catalog's
    published ftypes do not exercise (imatrix assumed where it decides; n_gqa() is 0)."""
    if role == "token_embd":
        return "Q6_K"  # tied: the output rule (new_type != Q8_0 -> Q6_K)
    if role == "attn_v":
        if ftype == "IQ3_M":
            return "Q4_K"
        return default  # IQ3_XXS with an imatrix keeps IQ3_XXS; the n_gqa() >= 4 bumps are off
    if role in ("attn_q", "attn_k"):
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return default
    if role == "ffn_down":
        i = position
        if ftype == "Q2_K_S" and i < n_layer // 8:
            return "Q4_K"
        if ftype == "IQ3_M" and i < n_layer // 8:
            return "Q4_K"
        # IQ3_XXS / IQ4_NL / IQ4_XS bump the first eighth only without an imatrix.
        return default
    if role == "attn_output":
        if ftype == "IQ3_XXS":
            return "IQ3_S"
        if ftype == "IQ3_M":
            return "Q4_K"
        return default
    if role in ("ffn_gate", "ffn_up"):
        if ftype == "IQ3_XS" and n_layer // 8 <= position < 7 * n_layer // 8:
            return "IQ3_XXS"
        return default
    return default


def _override(ftype: str, role: str, default: str, position: int, n_v: int, n_layer: int) -> str:
    """llama_tensor_get_type_impl for one LFM2 tensor (the quirk: the module docstring).

    ``position``: the attn_v counter for attn_v, the block index for ffn_down (:func:`tensor_type`).
    """
    # LFM2 quirk: n_gqa() evaluates layer 0, a conv layer (n_head_kv = 0), so it is 0 and every
    # "n_gqa() >= 4" bump is off. n_expert is 32 or 64 for LFM2 MoE, never the 8 that triggers
    # the Mixtral bumps.
    if role == "token_embd":
        # Tied embeddings: token_embd takes the output.weight rule (has_tied_embeddings).
        return "Q8_0" if default == "Q8_0" else "Q6_K"
    if role == "attn_v":
        i_v = position
        if ftype == "Q2_K":
            return "Q3_K"  # n_gqa() >= 4 ? Q4_K : Q3_K, and n_gqa() is 0 here
        if ftype == "Q3_K_M":
            return "Q5_K" if i_v < 2 else "Q4_K"
        if ftype == "Q3_K_L":
            return "Q5_K"
        if ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i_v, n_v):
            return "Q6_K"
        if ftype == "Q4_K_S" and i_v < 4:
            return "Q5_K"
        return default
    if role == "ffn_down":
        i = position
        if ftype == "Q2_K":
            return "Q3_K"
        if ftype == "Q3_K_M":
            # i < n/16 -> Q5_K; otherwise Q4_K because arch != LLM_ARCH_FALCON.
            return "Q5_K" if i < n_layer // 16 else "Q4_K"
        if ftype == "Q3_K_L":
            return "Q5_K"
        if ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n_layer):
            return "Q6_K"
        if ftype == "Q4_K_S" and i < n_layer // 8:
            return "Q5_K"
        # Q4_0 / Q5_0 get Q4_1 / Q5_1 on the first eighth only with an imatrix; the official
        # LFM2 files use none.
        return default
    if role == "attn_output":
        if ftype == "Q2_K":
            return "Q3_K"
        if ftype == "Q3_K_M":
            return "Q4_K"
        if ftype == "Q3_K_L":
            return "Q5_K"
        return default
    return default


# tensor_type_fallback in llama-quant.cpp: the type used when a row is not a multiple of the block.
_FALLBACK = {
    "Q2_K": "Q4_0",
    "Q3_K": "Q4_0",
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
    "IQ4_XS": "IQ4_NL",
    "IQ1_S": "IQ4_NL",
    "IQ1_M": "IQ4_NL",
    "IQ2_XXS": "IQ4_NL",
    "IQ2_XS": "IQ4_NL",
    "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL",
    "IQ3_S": "IQ4_NL",
    "TQ1_0": "Q4_0",
    "TQ2_0": "Q4_0",
}


def _fallback(ggml_type: str, row: int, types: Mapping[str, GgmlType]) -> str:
    """The type llama-quantize falls back to when ``row`` is not a multiple of the block size."""
    t = types.get(ggml_type)
    if t is None or row % t.block_size == 0:
        return ggml_type
    alt = _FALLBACK.get(ggml_type, "F16")
    alt_t = types.get(alt)
    if alt_t is not None and row % alt_t.block_size == 0:
        return alt
    return "F16"
