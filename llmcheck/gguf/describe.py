"""From a GGUF header, the LFM2-family facts llmcheck estimates from.

``describe(gguf)`` returns an :class:`Lfm2Model` for a model file (``lfm2``, ``lfm2moe``) or an
:class:`Lfm2Projector` for an LFM2-VL vision projector (``clip`` with the ``lfm2`` projector type,
the ``mmproj-*.gguf`` beside the model). Any other architecture raises :class:`NotLfm2Error`
naming it. The weights are the file's own: every tensor's real ggml type and bytes, as community
and "dynamic" quants mix types freely.

Keys and their meaning: llama.cpp ``src/llama-arch.cpp`` (``LLM_KV_*``), ``src/llama-model.cpp``
(``LLM_ARCH_LFM2`` / ``LLM_ARCH_LFM2MOE`` hparams: a layer is a short-conv layer when its
``head_count_kv`` is 0), ``tools/mtmd/clip-impl.h`` (``clip.*`` keys, ``PROJECTOR_TYPE_LFM2``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from llmcheck.gguf.ggml_types import ftype_name
from llmcheck.gguf.reader import GgufError, GgufFile, GgufTensor, MetadataValue

__all__ = [
    "LFM2_ARCHITECTURES",
    "Lfm2Model",
    "Lfm2Projector",
    "NotLfm2Error",
    "TypeBytes",
    "describe",
]

LFM2_ARCHITECTURES = ("lfm2", "lfm2moe")
LFM2_PROJECTOR_TYPES = ("lfm2",)
_LAYER = re.compile(r"^blk\.(\d+)\.")


class NotLfm2Error(GgufError):
    """A readable GGUF file of another architecture (llmcheck answers for LFM2 only)."""

    def __init__(self, path: Path, architecture: str) -> None:
        self.architecture = architecture
        super().__init__(
            f"{path}: {_plain(architecture)}: llmcheck answers for LFM2-family files only"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeBytes:
    """The tensors of one ggml type in a file."""

    ggml_type: str
    tensor_count: int
    n_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Identity:
    path: Path
    parts: tuple[Path, ...]
    file_size_bytes: int
    architecture: str
    name: str | None  # general.name ("LFM2 1.2B")
    basename: str | None  # general.basename ("LFM2")
    finetune: str | None  # general.finetune
    size_label: str | None  # general.size_label ("1.2B")
    file_type: str | None  # general.file_type as llama-quantize names it ("Q4_K_M")
    tensors: tuple[GgufTensor, ...]
    weight_bytes: int  # every tensor, no padding
    bytes_by_type: tuple[TypeBytes, ...]  # most bytes first


@dataclass(frozen=True, slots=True, kw_only=True)
class Lfm2Model(_Identity):
    """An LFM2 / LFM2-MoE model file, as llama.cpp will load it."""

    n_layer: int
    attention_layers: tuple[int, ...]  # layers with a KV cache (head_count_kv > 0); others conv
    n_head: int
    n_head_kv: int  # on the attention layers
    head_dim: int
    hidden_size: int  # embedding_length
    ffn_size: int  # feed_forward_length (the dense layers' SwiGLU width)
    vocab_size: int
    context_tokens: int  # {arch}.context_length: the longest context the file allows
    conv_l_cache: int  # {arch}.shortconv.l_cache
    n_expert: int  # 0 for a dense model
    n_expert_used: int
    expert_ffn_size: int
    n_dense_lead_layers: int
    tied_embeddings: bool  # no output.weight: llama.cpp reuses token_embd for the output
    token_embd_bytes: int
    expert_bytes: int  # routed experts (*_exps), 0 for a dense model
    layer_bytes: tuple[int, ...]  # the tensors of blk.i, per layer

    @property
    def is_moe(self) -> bool:
        """True for a mixture-of-experts file (lfm2moe)."""
        return self.n_expert > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Lfm2Projector(_Identity):
    """An LFM2-VL vision projector (mmproj) file; ``None`` where the file does not say."""

    projector_type: str  # "lfm2"
    image_size_px: int | None
    patch_size_px: int | None
    block_count: int | None
    embedding_length: int | None
    feed_forward_length: int | None
    head_count: int | None
    projection_dim: int | None
    downsample_factor: int | None  # clip.vision.projector.scale_factor (pixel unshuffle)


def describe(gguf: GgufFile) -> Lfm2Model | Lfm2Projector:
    """The LFM2-family facts of ``gguf``.

    Raises:
        NotLfm2Error: another architecture (or a vision projector for another model).
        GgufError: an LFM2 file with a key missing or of the wrong type.
    """
    meta = gguf.metadata
    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        raise GgufError(f"{gguf.path}: general.architecture is missing: not a model file")
    if arch == "clip":
        return _projector(gguf)
    if arch not in LFM2_ARCHITECTURES:
        raise NotLfm2Error(gguf.path, arch)
    return _model(gguf, arch)


def _identity(gguf: GgufFile, arch: str) -> dict[str, object]:
    meta = gguf.metadata
    ftype = meta.get("general.file_type")
    totals: dict[str, list[int]] = {}
    for t in gguf.tensors:
        entry = totals.setdefault(t.ggml_type, [0, 0])
        entry[0] += 1
        entry[1] += t.n_bytes
    by_type = tuple(
        TypeBytes(ggml_type=name, tensor_count=count, n_bytes=nbytes)
        for name, (count, nbytes) in sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))
    )
    return {
        "path": gguf.path,
        "parts": gguf.parts,
        "file_size_bytes": gguf.file_size_bytes,
        "architecture": arch,
        "name": _text(meta, "general.name"),
        "basename": _text(meta, "general.basename"),
        "finetune": _text(meta, "general.finetune"),
        "size_label": _text(meta, "general.size_label"),
        "file_type": ftype_name(ftype) if _is_int(ftype) else None,  # type: ignore[arg-type]
        "tensors": gguf.tensors,
        "weight_bytes": gguf.tensor_bytes,
        "bytes_by_type": by_type,
    }


def _model(gguf: GgufFile, arch: str) -> Lfm2Model:
    keys = _Keys(gguf, arch)
    n_layer = keys.integer("block_count", low=1, high=4096)
    kv = keys.per_layer("attention.head_count_kv", n_layer)
    heads = keys.per_layer("attention.head_count", n_layer)
    attention = tuple(i for i, n in enumerate(kv) if n > 0)
    n_head = max(heads)
    if n_head <= 0:
        raise keys.fail("attention.head_count", "is 0")
    hidden = keys.integer("embedding_length", low=1)
    head_dim = keys.integer("attention.key_length", low=1, default=hidden // n_head)
    moe = arch == "lfm2moe"
    names = {t.name: t for t in gguf.tensors}
    embd = names.get("token_embd.weight")
    vocab_default = embd.shape[1] if embd is not None and len(embd.shape) > 1 else None
    tokens = gguf.metadata.get("tokenizer.ggml.tokens")
    if vocab_default is None:
        vocab_default = gguf.skipped_arrays.get("tokenizer.ggml.tokens")
    if vocab_default is None and isinstance(tokens, tuple):
        vocab_default = len(tokens)
    layer_bytes = [0] * n_layer
    for t in gguf.tensors:
        m = _LAYER.match(t.name)
        if m and int(m[1]) < n_layer:
            layer_bytes[int(m[1])] += t.n_bytes
    return Lfm2Model(
        **_identity(gguf, arch),  # type: ignore[arg-type]
        n_layer=n_layer,
        attention_layers=attention,
        n_head=n_head,
        n_head_kv=max(kv),
        head_dim=head_dim,
        hidden_size=hidden,
        ffn_size=keys.integer("feed_forward_length", low=0),
        vocab_size=keys.integer("vocab_size", low=1, default=vocab_default),
        context_tokens=keys.integer("context_length", low=1),
        conv_l_cache=keys.integer("shortconv.l_cache", low=1, high=64),
        n_expert=keys.integer("expert_count", low=1) if moe else 0,
        n_expert_used=keys.integer("expert_used_count", low=1) if moe else 0,
        expert_ffn_size=keys.integer("expert_feed_forward_length", low=1) if moe else 0,
        n_dense_lead_layers=(
            keys.integer("leading_dense_block_count", low=0, default=0) if moe else 0
        ),
        tied_embeddings="output.weight" not in names,
        token_embd_bytes=embd.n_bytes if embd is not None else 0,
        expert_bytes=sum(t.n_bytes for t in gguf.tensors if "_exps." in t.name),
        layer_bytes=tuple(layer_bytes),
    )


def _projector(gguf: GgufFile) -> Lfm2Projector:
    meta = gguf.metadata
    kind = meta.get("clip.vision.projector_type", meta.get("clip.projector_type"))
    if not isinstance(kind, str):
        raise NotLfm2Error(gguf.path, "clip (no projector type)")
    if kind not in LFM2_PROJECTOR_TYPES:
        raise NotLfm2Error(gguf.path, f"clip (projector {_plain(kind)})")

    def opt(key: str) -> int | None:
        value = meta.get(key)
        return value if _is_int(value) else None  # type: ignore[return-value]

    return Lfm2Projector(
        **_identity(gguf, "clip"),  # type: ignore[arg-type]
        projector_type=kind,
        image_size_px=opt("clip.vision.image_size"),
        patch_size_px=opt("clip.vision.patch_size"),
        block_count=opt("clip.vision.block_count"),
        embedding_length=opt("clip.vision.embedding_length"),
        feed_forward_length=opt("clip.vision.feed_forward_length"),
        head_count=opt("clip.vision.attention.head_count"),
        projection_dim=opt("clip.vision.projection_dim"),
        downsample_factor=opt("clip.vision.projector.scale_factor"),
    )


class _Keys:
    """Typed access to ``{arch}.*`` keys, each failure one line naming the key."""

    def __init__(self, gguf: GgufFile, arch: str) -> None:
        self._meta = gguf.metadata
        self._path = gguf.path
        self._arch = arch

    def fail(self, key: str, what: str) -> GgufError:
        return GgufError(f"{self._path}: {self._arch}.{key} {what}")

    def integer(
        self, key: str, *, low: int, high: int = 1 << 40, default: int | None = None
    ) -> int:
        value = self._meta.get(f"{self._arch}.{key}")
        if value is None:
            if default is None:
                raise self.fail(key, "is missing")
            return default
        if not _is_int(value):
            raise self.fail(key, f"should be an integer, not {_kind(value)}")
        if not low <= value <= high:  # type: ignore[operator]
            raise self.fail(key, f"is {value}, outside {low}..{high}")
        return value  # type: ignore[return-value]

    def per_layer(self, key: str, n_layer: int) -> tuple[int, ...]:
        """A key that is one integer or one per layer (LFM2 writes head_count_kv per layer)."""
        value = self._meta.get(f"{self._arch}.{key}")
        if value is None:
            raise self.fail(key, "is missing")
        if _is_int(value):
            values: tuple[MetadataValue, ...] = (value,) * n_layer
        elif isinstance(value, tuple):
            values = value
        else:
            raise self.fail(key, f"should be an integer or an array, not {_kind(value)}")
        if len(values) != n_layer:
            raise self.fail(key, f"has {len(values)} entries for {n_layer} layers")
        if not all(_is_int(v) and 0 <= v <= 1 << 16 for v in values):  # type: ignore[operator]
            raise self.fail(key, "holds a value that is not a head count")
        return values  # type: ignore[return-value]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    return "an array" if isinstance(value, tuple) else type(value).__name__


def _text(meta: Mapping[str, MetadataValue], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def _plain(text: str) -> str:
    """A name from the file, shown as is when it is short and printable, else escaped."""
    if len(text) <= 60 and text.isprintable():
        return text
    return repr(text[:57] + "..." if len(text) > 60 else text)
