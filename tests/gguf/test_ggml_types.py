"""The ggml type and file-type tables match llama.cpp's own gguf-py and the catalog."""

from __future__ import annotations

import gguf

from llmcheck.catalog import load_catalog
from llmcheck.gguf.ggml_types import GGML_TYPES, ftype_name, ggml_type_by_id


def test_every_type_matches_gguf_py() -> None:
    theirs = {t.name: (int(t), block, size) for t, (block, size) in gguf.GGML_QUANT_SIZES.items()}
    ours = {t.name: (t.type_id, t.block_weights, t.block_bytes) for t in GGML_TYPES}
    assert ours == theirs


def test_types_agree_with_the_catalog_quant_table() -> None:
    for t in load_catalog().quant_table.ggml_types:
        ours = ggml_type_by_id(t.type_id)
        assert ours is not None
        assert (ours.name, ours.block_weights, ours.block_bytes) == (
            t.name,
            t.block_size,
            t.block_bytes,
        )


def test_file_type_names_match_llama_ftype() -> None:
    for ft in gguf.LlamaFileType:
        if ft is gguf.LlamaFileType.GUESSED:
            continue
        expected = "F32" if ft.name == "ALL_F32" else ft.name.removeprefix("MOSTLY_")
        assert ftype_name(int(ft)) == expected
    assert ftype_name(15 | 1024) == "Q4_K_M"  # a guessed ftype keeps its name
    assert ftype_name(999) is None
    assert ggml_type_by_id(4) is None  # Q4_2, removed from ggml
