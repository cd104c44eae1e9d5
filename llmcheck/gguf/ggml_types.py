"""ggml tensor types and llama.cpp file types (ftypes): ids, block sizes, names.

Facts, not code: the block size (weights per block) and bytes per block of every ggml type a GGUF
file can hold, and the names of llama.cpp's ``general.file_type`` values.

Sources (llama.cpp 0c1e57098, the build llmcheck is calibrated against):
- ``ggml/src/ggml-common.h`` (the ``static_assert`` on each block struct) and ``ggml/src/ggml.c``
  ``type_traits`` (``blck_size``, ``type_size``); the same numbers as gguf-py 0.19.0
  ``GGML_QUANT_SIZES``, which ``tests/gguf/test_ggml_types.py`` checks entry by entry.
- ``include/llama.h`` ``enum llama_ftype`` (gguf-py ``LlamaFileType``) for the file types.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FTYPE_GUESSED_FLAG", "GGML_TYPES", "GgmlTypeSize", "ftype_name", "ggml_type_by_id"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GgmlTypeSize:
    """One ggml type: its GGUF id and how many bytes a block of weights takes."""

    name: str  # "Q4_K", as llama.cpp prints it (ggml_type_name upper-cased)
    type_id: int  # the GGUF tensor-info type id
    block_weights: int  # weights per block (ne0 must be a multiple of it)
    block_bytes: int


def _t(name: str, type_id: int, block_weights: int, block_bytes: int) -> GgmlTypeSize:
    return GgmlTypeSize(
        name=name, type_id=type_id, block_weights=block_weights, block_bytes=block_bytes
    )


# Ids 4 and 5 (Q4_2, Q4_3) and 31-33, 36-38 were removed from ggml: a file using them is refused.
GGML_TYPES: tuple[GgmlTypeSize, ...] = (
    _t("F32", 0, 1, 4),
    _t("F16", 1, 1, 2),
    _t("Q4_0", 2, 32, 18),
    _t("Q4_1", 3, 32, 20),
    _t("Q5_0", 6, 32, 22),
    _t("Q5_1", 7, 32, 24),
    _t("Q8_0", 8, 32, 34),
    _t("Q8_1", 9, 32, 40),
    _t("Q2_K", 10, 256, 84),
    _t("Q3_K", 11, 256, 110),
    _t("Q4_K", 12, 256, 144),
    _t("Q5_K", 13, 256, 176),
    _t("Q6_K", 14, 256, 210),
    _t("Q8_K", 15, 256, 292),
    _t("IQ2_XXS", 16, 256, 66),
    _t("IQ2_XS", 17, 256, 74),
    _t("IQ3_XXS", 18, 256, 98),
    _t("IQ1_S", 19, 256, 50),
    _t("IQ4_NL", 20, 32, 18),
    _t("IQ3_S", 21, 256, 110),
    _t("IQ2_S", 22, 256, 82),
    _t("IQ4_XS", 23, 256, 136),
    _t("I8", 24, 1, 1),
    _t("I16", 25, 1, 2),
    _t("I32", 26, 1, 4),
    _t("I64", 27, 1, 8),
    _t("F64", 28, 1, 8),
    _t("IQ1_M", 29, 256, 56),
    _t("BF16", 30, 1, 2),
    _t("TQ1_0", 34, 256, 54),
    _t("TQ2_0", 35, 256, 66),
    _t("MXFP4", 39, 32, 17),
    _t("NVFP4", 40, 64, 36),
    _t("Q1_0", 41, 128, 18),
)

_BY_ID = {t.type_id: t for t in GGML_TYPES}


def ggml_type_by_id(type_id: int) -> GgmlTypeSize | None:
    """The ggml type with GGUF id ``type_id``; ``None`` for an id this table does not know."""
    return _BY_ID.get(type_id)


# llama.h enum llama_ftype: general.file_type -> the name llama-quantize takes ("Q4_K_M").
# 4 (Q4_1_SOME_F16) and 5, 6 (Q4_2, Q4_3) are gone from llama.cpp; a file may still say 4.
_FTYPE_NAMES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}

# LLAMA_FTYPE_GUESSED: set when llama.cpp guessed the ftype of a file that did not say.
FTYPE_GUESSED_FLAG = 1024


def ftype_name(file_type: int) -> str | None:
    """The llama-quantize name of ``general.file_type`` (15 -> "Q4_K_M"); ``None`` if unknown."""
    return _FTYPE_NAMES.get(file_type & ~FTYPE_GUESSED_FLAG)
