"""describe: the LFM2-family facts of a header, checked against the catalog's own architectures."""

from __future__ import annotations

import re
from pathlib import Path

import gguf
import pytest

from llmcheck.catalog import load_catalog, variant_tensors
from llmcheck.gguf.describe import Lfm2Model, Lfm2Projector, NotLfm2Error, describe
from llmcheck.gguf.reader import GgufError, read_gguf
from tests.gguf import _make as m


def _model(path: Path) -> Lfm2Model:
    out = describe(read_gguf(path))
    assert isinstance(out, Lfm2Model)
    return out


def test_tiny_dense_model(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    d = _model(path)
    assert (d.architecture, d.n_layer, d.attention_layers) == ("lfm2", 4, (1, 3))
    assert (d.n_head, d.n_head_kv, d.head_dim, d.hidden_size) == (4, 2, 64, 256)
    assert (d.ffn_size, d.vocab_size, d.context_tokens, d.conv_l_cache) == (512, 512, 128000, 3)
    assert (d.n_expert, d.expert_bytes, d.is_moe, d.tied_embeddings) == (0, 0, False, True)
    assert (d.name, d.basename, d.size_label) == ("LFM2 Tiny", "LFM2", "Tiny")
    assert d.file_type == "Q4_K_M"
    assert d.weight_bytes == sum(t.n_bytes for t in d.tensors)
    embd = next(t for t in d.tensors if t.name == "token_embd.weight")
    assert d.token_embd_bytes == embd.n_bytes == 256 * 512 // 256 * 210  # Q6_K
    globals_bytes = d.weight_bytes - sum(d.layer_bytes)
    assert globals_bytes == embd.n_bytes + 256 * 4  # + the final norm (F32)
    assert [b.ggml_type for b in d.bytes_by_type] == ["Q4_K", "Q6_K", "F32"]
    assert sum(b.n_bytes for b in d.bytes_by_type) == d.weight_bytes
    assert sum(b.tensor_count for b in d.bytes_by_type) == len(d.tensors) == 40


def test_tiny_moe_model(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "moe.gguf", m.TINY_MOE)
    d = _model(path)
    assert d.architecture == "lfm2moe"
    assert d.is_moe
    assert (d.n_expert, d.n_expert_used, d.expert_ffn_size, d.n_dense_lead_layers) == (4, 2, 256, 1)
    exps = [t for t in d.tensors if "_exps." in t.name]
    assert len(exps) == 3 * 3  # gate/up/down on the 3 MoE layers
    assert d.expert_bytes == sum(t.n_bytes for t in exps)


def test_mixed_community_quant(tmp_path: Path) -> None:
    """A "dynamic" quant: IQ types, Q8_0 and BF16 mixed; every tensor keeps its own type."""

    def mixed(name: str, shape: tuple[int, ...]) -> str:
        if len(shape) == 1 or "norm" in name or "conv.weight" in name:
            return "F32"
        if "attn" in name:
            return "Q8_0"
        if "ffn_down" in name:
            return "IQ4_XS"
        if name.startswith("token_embd"):
            return "BF16"
        return "IQ2_XXS"

    spec = m.with_(m.TINY, file_type=30)  # IQ4_XS
    (path,) = m.write_lfm2(tmp_path / "LFM2-Tiny-UD-IQ4_XS.gguf", spec, types=mixed)
    d = _model(path)
    assert d.file_type == "IQ4_XS"
    kinds = {b.ggml_type: b for b in d.bytes_by_type}
    assert set(kinds) == {"F32", "Q8_0", "IQ4_XS", "BF16", "IQ2_XXS"}
    assert kinds["IQ4_XS"].n_bytes == 4 * 512 * 256 // 256 * 136
    assert kinds["BF16"].n_bytes == 256 * 512 * 2
    assert d.bytes_by_type[0].n_bytes == max(b.n_bytes for b in d.bytes_by_type)


def test_untied_output_and_no_file_type(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "u.gguf", m.with_(m.TINY, tied=False, file_type=None))
    d = _model(path)
    assert d.tied_embeddings is False
    assert d.file_type is None


@pytest.mark.parametrize("arch_id", [a.id for a in load_catalog().architectures])
def test_full_size_files_from_the_catalog_read_back_as_the_catalog(
    tmp_path: Path, arch_id: str
) -> None:
    """Each catalog backbone at Q4_K_M, tensor types from the catalog's own llama-quantize rules,
    written full size (sparse): describe() gives back the catalog's architecture and its bytes."""
    catalog = load_catalog()
    arch = next(a for a in catalog.architectures if a.id == arch_id)
    plan = {t.name: t for t in variant_tensors(arch, "Q4_K_M", catalog.quant_table)}
    spec = m.spec_of(arch, arch.id)
    assert dict(m.tensors(spec)) == {n: t.shape for n, t in plan.items()}
    (path,) = m.write_lfm2(tmp_path / f"{arch_id}.gguf", spec, types=lambda n, s: plan[n].ggml_type)
    d = _model(path)
    assert d.architecture == arch.gguf_arch
    assert d.n_layer == arch.n_layer
    assert d.attention_layers == arch.attention_layers
    assert (d.n_head, d.n_head_kv, d.head_dim) == (arch.n_head, arch.n_head_kv, arch.head_dim)
    assert (d.hidden_size, d.ffn_size, d.vocab_size) == (
        arch.hidden_size,
        arch.ffn_size,
        arch.vocab_size,
    )
    assert d.context_tokens == arch.gguf_context_tokens
    assert (d.n_expert, d.n_expert_used, d.expert_ffn_size, d.n_dense_lead_layers) == (
        arch.n_expert,
        arch.n_expert_used,
        arch.expert_ffn_size,
        arch.n_dense_lead_layers,
    )
    assert d.tied_embeddings == arch.tied_embeddings
    assert {t.name: (t.ggml_type, t.n_bytes) for t in d.tensors} == {
        n: (t.ggml_type, t.nbytes) for n, t in plan.items()
    }
    assert d.expert_bytes == sum(t.nbytes for t in plan.values() if t.is_expert)


def test_tensor_counts_match_llama_cpp(tmp_path: Path) -> None:
    """148 / 266 / 256 / 428 tensors (reference: the loader dumps in docs/gguf-files.md)."""
    counts = {a.id: len(m.tensors(m.spec_of(a, a.id))) for a in load_catalog().architectures}
    assert counts["lfm2-1.2b"] == 148
    assert counts["lfm2-2.6b"] == 266
    assert counts["lfm2-8b-a1b"] == 256
    assert counts["lfm2-24b-a2b"] == 428


@pytest.mark.parametrize("key", ["clip.projector_type", "clip.vision.projector_type"])
def test_vl_projector(tmp_path: Path, key: str) -> None:
    path = m.write_projector(tmp_path / "mmproj-LFM2-VL-1.6B-F16.gguf", key=key)
    d = describe(read_gguf(path))
    assert isinstance(d, Lfm2Projector)
    assert (d.architecture, d.projector_type, d.file_type) == ("clip", "lfm2", "F16")
    assert (d.image_size_px, d.patch_size_px, d.block_count, d.downsample_factor) == (256, 16, 2, 2)
    assert (d.embedding_length, d.feed_forward_length, d.head_count, d.projection_dim) == (
        64,
        128,
        4,
        256,
    )
    assert d.weight_bytes == sum(t.n_bytes for t in d.tensors)


def test_other_architecture_is_named(tmp_path: Path) -> None:
    path = m.write_other(tmp_path / "Qwen3-4B-Q4_K_M.gguf", "qwen3")
    with pytest.raises(NotLfm2Error) as info:
        describe(read_gguf(path))
    assert str(info.value) == f"{path}: qwen3: llmcheck answers for LFM2-family files only"
    assert info.value.architecture == "qwen3"


def test_other_projector_is_named(tmp_path: Path) -> None:
    path = m.write_projector(tmp_path / "mmproj.gguf", "gemma3")
    with pytest.raises(NotLfm2Error, match=re.escape("clip (projector gemma3): llmcheck answers")):
        describe(read_gguf(path))


def test_hostile_architecture_name_is_escaped(tmp_path: Path) -> None:
    path = m.write_other(tmp_path / "x.gguf", "evil\x1b[2J\narch")
    with pytest.raises(NotLfm2Error) as info:
        describe(read_gguf(path))
    assert "\x1b" not in str(info.value)
    assert "\n" not in str(info.value)


def _broken(tmp_path: Path, **extra: object) -> str:
    w = gguf.GGUFWriter(tmp_path / "b.gguf", "lfm2")
    base: dict[str, object] = {
        "lfm2.block_count": 2,
        "lfm2.context_length": 4096,
        "lfm2.embedding_length": 64,
        "lfm2.feed_forward_length": 128,
        "lfm2.attention.head_count": 4,
        "lfm2.attention.head_count_kv": [0, 2],
        "lfm2.shortconv.l_cache": 3,
        "lfm2.vocab_size": 32,
    }
    base.update(extra)
    for key, value in base.items():
        if value is not None:
            w.add_key_value(key, value, gguf.GGUFValueType.get_type(value))
    (path,) = m.finish(w, tmp_path / "b.gguf")
    with pytest.raises(GgufError) as info:
        describe(read_gguf(path))
    assert not isinstance(info.value, NotLfm2Error)
    return str(info.value)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"lfm2.block_count": None}, "lfm2.block_count is missing"),
        ({"lfm2.block_count": 0}, "lfm2.block_count is 0, outside 1..4096"),
        ({"lfm2.block_count": "16"}, "lfm2.block_count should be an integer, not str"),
        ({"lfm2.attention.head_count_kv": [0, 2, 2]}, "has 3 entries for 2 layers"),
        ({"lfm2.attention.head_count_kv": ["a", "b"]}, "not a head count"),
        ({"lfm2.attention.head_count_kv": 1.5}, "integer or an array, not float"),
        ({"lfm2.attention.head_count": 0}, "head_count is 0"),
        ({"lfm2.shortconv.l_cache": None}, "lfm2.shortconv.l_cache is missing"),
        ({"lfm2.vocab_size": None}, "lfm2.vocab_size is missing"),  # no embedding, no tokens
    ],
)
def test_broken_lfm2_keys(tmp_path: Path, extra: dict[str, object], expected: str) -> None:
    assert expected in _broken(tmp_path, **extra)


def test_no_architecture(tmp_path: Path) -> None:
    path = tmp_path / "n.gguf"
    w = gguf.GGUFWriter(path, "lfm2")
    w.kv_data[0].pop("general.architecture")
    m.finish(w, path)
    with pytest.raises(GgufError, match=r"general\.architecture is missing"):
        describe(read_gguf(path))
