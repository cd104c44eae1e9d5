"""Synthetic GGUF files for the tests, written with llama.cpp's own ``gguf`` package.

Only the header is written; the tensor data region is created by extending the file (sparse on
every file system that supports it), so a "20 GB" file costs its header. Tensor names, shapes and
keys follow llama.cpp's LFM2 loader (``llama_model_lfm2::load_arch_tensors``; reference facts in
docs/gguf-files.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import gguf
import numpy as np

if TYPE_CHECKING:
    from llmcheck.catalog import Architecture

T = gguf.GGMLQuantizationType


@dataclass(frozen=True)
class Lfm2Spec:
    """An LFM2-family backbone (defaults: a tiny dense model)."""

    arch: str = "lfm2"
    n_layer: int = 4
    attention_layers: tuple[int, ...] = (1, 3)
    hidden: int = 256
    n_head: int = 4
    n_kv: int = 2
    ffn: int = 512
    vocab: int = 512
    context: int = 128000
    l_cache: int = 3
    n_expert: int = 0
    n_expert_used: int = 0
    expert_ffn: int = 0
    n_dense_lead: int = 0
    tied: bool = True
    name: str = "LFM2 Tiny"
    basename: str = "LFM2"
    size_label: str = "Tiny"
    file_type: int | None = 15  # Q4_K_M
    tokens: int = 0  # tokenizer.ggml.tokens entries (0: none); full size: 65,536
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def head_dim(self) -> int:
        return self.hidden // self.n_head


def spec_of(
    arch: Architecture, name: str, *, size_label: str = "Tiny", file_type: int | None = 15
) -> Lfm2Spec:
    """The spec of a catalog architecture at full size (the tensors llmcheck's catalog lists)."""
    return Lfm2Spec(
        arch=arch.gguf_arch,
        n_layer=arch.n_layer,
        attention_layers=arch.attention_layers,
        hidden=arch.hidden_size,
        n_head=arch.n_head,
        n_kv=arch.n_head_kv,
        ffn=arch.ffn_size,
        vocab=arch.vocab_size,
        context=arch.gguf_context_tokens,
        l_cache=arch.conv_l_cache,
        n_expert=arch.n_expert,
        n_expert_used=arch.n_expert_used,
        expert_ffn=arch.expert_ffn_size,
        n_dense_lead=arch.n_dense_lead_layers,
        tied=arch.tied_embeddings,
        name=name,
        size_label=size_label,
        file_type=file_type,
    )


TINY = Lfm2Spec()
TINY_MOE = Lfm2Spec(
    arch="lfm2moe",
    n_layer=4,
    attention_layers=(2,),
    n_expert=4,
    n_expert_used=2,
    expert_ffn=256,
    n_dense_lead=1,
    name="LFM2 Tiny MoE",
    size_label="Tiny-A1",
)


def tensors(spec: Lfm2Spec) -> list[tuple[str, tuple[int, ...]]]:
    """(name, ggml shape ne0-first) of every tensor, in llama.cpp's order."""
    d, out = spec.hidden, []
    out.append(("token_embd.weight", (d, spec.vocab)))
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", (d,)), (p + "ffn_norm.weight", (d,))]
        if i in spec.attention_layers:
            hd = spec.head_dim
            out += [
                (p + "attn_q.weight", (d, spec.n_head * hd)),
                (p + "attn_k.weight", (d, spec.n_kv * hd)),
                (p + "attn_v.weight", (d, spec.n_kv * hd)),
                (p + "attn_output.weight", (spec.n_head * hd, d)),
                (p + "attn_q_norm.weight", (hd,)),
                (p + "attn_k_norm.weight", (hd,)),
            ]
        else:
            out += [
                (p + "shortconv.conv.weight", (spec.l_cache, d)),
                (p + "shortconv.in_proj.weight", (d, 3 * d)),
                (p + "shortconv.out_proj.weight", (d, d)),
            ]
        if spec.n_expert and i >= spec.n_dense_lead:
            e, f = spec.n_expert, spec.expert_ffn
            out += [
                (p + "ffn_gate_inp.weight", (d, e)),
                (p + "ffn_gate_exps.weight", (d, f, e)),
                (p + "ffn_up_exps.weight", (d, f, e)),
                (p + "ffn_down_exps.weight", (f, d, e)),
                (p + "exp_probs_b.bias", (e,)),
            ]
        else:
            out += [
                (p + "ffn_gate.weight", (d, spec.ffn)),
                (p + "ffn_up.weight", (d, spec.ffn)),
                (p + "ffn_down.weight", (spec.ffn, d)),
            ]
    out.append(("token_embd_norm.weight", (d,)))
    if not spec.tied:
        out.append(("output.weight", (d, spec.vocab)))
    return out


def q4_k_m_like(name: str, shape: tuple[int, ...]) -> str:
    """A plausible per-tensor type: F32 for vectors, conv and router, Q6_K embedding, else Q4_K."""
    if len(shape) == 1 or "norm" in name or "shortconv.conv" in name or "gate_inp" in name:
        return "F32"
    if name.startswith("token_embd") or name.endswith("ffn_down.weight"):
        return "Q6_K"
    return "Q4_K"


def write_lfm2(
    path: Path,
    spec: Lfm2Spec = TINY,
    *,
    types: Callable[[str, tuple[int, ...]], str] = q4_k_m_like,
    split_max_tensors: int = 0,
) -> list[Path]:
    """Write ``spec`` as a GGUF file (header + sparse data); returns the parts written."""
    w = gguf.GGUFWriter(path, spec.arch, split_max_tensors=split_max_tensors)
    a = spec.arch
    w.add_name(spec.name)
    w.add_basename(spec.basename)
    w.add_size_label(spec.size_label)
    if spec.file_type is not None:
        w.add_file_type(spec.file_type)
    w.add_block_count(spec.n_layer)
    w.add_context_length(spec.context)
    w.add_embedding_length(spec.hidden)
    w.add_feed_forward_length(spec.ffn)
    w.add_head_count(spec.n_head)
    w.add_head_count_kv(
        [spec.n_kv if i in spec.attention_layers else 0 for i in range(spec.n_layer)]
    )
    w.add_layer_norm_rms_eps(1e-5)
    w.add_uint32(f"{a}.shortconv.l_cache", spec.l_cache)
    w.add_vocab_size(spec.vocab)
    if spec.n_expert:
        w.add_expert_count(spec.n_expert)
        w.add_expert_used_count(spec.n_expert_used)
        w.add_expert_feed_forward_length(spec.expert_ffn)
        w.add_leading_dense_block_count(spec.n_dense_lead)
    if spec.tokens:
        w.add_tokenizer_model("gpt2")
        w.add_token_list([f"tok{i}" for i in range(spec.tokens)])
        w.add_token_types([1] * spec.tokens)
        w.add_token_merges([f"t{i} k{i}" for i in range(spec.tokens - 2000)])
    for key, value in spec.extra.items():
        w.add_key_value(key, value, _value_type(value))
    add_tensors(w, [(n, s, types(n, s)) for n, s in tensors(spec)])
    return finish(w, path)


def _value_type(value: object) -> gguf.GGUFValueType:
    return gguf.GGUFValueType.get_type(value)


def add_tensors(w: gguf.GGUFWriter, items: Sequence[tuple[str, tuple[int, ...], str]]) -> None:
    """Declare tensors (ggml shape, type name) without data."""
    for name, shape, type_name in items:
        qt = T[type_name]
        block, size = gguf.GGML_QUANT_SIZES[qt]
        n = int(np.prod(shape))
        w.add_tensor_info(
            name, tuple(reversed(shape)), np.dtype(np.float32), n // block * size, raw_dtype=qt
        )


def finish(w: gguf.GGUFWriter, path: Path) -> list[Path]:
    """Write the header(s), then extend each part to its full size without writing data."""
    paths = w.format_shard_names(path)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    assert w.fout is not None
    for fout, part in zip(w.fout, w.tensors, strict=True):
        start = -(-fout.tell() // w.data_alignment) * w.data_alignment
        data = sum(-(-ti.nbytes // w.data_alignment) * w.data_alignment for ti in part.values())
        fout.truncate(start + data)
    w.close()
    return paths


def write_projector(
    path: Path, projector_type: str = "lfm2", *, key: str = "clip.projector_type"
) -> Path:
    """A tiny LFM2-VL style mmproj file (SigLIP2-like encoder + the lfm2 projector)."""
    w = gguf.GGUFWriter(path, "clip")
    w.add_string(key, projector_type)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_uint32("clip.vision.image_size", 256)
    w.add_uint32("clip.vision.patch_size", 16)
    w.add_uint32("clip.vision.block_count", 2)
    w.add_uint32("clip.vision.embedding_length", 64)
    w.add_uint32("clip.vision.feed_forward_length", 128)
    w.add_uint32("clip.vision.attention.head_count", 4)
    w.add_uint32("clip.vision.projection_dim", 256)
    w.add_uint32("clip.vision.projector.scale_factor", 2)
    w.add_file_type(1)
    items = [("v.patch_embd.weight", (16, 16, 3, 64), "F16")]
    for i in range(2):
        items += [
            (f"v.blk.{i}.attn_q.weight", (64, 64), "F16"),
            (f"v.blk.{i}.ffn_up.weight", (64, 128), "F16"),
            (f"v.blk.{i}.ln1.weight", (64,), "F32"),
        ]
    items += [("mm.1.weight", (256, 256), "F16"), ("mm.1.bias", (256,), "F32")]
    add_tensors(w, items)
    return finish(w, path)[0]


def write_other(path: Path, arch: str = "qwen3") -> Path:
    """A small file of another architecture."""
    w = gguf.GGUFWriter(path, arch)
    w.add_block_count(1)
    w.add_file_type(15)
    add_tensors(w, [("token_embd.weight", (256, 64), "Q4_K")])
    return finish(w, path)[0]


def with_(spec: Lfm2Spec, **changes: object) -> Lfm2Spec:
    """A copy of ``spec`` with ``changes``."""
    return replace(spec, **changes)  # type: ignore[arg-type]


def catalog_file(tmp_path: Path, variant_id: str = "lfm2-1.2b", quant: str = "Q4_K_M") -> Path:
    """A full-size header of a catalog variant x quant, typed by the catalog's own rules."""
    from llmcheck.catalog import load_catalog, variant_tensors

    variant = load_catalog().variant(variant_id)
    a = variant.architecture
    plan = {t.name: t.ggml_type for t in variant_tensors(a, quant, variant.quant_table)}
    spec = spec_of(a, variant.name, size_label="", file_type=None)
    (path,) = write_lfm2(tmp_path / variant.gguf_file_name(quant), spec, types=lambda n, s: plan[n])
    return path


def _catalog_spec(variant_id: str, name: str, size_label: str) -> Lfm2Spec:
    from llmcheck.catalog import load_catalog

    return spec_of(load_catalog().variant(variant_id).architecture, name, size_label=size_label)


# Full-size backbones as published, from the catalog's architectures (not a second copy).
LFM2_1_2B = _catalog_spec("lfm2-1.2b", "LFM2 1.2B", "1.2B")
LFM2_8B_A1B = _catalog_spec("lfm2-8b-a1b", "LFM2 8B A1B", "8B-A1B")
