"""The command line's GGUF files (issue #12): ``check PATH.gguf``, ``scan`` and ``--scan``.

``llmcheck.cli`` wires these into ``main``. A file that cannot be the question (missing,
truncated, corrupt, hostile, another architecture, a vision projector given as the model) is a
:class:`~llmcheck.cli_settings.UsageError`: one line on stderr, exit 2. Reading a file reads its
header and tensor table only (:func:`llmcheck.gguf.read_gguf`), never its data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcheck.cli_settings import CONTEXT_MAX, UsageError, build_config
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import Fit, RunConfig
    from llmcheck.estimate.from_gguf import FileQuestion
    from llmcheck.gguf import Lfm2Model, Lfm2Projector
    from llmcheck.scan import FoundModel, ScanResult
    from llmcheck.snapshot import SystemSnapshot

__all__ = [
    "FileAsked",
    "answer_file",
    "is_file_argument",
    "read_file_question",
    "run_scan",
    "scan_answers",
]

log = logging.getLogger("llmcheck")

# The one store outside the home folder (the Linux Ollama service's) is looked for under this.
SYSTEM_ROOT = Path("/")


@dataclass(frozen=True, slots=True)
class FileAsked:
    """A GGUF file as the question: the model, its vision projector, what they ask."""

    model: Lfm2Model
    projector: Lfm2Projector | None
    question: FileQuestion


def is_file_argument(text: str) -> bool:
    """Whether ``check``'s argument is a file to read: an existing file, or an existing folder
    written as a path (a folder in the current directory that happens to be called "lfm2-1.2b"
    does not turn the name into a path)."""
    try:
        if os.path.isfile(text):
            return True
        return os.path.isdir(text) and (looks_like_path(text) or os.sep in text or "/" in text)
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        return False


def looks_like_path(text: str) -> bool:
    """A missing file, not a model name: said as such when the name does not resolve either."""
    return text.startswith(("/", "./", "../", "~", "\\")) or (
        len(text) > 2 and text[1] == ":" and text[2] in "\\/"
    )


def _describe(path: Path | str, *, what: str) -> Lfm2Model | Lfm2Projector:
    from llmcheck.gguf import GgufError, NotLfm2Error, describe, read_gguf

    shown = clean_text(str(path), limit=300)
    if os.path.isdir(path):
        raise UsageError(
            f"{shown} is a folder; to list the models in it: `llmcheck scan --folder {shown}`"
        )
    try:
        return describe(read_gguf(path))
    except NotLfm2Error as exc:
        raise UsageError(
            f"{clean_text(str(exc), limit=400)}; llmcheck answers for LFM2-family {what} files only"
        ) from None
    except GgufError as exc:
        raise UsageError(clean_text(str(exc), limit=400)) from None
    except (OSError, ValueError, MemoryError) as exc:  # a reader bound that failed: one line
        raise UsageError(f"{shown}: cannot read it as a GGUF file ({type(exc).__name__})") from None


def read_file_question(
    path: str, mmproj: str | None, catalog: Catalog, *, pair: bool = True
) -> FileAsked:
    """Read ``path`` (and its projector: ``mmproj``, else one beside it) as the question.

    Raises:
        UsageError: unreadable, not GGUF, not LFM2-family, or a projector given as the model
            (or a model given as the projector).
    """
    from llmcheck.estimate.from_gguf import file_question, pair_projector
    from llmcheck.gguf import Lfm2Model, Lfm2Projector

    model = _describe(path, what="model")
    if not isinstance(model, Lfm2Model):
        raise UsageError(
            f"{clean_text(path, limit=300)} is a vision projector (mmproj); give"
            " the model file (its projector is paired when it lies beside it, or"
            " give --mmproj PATH)"
        )
    projector: Lfm2Projector | None = None
    if mmproj is not None:
        found = _describe(mmproj, what="vision projector")
        if not isinstance(found, Lfm2Projector):
            raise UsageError(
                f"--mmproj: {clean_text(mmproj, limit=300)} is a model, not a"
                " vision projector (mmproj) file"
            )
        projector = found
    elif pair:
        beside = pair_projector(path)
        if beside is not None:
            try:
                paired = _describe(beside, what="vision projector")
            except UsageError as exc:
                log.warning("the projector beside the model was not used: %s", exc)
            else:
                if isinstance(paired, Lfm2Projector):
                    projector = paired
                    log.debug("paired the vision projector %s", beside)
    return FileAsked(
        model=model, projector=projector, question=file_question(model, projector, catalog)
    )


def answer_file(
    asked: FileAsked,
    settings: Mapping[str, Any],
    snapshot: SystemSnapshot,
    runtime: str,
    catalog: Catalog,
    *,
    cap_context: bool = False,
) -> tuple[Fit, ModelVariant, dict[str, Any]]:
    """The file's fit under ``settings`` in ``runtime``, the variant it was answered as, and
    its ``source_file`` dict (:func:`llmcheck.report.source_file_to_dict`).

    ``cap_context``: a context above the file's longest is answered at the file's longest (a
    scan's many files) instead of refused.

    Raises:
        UsageError: a context above the file's ``context_length`` (without ``cap_context``).
    """
    from llmcheck.estimate.from_gguf import estimate_file
    from llmcheck.report import source_file_to_dict

    q = asked.question
    fields = dict(settings)
    tokens = fields.get("context_tokens")
    if cap_context and isinstance(tokens, int) and tokens > q.variant.gguf_context_tokens:
        fields["context_tokens"] = CONTEXT_MAX
    config = runtime_config(build_config(fields, snapshot, q.variant), runtime)
    fit = estimate_file(asked.model, asked.projector, config, snapshot, catalog)
    source = source_file_to_dict(
        str(asked.model.path),
        None if asked.projector is None else str(asked.projector.path),
        matches_catalog=q.matches_catalog,
        catalog_variant=q.catalog_variant_id,
        how=q.how,
        architecture=asked.model.architecture,
    )
    return fit, q.variant, source


def runtime_config(config: RunConfig, runtime: str) -> RunConfig:
    """``config`` as ``runtime`` runs it (:func:`llmcheck.estimate.runtime_config`)."""
    from llmcheck.estimate.runtime import Runtime
    from llmcheck.estimate.runtime import runtime_config as for_runtime

    return for_runtime(config, Runtime(runtime))


def run_scan(folders: Sequence[str], environ: Mapping[str, str] | None = None) -> ScanResult:
    """The LFM2-family files in the usual stores of this user and in ``folders`` (read-only,
    bounded: :func:`llmcheck.scan.scan`)."""
    from llmcheck.scan import scan

    env = os.environ if environ is None else environ
    return scan(
        home=Path.home(), env=env, folders=[Path(f) for f in folders], system_root=SYSTEM_ROOT
    )


def scan_answers(
    result: ScanResult,
    settings: Mapping[str, Any],
    snapshot: SystemSnapshot,
    runtime: str,
    catalog: Catalog,
) -> list[tuple[Fit, ModelVariant, dict[str, Any]] | str | None]:
    """One answer per file found (:func:`llmcheck.report.build_scan`'s ``answers``): a model's
    fit at the chosen context (each file at its own longest where that is shorter), the reason
    it has none, or None for a vision projector."""
    from llmcheck.gguf import Lfm2Model

    out: list[tuple[Fit, ModelVariant, dict[str, Any]] | str | None] = []
    for found in result.models:
        if not isinstance(found.model, Lfm2Model):
            out.append(None)
            continue
        try:
            asked = _found_question(found, catalog)
            out.append(answer_file(asked, settings, snapshot, runtime, catalog, cap_context=True))
        except UsageError as exc:
            out.append(str(exc))
    return out


def _found_question(found: FoundModel, catalog: Catalog) -> FileAsked:
    from llmcheck.estimate.from_gguf import file_question
    from llmcheck.gguf import Lfm2Model, Lfm2Projector

    model = found.model
    assert isinstance(model, Lfm2Model)
    projector = None
    if found.projector_path is not None:
        try:
            described = _describe(found.projector_path, what="vision projector")
        except UsageError as exc:
            log.debug("projector of %s not used: %s", found.path, exc)
        else:
            projector = described if isinstance(described, Lfm2Projector) else None
    return FileAsked(
        model=model, projector=projector, question=file_question(model, projector, catalog)
    )
