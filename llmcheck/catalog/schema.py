"""The catalog's value objects and the validation that turns TOML tables into them.

Every check names the file and the key (``lfm2.toml: variants[3].quants: ...``), so a broken entry
is found without reading code. Data holds facts only (layer indices, sizes, bytes per block); the
formulas that use them live in :mod:`llmcheck.catalog.quant` and :mod:`llmcheck.estimate`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmcheck.catalog.quant import SUPPORTED_FTYPES, GgmlType


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file and the key."""


# ----------------------------------------------------------------------------------------------
# Value objects
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Architecture:
    """The exact shapes of one LFM2 backbone, as llama.cpp's GGUF header describes it."""

    id: str  # "lfm2-1.2b"
    gguf_arch: str  # "lfm2" | "lfm2moe"
    hidden_size: int
    n_layer: int
    attention_layers: tuple[int, ...]  # layers with KV (head_count_kv > 0); the rest are conv
    attention_layers_verified: bool  # False: only the count is certain, indices are a placeholder
    n_head: int
    n_head_kv: int
    head_dim: int
    ffn_size: int  # dense SwiGLU width after block_auto_adjust_ff_dim (GGUF feed_forward_length)
    vocab_size: int
    tied_embeddings: bool
    conv_l_cache: int
    gguf_context_tokens: int  # {arch}.context_length in the GGUF header
    n_expert: int = 0
    n_expert_used: int = 0
    n_dense_lead_layers: int = 0
    expert_ffn_size: int = 0
    parameters: int | None = None  # the published (card) count, when there is one
    verified: bool = False  # True: the parameter formula reproduces the card count
    note: str = ""

    def __hash__(self) -> int:
        """Hash the id and the layer count (compared by ``==`` too): cheap cache keys."""
        return hash((self.id, self.n_layer))

    @property
    def n_attention_layers(self) -> int:
        """Layers that hold a KV cache."""
        return len(self.attention_layers)

    @property
    def n_conv_layers(self) -> int:
        """Short-convolution layers (they hold the recurrent state)."""
        return self.n_layer - len(self.attention_layers)

    @property
    def is_moe(self) -> bool:
        """True for the lfm2moe models."""
        return self.n_expert > 0

    def is_attention_layer(self, il: int) -> bool:
        """True when layer ``il`` is a GQA attention layer."""
        return il in self.attention_layers

    def is_moe_layer(self, il: int) -> bool:
        """True when layer ``il`` has routed experts (after the dense lead layers)."""
        return self.is_moe and il >= self.n_dense_lead_layers

    def parameter_count(self, *, active: bool = False) -> int:
        """Parameters from the shapes (reference §2.4); ``active`` counts k of E experts.

        P = V*d + d + per layer (2d + FFN) + conv layers (3d*d + d*L + d*d)
            + attention layers (d*H*hd + 2*d*Hkv*hd + H*hd*d + 2*hd),
        FFN = 3*d*ff (dense) or E*3*d*ffe + d*E + E (MoE; E -> k when ``active``).
        """
        d = self.hidden_size
        qd = self.n_head * self.head_dim
        kvd = self.n_head_kv * self.head_dim
        total = self.vocab_size * d + d
        if not self.tied_embeddings:
            total += self.vocab_size * d
        for il in range(self.n_layer):
            total += 2 * d
            if self.is_moe_layer(il):
                e = self.n_expert_used if active else self.n_expert
                total += e * 3 * d * self.expert_ffn_size + d * self.n_expert + self.n_expert
            else:
                total += 3 * d * self.ffn_size
            if self.is_attention_layer(il):
                total += d * qd + 2 * d * kvd + qd * d + 2 * self.head_dim
            else:
                total += 3 * d * d + d * self.conv_l_cache + d * d
        return total


@dataclass(frozen=True, slots=True, kw_only=True)
class VisionProjector:
    """The separate ``mmproj`` GGUF of a vision model (SigLIP2 NaFlex encoder + projector)."""

    encoder: str  # "SigLIP2 NaFlex base (86M)"
    parameters: int  # encoder parameter count the size is estimated from
    ggml_type: str  # the file's dtype ("F16")
    size_bytes: int  # parameters x bytes per weight: an estimate (the files were not read)
    size_estimated: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantType:
    """A llama-quantize file type (ftype) and what it means for quality."""

    name: str  # "Q4_K_M"
    default_type: GgmlType  # the ggml type most tensors get
    quality_rank: int  # higher is closer to the unquantized model
    quality_note: str

    @property
    def nominal_bits_per_weight(self) -> float:
        """Bits per weight of the default type (the file's average is a little higher)."""
        return self.default_type.bits_per_weight


