"""The catalog's TOML files: reading them, and validating each entry into the value types.

Every check names the file and the key (``lfm2.toml: variants[3].quants: ...``), so a broken entry
is found without reading code. :func:`read_sources` reads the ``*.toml`` texts of a folder,
:func:`parse_sources` parses them, :func:`build` turns the parsed documents into a
:class:`~llmcheck.catalog.values.Catalog`; :mod:`llmcheck.catalog.precomputed` may stand in for
:func:`parse_sources` on the hot path, never for :func:`build`.

Top-level tables a catalog file may hold (any file may hold any of them):
``ggml_types`` (name -> id, block_size, block_bytes), ``quants`` (array), ``gguf_metadata``
(array), ``architectures`` (id -> shapes), ``variants`` (array; each names its ``backbone``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmcheck.catalog.rules import SUPPORTED_FTYPES
from llmcheck.catalog.values import (
    Architecture,
    Catalog,
    CatalogError,
    GgmlType,
    GgufMetadata,
    ModelVariant,
    QuantTable,
    QuantType,
    VisionProjector,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class _Table:
    """A TOML table plus where it came from, with typed getters that raise CatalogError."""

    def __init__(self, data: Any, file: str, path: str) -> None:
        if not isinstance(data, Mapping):
            raise CatalogError(f"{file}: {path}: expected a table, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.file = file
        self.path = path

    def where(self, key: str) -> str:
        return f"{self.file}: {self.path}.{key}" if self.path else f"{self.file}: {key}"

    def fail(self, key: str, message: str) -> CatalogError:
        return CatalogError(f"{self.where(key)}: {message}")

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "missing required key")
        return self.data[key]

    def has(self, key: str) -> bool:
        return key in self.data

    def str_(self, key: str, default: str | None = None) -> str:
        if default is not None and key not in self.data:
            return default
        value = self._get(key)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def int_(self, key: str, *, minimum: int = 0, default: int | None = None) -> int:
        if default is not None and key not in self.data:
            return default
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {type(value).__name__}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def opt_int(self, key: str, *, minimum: int = 0) -> int | None:
        if key not in self.data:
            return None
        return self.int_(key, minimum=minimum)

    def bool_(self, key: str, default: bool | None = None) -> bool:
        if default is not None and key not in self.data:
            return default
        value = self._get(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {type(value).__name__}")
        return value

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in value
        ):
            raise self.fail(key, "expected a list of integers")
        return tuple(value)

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise self.fail(key, "expected a list of strings")
        return tuple(value)

    def sub(self, key: str) -> _Table:
        return _Table(self._get(key), self.file, f"{self.path}.{key}" if self.path else key)


def parse_ggml_type(name: str, t: _Table) -> GgmlType:
    """One ``[ggml_types.NAME]`` table."""
    return GgmlType(
        name=name,
        type_id=t.int_("id"),
        block_size=t.int_("block_size", minimum=1),
        block_bytes=t.int_("block_bytes", minimum=1),
    )


def parse_quant(t: _Table, types: Mapping[str, GgmlType]) -> QuantType:
    """One ``[[quants]]`` entry."""
    name = t.str_("name")
    if name not in SUPPORTED_FTYPES:
        raise t.fail("name", f"no llama-quantize rules for {name!r} (llmcheck.catalog.quant)")
    default = t.str_("default_type")
    if default not in types:
        raise t.fail("default_type", f"unknown ggml type {default!r}")
    return QuantType(
        name=name,
        default_type=types[default],
        quality_rank=t.int_("quality_rank"),
        quality_note=t.str_("quality_note"),
    )


def parse_metadata(t: _Table) -> GgufMetadata:
    """One ``[[gguf_metadata]]`` entry."""
    return GgufMetadata(
        vocab_size=t.int_("vocab_size", minimum=1),
        metadata_bytes=t.int_("metadata_bytes", minimum=1),
        tolerance_bytes=t.int_("tolerance_bytes"),
    )


def parse_architecture(arch_id: str, t: _Table) -> Architecture:
    """One ``[architectures.ID]`` table, with its invariants checked."""
    if not _ID_RE.match(arch_id):
        raise CatalogError(f"{t.file}: {t.path}: id must be lower-case letters, digits, . and -")
    gguf_arch = t.str_("gguf_arch")
    if gguf_arch not in ("lfm2", "lfm2moe"):
        raise t.fail("gguf_arch", f"expected 'lfm2' or 'lfm2moe', got {gguf_arch!r}")
    n_layer = t.int_("n_layer", minimum=1)
    attention = t.int_list("attention_layers")
    for i in attention:
        if not 0 <= i < n_layer:
            raise t.fail("attention_layers", f"index {i} is out of range 0..{n_layer - 1}")
    if len(set(attention)) != len(attention) or list(attention) != sorted(attention):
        raise t.fail("attention_layers", "indices must be increasing and unique")
    n_head = t.int_("n_head", minimum=1)
    n_head_kv = t.int_("n_head_kv", minimum=1)
    if n_head % n_head_kv:
        raise t.fail("n_head_kv", f"{n_head_kv} does not divide n_head {n_head}")
    arch = Architecture(
        id=arch_id,
        gguf_arch=gguf_arch,
        hidden_size=t.int_("hidden_size", minimum=1),
        n_layer=n_layer,
        attention_layers=attention,
        attention_layers_verified=t.bool_("attention_layers_verified"),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=t.int_("head_dim", minimum=1),
        ffn_size=t.int_("ffn_size", minimum=1),
        vocab_size=t.int_("vocab_size", minimum=1),
        tied_embeddings=t.bool_("tied_embeddings"),
        conv_l_cache=t.int_("conv_l_cache", minimum=2),
        gguf_context_tokens=t.int_("gguf_context_tokens", minimum=256),
        n_expert=t.int_("n_expert", default=0),
        n_expert_used=t.int_("n_expert_used", default=0),
        n_dense_lead_layers=t.int_("n_dense_lead_layers", default=0),
        expert_ffn_size=t.int_("expert_ffn_size", default=0),
        parameters=t.opt_int("parameters", minimum=1),
        verified=t.bool_("verified"),
        note=t.str_("note", default=""),
    )
    if gguf_arch == "lfm2moe":
        if arch.n_expert < 1 or not 1 <= arch.n_expert_used <= arch.n_expert:
            raise t.fail("n_expert_used", "a lfm2moe model needs 1 <= n_expert_used <= n_expert")
        if arch.expert_ffn_size < 1:
            raise t.fail("expert_ffn_size", "a lfm2moe model needs expert_ffn_size > 0")
        if arch.n_dense_lead_layers >= n_layer:
            raise t.fail("n_dense_lead_layers", "must be fewer than n_layer")
    elif arch.n_expert:
        raise t.fail("n_expert", "only lfm2moe models have experts")
    # llama.cpp needs every matrix row to be a whole number of 256-blocks for K-quants; LFM2 is.
    for key, value in (("hidden_size", arch.hidden_size), ("ffn_size", arch.ffn_size)):
        if value % 32:
            raise t.fail(key, f"{value} is not a multiple of 32")
    return arch


def parse_date(t: _Table, key: str) -> str:
    """An ISO date "YYYY-MM-DD" or month "YYYY-MM" (TOML dates are accepted too)."""
    value = t.data.get(key)
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = t.str_(key)
    if not _DATE_RE.match(text):
        raise t.fail(key, f"expected YYYY-MM-DD, YYYY-MM or YYYY, got {text!r}")
    return text


def parse_variant(
    t: _Table,
    architectures: Mapping[str, Architecture],
    table: QuantTable,
) -> ModelVariant:
    """One ``[[variants]]`` entry: its backbone must exist and its quants must be known."""
    variant_id = t.str_("id")
    if not _ID_RE.match(variant_id):
        raise t.fail("id", f"{variant_id!r} must be lower-case letters, digits, . and -")
    backbone = t.str_("backbone")
    if backbone not in architectures:
        raise t.fail("backbone", f"unknown architecture {backbone!r}")
    arch = architectures[backbone]
    kind = t.str_("kind")
    if kind not in ("text", "vision"):
        raise t.fail("kind", f"expected 'text' or 'vision', got {kind!r}")
    family = t.str_("family")
    if family not in ("LFM2", "LFM2.5"):
        raise t.fail("family", f"expected 'LFM2' or 'LFM2.5', got {family!r}")
    quants = t.str_list("quants")
    if not quants:
        raise t.fail("quants", "at least one published quantization is needed")
    known = {q.name for q in table.quants}
    for q in quants:
        if q not in known:
            raise t.fail("quants", f"unknown quantization {q!r}")
    gguf_ctx = t.int_("gguf_context_tokens", minimum=256, default=arch.gguf_context_tokens)
    trained_ctx = t.int_("trained_context_tokens", minimum=256)
    vision: VisionProjector | None = None
    if kind == "vision":
        vision = _parse_vision(t.sub("vision"), table)
    elif t.has("vision"):
        raise t.fail("vision", "only vision models have a projector")
    params = t.opt_int("parameters", minimum=1)
    return ModelVariant(
        id=variant_id,
        name=t.str_("name"),
        family=family,
        size_label=t.str_("size_label"),
        kind=kind,
        architecture=arch,
        backbone=backbone,
        trained_context_tokens=trained_ctx,
        gguf_context_tokens=gguf_ctx,
        parameters=params if params is not None else arch.parameters,
        released=parse_date(t, "released"),
        license=t.str_("license"),
        hf_repo=t.str_("hf_repo"),
        gguf_file_prefix=t.str_("gguf_file_prefix"),
        task=t.str_("task"),
        description=t.str_("description"),
        quants=quants,
        vision=vision,
        verified=t.bool_("verified", default=arch.verified),
        note=t.str_("note", default=""),
        quant_table=table,
    )


def _parse_vision(t: _Table, table: QuantTable) -> VisionProjector:
    params = t.int_("parameters", minimum=1)
    dtype = t.str_("ggml_type")
    try:
        gt = table.ggml_type(dtype)
    except KeyError:
        raise t.fail("ggml_type", f"unknown ggml type {dtype!r}") from None
    return VisionProjector(
        encoder=t.str_("encoder"),
        parameters=params,
        ggml_type=dtype,
        # An estimate: every encoder weight at the file's dtype (norms and biases are F32 in the
        # real file, a few MB more); the real mmproj files were not read.
        size_bytes=params * gt.block_bytes // gt.block_size,
        size_estimated=t.bool_("size_estimated", default=True),
    )


def check_unique(items: Sequence[str], file_of: Sequence[str], what: str) -> None:
    """Raise CatalogError naming both files when an id appears twice."""
    seen: dict[str, str] = {}
    for item, file in zip(items, file_of, strict=True):
        if item in seen:
            msg = f"{file}: duplicate {what} {item!r} (first defined in {seen[item]})"
            raise CatalogError(msg)
        seen[item] = file


_TOP_LEVEL = frozenset({"ggml_types", "quants", "gguf_metadata", "architectures", "variants"})


def read_sources(folder: Traversable | Path) -> list[tuple[str, str]]:
    """(file name, text) of every ``*.toml`` file in ``folder``, sorted by name.

    Raises:
        CatalogError: the folder cannot be listed, holds no ``*.toml`` file, or a file is
            unreadable or not UTF-8.
    """
    try:
        entries = sorted(
            (e for e in folder.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
        )
    except OSError as exc:
        raise CatalogError(f"{folder}: cannot list the catalog folder: {exc}") from exc
    if not entries:
        raise CatalogError(f"{folder}: no catalog files (*.toml)")
    sources = []
    for entry in entries:
        try:
            sources.append((entry.name, entry.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{entry.name}: cannot read: {exc}") from exc
    return sources


def parse_sources(sources: Iterable[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """Parse each (file name, TOML text) into a document, checking its top-level keys.

    Raises:
        CatalogError: a text is not TOML, or holds an unknown top-level key.
    """
    # Imported here: the shipped catalog is read from the precomputed table on the hot path, and
    # tomllib costs a few milliseconds to import (llmcheck.catalog.precomputed).
    import tomllib

    docs: list[tuple[str, dict[str, Any]]] = []
    for name, text in sources:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{name}: not valid TOML: {exc}") from exc
        except ValueError as exc:
            # tomllib lets Python's int limit through: an integer of more than 4,300 digits.
            raise CatalogError(f"{name}: not valid TOML: {exc}") from exc
        _check_top_level(name, doc)
        docs.append((name, doc))
    return docs


def _check_top_level(name: str, doc: Mapping[str, Any]) -> None:
    unknown = set(doc) - _TOP_LEVEL
    if unknown:
        raise CatalogError(
            f"{name}: {sorted(unknown)[0]}: unknown top-level key "
            f"(expected one of {', '.join(sorted(_TOP_LEVEL))})"
        )


def _tables(
    docs: Iterable[tuple[str, Mapping[str, Any]]], key: str
) -> list[tuple[str, str, _Table]]:
    """(file, name, table) for each entry of the keyed top-level table ``key``."""
    out: list[tuple[str, str, _Table]] = []
    for file, doc in docs:
        if key not in doc:
            continue
        outer = _Table(doc[key], file, key)
        out.extend((file, name, outer.sub(name)) for name in outer.data)
    return out


def _arrays(docs: Iterable[tuple[str, Mapping[str, Any]]], key: str) -> list[tuple[str, _Table]]:
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


def build(docs: Sequence[tuple[str, Mapping[str, Any]]]) -> Catalog:
    """The catalog of parsed documents ((file name, TOML document), sorted by name), validated.

    Raises:
        CatalogError: an entry is invalid; the message names the file and the key.
    """
    for name, doc in docs:
        _check_top_level(name, doc)
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
