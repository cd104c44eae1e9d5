"""A GGUF file as the question (issue #12): the estimate from the file's own tensors.

``estimate_file(model, projector, config, machine)`` answers for an LFM2 / LFM2-MoE file read by
:func:`llmcheck.gguf.read_gguf` and :func:`llmcheck.gguf.describe`:

* where the file's architecture and every tensor's name, shape and type are those of a catalog
  variant at a catalog quant (llama-quantize's rules, :mod:`llmcheck.catalog.rules`), the answer is
  the catalog's :func:`~llmcheck.estimate.estimate`, field for field; only the command names the
  user's files (``-m PATH``, ``--mmproj PATH``);
* any other file (a "dynamic" UD quant, an imatrix file whose ffn_down moved, a quant the rules do
  not know, a fine-tune with another shape) is estimated from its architecture values and its
  real per-tensor types and bytes: a :class:`~llmcheck.catalog.FileQuantTable` stands in for the
  rules, so the memory terms, the placement and the speed read the file's weights.

The vision projector (``mmproj-*.gguf``, :func:`pair_projector` finds it beside the model) adds
its own tensors' bytes where the weights of the output layer go (the catalog's estimate from the
encoder's parameter count is replaced by the file's bytes).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from llmcheck.catalog import (
    Architecture,
    Catalog,
    FileQuantTable,
    GgmlType,
    ModelVariant,
    QuantType,
    TensorGroup,
    TensorSummary,
    VisionProjector,
    load_catalog,
    variant_tensors,
)
from llmcheck.catalog.quant import GGUF_ALIGNMENT_BYTES, pad_to
from llmcheck.estimate.api import _estimate
from llmcheck.estimate.budget import _machine
from llmcheck.estimate.types import Fit, RunConfig
from llmcheck.gguf import Lfm2Model, Lfm2Projector
from llmcheck.gguf.ggml_types import GGML_TYPES
from llmcheck.names import NameNotFound, resolve
from llmcheck.snapshot import SystemSnapshot

__all__ = ["FileQuestion", "estimate_file", "file_question", "pair_projector"]

_LAYER = re.compile(r"^blk\.(\d+)\.(.+)$")
_QUANT_IN_NAME = re.compile(
    r"[-._]((?:UD-)?(?:I?Q[1-8](?:_[0-9A-Z]+)*|TQ[12]_0|MXFP4(?:_MOE)?|BF16|F16|F32))$",
    re.IGNORECASE,
)
_SPLIT_TAIL = re.compile(r"-\d{5}-of-\d{5}$", re.IGNORECASE)
# A name to print for a file whose quant is neither in its name nor in general.file_type.
FILE_QUANT_FALLBACK = "GGUF"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileQuestion:
    """What a file asks: the variant and quant to estimate, and how they were found.

    ``matches_catalog``: the file's tensors are the catalog's ``variant`` x ``quant`` to the byte,
    so the answer is the catalog's. Otherwise ``variant`` carries a
    :class:`~llmcheck.catalog.FileQuantTable` and the answer is the file's own.
    """

    variant: ModelVariant
    quant: str
    matches_catalog: bool
    catalog_variant_id: str | None  # the catalog variant of the same name and shape, if any
    how: str


def pair_projector(model_path: Path | str) -> Path | None:
    """The ``mmproj*.gguf`` beside ``model_path``, or None (none, or several to choose from).

    One candidate is taken as is; with several, the one whose name holds the model's name (minus
    its quant) is taken, else None: the caller asks for ``--mmproj``. Read-only; an unreadable
    folder counts as none.
    """
    path = Path(model_path)
    try:
        found = sorted(
            p
            for p in path.parent.iterdir()
            if p.name.lower().startswith("mmproj")
            and p.name.lower().endswith(".gguf")
            and p.is_file()
        )
    except OSError:
        return None
    if len(found) <= 1:
        return found[0] if found else None
    stem = _SPLIT_TAIL.sub(
        "", path.name[: -len(".gguf")] if path.name.lower().endswith(".gguf") else path.name
    )
    base = _QUANT_IN_NAME.sub("", stem).lower()
    named = [p for p in found if base and base in p.name.lower()]
    return named[0] if len(named) == 1 else None


def file_question(
    model: Lfm2Model, projector: Lfm2Projector | None = None, catalog: Catalog | None = None
) -> FileQuestion:
    """The variant and quant that ``model`` (and its ``projector``) ask about (see the module)."""
    cat = catalog if catalog is not None else load_catalog()
    arch = _architecture(model, cat)
    named = _named_variant(model, cat)
    catalog_variant = _catalog_variant(arch, named, cat, vision=projector is not None)
    vision = _vision(projector) if projector is not None else None
    label = _label(model)
    if catalog_variant is not None:
        quant = _matching_quant(model, catalog_variant, label)
        if quant is not None:
            variant = catalog_variant
            if vision is not None or variant.vision is not None:
                variant = replace(variant, vision=vision)
            if variant.gguf_context_tokens != model.context_tokens:
                variant = replace(variant, gguf_context_tokens=model.context_tokens)
            return FileQuestion(
                variant=variant,
                quant=quant,
                matches_catalog=True,
                catalog_variant_id=catalog_variant.id,
                how=f"tensors identical to the catalog's {catalog_variant.name} {quant}",
            )
    base = catalog_variant or named
    table = _file_table(model, cat, label)
    name = (base.name if base is not None else None) or model.name or model.path.stem
    variant = ModelVariant(
        id=base.id if base is not None else _slug(model.path.stem),
        name=name if base is not None else _plain(name),
        family=base.family if base is not None else model.basename or "LFM2",
        size_label=base.size_label if base is not None else model.size_label or "",
        kind="vision" if vision is not None else "text",
        architecture=arch,
        backbone=arch.id,
        trained_context_tokens=model.context_tokens,
        gguf_context_tokens=model.context_tokens,
        parameters=None,
        released=base.released if base is not None else "",
        license=base.license if base is not None else "",
        hf_repo=base.hf_repo if base is not None else "",
        gguf_file_prefix=model.path.stem,
        task=base.task if base is not None else "",
        description=base.description if base is not None else "",
        quants=(label,) if base is None or label in base.quants else (),
        vision=vision,
        verified=True,
        note="",
        quant_table=table,
    )
    how = "the file's own tensor types" + (
        f" ({base.name}'s architecture)" if base is not None and arch is base.architecture else ""
    )
    return FileQuestion(
        variant=variant,
        quant=label,
        matches_catalog=False,
        catalog_variant_id=base.id if base is not None else None,
        how=how,
    )


def estimate_file(
    model: Lfm2Model,
    projector: Lfm2Projector | None,
    config: RunConfig,
    machine: SystemSnapshot,
    catalog: Catalog | None = None,
) -> Fit:
    """The answer for the GGUF file ``model`` (with ``projector``, its mmproj, if any).

    Byte-for-byte the catalog's answer where the file is a catalog variant x quant (the command
    names the files); otherwise the estimate from the file's own tensors (module docstring).
    """
    q = file_question(model, projector, catalog)
    return _estimate(
        q.variant,
        q.quant,
        config,
        _machine(machine),
        model_file=_shown_path(model.path),
        mmproj_file=_shown_path(projector.path) if projector is not None else None,
    )


def _shown_path(path: Path) -> str:
    return shlex.quote(str(path))


def _architecture(model: Lfm2Model, cat: Catalog) -> Architecture:
    """The catalog architecture of the same shape (the same object: the same cached answers),
    else one made from the file's values."""
    made = Architecture(
        id=f"file:{_slug(model.path.stem)}",
        gguf_arch=model.architecture,
        hidden_size=model.hidden_size,
        n_layer=model.n_layer,
        attention_layers=model.attention_layers,
        attention_layers_verified=True,  # read from the per-layer head_count_kv
        n_head=model.n_head,
        n_head_kv=model.n_head_kv,
        head_dim=model.head_dim,
        ffn_size=model.ffn_size,
        vocab_size=model.vocab_size,
        tied_embeddings=model.tied_embeddings,
        conv_l_cache=model.conv_l_cache,
        gguf_context_tokens=model.context_tokens,
        n_expert=model.n_expert,
        n_expert_used=model.n_expert_used,
        n_dense_lead_layers=model.n_dense_lead_layers,
        expert_ffn_size=model.expert_ffn_size,
        verified=True,
        note="read from the GGUF file",
    )
    for a in cat.architectures:
        if _shape(a) == _shape(made):
            return a
    return made