@dataclass(frozen=True, slots=True, kw_only=True)
class GgufMetadata:
    """Size of the GGUF metadata block (tokenizer, chat template, keys) for one vocabulary."""

    vocab_size: int
    metadata_bytes: int
    tolerance_bytes: int  # spread seen over published files (reference §4.5)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantTable:
    """The quantization facts every size computation needs: ggml types, ftypes, header sizes."""

    ggml_types: tuple[GgmlType, ...]
    quants: tuple[QuantType, ...]
    metadata: tuple[GgufMetadata, ...]

    def __hash__(self) -> int:
        """Hash the table's sizes only: equal tables hash alike, so ``==`` still decides.

        The estimator's caches take the table as a key; the generated hash walked every ggml type
        and ftype (~26 us, paid on every cache lookup). One catalog has one table.
        """
        return hash((len(self.ggml_types), len(self.quants), len(self.metadata)))

    def ggml_type(self, name: str) -> GgmlType:
        """One ggml type by name ("Q6_K"); raises KeyError."""
        for t in self.ggml_types:
            if t.name == name:
                return t
        raise KeyError(name)

    def quant(self, name: str) -> QuantType:
        """One ftype by name ("Q4_K_M"), case-insensitive; raises KeyError."""
        wanted = name.upper()
        for q in self.quants:
            if q.name == wanted:
                return q
        raise KeyError(name)

    def metadata_for(self, vocab_size: int) -> GgufMetadata | None:
        """The metadata block size for a vocabulary, or None when unknown."""
        for m in self.metadata:
            if m.vocab_size == vocab_size:
                return m
        return None

    def types_by_name(self) -> dict[str, GgmlType]:
        """The ggml types as a name -> type dict."""
        return {t.name: t for t in self.ggml_types}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVariant:
    """One published LFM2 / LFM2.5 checkpoint with GGUF files."""

    id: str  # "lfm2-1.2b"
    name: str  # "LFM2-1.2B"
    family: str  # "LFM2" | "LFM2.5"
    size_label: str  # "1.2B"
    kind: str  # "text" | "vision"
    architecture: Architecture
    backbone: str  # the architecture id
    trained_context_tokens: int
    gguf_context_tokens: int
    parameters: int | None
    released: str  # ISO date, or "YYYY-MM" when only the month is known
    license: str
    hf_repo: str  # the GGUF repository
    gguf_file_prefix: str  # "LFM2-1.2B" -> LFM2-1.2B-Q4_K_M.gguf
    task: str
    description: str
    quants: tuple[str, ...]  # ftypes the GGUF repository publishes
    vision: VisionProjector | None = None
    verified: bool = True
    note: str = ""
    quant_table: QuantTable = field(repr=False, compare=False, hash=False)

    def __hash__(self) -> int:
        """Hash the id only (compared by ``==`` too): cheap cache keys."""
        return hash(self.id)

    def gguf_file_name(self, quant: str) -> str:
        """The file name in the GGUF repository ("LFM2-1.2B-Q4_K_M.gguf")."""
        return f"{self.gguf_file_prefix}-{quant.upper()}.gguf"


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """Every LFM2 / LFM2.5 variant and quantization llmcheck knows."""

    variants: tuple[ModelVariant, ...]
    quants: tuple[QuantType, ...]
    architectures: tuple[Architecture, ...]
    quant_table: QuantTable = field(repr=False)

    def variant(self, variant_id: str) -> ModelVariant:
        """One variant by id (case-insensitive); raises KeyError naming the known ids."""
        wanted = variant_id.lower()
        for v in self.variants:
            if v.id == wanted:
                return v
        msg = f"unknown model {variant_id!r}; known: {', '.join(v.id for v in self.variants)}"
        raise KeyError(msg)

    def quant(self, name: str) -> QuantType:
        """One quantization by name (case-insensitive); raises KeyError naming the known ones."""
        try:
            return self.quant_table.quant(name)
        except KeyError:
            known = ", ".join(q.name for q in self.quants)
            msg = f"unknown quantization {name!r}; known: {known}"
            raise KeyError(msg) from None


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------

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
