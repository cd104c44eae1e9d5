"""The model names people paste, resolved offline against the catalog.

``resolve(text)`` understands a catalog id or name (``lfm2-1.2b``, ``LFM2-1.2B``), a Hugging Face
repository in any of its spellings (``LiquidAI/LFM2-1.2B-GGUF``, ``LiquidAI/LFM2-1.2B``,
``https://huggingface.co/LiquidAI/LFM2-1.2B-GGUF/blob/main/LFM2-1.2B-Q4_K_M.gguf``), other
publishers' GGUF repositories (``unsloth/…``, ``bartowski/LiquidAI_…``, ``lmstudio-community/…``),
GGUF file names (``LFM2-1.2B-UD-Q4_K_XL.gguf``, ``lfm2-1.2b-q4_k_m.gguf``, split parts,
``mmproj-…``), and Ollama names (``hf.co/ORG/REPO:QUANT``, ``NAME:TAG``). A quantization in the
name is returned as written there (upper-cased): community quants such as ``IQ4_XS`` or
``UD-Q4_K_XL`` are not checked against what Liquid AI publishes.

An unknown name raises :class:`NameNotFound` with suggestions, the longest match first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from llmcheck.catalog import Catalog, ModelVariant, load_catalog

__all__ = ["NameNotFound", "Resolution", "parse_quant", "resolve"]

MAX_NAME_CHARS = 500
MAX_SUGGESTIONS = 5
_QUANT = r"(?:UD-)?(?:I?Q[1-8](?:_[0-9A-Z]+)*|TQ[12]_0|MXFP4(?:_MOE)?|BF16|F16|F32)"
_QUANT_TAIL = re.compile(rf"[-._](?P<quant>{_QUANT})$", re.IGNORECASE)
_QUANT_ONLY = re.compile(rf"^{_QUANT}$", re.IGNORECASE)
_SPLIT_TAIL = re.compile(r"-\d{5}-of-\d{5}$", re.IGNORECASE)
_HF_HOSTS = ("huggingface.co", "hf.co", "www.huggingface.co")
_SIZE = re.compile(r"^\d+(?:\.\d+)?[mb](?:-a\d+(?:\.\d+)?b)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """What a pasted name means: a catalog variant, the quant it names (if any), and how."""

    variant_id: str
    quant: str | None  # as written in the name, upper-cased ("Q4_K_M", "UD-Q4_K_XL")
    how: str  # "GGUF file name", "Hugging Face repository unsloth/LFM2-1.2B-GGUF", ...


class NameNotFound(LookupError):  # noqa: N818 - the name the CLI and window were promised
    """No catalog variant has this name; ``suggestions`` are variant ids, best first."""

    def __init__(self, text: str, suggestions: Sequence[str]) -> None:
        self.text = text
        self.suggestions = tuple(suggestions)
        shown = text if len(text) <= 80 and text.isprintable() else repr(text[:80])
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown model {shown}{hint}")


def parse_quant(text: str) -> str | None:
    """``text`` as a quantization name ("q4_k_m" -> "Q4_K_M"); ``None`` if it is not one."""
    return text.upper() if _QUANT_ONLY.match(text.strip()) else None


def resolve(text: str, catalog: Catalog | None = None) -> Resolution:
    """The catalog variant (and quant) ``text`` names.

    Raises:
        NameNotFound: nothing in the catalog matches; suggestions ranked exact / longest first.
    """
    cat = catalog if catalog is not None else load_catalog()
    raw = text.strip().strip("'\"").strip()
    if not raw or len(raw) > MAX_NAME_CHARS:
        raise NameNotFound(text[:MAX_NAME_CHARS], ())
    parsed = _parse(raw)
    index = _index(cat)
    for candidate in parsed.candidates:
        key = _norm(candidate)
        hit = index.get(key) or _by_parts(cat, key)
        if hit is not None:
            return Resolution(variant_id=hit.id, quant=parsed.quant, how=parsed.how)
    raise NameNotFound(raw, _suggest(cat, _norm(parsed.candidates[0])))


@dataclass(frozen=True, slots=True)
class _Parsed:
    candidates: tuple[str, ...]  # model texts to look up, most specific first
    quant: str | None
    how: str


def _parse(raw: str) -> _Parsed:
    text = raw
    for prefix in ("ollama run ", "ollama pull ", "lms get "):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    how_prefix = ""
    if "://" in text:
        url = urlsplit(text)
        if url.hostname not in _HF_HOSTS:
            return _Parsed((text,), None, "name")
        text = url.path.strip("/")
        how_prefix = "Hugging Face link"
    elif text.lower().startswith(_HF_HOSTS):
        how_prefix = "Ollama / Hugging Face name" if ":" in text else "Hugging Face repository"
        text = text.split("/", 1)[1] if "/" in text else ""
    file = _file_part(text)
    if file is not None:
        return _from_file(file, how_prefix or "GGUF file name")
    name, tag = _split_tag(text)
    parts = [p for p in name.split("/") if p]
    if len(parts) >= 2:
        org, repo = parts[0], parts[1]
        how = f"{how_prefix or 'Hugging Face repository'} {org}/{repo}"
        if org.lower() != "liquidai":
            how += " (not Liquid AI's)"
        base = _strip_repo(repo)
        tag_quant, tag_rest = _split_quant(tag) if tag else (None, "")
        if tag and tag.lower() == "latest":
            tag_quant, tag_rest = None, ""
        cands = (f"{base}-{tag_rest}", base) if tag_rest else (base,)
        return _Parsed(cands, tag_quant, how)
    base = parts[0] if parts else name
    if tag and tag.lower() != "latest":
        tag_quant, tag_rest = _split_quant(tag)
        cands = (f"{base}-{tag_rest}", base) if tag_rest else (base,)
        return _Parsed(cands, tag_quant, "Ollama name")
    quant, rest = _split_quant(base)
    if quant is not None and rest:
        return _Parsed((rest, base), quant, "name with a quantization")
    return _Parsed((base,), None, "name")


def _file_part(text: str) -> str | None:
    """The file name when ``text`` names a .gguf file (a bare name, a path, a URL path)."""
    last = re.split(r"[\\/]", text)[-1]
    return last if last.lower().endswith(".gguf") else None


def _from_file(name: str, how: str) -> _Parsed:
    stem = name[: -len(".gguf")]
    stem = _SPLIT_TAIL.sub("", stem)
    projector = stem.lower().startswith("mmproj-")
    if projector:
        stem = stem[len("mmproj-") :]
        how = "vision projector file name"
    quant, rest = _split_quant(stem)
    return _Parsed((rest or stem,), quant, how)


def _split_quant(text: str) -> tuple[str | None, str]:
    """("LFM2-1.2B-Q4_K_M") -> ("Q4_K_M", "LFM2-1.2B"); a bare quant -> (quant, "")."""
    if _QUANT_ONLY.match(text):
        return text.upper(), ""
    m = _QUANT_TAIL.search(text)
    if m is None:
        return None, text
    return m["quant"].upper(), text[: m.start()]


def _split_tag(text: str) -> tuple[str, str | None]:
    if ":" not in text:
        return text, None
    name, tag = text.rsplit(":", 1)
    return name, tag.strip() or None


def _strip_repo(repo: str) -> str:
    base = re.sub(r"[-_.]gguf$", "", repo, flags=re.IGNORECASE)
    return re.sub(r"^liquidai[_-]", "", base, flags=re.IGNORECASE)


def _norm(text: str) -> str:
    out = text.strip().lower().replace("_", "-").replace(" ", "-")
    out = re.sub(r"^liquidai[-/]", "", out)
    out = re.sub(r"-gguf$", "", out)
    return re.sub(r"-{2,}", "-", out).strip("-")


def _index(cat: Catalog) -> dict[str, ModelVariant]:
    index: dict[str, ModelVariant] = {}
    for v in cat.variants:
        repo = v.hf_repo.split("/")[-1]
        for key in (v.id, v.name, v.gguf_file_prefix, repo, _strip_repo(repo)):
            index.setdefault(_norm(key), v)
    return index


def _tokens(key: str) -> frozenset[str]:
    return frozenset(t for t in key.split("-") if t)


def _by_parts(cat: Catalog, key: str) -> ModelVariant | None:
    """The one variant whose name has the same parts in any order ("lfm2.5-thinking-1.2b")."""
    want = _tokens(key)
    if not any(_SIZE.match(t) for t in want):
        return None
    hits = [v for v in cat.variants if _tokens(_norm(v.id)) == want]
    return hits[0] if len(hits) == 1 else None


def _suggest(cat: Catalog, key: str) -> tuple[str, ...]:
    """Variant ids ranked: ids the query starts with (longest first), then ids starting with the
    query (shortest first), then the closest spellings."""
    ids = [v.id for v in cat.variants]
    contained = sorted((i for i in ids if key.startswith(i)), key=len, reverse=True)
    completions = sorted((i for i in ids if i.startswith(key) and i not in contained), key=len)
    picked = contained + completions
    if len(picked) < MAX_SUGGESTIONS:
        close = difflib.get_close_matches(key, ids, n=MAX_SUGGESTIONS, cutoff=0.6)
        picked += [i for i in close if i not in picked]
    return tuple(picked[:MAX_SUGGESTIONS])
