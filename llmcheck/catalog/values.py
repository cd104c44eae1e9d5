"""The catalog's value types: frozen dataclasses, no I/O, no parsing, no size rules.

The bottom of the catalog package: :mod:`llmcheck.catalog.rules`, :mod:`llmcheck.catalog.quant` and
:mod:`llmcheck.catalog.schema` build on these, and nothing here imports them (the ``catalog-layers``
contract in ``pyproject.toml``). Data holds facts only (layer indices, sizes, bytes per block); the
formulas that use them live in :mod:`llmcheck.catalog.quant` and :mod:`llmcheck.estimate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file and the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GgmlType:
    """One ggml tensor type: ``block_size`` weights take ``block_bytes`` bytes."""

    name: str
    type_id: int
    block_size: int
    block_bytes: int

    @property
    def bits_per_weight(self) -> float:
        """Storage bits per weight (e.g. 4.5 for Q4_K)."""
        return self.block_bytes * 8 / self.block_size

    def row_bytes(self, n_elements: int) -> int:
        """Bytes of ``n_elements`` values (a multiple of the block size)."""
        return n_elements // self.block_size * self.block_bytes


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
        """Parameters from the shapes (gguf-file-sizes.md §2); ``active`` counts k of E experts.

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
    tolerance_bytes: int  # spread over published files (docs/gguf-file-sizes.md §7)


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
