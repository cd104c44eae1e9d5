"""The GGUF file of an LFM2 model: its tensors, the type of each, and the file size, exactly.

Facts follow llama.cpp at commit 0c1e57098 (the copy vendored in llama-cpp-python 0.3.36); each is
written down with its original source in ``docs/gguf-file-sizes.md``:

* the tensor list per layer is ``llama_model_lfm2::load_arch_tensors`` (§3);
* the type of each tensor is :mod:`llmcheck.catalog.rules` (``convert_hf_to_gguf`` keeps 1-D
  tensors, norms, the short-conv kernel, the MoE router and the expert bias in F32, §5, and
  ``llama-quantize``'s ``llama_tensor_get_type_impl`` types the rest, §6);
* a GGUF file is a metadata block, a tensor-info table and the tensor data, each tensor padded to
  32 bytes (§7).

Everything here is pure and cached per architecture: the estimator asks for every variant x quant.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcheck.catalog.rules import SUPPORTED_FTYPES, tensor_type
from llmcheck.catalog.values import GgmlType, GgufSize, QuantTable

if TYPE_CHECKING:
    from llmcheck.catalog.values import Architecture, ModelVariant

__all__ = [
    "GGUF_ALIGNMENT_BYTES",
    "SUPPORTED_FTYPES",
    "FileQuantTable",
    "GgmlType",
    "GgufSize",
    "TensorGroup",
    "TensorInfo",
    "TensorSummary",
    "gguf_size",
    "info_table_bytes",
    "pad_to",
    "tensor_data_bytes",
    "tensor_info_table_bytes",
    "tensor_plan",
    "tensor_summary",
    "variant_summary",
    "variant_tensors",
]

# GGUF_DEFAULT_ALIGNMENT in ggml/include/gguf.h: every tensor's data starts on a 32-byte boundary.
GGUF_ALIGNMENT_BYTES = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorInfo:
    """One tensor of the GGUF file as llama-quantize writes it.

    ``layer`` is the block index for ``blk.N.*`` tensors, None for the input/output tensors.
    ``is_expert`` marks the routed MoE expert stacks (``ffn_*_exps``).
    """

    name: str
    shape: tuple[int, ...]
    ggml_type: str
    nbytes: int
    layer: int | None = None
    is_expert: bool = False

    @property
    def n_elements(self) -> int:
        """Number of values in the tensor."""
        n = 1
        for dim in self.shape:
            n *= dim
        return n

    @property
    def padded_bytes(self) -> int:
        """Bytes this tensor occupies in the file, padded to the GGUF alignment."""
        return pad_to(self.nbytes, GGUF_ALIGNMENT_BYTES)

    @property
    def info_bytes(self) -> int:
        """Bytes of this tensor's entry in the GGUF tensor-info table (gguf-file-sizes.md §7).

        name length (8) + name + n_dims (4) + 8 per dim + type (4) + offset (8).
        """
        return 8 + len(self.name.encode()) + 4 + 8 * len(self.shape) + 4 + 8


def pad_to(value: int, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple`` (ggml's GGML_PAD)."""
    return (value + multiple - 1) // multiple * multiple


@dataclass(frozen=True, slots=True, kw_only=True)
class _Raw:
    """A tensor before its type is chosen: name, shape (ne0 first), role."""

    name: str
    shape: tuple[int, ...]
    role: str  # token_embd, norm, conv, other, attn_q, attn_k, attn_v, attn_output,
    # ffn_gate, ffn_up, ffn_down, router, bias
    layer: int | None = None
    is_expert: bool = False


@functools.lru_cache(maxsize=64)
def _raw_tensors(arch: Architecture) -> tuple[_Raw, ...]:
    """The tensors llama.cpp loads for ``arch``, in file order (``blk.N`` numeric order).

    Cached (pure, frozen result): every quant of an architecture starts from the same list.
    """
    tensors = list(_global_tensors(arch))
    for il in range(arch.n_layer):
        p = f"blk.{il}."
        tensors += (
            _Raw(name=p + r.name, shape=r.shape, role=r.role, layer=il, is_expert=r.is_expert)
            for r in _layer_template(arch, *_layer_structure(arch, il))
        )
    return tuple(tensors)


