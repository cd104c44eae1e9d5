"""Read a GGUF file's header: metadata and the tensor table, never the tensor data.

``read_gguf(path)`` reads at most :data:`MAX_HEADER_BYTES` from the start of each part, in 1 MiB
chunks as the parse needs them, so a 20 GB file costs what its header costs (a few MiB for LFM2,
whose header is mostly the tokenizer). A split model ``NAME-00001-of-0000N.gguf`` is read as one
file: every part's tensor table, the first part's metadata.

The file is untrusted input. Every count and length is checked against the bytes that remain
before anything is allocated or read for it, and against a fixed bound; nested arrays, unknown
value or tensor types, a bad alignment, duplicate keys or tensor names, a tensor row that is not a
whole number of blocks, and tensor data past the end of the file are refused. Every failure is one
:class:`GgufError` whose message names the file and what is wrong. Layout: the GGUF spec
(ggml-org/ggml ``docs/gguf.md``) and llama.cpp's reader ``ggml/src/gguf.cpp`` (0c1e57098).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from llmcheck.gguf.ggml_types import ggml_type_by_id

__all__ = [
    "KEEP_ARRAY_ITEMS",
    "MAX_HEADER_BYTES",
    "GgufError",
    "GgufFile",
    "GgufTensor",
    "MetadataValue",
    "read_gguf",
    "split_parts",
]

MetadataValue = int | float | bool | str | tuple[int | float | bool | str, ...]

# Bounds on what a header may claim. Real files sit far below them: LFM2's header is ~2.4 MB
# (65,536-token vocabulary) or ~8.2 MB (128,000); a 262,144-token tokenizer ~20 MB; the largest
# LFM2 file has 428 tensors and ~40 keys.
MAX_HEADER_BYTES = 64 << 20
MAX_TENSORS = 1 << 16
MAX_KV_PAIRS = 1 << 16
MAX_KEY_BYTES = (1 << 16) - 1  # the GGUF spec's limit on a key
MAX_TENSOR_NAME_BYTES = 63  # GGML_MAX_NAME (64) minus the NUL; gguf.cpp refuses longer names
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_ARRAY_ITEMS_TOTAL = 1 << 22  # every array item in one header (a tuple slot each)
MAX_SPLIT_PARTS = 9999
# Arrays kept in GgufFile.metadata by default: per-layer arrays (head_count_kv) are tens of items;
# a tokenizer's 65,536+ strings would cost more than the rest of the read together.
KEEP_ARRAY_ITEMS = 4096
MAX_ELEMENTS = 1 << 60  # one tensor (ggml counts in int64)
_CHUNK_BYTES = 1 << 20
_U64 = struct.Struct("<Q")
_DEFAULT_ALIGNMENT = 32  # GGUF_DEFAULT_ALIGNMENT, ggml/include/gguf.h
_MAGIC = b"GGUF"
_SPLIT_NAME = re.compile(r"^(?P<prefix>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)

# GGUF value types (gguf.h enum gguf_type): id -> (struct code, bytes).
_STRING, _ARRAY, _BOOL = 8, 9, 7
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("B", 1),  # uint8
    1: ("b", 1),  # int8
    2: ("H", 2),  # uint16
    3: ("h", 2),  # int16
    4: ("I", 4),  # uint32
    5: ("i", 4),  # int32
    6: ("f", 4),  # float32
    _BOOL: ("B", 1),
    10: ("Q", 8),  # uint64
    11: ("q", 8),  # int64
    12: ("d", 8),  # float64
}


class GgufError(ValueError):
    """A GGUF file that cannot be read: one line naming the file and what is wrong."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GgufTensor:
    """One entry of the tensor table (the data itself is never read)."""

    name: str
    shape: tuple[int, ...]  # ggml order: ne0 (the row length) first
    ggml_type: str  # "Q4_K"
    n_bytes: int  # the tensor's bytes in the file, without alignment padding
    offset_bytes: int  # from the start of its part's data section
    part_index: int  # 0 for a single file; which part of a split model holds it


