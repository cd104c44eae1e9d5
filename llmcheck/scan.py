"""Find the LFM2-family GGUF files already on this machine, read-only.

Where the usual runtimes keep their models (each overridable as they are):

- LM Studio: ``~/.lmstudio/models`` and the older ``~/.cache/lm-studio/models``
  (``PUBLISHER/REPO/FILE.gguf``);
- llama.cpp's ``-hf`` download cache: ``LLAMA_CACHE``, else ``~/.cache/llama.cpp``
  (``XDG_CACHE_HOME``), ``~/Library/Caches/llama.cpp`` (macOS), ``%LOCALAPPDATA%\\llama.cpp``
  (Windows) (``common/common.cpp`` ``fs_get_cache_directory``);
- the Hugging Face hub cache: ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
  ``~/.cache/huggingface/hub`` (``models--ORG--REPO/snapshots/REV/FILE``, links into ``blobs/``);
- Ollama: ``OLLAMA_MODELS``, else ``~/.ollama/models`` and, on Linux, the service's
  ``/usr/share/ollama/.ollama/models`` (Ollama ``docs/faq.md``): the JSON manifests
  ``manifests/REGISTRY/NS/MODEL/TAG`` whose ``application/vnd.ollama.image.model`` layer is the
  blob ``blobs/sha256-HEX``, a GGUF file;
- folders the user adds (an added folder laid out like Ollama's store is read as one).

Every GGUF header found is read (never the data) and described; other architectures are counted,
not listed. The walk is bounded in time (``deadline_s``), depth and entries; symlink loops,
unreadable folders, broken links and corrupt files are skipped with a note. ``home``, ``env`` and
``platform`` are arguments so tests build a fake home with each store's layout.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from llmcheck.gguf.describe import Lfm2Model, Lfm2Projector, NotLfm2Error, describe
from llmcheck.gguf.reader import GgufError, read_gguf, split_parts

__all__ = ["FoundModel", "ScanNote", "ScanResult", "Store", "StoreRoot", "default_roots", "scan"]

DEFAULT_DEADLINE_S = 10.0
DEFAULT_MAX_DEPTH = 8
DEFAULT_MAX_ENTRIES = 100_000  # directory entries looked at, all roots together
DEFAULT_MAX_FILES = 2_000  # GGUF headers read
MAX_MANIFEST_BYTES = 1 << 20
OLLAMA_MODEL_MEDIA = "application/vnd.ollama.image.model"
OLLAMA_PROJECTOR_MEDIA = "application/vnd.ollama.image.projector"
_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
_HF_REPO_DIR = re.compile(r"^models--(?P<org>[^/]+?)--(?P<repo>.+)$")
_SPLIT_TAIL = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)


class Store(StrEnum):
    """Where a file was found."""

    LM_STUDIO = "lm-studio"
    LLAMA_CPP = "llama.cpp"
    HUGGING_FACE = "huggingface"
    OLLAMA = "ollama"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreRoot:
    """One folder to look in, and the layout it has."""

    store: Store
    path: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundModel:
    """One LFM2-family file (a model or a vision projector) found on this machine."""

    store: Store
    path: Path  # the file (the first part of a split model; the blob for Ollama)
    label: str  # how its store names it: "LiquidAI/LFM2-1.2B-GGUF/LFM2-1.2B-Q4_K_M.gguf",
    #             Ollama "hf.co/LiquidAI/LFM2-1.2B-GGUF:Q4_K_M"
    file_size_bytes: int
    model: Lfm2Model | Lfm2Projector
    projector_path: Path | None = None  # the LFM2-VL projector that goes with it, when known


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanNote:
    """Something skipped, and why (for the user; paths are the machine's text: clean them)."""

    path: Path | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """What a scan found: LFM2-family files listed, the rest counted, the skips noted."""

    models: tuple[FoundModel, ...]
    other_architecture_files: int  # readable GGUF files of other architectures (not listed)
    unreadable_files: int  # GGUF files that could not be read (each has a note)
    roots_scanned: tuple[StoreRoot, ...]  # the roots that exist
    notes: tuple[ScanNote, ...]
    complete: bool  # False: the deadline or a bound stopped the scan early
    elapsed_s: float


def default_roots(
    home: Path,
    env: Mapping[str, str],
    platform: str = sys.platform,
    system_root: Path = Path("/"),
) -> tuple[StoreRoot, ...]:
    """The usual stores for ``home`` / ``env`` / ``platform``, whether or not they exist.

    ``system_root`` prefixes the one store outside the home folder: the Linux Ollama service's
    ``/usr/share/ollama/.ollama/models`` (its install script makes an ``ollama`` user there).
    """
    roots = [
        StoreRoot(store=Store.LM_STUDIO, path=home / ".lmstudio" / "models"),
        StoreRoot(store=Store.LM_STUDIO, path=home / ".cache" / "lm-studio" / "models"),
    ]
    xdg_cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    if env.get("LLAMA_CACHE"):
        llama = Path(env["LLAMA_CACHE"])
    elif platform == "darwin":
        llama = home / "Library" / "Caches" / "llama.cpp"
    elif platform == "win32" and env.get("LOCALAPPDATA"):
        llama = Path(env["LOCALAPPDATA"]) / "llama.cpp"
    else:
        llama = xdg_cache / "llama.cpp"
    roots.append(StoreRoot(store=Store.LLAMA_CPP, path=llama))
    if env.get("HF_HUB_CACHE"):
        hub = Path(env["HF_HUB_CACHE"])
    elif env.get("HF_HOME"):
        hub = Path(env["HF_HOME"]) / "hub"
    else:
        hub = xdg_cache / "huggingface" / "hub"
    roots.append(StoreRoot(store=Store.HUGGING_FACE, path=hub))
    ollama = Path(env["OLLAMA_MODELS"]) if env.get("OLLAMA_MODELS") else home / ".ollama" / "models"
    roots.append(StoreRoot(store=Store.OLLAMA, path=ollama))
    if platform.startswith("linux") and not env.get("OLLAMA_MODELS"):
        service = system_root / "usr" / "share" / "ollama" / ".ollama" / "models"
        roots.append(StoreRoot(store=Store.OLLAMA, path=service))
    return tuple(roots)


def scan(
    *,
    home: Path,
    env: Mapping[str, str],
    folders: Sequence[Path] = (),
    platform: str = sys.platform,
    system_root: Path = Path("/"),
    deadline_s: float = DEFAULT_DEADLINE_S,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_files: int = DEFAULT_MAX_FILES,
    clock: Callable[[], float] = time.monotonic,
) -> ScanResult:
    """Look for LFM2-family GGUF files in the usual stores and ``folders``. Never raises for a
    file or folder it meets (each becomes a note); reads nothing but directory entries, Ollama
    manifests and GGUF headers."""
    roots = default_roots(home, env, platform, system_root) + tuple(
        StoreRoot(store=Store.FOLDER, path=Path(f)) for f in folders
    )
    walker = _Walker(clock, deadline_s, max_depth, max_entries, max_files)
    scanned: list[StoreRoot] = []
    for root in roots:
        if walker.stopped:
            break
        if not _is_dir(root.path):
            if root.store is Store.FOLDER:
                walker.note(root.path, "not a folder (skipped)")
            continue
        scanned.append(root)
        if root.store is Store.OLLAMA or _looks_like_ollama(root.path):
            walker.ollama(root)
        else:
            walker.folder(root)
    return ScanResult(
        models=walker.paired(),
        other_architecture_files=walker.others,
        unreadable_files=walker.unreadable,
        roots_scanned=tuple(scanned),
        notes=tuple(walker.notes),
        complete=not walker.stopped,
        elapsed_s=clock() - walker.start,
    )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _looks_like_ollama(path: Path) -> bool:
    return _is_dir(path / "manifests") and _is_dir(path / "blobs")


@dataclass
class _Walker:
    clock: Callable[[], float]
    deadline_s: float
    max_depth: int
    max_entries: int
    max_files: int
    start: float = 0.0
    entries: int = 0
    files_read: int = 0
    others: int = 0
    unreadable: int = 0
    stopped: bool = False
    notes: list[ScanNote] = field(default_factory=list)
    found: list[FoundModel] = field(default_factory=list)
    seen_files: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def note(self, path: Path | None, message: str) -> None:
        self.notes.append(ScanNote(path=path, message=message))

    def _over(self) -> bool:
        if self.stopped:
            return True
        why = None
        if self.clock() - self.start > self.deadline_s:
            why = f"stopped after {self.deadline_s:g} s: the list may be incomplete"
        elif self.entries >= self.max_entries:
            why = f"stopped after {self.max_entries:,} folder entries: the list may be incomplete"
        elif self.files_read >= self.max_files:
            why = f"stopped after {self.max_files:,} GGUF files: the list may be incomplete"
        if why is not None:
            self.stopped = True
            self.note(None, why)
        return self.stopped

    # -- plain folders (LM Studio, llama.cpp, Hugging Face, the user's) -----------------------
    def folder(self, root: StoreRoot) -> None:
        for path in self._gguf_files(root.path):
            if _SPLIT_TAIL.search(path.name) and not _is_first_part(path.name):
                continue  # read with its first part
            self._read(root, path, _label(root, path))

    def _gguf_files(self, top: Path) -> Iterator[Path]:
        """Files named *.gguf below ``top``: depth-bounded, each real folder once (no loops)."""
        stack: list[tuple[Path, int]] = [(top, 0)]
        dirs_seen: set[tuple[int, int]] = set()
        while stack:
            if self._over():
                return
            folder, depth = stack.pop()
            try:
                st = folder.stat()
                if (st.st_dev, st.st_ino) in dirs_seen:
                    self.note(folder, "symlink loop or repeated folder (skipped)")
                    continue
                dirs_seen.add((st.st_dev, st.st_ino))
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.note(folder, f"unreadable folder (skipped): {exc.strerror or exc}")
                continue
            subfolders: list[Path] = []
            for entry in entries:
                self.entries += 1
                if self._over():
                    return
                try:
                    is_dir = entry.is_dir()  # follows links; loops are caught by dirs_seen
                except OSError:
                    continue
                if is_dir:
                    if depth >= self.max_depth:
                        self.note(Path(entry.path), f"deeper than {self.max_depth} (skipped)")
                    else:
                        subfolders.append(Path(entry.path))
                elif entry.name.lower().endswith(".gguf"):
                    yield Path(entry.path)
            stack.extend((s, depth + 1) for s in reversed(subfolders))

    # -- Ollama ---------------------------------------------------------------------------------
    def ollama(self, root: StoreRoot) -> None:
        manifests = root.path / "manifests"
        blobs = root.path / "blobs"
        for manifest in self._manifests(manifests):
            if self._over():
                return
            layers = self._layers(manifest)
            if layers is None:
                continue
            name = _ollama_name(manifest.relative_to(manifests))
            model = layers.get(OLLAMA_MODEL_MEDIA)
            if model is None:
                continue
            projector = layers.get(OLLAMA_PROJECTOR_MEDIA)
            projector_path = blobs / f"sha256-{projector}" if projector else None
            self._read(root, blobs / f"sha256-{model}", name, projector_path)
            if projector_path is not None:
                self._read(root, projector_path, f"{name} (projector)")

    def _manifests(self, top: Path) -> Iterator[Path]:
        stack: list[tuple[Path, int]] = [(top, 0)]
        while stack:
            folder, depth = stack.pop()
            if self._over():
                return
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.note(folder, f"unreadable folder (skipped): {exc.strerror or exc}")
                continue
            for entry in reversed(entries):
                self.entries += 1
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth < 4:  # REGISTRY/NAMESPACE/MODEL/TAG
                            stack.append((Path(entry.path), depth + 1))
                    elif entry.is_file():
                        yield Path(entry.path)
                except OSError:
                    continue

    def _layers(self, manifest: Path) -> dict[str, str] | None:
        """Media type -> blob digest (hex) of the manifest's layers; None with a note if bad."""
        try:
            with manifest.open("rb") as f:
                raw = f.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                raise ValueError("over 1 MiB")
            doc = json.loads(raw.decode("utf-8"))
            layers = doc["layers"]
            out: dict[str, str] = {}
            for layer in layers:
                m = _DIGEST.match(str(layer["digest"]))
                if m is None:
                    raise ValueError(f"bad digest {str(layer['digest'])[:80]!r}")
                out.setdefault(str(layer["mediaType"]), m[1])
        except OSError as exc:
            self.note(manifest, f"unreadable Ollama manifest (skipped): {exc.strerror or exc}")
            return None
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            # json's errors are ValueError; a manifest of the wrong shape raises the others.
            self.note(manifest, f"not an Ollama manifest (skipped): {exc}")
            return None
        return out

    # -- one file -------------------------------------------------------------------------------
    def _read(self, root: StoreRoot, path: Path, label: str, projector: Path | None = None) -> None:
        try:
            st = path.stat()
        except OSError as exc:
            self.note(path, f"broken link or missing file (skipped): {exc.strerror or exc}")
            return
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in self.seen_files:
            return
        self.seen_files.add((st.st_dev, st.st_ino))
        if self._over():
            return
        self.files_read += 1
        try:
            model = describe(read_gguf(path))
        except NotLfm2Error:
            self.others += 1
            return
        except GgufError as exc:
            self.unreadable += 1
            self.note(path, str(exc))
            return
        self.found.append(
            FoundModel(
                store=root.store,
                path=model.path,
                label=label,
                file_size_bytes=model.file_size_bytes,
                model=model,
                projector_path=projector,
            )
        )

    def paired(self) -> tuple[FoundModel, ...]:
        """The found files; a model alone in its folder with one projector gets it paired."""
        projectors: dict[Path, list[Path]] = {}
        for f in self.found:
            if isinstance(f.model, Lfm2Projector) and f.store is not Store.OLLAMA:
                projectors.setdefault(f.path.parent, []).append(f.path)
        out = []
        for f in self.found:
            beside = projectors.get(f.path.parent, [])
            if isinstance(f.model, Lfm2Model) and f.projector_path is None and len(beside) == 1:
                f = FoundModel(
                    store=f.store,
                    path=f.path,
                    label=f.label,
                    file_size_bytes=f.file_size_bytes,
                    model=f.model,
                    projector_path=beside[0],
                )
            out.append(f)
        return tuple(out)


def _is_first_part(name: str) -> bool:
    m = _SPLIT_TAIL.search(name)
    return m is None or int(m[1]) == 1


def _label(root: StoreRoot, path: Path) -> str:
    """How the file is known in its store."""
    try:
        rel = path.relative_to(root.path)
    except ValueError:
        return path.name
    if root.store is Store.HUGGING_FACE and rel.parts:
        m = _HF_REPO_DIR.match(rel.parts[0])
        if m is not None and len(rel.parts) >= 4 and rel.parts[1] == "snapshots":
            return f"{m['org']}/{m['repo']}/{'/'.join(rel.parts[3:])}"
    try:
        split = split_parts(path) != (path,)
    except GgufError:
        split = False
    return rel.as_posix() + (" (split)" if split else "")


def _ollama_name(rel: Path) -> str:
    """``registry.ollama.ai/library/lfm2/latest`` -> ``lfm2:latest``; hf.co names kept whole."""
    parts = rel.parts
    if len(parts) < 2:
        return rel.as_posix()
    *path, tag = parts
    if path[:2] == ["registry.ollama.ai", "library"]:
        path = path[2:]
    elif path[:1] == ["registry.ollama.ai"]:
        path = path[1:]
    return f"{'/'.join(path)}:{tag}"
