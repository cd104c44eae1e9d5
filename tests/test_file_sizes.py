"""Computed GGUF sizes against every published and measured byte count we know.

Each number and its original source (Hugging Face files, llama.cpp issues and PRs, files written
by llama.cpp's own quantizer) is listed in docs/gguf-file-sizes.md §8.
"""

from __future__ import annotations

from collections import Counter

import pytest

from llmcheck.catalog import Catalog, gguf_size, load_catalog, variant_tensors
from llmcheck.estimate import file_size_bytes

MIB = 1 << 20
GIB = 1 << 30


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# (variant, quant, published file bytes, computed tensor data), docs/gguf-file-sizes.md §8.
PUBLISHED = [
    ("lfm2-350m", "Q4_K_M", 229_309_376, 226_925_568),
    ("lfm2-350m", "Q8_0", 379_214_784, 376_830_976),
    ("lfm2-700m", "Q4_K_M", 468_624_320, 466_240_512),
    ("lfm2-1.2b", "Q4_K_M", 730_893_248, 728_509_440),
    ("lfm2-1.2b", "Q4_K_M", 730_893_024, 728_509_440),  # unsloth's file, other metadata
    ("lfm2-2.6b", "Q4_K_M", 1_563_668_704, 1_561_276_416),
    ("lfm2-8b-a1b", "Q4_K_M", 5_044_779_712, 5_042_386_688),
    ("lfm2-24b-a2b", "Q4_K_M", 14_415_473_952, 14_413_068_800),
    ("lfm2.5-350m", "Q4_K_M", 229_312_224, 226_925_568),
    ("lfm2.5-1.2b-instruct", "Q4_K_M", 730_895_168, 728_509_440),
    ("lfm2.5-2.6b", "Q4_K_M", 1_674_455_040, 1_666_215_936),
    ("lfm2.5-8b-a1b", "Q4_K_M", 5_155_564_768, 5_147_326_208),
]


@pytest.mark.parametrize(("variant_id", "quant", "published", "data"), PUBLISHED)
def test_published_file_sizes(
    catalog: Catalog, variant_id: str, quant: str, published: int, data: int
) -> None:
    """Tensor data is exact to the byte; the whole file is within the metadata tolerance."""
    size = gguf_size(catalog.variant(variant_id), quant)
    assert size.tensor_data_bytes == data
    assert size.metadata_tolerance_bytes is not None
    assert abs(size.file_bytes - published) <= size.metadata_tolerance_bytes
    assert file_size_bytes(catalog.variant(variant_id), quant) == size.file_bytes


def test_f16_sizes_from_llama_cpp_logs(catalog: Catalog) -> None:
    """Issue #14979 (676.25 MiB) and PR #16204 llama-bench sizes (1.38 / 2.18 / 4.79 GiB)."""
    assert gguf_size(catalog.variant("lfm2-350m"), "F16").tensor_data_bytes == 709_098_496
    for variant_id, gib in (("lfm2-700m", 1.38), ("lfm2-1.2b", 2.18), ("lfm2-2.6b", 4.79)):
        data = gguf_size(catalog.variant(variant_id), "F16").tensor_data_bytes
        assert round(data / GIB, 2) == gib


def test_lfm25_26b_sizes_from_liquid_docs(catalog: Catalog) -> None:
    """LDOCS PR #119: Q4_K_M 1.67 GB, Q6_K 2.22 GB, Q8_0 2.87 GB, BF16 5.4 GB."""
    v = catalog.variant("lfm2.5-2.6b")
    assert round(file_size_bytes(v, "Q4_K_M") / 1e9, 2) == 1.67
    assert round(file_size_bytes(v, "Q6_K") / 1e9, 2) == 2.22
    assert round(file_size_bytes(v, "Q8_0") / 1e9, 2) == 2.87
    assert round(file_size_bytes(v, "BF16") / 1e9, 1) == 5.4


def test_lfm2_12b_q4_0_third_party_size(catalog: Catalog) -> None:
    """A third-party table gives LFM2-1.2B Q4_0 as 696 MB."""
    assert round(file_size_bytes(catalog.variant("lfm2-1.2b"), "Q4_0") / 1e6) == 696


# docs/gguf-file-sizes.md §8: tensor bytes (MiB, as llama.cpp prints them) and file sizes of files
# quantized by llama.cpp itself from synthetic LFM2 GGUFs.
MEASURED = {
    "lfm2-1.2b": {
        "F16": (2232.50, 2_342_751_648),
        "Q8_0": (1186.25, 1_245_679_072),
        "Q6_K": (915.96, 962_268_640),
        "Q5_K_M": (802.01, 842_780_128),
        "Q4_K_M": (694.76, 730_320_352),
        "Q4_0": (661.25, 695_176_672),
        "Q3_K_M": (570.26, 599_772_640),
        "Q2_K": (458.73, 482_823_648),
    },
    "lfm2-350m": {
        "F16": (None, 710_909_344),
        "Q8_0": (None, 378_641_888),
        "Q6_K": (None, 292_806_112),
        "Q5_K_M": (None, 259_800_544),
        "Q4_K_M": (None, 228_736_480),
        "Q4_0": (None, 218_734_048),
        "Q3_K_M": (None, 192_576_992),
        "Q2_K": (None, 160_021_984),
    },
}