def _shape(a: Architecture) -> tuple[object, ...]:
    return (
        a.gguf_arch,
        a.hidden_size,
        a.n_layer,
        a.attention_layers,
        a.n_head,
        a.n_head_kv,
        a.head_dim,
        a.ffn_size,
        a.vocab_size,
        a.tied_embeddings,
        a.conv_l_cache,
        a.gguf_context_tokens,
        a.n_expert,
        a.n_expert_used,
        a.n_dense_lead_layers,
        a.expert_ffn_size,
    )


def _named_variant(model: Lfm2Model, cat: Catalog) -> ModelVariant | None:
    """The catalog variant the file's name (or its general.name) names, if any."""
    texts = [model.path.name]
    if model.name:
        texts.append(model.name)
    if model.basename and model.size_label:
        texts.append(" ".join(t for t in (model.basename, model.size_label, model.finetune) if t))
    for text in texts:
        try:
            return cat.variant(resolve(text, cat).variant_id)
        except (NameNotFound, KeyError):
            continue
    return None


def _catalog_variant(
    arch: Architecture, named: ModelVariant | None, cat: Catalog, *, vision: bool
) -> ModelVariant | None:
    """The catalog variant to answer as: the named one when its shape is the file's, else the
    base variant of that backbone (its id is the architecture's), else None."""
    if named is not None and named.architecture is arch:
        return named
    same = [v for v in cat.variants if v.architecture is arch]
    if named is not None and same:
        return None  # named something else of this shape: answer from the file, not a guess
    for v in same:
        if v.id == arch.id and (v.vision is not None) == vision:
            return v
    for v in same:
        if (v.vision is not None) == vision:
            return v
    return None


