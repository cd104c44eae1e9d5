"""The window's own-file questions and its background bandwidth, without Qt.

- :func:`answer_file`: a GGUF file the user opened or dropped, read (header only) and described,
  its ``mmproj`` paired (:func:`~llmcheck.estimate.from_gguf.pair_projector`) and estimated
  (:func:`~llmcheck.estimate.from_gguf.estimate_file`). Anything wrong with the file is one
  :class:`UnansweredFileError` sentence, never a traceback.
- :func:`scan_answers`: :func:`llmcheck.scan.scan` (bounded in time) with each LFM2 file's
  answer at the chosen settings, and the scan's notes in words.
- :func:`with_cached_bandwidth`: this machine with its RAM bandwidth from this boot's cache or a
  new measurement (:func:`~llmcheck.probe.bandwidth_cache.cached_or_measured`), and where the
  number came from ("measured 13 min ago"). A measurement taken while the machine was too busy
  is not used: the table's range stands and the outcome says so.

The window runs each on a worker thread (llmcheck.gui.local_files, llmcheck.gui.bandwidth_task).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from llmcheck.snapshot import Source, SystemSnapshot
from llmcheck.units import clean_text

if TYPE_CHECKING:
    from llmcheck.catalog import Catalog, ModelVariant
    from llmcheck.estimate import Fit, RunConfig
    from llmcheck.probe.bandwidth_cache import CachedBandwidth
    from llmcheck.probe.bandwidth_measure import BandwidthMeasurement

__all__ = [
    "BUSY_CODE",
    "SCAN_DEADLINE_S",
    "BandwidthOutcome",
    "FileAnswer",
    "ScanAnswers",
    "ScanRow",
    "UnansweredFileError",
    "answer_file",
    "is_gguf_path",
    "scan_answers",
    "with_cached_bandwidth",
]

SCAN_DEADLINE_S = 10.0  # the "On this machine" view never waits longer for the disk
BUSY_CODE = "bandwidth_machine_busy"  # the probe's Issue code for a too-busy measurement


class UnansweredFileError(ValueError):
    """A file that gets no answer: one line for the status bar (already cleaned)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileAnswer:
    """The answer for one of the user's GGUF files."""

    path: Path
    projector_path: Path | None
    variant: ModelVariant  # the catalog variant, or one made from the file's own tensors
    fit: Fit
    how: str  # "tensors identical to the catalog's LFM2-1.2B Q4_K_M" / "the file's own ..."


def is_gguf_path(path: Path | str) -> bool:
    """Whether ``path`` names a GGUF file (by its extension; the header decides the rest)."""
    return str(path).lower().endswith(".gguf")