@dataclass(frozen=True, slots=True, kw_only=True)
class GgufFile:
    """A GGUF file's header: version, metadata and tensor table."""

    path: Path  # the file, or the first part of a split model
    version: int  # 2 or 3
    metadata: Mapping[str, MetadataValue]  # read-only; the first part's keys for a split model
    skipped_arrays: Mapping[str, int]  # key -> item count of the arrays not kept (tokenizer)
    tensors: tuple[GgufTensor, ...]  # every part's tensors, in file order
    file_size_bytes: int  # all parts together
    parts: tuple[Path, ...]  # (path,) for a single file
    alignment_bytes: int
    header_bytes: int  # bytes parsed (all parts): what reading cost

    @property
    def tensor_bytes(self) -> int:
        """Sum of every tensor's bytes (no padding)."""
        return sum(t.n_bytes for t in self.tensors)


def split_parts(path: Path) -> tuple[Path, ...]:
    """The parts of the split model ``path`` belongs to, by name; ``(path,)`` if not split.

    Raises:
        GgufError: the name says ``-0000K-of-0000N`` with K = 0, K > N or N too large.
    """
    m = _SPLIT_NAME.match(path.name)
    if m is None:
        return (path,)
    no, count = int(m["no"]), int(m["count"])
    if not 1 <= no <= count <= MAX_SPLIT_PARTS:
        raise GgufError(f"{path}: the name says part {no} of {count}: not a valid split")
    prefix = m["prefix"]
    names = (f"{prefix}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1))
    return tuple(path.with_name(n) for n in names)


def read_gguf(path: Path | str, *, keep_array_items: int = KEEP_ARRAY_ITEMS) -> GgufFile:
    """Read the header (metadata and tensor table) of ``path``, all parts of a split model.

    Arrays of more than ``keep_array_items`` items (the tokenizer's vocabulary, scores and merges)
    are walked over and checked but not kept: :attr:`GgufFile.skipped_arrays` has their lengths.
    Pass a larger number to keep them (at most :data:`MAX_ARRAY_ITEMS_TOTAL` in one header).

    Raises:
        GgufError: unreadable, not GGUF, unsupported version or byte order, truncated, corrupt,
            over a bound, or a split model with a part missing or out of place.
    """
    first = Path(path)
    parts = split_parts(first)
    headers: list[_Part] = []
    for i, part in enumerate(parts):
        if i > 0 and not part.exists():
            raise GgufError(f"{first}: part {i + 1} of {len(parts)} is missing ({part.name})")
        headers.append(_read_part(part, i, keep_array_items))
    head = headers[0]
    _check_split(first, headers)
    return GgufFile(
        path=parts[0],
        version=head.version,
        metadata=MappingProxyType(head.metadata),
        skipped_arrays=MappingProxyType(head.skipped_arrays),
        tensors=tuple(t for h in headers for t in h.tensors),
        file_size_bytes=sum(h.file_size for h in headers),
        parts=parts,
        alignment_bytes=head.alignment,
        header_bytes=sum(h.header_bytes for h in headers),
    )


def _check_split(first: Path, headers: list[_Part]) -> None:
    count = len(headers)
    for i, h in enumerate(headers):
        declared = h.metadata.get("split.count")
        if declared is None:
            if count > 1:
                raise GgufError(f"{h.path}: part {i + 1} of {count} has no split.count key")
            continue
        if declared != count and not (count == 1 and declared in (0, 1)):
            if count == 1:
                raise GgufError(
                    f"{first}: part of a {declared}-part split model, but its name does not say "
                    "which (expected NAME-00001-of-0000N.gguf): cannot find the other parts"
                )
            raise GgufError(f"{h.path}: split.count is {declared}, the file names say {count}")
        if count > 1 and h.metadata.get("split.no") != i:
            raise GgufError(
                f"{h.path}: split.no is {h.metadata.get('split.no')}, expected {i} (part {i + 1})"
            )
    total = headers[0].metadata.get("split.tensors.count")
    n = sum(len(h.tensors) for h in headers)
    if count > 1 and total is not None and total != n:
        raise GgufError(f"{first}: split.tensors.count is {total}, the parts hold {n} tensors")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    path: Path
    version: int
    metadata: dict[str, MetadataValue]
    skipped_arrays: dict[str, int]
    tensors: tuple[GgufTensor, ...]
    file_size: int
    alignment: int
    header_bytes: int


def _read_part(path: Path, index: int, keep_items: int) -> _Part:
    try:
        with path.open("rb") as f:
            size = _file_size(f)
            return _Parser(f, path, size, index, keep_items).parse()
    except OSError as exc:
        raise GgufError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except MemoryError as exc:  # a bound above failed to hold: still one line, never a traceback
        raise GgufError(f"{path}: header too large to read") from exc


def _file_size(f: BinaryIO) -> int:
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    return size


def _shown(text: str) -> str:
    """An untrusted string for a message: escaped (repr) and cut."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


class _Parser:
    """One part's header, parsed from a growing buffer of the file's first bytes."""

    def __init__(
        self, f: BinaryIO, path: Path, file_size: int, part_index: int, keep_items: int
    ) -> None:
        self._keep_items = keep_items
        self._f = f
        self._path = path
        self._size = file_size
        self._limit = min(file_size, MAX_HEADER_BYTES)
        self._buf = bytearray()
        self._pos = 0
        self._part = part_index
        self._items_left = MAX_ARRAY_ITEMS_TOTAL

    def fail(self, what: str) -> GgufError:
        return GgufError(f"{self._path}: {what}")

    # -- bytes ------------------------------------------------------------------------------
    def _left(self) -> int:
        return self._limit - self._pos

    def _need(self, n: int, what: str) -> None:
        end = self._pos + n
        if end <= len(self._buf):
            return
        if end > self._size:
            raise self.fail(f"truncated: the file ends inside {what} (byte {self._size:,})")
        if end > self._limit:
            raise self.fail(
                f"header larger than {MAX_HEADER_BYTES >> 20} MiB at {what}: corrupt or hostile"
            )
        want = max(end - len(self._buf), min(_CHUNK_BYTES, self._limit - len(self._buf)))
        while len(self._buf) < end:
            chunk = self._f.read(want)
            if not chunk:  # the file shrank while being read
                raise self.fail(f"truncated: the file ends inside {what}")
            self._buf += chunk
            want -= len(chunk)

    def _unpack(self, code: str, size: int, what: str) -> int | float:
        self._need(size, what)
        (value,) = struct.unpack_from("<" + code, self._buf, self._pos)
        self._pos += size
        return value  # type: ignore[no-any-return]

    def _u32(self, what: str) -> int:
        return int(self._unpack("I", 4, what))

    def _u64(self, what: str) -> int:
        return int(self._unpack("Q", 8, what))

    def _string(self, what: str, max_bytes: int | None = None) -> str:
        n = self._u64(what)
        if max_bytes is not None and n > max_bytes:
            raise self.fail(f"{what}: {n:,} bytes long (at most {max_bytes:,})")
        if n > self._left():
            raise self._too_long(what, f"{n:,} bytes")
        self._need(n, what)
        text = self._buf[self._pos : self._pos + n].decode("utf-8", errors="replace")
        self._pos += n
        return text

    def _too_long(self, what: str, claim: str) -> GgufError:
        if self._limit == self._size:
            return self.fail(f"truncated or corrupt: {what} claims {claim}, past the end of file")
        return self.fail(f"{what} claims {claim}: header over {MAX_HEADER_BYTES >> 20} MiB")

    # -- structure --------------------------------------------------------------------------
    def parse(self) -> _Part:
        if self._size == 0:
            raise self.fail("empty file, not a GGUF model")
        self._need(min(4, self._size), "the magic")
        magic = bytes(self._buf[:4])
        if magic != _MAGIC:
            raise self.fail(f"not a GGUF file (starts with {magic!r})")
        self._pos = 4
        version = self._u32("the version")
        if version not in (2, 3):
            raise self.fail(_version_problem(version))
        n_tensors = self._u64("the tensor count")
        n_kv = self._u64("the metadata count")
        self._bound(n_tensors, MAX_TENSORS, 8 + 4 + 4 + 8, "tensor count")
        self._bound(n_kv, MAX_KV_PAIRS, 8 + 4 + 1, "metadata count")
        metadata: dict[str, MetadataValue] = {}
        skipped: dict[str, int] = {}
        for i in range(n_kv):
            key = self._string(f"metadata key {i}", MAX_KEY_BYTES)
            if key in metadata or key in skipped:
                raise self.fail(f"metadata key {_shown(key)} appears twice")
            kind = self._u32(f"the type of {_shown(key)}")
            if kind != _ARRAY:
                metadata[key] = self._scalar(kind, key)
                continue
            array = self._array(key)
            if isinstance(array, int):
                skipped[key] = array
            else:
                metadata[key] = array
        alignment = self._alignment(metadata)
        infos = [self._tensor_info(i) for i in range(n_tensors)]
        data_start = -(-self._pos // alignment) * alignment
        data_bytes = self._size - data_start
        names: set[str] = set()
        for t in infos:
            if t.name in names:
                raise self.fail(f"tensor {_shown(t.name)} appears twice")
            names.add(t.name)
            if t.offset_bytes % alignment:
                raise self.fail(f"tensor {_shown(t.name)}: offset not aligned to {alignment}")
            if t.offset_bytes + t.n_bytes > data_bytes:
                raise self.fail(
                    f"truncated: tensor {_shown(t.name)} ends at byte "
                    f"{data_start + t.offset_bytes + t.n_bytes:,}, the file has {self._size:,} "
                    "(an incomplete download?)"
                )
        return _Part(
            path=self._path,
            version=version,
            metadata=metadata,
            skipped_arrays=skipped,
            tensors=tuple(infos),
            file_size=self._size,
            alignment=alignment,
            header_bytes=self._pos,
        )

    def _bound(self, count: int, most: int, min_entry_bytes: int, what: str) -> None:
        if count > most:
            raise self.fail(f"{what} {count:,} is over {most:,}: corrupt or hostile header")
        if count * min_entry_bytes > self._left():
            raise self._too_long(f"the {what}", f"{count:,} entries")

    def _alignment(self, metadata: dict[str, MetadataValue]) -> int:
        value = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
        if type(value) is not int or value <= 0 or value & (value - 1) or value > 1 << 30:
            raise self.fail(f"general.alignment {value!r} is not a power of two")
        return value

    def _scalar(self, kind: int, key: str) -> int | float | bool | str:
        if kind == _STRING:
            return self._string(f"the value of {_shown(key)}")
        spec = _SCALARS.get(kind)
        if spec is None:
            raise self.fail(f"{_shown(key)}: unknown value type {kind}")
        value = self._unpack(spec[0], spec[1], f"the value of {_shown(key)}")
        return bool(value) if kind == _BOOL else value

    def _array(self, key: str) -> tuple[int | float | bool | str, ...] | int:
        """The array's items, or only its length when it is longer than ``keep_items``."""
        what = f"the array {_shown(key)}"
        kind = self._u32(what)
        n = self._u64(what)
        if kind == _ARRAY:
            raise self.fail(f"{what}: nested arrays are not supported (nor by llama.cpp)")
        if kind != _STRING and kind not in _SCALARS:
            raise self.fail(f"{what}: unknown item type {kind}")
        item_bytes = 8 if kind == _STRING else _SCALARS[kind][1]
        if n > self._items_left and n <= self._keep_items:
            raise self.fail(f"{what}: {n:,} items, over {MAX_ARRAY_ITEMS_TOTAL:,} in one header")
        if n * item_bytes > self._left():
            raise self._too_long(what, f"{n:,} items")
        if n > self._keep_items:
            if kind == _STRING:
                self._skip_strings(n, what)
            else:
                self._need(n * item_bytes, what)
                self._pos += n * item_bytes
            return n
        self._items_left -= n
        if kind == _STRING:
            return self._strings(n, what)
        code, size = _SCALARS[kind]
        self._need(n * size, what)
        values = struct.unpack_from(f"<{n}{code}", self._buf, self._pos)
        self._pos += n * size
        return tuple(v != 0 for v in values) if kind == _BOOL else values

    def _strings(self, n: int, what: str) -> tuple[str, ...]:
        """``n`` strings (a tokenizer's vocabulary: the hot loop of a whole read)."""
        out: list[str] = []
        buf, pos, unpack = self._buf, self._pos, _U64.unpack_from
        for _ in range(n):
            if pos + 8 > len(buf):
                self._pos = pos
                self._need(8, what)  # extends buf in place
            (size,) = unpack(buf, pos)
            pos += 8
            if size > self._limit - pos:
                self._pos = pos
                raise self._too_long(what, f"a string of {size:,} bytes")
            end = pos + size
            if end > len(buf):
                self._pos = pos
                self._need(size, what)
            out.append(buf[pos:end].decode("utf-8", errors="replace"))
            pos = end
        self._pos = pos
        return tuple(out)

    def _skip_strings(self, n: int, what: str) -> None:
        """Walk over ``n`` strings without decoding them (a tokenizer nobody asked for)."""
        buf, pos, unpack = self._buf, self._pos, _U64.unpack_from
        for _ in range(n):
            if pos + 8 > len(buf):
                self._pos = pos
                self._need(8, what)  # extends buf in place
            pos += 8 + unpack(buf, pos)[0]
            if pos > len(buf):
                if pos > self._limit:
                    raise self._too_long(what, "a string past the end")
                self._pos = len(buf)
                self._need(pos - len(buf), what)
        self._pos = pos

    def _tensor_info(self, i: int) -> GgufTensor:
        name = self._string(f"the name of tensor {i}", MAX_TENSOR_NAME_BYTES)
        what = f"tensor {_shown(name)}"
        n_dims = self._u32(what)
        if n_dims > MAX_DIMS:
            raise self.fail(f"{what}: {n_dims} dimensions (ggml has at most {MAX_DIMS})")
        shape = tuple(self._u64(what) for _ in range(n_dims))
        n_elements = 1
        for d in shape:
            n_elements *= d
            if d > MAX_ELEMENTS or n_elements > MAX_ELEMENTS:
                raise self.fail(f"{what}: shape {shape} is too large")
        type_id = self._u32(what)
        ggml = ggml_type_by_id(type_id)
        if ggml is None:
            raise self.fail(f"{what}: unknown ggml type {type_id} (a newer llama.cpp type?)")
        offset = self._u64(what)
        row = shape[0] if shape else 1
        if row % ggml.block_weights:
            raise self.fail(
                f"{what}: row of {row} is not a whole number of {ggml.name} blocks "
                f"({ggml.block_weights})"
            )
        return GgufTensor(
            name=name,
            shape=shape,
            ggml_type=ggml.name,
            n_bytes=n_elements // ggml.block_weights * ggml.block_bytes,
            offset_bytes=offset,
            part_index=self._part,
        )


def _version_problem(version: int) -> str:
    swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
    if swapped in (1, 2, 3):
        return "a big-endian GGUF file: llama.cpp and llmcheck read little-endian files only"
    if version == 1:
        return "GGUF version 1 (2023): not supported; convert it again with a current llama.cpp"
    return f"unknown GGUF version {version} (llmcheck reads versions 2 and 3)"