def _label(model: Lfm2Model) -> str:
    """The quant to print: the one in the file name ("UD-Q4_K_XL"), else general.file_type."""
    stem = model.path.name
    if stem.lower().endswith(".gguf"):
        stem = stem[: -len(".gguf")]
    m = _QUANT_IN_NAME.search(_SPLIT_TAIL.sub("", stem))
    if m:
        return m[1].upper()
    return (model.file_type or FILE_QUANT_FALLBACK).upper()


def _matching_quant(model: Lfm2Model, variant: ModelVariant, label: str) -> str | None:
    """The catalog quant whose tensors are the file's, to the name, shape, type and byte."""
    have = {t.name: (t.shape, t.ggml_type, t.n_bytes) for t in model.tensors}
    table = variant.quant_table
    names = [label] if label in {q.name for q in table.quants} else []
    if model.file_type and model.file_type not in names:
        names.append(model.file_type)
    names += [q.name for q in table.quants if q.name not in names]
    for name in names:
        try:
            plan = variant_tensors(variant.architecture, name, table)
        except (KeyError, ValueError):
            continue
        if len(plan) == len(have) and all(
            have.get(t.name) == (t.shape, t.ggml_type, t.nbytes) for t in plan
        ):
            return name
    return None


def _file_table(model: Lfm2Model, cat: Catalog, label: str) -> FileQuantTable:
    """A quant table holding the file's tensors as its one quant ``label``."""
    base = cat.quant_table
    by_type: dict[str, int] = {}
    for t in model.tensors:
        by_type[t.ggml_type] = by_type.get(t.ggml_type, 0) + t.n_bytes
    main = max(sorted(by_type), key=lambda k: by_type[k]) if by_type else "F32"
    sizes = {t.name: t for t in GGML_TYPES}
    known = base.types_by_name()
    if main in known:
        default = known[main]
    else:
        s = sizes[main]
        default = GgmlType(
            name=s.name, type_id=s.type_id, block_size=s.block_weights, block_bytes=s.block_bytes
        )
    rank = next((q.quality_rank for q in base.quants if q.name == model.file_type), 0)
    quant = QuantType(
        name=label,
        default_type=default,
        quality_rank=rank,
        quality_note="the file's own tensor types",
    )
    return FileQuantTable(
        ggml_types=base.ggml_types,
        quants=(quant,),
        metadata=base.metadata,
        file_quant=label,
        summary=_summary(model),
        file_bytes=model.file_size_bytes,
        token_embd_bytes=model.token_embd_bytes,
        expert_bytes=model.expert_bytes,
    )


def _summary(model: Lfm2Model) -> TensorSummary:
    """The file's tensors as a :class:`~llmcheck.catalog.TensorSummary` (blocks of the same
    tensors share a kind)."""
    outside: list[TensorGroup] = []
    blocks: list[list[TensorGroup]] = [[] for _ in range(model.n_layer)]
    for t in model.tensors:
        m = _LAYER.match(t.name)
        if m and int(m[1]) < model.n_layer:
            role = m[2].rsplit(".", 1)[0]
            blocks[int(m[1])].append(
                TensorGroup(
                    role=role,
                    shape=t.shape,
                    ggml_type=t.ggml_type,
                    nbytes=t.n_bytes,
                    # routed experts only where the header says there are experts
                    is_expert="_exps" in role and model.n_expert > 0,
                )
            )
        else:
            role = "token_embd" if t.name == "token_embd.weight" else t.name.rsplit(".", 1)[0]
            group = TensorGroup(role=role, shape=t.shape, ggml_type=t.ggml_type, nbytes=t.n_bytes)
            if role == "token_embd":
                outside.insert(0, group)
            else:
                outside.append(group)
    kinds: list[tuple[TensorGroup, ...]] = []
    index: dict[tuple[TensorGroup, ...], int] = {}
    layer_kinds = []
    for groups in blocks:
        key = tuple(sorted(groups, key=lambda g: (g.role, g.ggml_type, g.shape)))
        if key not in index:
            index[key] = len(kinds)
            kinds.append(key)
        layer_kinds.append(index[key])
    return TensorSummary(
        global_groups=tuple(outside), kinds=tuple(kinds), layer_kinds=tuple(layer_kinds)
    )


def _vision(projector: Lfm2Projector) -> VisionProjector:
    """The projector file as the catalog's :class:`VisionProjector`, with its real bytes."""
    data = sum(pad_to(t.n_bytes, GGUF_ALIGNMENT_BYTES) for t in projector.tensors)
    weights = sum(_elements(t.shape) for t in projector.tensors)
    main = projector.bytes_by_type[0].ggml_type if projector.bytes_by_type else "F16"
    return VisionProjector(
        encoder=f"mmproj file {_plain(projector.path.name)}",
        parameters=weights,
        ggml_type=main,
        size_bytes=data,
        size_estimated=False,
    )


def _elements(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")[:80] or "gguf"


def _plain(text: str) -> str:
    return text if len(text) <= 80 and text.isprintable() else repr(text[:77])