def answer_file(
    path: Path | str,
    config: RunConfig,
    machine: SystemSnapshot,
    catalog: Catalog | None = None,
    *,
    projector: Path | str | None = None,
) -> FileAnswer:
    """Read ``path`` (and its ``mmproj``, given or found beside it) and estimate it on ``machine``.

    Raises:
        UnansweredFileError: not a GGUF, another architecture, a truncated or corrupt header, a file
            that cannot be opened; the message names the file.
    """
    from llmcheck.estimate.from_gguf import estimate_file, file_question, pair_projector
    from llmcheck.gguf import GgufError, Lfm2Model, Lfm2Projector, describe, read_gguf

    model_path = Path(path)
    shown = clean_text(model_path.name, limit=200)
    try:
        described = describe(read_gguf(model_path))
        if not isinstance(described, Lfm2Model):
            raise UnansweredFileError(
                f"{shown} is a vision projector (mmproj): open the model file beside it"
            )
        projector_path = Path(projector) if projector is not None else pair_projector(model_path)
        vision: Lfm2Projector | None = None
        if projector_path is not None:
            paired = describe(read_gguf(projector_path))
            if isinstance(paired, Lfm2Projector):
                vision = paired
            else:
                projector_path = None
        question = file_question(described, vision, catalog)
        fit = estimate_file(described, vision, config, machine, catalog)
    except UnansweredFileError:
        raise
    except GgufError as exc:
        raise UnansweredFileError(clean_text(exc, limit=400)) from None
    except OSError as exc:
        why = clean_text(exc.strerror or exc)
        raise UnansweredFileError(f"{shown} could not be read: {why}") from None
    except (ValueError, KeyError, OverflowError) as exc:
        why = clean_text(exc, limit=300)
        raise UnansweredFileError(f"{shown} gets no estimate: {why}") from None
    return FileAnswer(
        path=model_path,
        projector_path=projector_path,
        variant=question.variant,
        fit=fit,
        how=question.how,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRow:
    """One LFM2 file found on this machine and its answer (``fit`` None with ``problem``)."""

    label: str  # its store's name for it (machine text: cleaned)
    store: str
    path: Path
    file_size_bytes: int
    fit: Fit | None
    problem: str  # "" when answered


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanAnswers:
    """The "On this machine" view: rows, the notes in words, and whether the scan finished."""

    rows: tuple[ScanRow, ...]
    notes: tuple[str, ...]
    complete: bool
    elapsed_s: float


def scan_answers(
    config: RunConfig,
    machine: SystemSnapshot,
    catalog: Catalog | None = None,
    *,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    folders: Sequence[Path] = (),
    deadline_s: float = SCAN_DEADLINE_S,
) -> ScanAnswers:
    """Scan the usual model stores (and ``folders``) and answer each LFM2 model found."""
    from llmcheck.estimate.from_gguf import estimate_file
    from llmcheck.gguf import Lfm2Model, Lfm2Projector, describe, read_gguf
    from llmcheck.scan import scan

    result = scan(
        home=home if home is not None else Path.home(),
        env=env if env is not None else os.environ,
        folders=folders,
        deadline_s=deadline_s,
    )
    rows: list[ScanRow] = []
    for found in result.models:
        if not isinstance(found.model, Lfm2Model):
            continue  # a projector: it goes with its model
        vision: Lfm2Projector | None = None
        fit: Fit | None = None
        problem = ""
        try:
            if found.projector_path is not None:
                paired = describe(read_gguf(found.projector_path))
                vision = paired if isinstance(paired, Lfm2Projector) else None
            fit = estimate_file(found.model, vision, config, machine, catalog)
        except (OSError, ValueError, KeyError, OverflowError) as exc:
            problem = clean_text(exc, limit=300)
        rows.append(
            ScanRow(
                label=clean_text(found.label, limit=200),
                store=str(found.store),
                path=found.path,
                file_size_bytes=found.file_size_bytes,
                fit=fit,
                problem=problem,
            )
        )
    notes = [
        (f"{clean_text(n.path, limit=200)}: " if n.path is not None else "")
        + clean_text(n.message, limit=300)
        for n in result.notes
    ]
    if result.other_architecture_files:
        notes.append(
            f"{result.other_architecture_files} GGUF file(s) of other architectures"
            " (not LFM2) were not listed"
        )
    if not result.complete:
        notes.append(
            f"The scan stopped after {deadline_s:g} s or at its bounds: the list may be incomplete"
        )
    if not result.roots_scanned:
        notes.append(
            "None of the usual model folders (LM Studio, llama.cpp, Hugging Face,"
            " Ollama) exists here"
        )
    return ScanAnswers(
        rows=tuple(rows), notes=tuple(notes), complete=result.complete, elapsed_s=result.elapsed_s
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BandwidthOutcome:
    """This machine after a cached or new bandwidth measurement, and the words for it."""

    snapshot: SystemSnapshot
    cached: CachedBandwidth | None
    busy: str  # "" unless the measurement was too disturbed to use (then the table stands)

    @property
    def source_text(self) -> str:
        """ "measured 13 min ago" / "measured just now", or "" when nothing was measured."""
        if (
            self.cached is None
            or self.busy
            or self.snapshot.memory.bandwidth_source is not (Source.MEASURED)
        ):
            return ""
        return self.cached.source_text


def with_cached_bandwidth(
    snapshot: SystemSnapshot,
    *,
    force: bool = False,
    measure: Callable[[], BandwidthMeasurement] | None = None,
    directory: Path | None = None,
) -> BandwidthOutcome:
    """``snapshot`` with this boot's cached RAM bandwidth, else a new measurement (``force``:
    always a new one). ``measure`` and ``directory`` are the cache's seams for tests."""
    from llmcheck.probe.bandwidth import apply_bandwidth
    from llmcheck.probe.bandwidth_cache import cached_or_measured

    got: list[CachedBandwidth] = []

    def measure_cached() -> CachedBandwidth | None:
        cached = cached_or_measured(
            cpu_brand=snapshot.cpu.brand,
            logical_cores=snapshot.cpu.logical_cores,
            force=force,
            measure_if_missing=True,
            usable_bytes=snapshot.memory.usable_bytes,
            measure=measure,
            directory=directory,
        )
        if cached is not None:
            got.append(cached)
        return cached

    memory, issues = apply_bandwidth(
        snapshot.memory, snapshot.cpu, system=snapshot.os.system, measure=measure_cached
    )
    codes = {i.code for i in issues}
    kept = tuple(p for p in snapshot.problems if p.code not in codes | {BUSY_CODE})
    busy = next((i.message for i in issues if i.code == BUSY_CODE), "")
    return BandwidthOutcome(
        snapshot=replace(snapshot, memory=memory, problems=kept + issues),
        cached=got[-1] if got else None,
        busy=clean_text(busy, limit=300),
    )