@pytest.mark.parametrize("variant_id", sorted(MEASURED))
def test_measured_files_differ_only_by_their_metadata(catalog: Catalog, variant_id: str) -> None:
    """Over eight quants, file - tensor data - info table is one constant (the synthetic
    tokenizer block): every per-tensor type choice matches llama-quantize's."""
    v = catalog.variant(variant_id)
    residuals = []
    for quant, (mib, file_bytes) in MEASURED[variant_id].items():
        size = gguf_size(v, quant)
        if mib is not None:
            assert round(size.tensor_data_bytes / MIB, 2) == mib
        residuals.append(file_bytes - size.tensor_data_bytes - size.tensor_info_bytes)
    # The F16 file's general.file_type / quantization keys differ by a few bytes.
    assert max(residuals) - min(residuals) <= 64
    assert 1_790_000 < min(residuals) < 1_820_000  # "our metadata block is 1.81 MB"


def _type_counts(catalog: Catalog, arch_id: str, quant: str) -> Counter[str]:
    arch = next(a for a in catalog.architectures if a.id == arch_id)
    return Counter(t.ggml_type for t in variant_tensors(arch, quant, catalog.quant_table))


def test_type_counts_match_the_loader_dump(catalog: Catalog) -> None:
    """Issue #16278 loader dump of the official LFM2-2.6B Q4_K_M: 99 f32, 148 q4_K (19 q6_K)."""
    assert _type_counts(catalog, "lfm2-2.6b", "Q4_K_M") == {"F32": 99, "Q4_K": 148, "Q6_K": 19}


@pytest.mark.parametrize(
    ("arch_id", "quant", "expected"),
    [
        ("lfm2-1.2b", "Q4_K_M", {"F32": 55, "Q6_K": 11, "Q4_K": 82}),
        ("lfm2-1.2b", "Q4_0", {"F32": 55, "Q6_K": 1, "Q4_0": 92}),
        ("lfm2-1.2b", "Q3_K_M", {"F32": 55, "Q6_K": 1, "Q3_K": 64, "Q5_K": 3, "Q4_K": 25}),
        ("lfm2-1.2b", "Q2_K", {"F32": 55, "Q6_K": 1, "Q2_K": 64, "Q3_K": 28}),
        ("lfm2-8b-a1b", "Q4_K_M", {"F32": 123, "Q6_K": 15, "Q4_K": 118}),
    ],
)
def test_type_counts_per_ftype(
    catalog: Catalog, arch_id: str, quant: str, expected: dict[str, int]
) -> None:
    """Tensors per ggml type (docs §8), with the n_gqa() == 0 quirk (Q2_K attn_v is Q3_K)."""
    assert _type_counts(catalog, arch_id, quant) == expected


def test_tensor_counts(catalog: Catalog) -> None:
    """148 (16-layer dense), 266 (2.6B), 256 (8B-A1B), 428 (24B-A2B) tensors (docs §3)."""
    counts = {"lfm2-1.2b": 148, "lfm2-2.6b": 266, "lfm2-8b-a1b": 256, "lfm2-24b-a2b": 428}
    for arch_id, n in counts.items():
        assert sum(_type_counts(catalog, arch_id, "Q4_K_M").values()) == n


def test_predicted_size_table(catalog: Catalog) -> None:
    """Predicted sizes (MB) for every quant of LFM2-1.2B and LFM2-8B-A1B (docs §8)."""
    rows = {
        "lfm2-1.2b": [483.4, 600.3, 695.8, 730.9, 843.4, 962.8, 1246.3, 2343.3],
        "lfm2-8b-a1b": [3079.6, 3997.6, 4733.9, 5044.8, 5919.6, 6849.0, 8868.4, 16685.6],
    }
    quants = ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"]
    for variant_id, mbs in rows.items():
        v = catalog.variant(variant_id)
        got = [round(file_size_bytes(v, q) / 1e6, 1) for q in quants]
        assert got == mbs


def test_bigger_quant_gives_bigger_file(catalog: Catalog) -> None:
    """Quality rank and file size agree for every variant (the order best_quant relies on)."""
    order = ["Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"]
    for v in catalog.variants:
        sizes = [file_size_bytes(v, q) for q in order]
        assert sizes == sorted(sizes), v.id
