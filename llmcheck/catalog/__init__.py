"""The LFM2 / LFM2.5 catalog: variants, architectures and quantizations from ``resources/catalog``.

``load_catalog()`` reads every ``*.toml`` file there once (cached) and validates it; a broken
entry raises :class:`CatalogError` naming the file and the key. Adding a variant is a TOML edit.

Top-level tables a catalog file may hold (any file may hold any of them):
``ggml_types`` (name -> id, block_size, block_bytes), ``quants`` (array), ``gguf_metadata``
(array), ``architectures`` (id -> shapes), ``variants`` (array; each names its ``backbone``).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from llmcheck.catalog.quant import (
    GgmlType,
    TensorGroup,
    TensorInfo,
    TensorSummary,
    info_table_bytes,
    tensor_plan,
    tensor_summary,
)
from llmcheck.catalog.schema import (
    Architecture,
    Catalog,
    CatalogError,
    GgufMetadata,
    ModelVariant,
    QuantTable,
    QuantType,
    VisionProjector,
    _Table,
    check_unique,
    parse_architecture,
    parse_ggml_type,
    parse_metadata,
    parse_quant,
    parse_variant,
)
from llmcheck.resources import resource_path

__all__ = [
    "Architecture",
    "Catalog",
    "CatalogError",
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
    "gguf_size",
    "load_catalog",
    "load_catalog_from",
    "variant_summary",
    "variant_tensors",
]

_TOP_LEVEL = frozenset({"ggml_types", "quants", "gguf_metadata", "architectures", "variants"})


@functools.cache
def load_catalog() -> Catalog:
    """The shipped catalog (read and validated once per process).

    Raises:
        CatalogError: a shipped file is malformed (a packaging bug); the message names file and key.
    """
    return load_catalog_from(resource_path("catalog"))


def load_catalog_from(folder: Traversable | Path) -> Catalog:
    """Read and validate every ``*.toml`` file in ``folder`` (sorted by name).

    Raises:
        CatalogError: a file is unreadable, is not TOML, or an entry is invalid.
    """
    docs: list[tuple[str, dict[str, Any]]] = []
    try:
        entries = sorted(
            (e for e in folder.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
        )
    except OSError as exc:
        raise CatalogError(f"{folder}: cannot list the catalog folder: {exc}") from exc
    if not entries:
        raise CatalogError(f"{folder}: no catalog files (*.toml)")
    for entry in entries:
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{entry.name}: cannot read: {exc}") from exc
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{entry.name}: not valid TOML: {exc}") from exc
        except ValueError as exc:
            # tomllib lets Python's int limit through: an integer of more than 4,300 digits.
            raise CatalogError(f"{entry.name}: not valid TOML: {exc}") from exc
        unknown = set(doc) - _TOP_LEVEL
        if unknown:
            raise CatalogError(
                f"{entry.name}: {sorted(unknown)[0]}: unknown top-level key "
                f"(expected one of {', '.join(sorted(_TOP_LEVEL))})"
            )
        docs.append((entry.name, doc))
    return _build(docs)


def _tables(
    docs: Iterable[tuple[str, dict[str, Any]]], key: str
) -> list[tuple[str, str, _Table]]:
    """(file, name, table) for each entry of the keyed top-level table ``key``."""
    out: list[tuple[str, str, _Table]] = []
    for file, doc in docs:
        if key not in doc:
            continue
        outer = _Table(doc[key], file, key)
        out.extend((file, name, outer.sub(name)) for name in outer.data)
    return out


def _arrays(docs: Iterable[tuple[str, dict[str, Any]]], key: str) -> list[tuple[str, _Table]]:
    """(file, table) for each element of the top-level array of tables ``key``."""
    out: list[tuple[str, _Table]] = []
    for file, doc in docs:
        if key not in doc:
            continue
        items = doc[key]
        if not isinstance(items, list):
            raise CatalogError(f"{file}: {key}: expected an array of tables ([[{key}]])")
        out.extend((file, _Table(item, file, f"{key}[{i}]")) for i, item in enumerate(items))
    return out


def _build(docs: list[tuple[str, dict[str, Any]]]) -> Catalog:
    ggml_entries = _tables(docs, "ggml_types")
    check_unique([n for _, n, _ in ggml_entries], [f for f, _, _ in ggml_entries], "ggml type")
    types = {name: parse_ggml_type(name, t) for _, name, t in ggml_entries}

    quant_entries = _arrays(docs, "quants")
    quants = tuple(parse_quant(t, types) for _, t in quant_entries)
    check_unique([q.name for q in quants], [f for f, _ in quant_entries], "quantization")

    meta_entries = _arrays(docs, "gguf_metadata")
    metadata = tuple(parse_metadata(t) for _, t in meta_entries)
    check_unique(
        [str(m.vocab_size) for m in metadata], [f for f, _ in meta_entries], "gguf_metadata vocab"
    )
    table = QuantTable(ggml_types=tuple(types.values()), quants=quants, metadata=metadata)
    for needed in ("F32", "Q6_K", "Q8_0"):
        if quants and needed not in types:
            raise CatalogError(f"{quant_entries[0][0]}: ggml_types.{needed}: missing (needed)")

    arch_entries = _tables(docs, "architectures")
    check_unique([n for _, n, _ in arch_entries], [f for f, _, _ in arch_entries], "architecture")
    architectures = {name: parse_architecture(name, t) for _, name, t in arch_entries}

    variant_entries = _arrays(docs, "variants")
    variants = tuple(parse_variant(t, architectures, table) for _, t in variant_entries)
    first_file: dict[str, str] = {}
    for (file, t), v in zip(variant_entries, variants, strict=True):
        if v.id in first_file:
            msg = f"duplicate variant id {v.id!r} (first defined in {first_file[v.id]})"
            raise t.fail("id", msg)
        first_file[v.id] = file
    return Catalog(
        variants=variants,
        quants=quants,
        architectures=tuple(architectures.values()),
        quant_table=table,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GgufSize:
    """The computed size of one GGUF file and its parts (bytes)."""

    tensor_data_bytes: int  # Σ tensor bytes padded to 32 (what llama.cpp calls the model size)
    tensor_info_bytes: int  # the tensor-info table
    metadata_bytes: int | None  # tokenizer + keys; None when the vocabulary's block is unknown
    metadata_tolerance_bytes: int | None
    token_embd_bytes: int  # the tied embedding / output matrix
    expert_bytes: int  # routed experts (MoE), else 0

    @property
    def file_bytes(self) -> int:
        """The whole file; the metadata block counts as 0 when unknown."""
        return self.tensor_data_bytes + self.tensor_info_bytes + (self.metadata_bytes or 0)


@functools.lru_cache(maxsize=1024)
def variant_tensors(arch: Architecture, quant: str, table: QuantTable) -> tuple[TensorInfo, ...]:
    """The tensors of ``arch`` quantized as ``quant``, with types and bytes (cached, pure).

    Raises:
        KeyError: ``quant`` is not in the table.
    """
    q = table.quant(quant)
    return tensor_plan(arch, q.name, q.default_type.name, table.types_by_name())


@functools.lru_cache(maxsize=1024)
def variant_summary(arch: Architecture, quant: str, table: QuantTable) -> TensorSummary:
    """:func:`variant_tensors`, aggregated (:class:`TensorSummary`; cached, pure).

    Raises:
        KeyError: ``quant`` is not in the table.
    """
    q = table.quant(quant)
    return tensor_summary(arch, q.name, q.default_type.name, table.types_by_name())


def gguf_size(variant: ModelVariant, quant: str) -> GgufSize:
    """The GGUF file of ``variant`` at ``quant``, computed from the shapes and the rules."""
    return _gguf_size(variant.architecture, quant, variant.quant_table)


@functools.lru_cache(maxsize=1024)
def _gguf_size(arch: Architecture, quant: str, table: QuantTable) -> GgufSize:
    # Cached per backbone, not per variant: variants share architectures (pure; the estimator
    # asks for every variant x quant on each call).
    summary = variant_summary(arch, quant, table)
    meta = table.metadata_for(arch.vocab_size)
    token_embd = expert = data = 0
    for g in summary.global_groups:
        data += g.padded_bytes * g.count
        if g.is_expert:
            expert += g.nbytes * g.count
        elif g.role == "token_embd":
            token_embd += g.nbytes * g.count
    for kind, n_blocks in zip(summary.kinds, _kind_counts(summary), strict=True):
        for g in kind:
            data += g.padded_bytes * g.count * n_blocks
            if g.is_expert:
                expert += g.nbytes * g.count * n_blocks
    return GgufSize(
        tensor_data_bytes=data,
        tensor_info_bytes=info_table_bytes(arch),
        metadata_bytes=meta.metadata_bytes if meta else None,
        metadata_tolerance_bytes=meta.tolerance_bytes if meta else None,
        token_embd_bytes=token_embd,
        expert_bytes=expert,
    )


def _kind_counts(summary: TensorSummary) -> list[int]:
    """How many blocks hold each of ``summary.kinds``."""
    counts = [0] * len(summary.kinds)
    for k in summary.layer_kinds:
        counts[k] += 1
    return counts
