"""The LFM2 / LFM2.5 catalog: variants, architectures and quantizations from ``resources/catalog``.

``load_catalog()`` reads every ``*.toml`` file there once (cached) and validates it; a broken
entry raises :class:`CatalogError` naming the file and the key. Adding a variant is a TOML edit.

The package, bottom to top (the ``catalog-layers`` contract in ``pyproject.toml`` keeps it so):
:mod:`~llmcheck.catalog.values` (the frozen value types), :mod:`~llmcheck.catalog.rules`
(llama-quantize's per-tensor type rules), :mod:`~llmcheck.catalog.quant` (the GGUF tensors and file
size) beside :mod:`~llmcheck.catalog.schema` (the TOML files and their validation), and
:mod:`~llmcheck.catalog.precomputed` (the parsed TOML, stored, for a cheap start-up).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from llmcheck.catalog.precomputed import stored_documents
from llmcheck.catalog.quant import (
    FileQuantTable,
    TensorGroup,
    TensorInfo,
    TensorSummary,
    gguf_size,
    variant_summary,
    variant_tensors,
)
from llmcheck.catalog.schema import build, parse_sources, read_sources
from llmcheck.catalog.values import (
    Architecture,
    Catalog,
    CatalogError,
    GgmlType,
    GgufMetadata,
    GgufSize,
    ModelVariant,
    QuantTable,
    QuantType,
    VisionProjector,
)
from llmcheck.resources import resource_path

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

__all__ = [
    "Architecture",
    "Catalog",
    "CatalogError",
    "FileQuantTable",
    "GgmlType",
    "GgufMetadata",
    "GgufSize",
    "ModelVariant",
    "QuantTable",
    "QuantType",
    "TensorGroup",
    "TensorInfo",
    "TensorSummary",
    "VisionProjector",
    "community_quants",
    "gguf_size",
    "is_published",
    "load_catalog",
    "load_catalog_from",
    "variant_summary",
    "variant_tensors",
]


def is_published(variant: ModelVariant, quant: str) -> bool:
    """True when Liquid AI's GGUF repository of ``variant`` has a ``quant`` file.

    Every other quant of the table is a community quant: its size comes from llama-quantize's
    rules alone (docs/community-quants.md).
    """
    return quant.upper() in variant.quants


def community_quants(variant: ModelVariant) -> tuple[str, ...]:
    """The quants llmcheck sizes for ``variant`` that Liquid AI did not publish, best first."""
    ranked = sorted(variant.quant_table.quants, key=lambda q: -q.quality_rank)
    return tuple(q.name for q in ranked if q.name not in variant.quants)


@functools.cache
def load_catalog() -> Catalog:
    """The shipped catalog (read and validated once per process).

    Raises:
        CatalogError: a shipped file is malformed (a packaging bug); the message names file and key.
    """
    return load_catalog_from(resource_path("catalog"))


def load_catalog_from(folder: Traversable | Path) -> Catalog:
    """Read and validate every ``*.toml`` file in ``folder`` (sorted by name).

    When ``folder`` holds a precomputed table made from exactly these files
    (:mod:`llmcheck.catalog.precomputed`), its stored documents replace the TOML parsing; the
    validation into frozen dataclasses is the same either way.

    Raises:
        CatalogError: a file is unreadable, is not TOML, or an entry is invalid.
    """
    sources = read_sources(folder)
    docs = stored_documents(folder, sources)
    return build(docs if docs is not None else parse_sources(sources))
