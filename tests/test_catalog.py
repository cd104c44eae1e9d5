"""The shipped catalog's contract, and clear errors for broken catalog files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmcheck.catalog import Catalog, CatalogError, load_catalog, load_catalog_from
from llmcheck.resources import resource_path

# Published (card) parameter counts, docs/gguf-file-sizes.md §2.
CARD_PARAMETERS = {
    "lfm2-350m": 354_483_968,
    "lfm2-700m": 742_489_344,
    "lfm2-1.2b": 1_170_340_608,
    "lfm2-2.6b": 2_569_272_320,
}

REQUIRED_IDS = {
    "lfm2-350m", "lfm2-700m", "lfm2-1.2b", "lfm2-2.6b", "lfm2-8b-a1b", "lfm2-24b-a2b",
    "lfm2.5-230m", "lfm2.5-350m", "lfm2.5-1.2b-base", "lfm2.5-1.2b-instruct",
    "lfm2.5-1.2b-thinking", "lfm2.5-1.2b-jp", "lfm2.5-2.6b", "lfm2.5-8b-a1b",
    "lfm2-1.2b-rag", "lfm2-1.2b-extract", "lfm2-1.2b-tool", "lfm2-350m-math",
    "lfm2-350m-extract", "lfm2-350m-enjp-mt", "lfm2-350m-pii-extract-jp", "lfm2-2.6b-exp",
    "lfm2-2.6b-transcript", "lfm2-vl-450m", "lfm2-vl-1.6b", "lfm2-vl-3b", "lfm2.5-vl-450m",
    "lfm2.5-vl-1.6b", "lfm2.5-vl-3b",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_every_required_variant_is_there(catalog: Catalog) -> None:
    assert {v.id for v in catalog.variants} >= REQUIRED_IDS


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_lookup_is_case_insensitive_and_unknown_names_raise(catalog: Catalog) -> None:
    assert catalog.variant("LFM2-1.2B").id == "lfm2-1.2b"
    assert catalog.quant("q4_k_m").name == "Q4_K_M"
    with pytest.raises(KeyError, match="lfm2-9b"):
        catalog.variant("lfm2-9b")
    with pytest.raises(KeyError, match="Q1_X"):
        catalog.quant("Q1_X")


@pytest.mark.parametrize("quant", ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0",
                                   "BF16", "F16"])  # fmt: skip
def test_required_quants(catalog: Catalog, quant: str) -> None:
    q = catalog.quant(quant)
    assert q.quality_note
    assert q.default_type.block_bytes > 0


def test_contract_every_entry(catalog: Catalog) -> None:
    """Invariants every entry must keep (psutil-style contract test)."""
    for v in catalog.variants:
        a = v.architecture
        assert v.name.lower() == v.id, v.id
        assert v.family in ("LFM2", "LFM2.5")
        assert v.name.startswith(v.family + "-")
        assert v.hf_repo.startswith("LiquidAI/")
        assert v.hf_repo.endswith("-GGUF")
        assert v.quants
        assert len(set(v.quants)) == len(v.quants)
        assert v.trained_context_tokens <= v.gguf_context_tokens
        assert v.gguf_context_tokens % 256 == 0
        assert v.license
        assert v.task
        assert v.description
        assert v.released
        assert (v.kind == "vision") == (v.vision is not None)
        assert 1 <= a.n_attention_layers < a.n_layer
        assert all(0 <= i < a.n_layer for i in a.attention_layers)
        assert a.n_head * a.head_dim == a.hidden_size
        assert a.n_head_kv * a.head_dim == 512  # 8 KV heads of 64 (gguf-file-sizes.md §2)
        assert a.hidden_size % 256 == 0
        assert a.ffn_size % 256 == 0
        assert a.conv_l_cache == 3
        assert a.tied_embeddings
        if a.is_moe:
            assert a.n_expert_used < a.n_expert
            assert a.expert_ffn_size % 256 == 0
            assert a.parameter_count(active=True) < a.parameter_count()
        if v.vision is not None:
            assert v.vision.size_estimated
            assert v.vision.size_bytes == 2 * v.vision.parameters
        if a.parameters is not None:
            assert a.parameter_count() == a.parameters, a.id


def test_parameter_formula_reproduces_the_cards(catalog: Catalog) -> None:
    archs = {a.id: a for a in catalog.architectures}
    for arch_id, count in CARD_PARAMETERS.items():
        assert archs[arch_id].parameter_count() == count
        assert archs[arch_id].verified


def test_moe_counts_match_the_cards(catalog: Catalog) -> None:
    """8.3B / 1.5B and 24B / 2.3B (cards, rounded)."""
    archs = {a.id: a for a in catalog.architectures}
    assert round(archs["lfm2-8b-a1b"].parameter_count() / 1e9, 1) == 8.3
    assert round(archs["lfm2-8b-a1b"].parameter_count(active=True) / 1e9, 1) == 1.6  # 1.56
    assert round(archs["lfm2-24b-a2b"].parameter_count() / 1e9) == 24
    assert round(archs["lfm2-24b-a2b"].parameter_count(active=True) / 1e9, 1) == 2.3


def test_attention_layer_counts(catalog: Catalog) -> None:
    """6 / 8 / 6 / 10 attention layers (docs/gguf-file-sizes.md §2); the 1.2B indices are exact."""
    archs = {a.id: a for a in catalog.architectures}
    assert archs["lfm2-1.2b"].attention_layers == (2, 5, 8, 10, 12, 14)
    assert archs["lfm2-2.6b"].n_attention_layers == 8
    assert archs["lfm2-8b-a1b"].n_attention_layers == 6
    assert archs["lfm2-24b-a2b"].n_attention_layers == 10
    assert not archs["lfm2-2.6b"].attention_layers_verified


def test_unverified_entries_say_why(catalog: Catalog) -> None:
    for a in catalog.architectures:
        if not a.verified or not a.attention_layers_verified:
            assert a.note, a.id


def test_finetunes_share_their_backbone(catalog: Catalog) -> None:
    rag = catalog.variant("lfm2-1.2b-rag")
    assert rag.architecture is catalog.variant("lfm2-1.2b").architecture
    assert catalog.variant("lfm2-vl-1.6b").architecture.id == "lfm2-1.2b"


def test_file_names(catalog: Catalog) -> None:
    assert catalog.variant("lfm2-1.2b").gguf_file_name("q4_k_m") == "LFM2-1.2B-Q4_K_M.gguf"


# ---------------------------------------------------------------------------------------------
# Broken catalogs: each names the file and the key
# ---------------------------------------------------------------------------------------------


@pytest.fixture(params=[".toml", ".json"], ids=["toml-only", "with-precomputed-table"])
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of the shipped catalog that a test may break, with or without its precomputed table
    (which must never hide an edit: llmcheck.catalog.precomputed)."""
    src = resource_path("catalog")
    keep = (".toml", request.param)
    for entry in src.iterdir():
        if entry.name.endswith(keep):
            (tmp_path / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_copy_loads(folder: Path) -> None:
    assert len(load_catalog_from(folder).variants) == len(load_catalog().variants)


def test_missing_key(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'task = "chat"\n', "")
    with pytest.raises(CatalogError, match=r"models-1-lfm2\.toml: variants\[0\]\.task: missing"):
        load_catalog_from(folder)


def test_wrong_type(folder: Path) -> None:
    _edit(folder / "architectures.toml", "hidden_size = 1024", 'hidden_size = "1024"')
    with pytest.raises(
        CatalogError, match=r"architectures\.toml: architectures\.lfm2-350m\.hidden_size: expected"
    ):
        load_catalog_from(folder)


def test_negative_size(folder: Path) -> None:
    _edit(folder / "quants.toml", "block_bytes = 144", "block_bytes = -144")
    with pytest.raises(CatalogError, match=r"quants\.toml: ggml_types\.Q4_K\.block_bytes: must be"):
        load_catalog_from(folder)


def test_attention_index_out_of_range(folder: Path) -> None:
    _edit(folder / "architectures.toml", "[2, 5, 8, 10, 12, 14]", "[2, 5, 8, 10, 12, 16]")
    with pytest.raises(CatalogError, match=r"lfm2-350m\.attention_layers: index 16 is out of"):
        load_catalog_from(folder)


def test_unknown_backbone(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'backbone = "lfm2-700m"', 'backbone = "lfm2-750m"')
    with pytest.raises(CatalogError, match=r"variants\[1\]\.backbone: unknown architecture"):
        load_catalog_from(folder)


def test_duplicate_id(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'id = "lfm2-700m"', 'id = "lfm2-350m"')
    with pytest.raises(CatalogError, match=r"models-1-lfm2\.toml: variants\[1\]\.id: duplicate"):
        load_catalog_from(folder)


def test_duplicate_across_files(folder: Path) -> None:
    shutil.copy(folder / "architectures.toml", folder / "more-architectures.toml")
    with pytest.raises(CatalogError, match=r"more-architectures\.toml: duplicate architecture"):
        load_catalog_from(folder)


def test_unknown_quant_in_a_variant(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", '"Q4_0", ', '"Q4_9", ')
    with pytest.raises(CatalogError, match=r"variants\[0\]\.quants: unknown quantization 'Q4_9'"):
        load_catalog_from(folder)


def test_quant_without_rules(folder: Path) -> None:
    _edit(folder / "quants.toml", 'name = "Q2_K"', 'name = "Q2_K_XL"')
    with pytest.raises(CatalogError, match=r"quants\[\d+\]\.name: no llama-quantize rules"):
        load_catalog_from(folder)


def test_not_toml(folder: Path) -> None:
    (folder / "zz-broken.toml").write_text("[variants\nid = 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"zz-broken\.toml: not valid TOML"):
        load_catalog_from(folder)


def test_unknown_top_level_key(folder: Path) -> None:
    (folder / "zz-extra.toml").write_text("[modles]\nx = 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"zz-extra\.toml: modles: unknown top-level key"):
        load_catalog_from(folder)


def test_bad_date(folder: Path) -> None:
    _edit(folder / "models-1-lfm2.toml", 'released = "2025-07-10"', 'released = "July 2025"')
    with pytest.raises(CatalogError, match=r"variants\[0\]\.released: expected YYYY"):
        load_catalog_from(folder)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog files"):
        load_catalog_from(tmp_path)