def _global_tensors(arch: Architecture) -> tuple[_Raw, ...]:
    """The tensors outside the blocks (the tied embedding / output matrix and its norm)."""
    d = arch.hidden_size
    return (
        _Raw(name="token_embd.weight", shape=(d, arch.vocab_size), role="token_embd"),
        _Raw(name="token_embd_norm.weight", shape=(d,), role="norm"),
    )


def _layer_structure(arch: Architecture, il: int) -> tuple[bool, bool]:
    """(attention layer, MoE layer): what decides which tensors block ``il`` holds."""
    return arch.is_attention_layer(il), arch.is_moe_layer(il)


@functools.lru_cache(maxsize=256)
def _layer_template(arch: Architecture, attention: bool, moe: bool) -> tuple[_Raw, ...]:
    """The tensors of one block, in file order, named without their ``blk.N.`` prefix and with
    no layer index (``llama_model_lfm2::load_arch_tensors``; docs/gguf-file-sizes.md §3).

    Cached, pure.
    """
    d = arch.hidden_size
    q_dim = arch.n_head * arch.head_dim
    kv_dim = arch.n_head_kv * arch.head_dim
    tensors = [_Raw(name="attn_norm.weight", shape=(d,), role="norm")]
    if attention:
        tensors += [
            _Raw(name="attn_q.weight", shape=(d, q_dim), role="attn_q"),
            _Raw(name="attn_k.weight", shape=(d, kv_dim), role="attn_k"),
            _Raw(name="attn_v.weight", shape=(d, kv_dim), role="attn_v"),
            _Raw(name="attn_output.weight", shape=(q_dim, d), role="attn_output"),
            _Raw(name="attn_q_norm.weight", shape=(arch.head_dim,), role="norm"),
            _Raw(name="attn_k_norm.weight", shape=(arch.head_dim,), role="norm"),
        ]
    else:
        tensors += [
            _Raw(name="shortconv.conv.weight", shape=(arch.conv_l_cache, d), role="conv"),
            _Raw(name="shortconv.in_proj.weight", shape=(d, 3 * d), role="other"),
            _Raw(name="shortconv.out_proj.weight", shape=(d, d), role="other"),
        ]
    tensors.append(_Raw(name="ffn_norm.weight", shape=(d,), role="norm"))
    if moe:
        e, fe = arch.n_expert, arch.expert_ffn_size
        tensors += [
            _Raw(name="ffn_gate_inp.weight", shape=(d, e), role="router"),
            _Raw(name="ffn_gate_exps.weight", shape=(d, fe, e), role="ffn_gate", is_expert=True),
            _Raw(name="ffn_up_exps.weight", shape=(d, fe, e), role="ffn_up", is_expert=True),
            _Raw(name="ffn_down_exps.weight", shape=(fe, d, e), role="ffn_down", is_expert=True),
            _Raw(name="exp_probs_b.bias", shape=(e,), role="bias"),
        ]
    else:
        ff = arch.ffn_size
        tensors += [
            _Raw(name="ffn_gate.weight", shape=(d, ff), role="ffn_gate"),
            _Raw(name="ffn_up.weight", shape=(d, ff), role="ffn_up"),
            _Raw(name="ffn_down.weight", shape=(ff, d), role="ffn_down"),
        ]
    return tuple(tensors)


# The roles whose type depends on where the tensor sits (llama-quant.cpp counts attn_v tensors
# and reads ffn_down's block index): :func:`~llmcheck.catalog.rules.tensor_type` reads
# ``position`` for these only, so the aggregated plan (:func:`tensor_summary`) types every other
# tensor of a block once per shape.
_POSITIONAL_ROLES = frozenset({"attn_v", "ffn_down", "ffn_gate", "ffn_up"})


def _position(role: str, layer: int | None, i_v: int) -> int:
    """What of a tensor's place :func:`~llmcheck.catalog.rules.tensor_type` reads.

    The attn_v counter for attn_v, the block index for ffn_down / ffn_gate / ffn_up (IQ3_XS reads
    the last two), nothing (0) for the roles outside ``_POSITIONAL_ROLES``.
    """
    if role == "attn_v":
        return i_v
    if role in ("ffn_down", "ffn_gate", "ffn_up"):
        return layer if layer is not None else 0
    return 0


def tensor_plan(
    arch: Architecture, ftype: str, default_type: str, types: Mapping[str, GgmlType]
) -> tuple[TensorInfo, ...]:
    """Every tensor of ``arch`` quantized as ``ftype``, with its ggml type and byte count.

    Args:
        arch: The model's architecture.
        ftype: The llama-quantize file type ("Q4_K_M", "F16", ...); one of SUPPORTED_FTYPES.
        default_type: The ggml type the ftype uses by default (``llama_ftype_get_default_type``).
        types: The ggml type table (name -> GgmlType).

    Raises:
        ValueError: ``ftype`` is not supported, or a chosen type is not in ``types``.
    """
    if ftype not in SUPPORTED_FTYPES:
        msg = f"no llama-quantize rules for ftype {ftype!r}"
        raise ValueError(msg)
    raws = _raw_tensors(arch)
    n_v = len(arch.attention_layers)
    i_v = 0
    out: list[TensorInfo] = []
    for raw in raws:
        position = _position(raw.role, raw.layer, i_v)
        ggml_type = tensor_type(
            ftype,
            raw.role,
            raw.shape[0],
            default_type,
            position,
            n_v,
            arch.n_layer,
            types,
            n_expert=arch.n_expert,
        )
        if raw.role == "attn_v":
            i_v += 1
        if ggml_type not in types:
            msg = f"ggml type {ggml_type!r} (for {raw.name}) is not in the type table"
            raise ValueError(msg)
        n = 1
        for dim in raw.shape:
            n *= dim
        out.append(
            TensorInfo(
                name=raw.name,
                shape=raw.shape,
                ggml_type=ggml_type,
                nbytes=types[ggml_type].row_bytes(n),
                layer=raw.layer,
                is_expert=raw.is_expert,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorGroup:
    """``count`` tensors of one role, shape and ggml type from one place in the file.

    ``nbytes`` is one tensor's data (unpadded); ``role`` is the rule that typed it
    ("token_embd", "norm", "attn_v", "ffn_down", ...).
    """

    role: str
    shape: tuple[int, ...]
    ggml_type: str
    nbytes: int
    count: int = 1
    is_expert: bool = False

    @property
    def padded_bytes(self) -> int:
        """One tensor's bytes in the file, padded to the GGUF alignment."""
        return pad_to(self.nbytes, GGUF_ALIGNMENT_BYTES)


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorSummary:
    """:func:`tensor_plan` aggregated: the same tensors, types and bytes in a few groups.

    ``global_groups`` are the tensors outside the blocks (token_embd first); block ``il`` holds
    the groups ``kinds[layer_kinds[il]]``. Blocks with the same tensors and types share a kind,
    so per-layer sums read a small table instead of every tensor.
    """

    global_groups: tuple[TensorGroup, ...]
    kinds: tuple[tuple[TensorGroup, ...], ...]
    layer_kinds: tuple[int, ...]


def _group(
    raws: tuple[_Raw, ...], ggml_types: tuple[str, ...], types: Mapping[str, GgmlType]
) -> tuple[TensorGroup, ...]:
    """``raws`` typed as ``ggml_types``, identical (role, shape, type) tensors counted once."""
    counts: dict[tuple[str, tuple[int, ...], str, bool], int] = {}
    for raw, ggml_type in zip(raws, ggml_types, strict=True):
        if ggml_type not in types:
            msg = f"ggml type {ggml_type!r} (for {raw.name}) is not in the type table"
            raise ValueError(msg)
        key = (raw.role, raw.shape, ggml_type, raw.is_expert)
        counts[key] = counts.get(key, 0) + 1
    out = []
    for (role, shape, ggml_type, is_expert), count in counts.items():
        n = 1
        for dim in shape:
            n *= dim
        out.append(
            TensorGroup(
                role=role,
                shape=shape,
                ggml_type=ggml_type,
                nbytes=types[ggml_type].row_bytes(n),
                count=count,
                is_expert=is_expert,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class _BlockLayout:
    """The blocks of one architecture: the distinct block templates (:func:`_layer_template`)
    and, per block, its template's index and the position (:func:`_position`) of each template
    tensor whose role is in ``_POSITIONAL_ROLES`` (-1 for the others)."""

    templates: tuple[tuple[_Raw, ...], ...]
    blocks: tuple[tuple[int, tuple[int, ...]], ...]


@functools.lru_cache(maxsize=64)
def _block_layout(arch: Architecture) -> _BlockLayout:
    """:class:`_BlockLayout` of ``arch`` (cached, pure)."""
    index: dict[tuple[bool, bool], int] = {}
    templates: list[tuple[_Raw, ...]] = []
    blocks = []
    i_v = 0
    for il in range(arch.n_layer):
        structure = _layer_structure(arch, il)
        if structure not in index:
            index[structure] = len(templates)
            templates.append(_layer_template(arch, *structure))
        template = templates[index[structure]]
        positions = []
        for raw in template:
            if raw.role in _POSITIONAL_ROLES:
                positions.append(_position(raw.role, il, i_v))
            else:
                positions.append(-1)
            if raw.role == "attn_v":
                i_v += 1
        blocks.append((index[structure], tuple(positions)))
    return _BlockLayout(templates=tuple(templates), blocks=tuple(blocks))


def tensor_summary(
    arch: Architecture, ftype: str, default_type: str, types: Mapping[str, GgmlType]
) -> TensorSummary:
    """:func:`tensor_plan` of ``arch`` as ``ftype``, aggregated (:class:`TensorSummary`).

    Each block's tensors outside ``_POSITIONAL_ROLES`` are typed once per block template; only
    the attn_v and ffn_down of each block are typed per block.

    Raises:
        ValueError: ``ftype`` is not supported, or a chosen type is not in ``types``.
    """
    if ftype not in SUPPORTED_FTYPES:
        msg = f"no llama-quantize rules for ftype {ftype!r}"
        raise ValueError(msg)
    n_v = len(arch.attention_layers)
    n_layer = arch.n_layer

    def type_of(raw: _Raw, position: int) -> str:
        return tensor_type(
            ftype,
            raw.role,
            raw.shape[0],
            default_type,
            position,
            n_v,
            n_layer,
            types,
            n_expert=arch.n_expert,
        )

    outside = _global_tensors(arch)
    global_groups = _group(
        outside, tuple(type_of(r, _position(r.role, None, 0)) for r in outside), types
    )
    layout = _block_layout(arch)
    base = [[type_of(r, 0) for r in template] for template in layout.templates]
    kind_index: dict[tuple[int, tuple[str, ...]], int] = {}
    kinds: list[tuple[TensorGroup, ...]] = []
    layer_kinds: list[int] = []
    for t, positions in layout.blocks:
        template = layout.templates[t]
        chosen = list(base[t])
        for i, position in enumerate(positions):
            if position >= 0:
                chosen[i] = type_of(template[i], position)
        key = (t, tuple(chosen))
        index = kind_index.get(key)
        if index is None:
            index = kind_index[key] = len(kinds)
            kinds.append(_group(template, key[1], types))
        layer_kinds.append(index)
    return TensorSummary(
        global_groups=global_groups, kinds=tuple(kinds), layer_kinds=tuple(layer_kinds)
    )


def tensor_data_bytes(plan: tuple[TensorInfo, ...]) -> int:
    """Tensor data of the file: every tensor padded to 32 bytes (docs/gguf-file-sizes.md §7)."""
    return sum(t.padded_bytes for t in plan)


def tensor_info_table_bytes(plan: tuple[TensorInfo, ...]) -> int:
    """Bytes of the GGUF tensor-info table for ``plan`` (docs/gguf-file-sizes.md §7)."""
    return sum(t.info_bytes for t in plan)


@functools.lru_cache(maxsize=64)
def info_table_bytes(arch: Architecture) -> int:
    """:func:`tensor_info_table_bytes` of any quant of ``arch`` (cached, pure).

    The table holds names, shapes, types and offsets, whose sizes do not depend on the quant.
    """
    total = sum(_info_bytes(r.name, r.shape) for r in _global_tensors(arch))
    layout = _block_layout(arch)
    per_template = [
        (sum(_info_bytes(r.name, r.shape) for r in template), len(template))
        for template in layout.templates
    ]
    for il, (t, _) in enumerate(layout.blocks):
        info, count = per_template[t]
        total += info + count * len(f"blk.{il}.")
    return total


def _info_bytes(name: str, shape: tuple[int, ...]) -> int:
    """:attr:`TensorInfo.info_bytes` of a tensor named ``name`` with ``shape``."""
    return TensorInfo(name=name, shape=shape, ggml_type="", nbytes=0).info_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class FileQuantTable(QuantTable):
    """A quant table whose one quant is a GGUF file's own tensor list (issue #12).

    ``quants`` holds one :class:`~llmcheck.catalog.values.QuantType` named ``file_quant``; its
    tensors are ``summary`` (the file's real types and bytes), not llama-quantize's rules, and the
    file size is the file's. Every size function of this module and the estimator reads a
    variant's tensors through :func:`variant_summary`, so a variant carrying this table is
    estimated from the file.
    """

    file_quant: str
    summary: TensorSummary
    file_bytes: int
    token_embd_bytes: int
    expert_bytes: int

    def __hash__(self) -> int:
        """Cheap: the quant name and the file size (``==`` still decides)."""
        return hash((self.file_quant, self.file_bytes))


def _file_table(table: QuantTable, quant: str) -> FileQuantTable | None:
    if isinstance(table, FileQuantTable):
        if quant.upper() != table.file_quant:
            raise KeyError(quant)
        return table
    return None


@functools.lru_cache(maxsize=1024)
def variant_tensors(arch: Architecture, quant: str, table: QuantTable) -> tuple[TensorInfo, ...]:
    """The tensors of ``arch`` quantized as ``quant``, with types and bytes (cached, pure).

    Raises:
        KeyError: ``quant`` is not in the table, or ``table`` is a file's
            (:class:`FileQuantTable` keeps the file's summary only).
    """
    if isinstance(table, FileQuantTable):
        raise KeyError(quant)
    q = table.quant(quant)
    return tensor_plan(arch, q.name, q.default_type.name, table.types_by_name())


@functools.lru_cache(maxsize=1024)
def variant_summary(arch: Architecture, quant: str, table: QuantTable) -> TensorSummary:
    """:func:`variant_tensors`, aggregated (:class:`TensorSummary`; cached, pure).

    Raises:
        KeyError: ``quant`` is not in the table.
    """
    file = _file_table(table, quant)
    if file is not None:
        return file.summary
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
    file = _file_table(table, quant)
    if file is not None:
        data = sum(g.padded_bytes * g.count for g in summary.global_groups) + sum(
            g.padded_bytes * g.count * n
            for kind, n in zip(summary.kinds, _kind_counts(summary), strict=True)
            for g in kind
        )
        return GgufSize(
            tensor_data_bytes=data,
            tensor_info_bytes=0,  # counted in the header below: the file's own bytes
            metadata_bytes=max(0, file.file_bytes - data),
            metadata_tolerance_bytes=0,
            token_embd_bytes=file.token_embd_bytes,
            expert_bytes=file.expert_bytes,
        )
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
