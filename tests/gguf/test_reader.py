"""read_gguf: what llama.cpp's gguf package writes reads back exactly; bad files, in one line."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import gguf
import pytest

from llmcheck.gguf import reader
from llmcheck.gguf.reader import GgufError, read_gguf, split_parts
from tests.gguf import _make as m


def _error(path: Path, **kwargs: int) -> str:
    """The one-line message reading ``path`` fails with; it names the file (or its part)."""
    with pytest.raises(GgufError) as info:
        read_gguf(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path.parent))
    return message


def test_tiny_file_matches_gguf_py_reader(tmp_path: Path) -> None:
    """Every tensor's name, shape, type, offset and every scalar key, as GGUFReader sees them."""
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    ours = read_gguf(path)
    theirs = gguf.GGUFReader(path)
    assert ours.version == 3
    assert ours.parts == (path,)
    assert ours.file_size_bytes == path.stat().st_size
    assert [t.name for t in ours.tensors] == [t.name for t in theirs.tensors]
    for a, b in zip(ours.tensors, theirs.tensors, strict=True):
        assert a.shape == tuple(int(x) for x in b.shape)
        assert a.ggml_type == b.tensor_type.name
        assert a.n_bytes == int(b.n_bytes)
        assert a.offset_bytes + (theirs.data_offset) == int(b.data_offset)
    for field in theirs.fields.values():
        if field.name.startswith("GGUF."):  # GGUFReader's own pseudo-fields (version, counts)
            continue
        if field.types and field.types[0] != gguf.GGUFValueType.ARRAY:
            assert ours.metadata[field.name] == field.contents(), field.name
    assert ours.metadata["lfm2.attention.head_count_kv"] == (0, 2, 0, 2)
    assert ours.metadata["general.architecture"] == "lfm2"


def test_metadata_is_read_only(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    meta = read_gguf(path).metadata
    with pytest.raises(TypeError):
        meta["general.name"] = "x"  # type: ignore[index]


def test_every_value_type(tmp_path: Path) -> None:
    w = gguf.GGUFWriter(tmp_path / "v.gguf", "lfm2")
    vt = gguf.GGUFValueType
    values = {
        "u8": (200, vt.UINT8),
        "i8": (-100, vt.INT8),
        "u16": (60000, vt.UINT16),
        "i16": (-30000, vt.INT16),
        "u32": (4_000_000_000, vt.UINT32),
        "i32": (-2_000_000_000, vt.INT32),
        "f32": (0.5, vt.FLOAT32),
        "b": (True, vt.BOOL),
        "s": ("ünïcode ✓", vt.STRING),
        "u64": (2**63 + 5, vt.UINT64),
        "i64": (-(2**62), vt.INT64),
        "f64": (1e300, vt.FLOAT64),
    }
    for key, (value, kind) in values.items():
        w.add_key_value(key, value, kind)
    w.add_array("a.i32", [1, -2, 3])
    w.add_array("a.str", ["x", "", "yz"])
    w.add_key_value("a.bool", [True, False], vt.ARRAY, sub_type=vt.BOOL)
    w.add_key_value("a.f64", [1.5, -2.0], vt.ARRAY, sub_type=vt.FLOAT64)
    (path,) = m.finish(w, tmp_path / "v.gguf")
    meta = read_gguf(path).metadata
    for key, (value, _) in values.items():
        assert meta[key] == value, key
    assert meta["b"] is True
    assert meta["a.i32"] == (1, -2, 3)
    assert meta["a.str"] == ("x", "", "yz")
    assert meta["a.bool"] == (True, False)
    assert meta["a.f64"] == (1.5, -2.0)


def test_tokenizer_arrays_are_walked_not_kept_unless_asked(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "t.gguf", m.with_(m.TINY, tokens=5000))
    light = read_gguf(path)
    assert "tokenizer.ggml.tokens" not in light.metadata
    assert light.skipped_arrays == {
        "tokenizer.ggml.tokens": 5000,
        "tokenizer.ggml.token_type": 5000,
    }
    assert len(light.metadata["tokenizer.ggml.merges"]) == 3000  # type: ignore[arg-type]
    full = read_gguf(path, keep_array_items=10_000)
    tokens = full.metadata["tokenizer.ggml.tokens"]
    assert isinstance(tokens, tuple)
    assert tokens[:2] == ("tok0", "tok1")
    assert len(tokens) == 5000
    assert full.skipped_arrays == {}
    assert full.tensors == light.tensors


def test_a_20_gb_file_reads_only_its_header(tmp_path: Path) -> None:
    """A full-size LFM2-8B-A1B header at F32 (33 GB, sparse): a few MiB parsed, well under 1 s."""
    spec = m.with_(m.LFM2_8B_A1B, tokens=65536)
    (path,) = m.write_lfm2(tmp_path / "big.gguf", spec, types=lambda n, s: "F32")
    assert path.stat().st_size > 20 * 10**9
    start = time.perf_counter()
    g = read_gguf(path)
    elapsed_s = time.perf_counter() - start
    assert g.file_size_bytes == path.stat().st_size
    assert len(g.tensors) == 256
    assert g.header_bytes < 4 << 20
    assert g.tensor_bytes == sum(t.n_bytes for t in g.tensors) > 30 * 10**9
    assert elapsed_s < 5.0  # ~0.07 s measured on a loaded 2-core machine


def test_split_model_reads_as_one(tmp_path: Path) -> None:
    parts = m.write_lfm2(tmp_path / "LFM2-Tiny-Q4_K_M.gguf", split_max_tensors=12)
    assert len(parts) == 4
    assert parts[0].name == "LFM2-Tiny-Q4_K_M-00001-of-00004.gguf"
    whole = read_gguf(parts[0])
    assert read_gguf(parts[2]) == whole  # any part names the whole model
    assert whole.parts == tuple(parts)
    assert whole.file_size_bytes == sum(p.stat().st_size for p in parts)
    assert [t.part_index for t in whole.tensors][:13] == [0] * 12 + [1]
    assert len(whole.tensors) == len(m.tensors(m.TINY))
    assert whole.metadata["general.architecture"] == "lfm2"
    assert split_parts(parts[1]) == tuple(parts)


def test_split_model_with_a_part_missing(tmp_path: Path) -> None:
    parts = m.write_lfm2(tmp_path / "s.gguf", split_max_tensors=12)
    parts[2].unlink()
    assert "part 3 of 4 is missing (s-00003-of-00004.gguf)" in _error(parts[0])


def test_split_part_renamed_without_its_number(tmp_path: Path) -> None:
    parts = m.write_lfm2(tmp_path / "s.gguf", split_max_tensors=12)
    lone = parts[0].rename(tmp_path / "renamed.gguf")
    assert "part of a 4-part split model" in _error(lone)


def test_split_parts_out_of_place(tmp_path: Path) -> None:
    parts = m.write_lfm2(tmp_path / "s.gguf", split_max_tensors=12)
    tmp = tmp_path / "swap"
    parts[1].rename(tmp)
    parts[2].rename(parts[1])
    tmp.rename(parts[2])
    assert "split.no is 2, expected 1" in _error(parts[0])


@pytest.mark.parametrize("name", ["x-00000-of-00002.gguf", "x-00003-of-00002.gguf"])
def test_impossible_split_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"GGUF")
    assert "not a valid split" in _error(path)


def _header(version: int = 3, n_tensors: int = 0, n_kv: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def _kv(key: bytes, kind: int, payload: bytes) -> bytes:
    return struct.pack("<Q", len(key)) + key + struct.pack("<I", kind) + payload


def _tensor(name: bytes, dims: tuple[int, ...], type_id: int, offset: int = 0) -> bytes:
    out = struct.pack("<Q", len(name)) + name + struct.pack("<I", len(dims))
    out += b"".join(struct.pack("<Q", d) for d in dims)
    return out + struct.pack("<IQ", type_id, offset)


HOSTILE: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty file"),
    "not gguf": (b"PK\x03\x04 a zip file", "not a GGUF file"),
    "short magic": (b"GG", "not a GGUF file"),
    "version 1": (_header(version=1), "GGUF version 1"),
    "big-endian": (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "big-endian"),
    "version 99": (_header(version=99), "unknown GGUF version 99"),
    "cut in counts": (b"GGUF" + struct.pack("<IQ", 3, 0), "truncated"),
    "2^60 tensors": (_header(n_tensors=2**60), "tensor count"),
    "2^60 keys": (_header(n_kv=2**60), "metadata count"),
    "tensors past the end": (_header(n_tensors=1000), "truncated or corrupt"),
    "string of 2^62 bytes": (
        _header(n_kv=1) + _kv(b"k", 8, struct.pack("<Q", 2**62)),
        "truncated or corrupt",
    ),
    "array of 2^40 bytes": (
        _header(n_kv=1) + _kv(b"k", 9, struct.pack("<IQ", 0, 2**40)),
        "truncated or corrupt",
    ),
    "array of 2^40 strings": (
        _header(n_kv=1) + _kv(b"k", 9, struct.pack("<IQ", 8, 2**40)),
        "truncated or corrupt",
    ),
    "nested array": (_header(n_kv=1) + _kv(b"k", 9, struct.pack("<IQ", 9, 1)), "nested"),
    "unknown value type": (_header(n_kv=1) + _kv(b"k", 13, b""), "unknown value type 13"),
    "unknown item type": (
        _header(n_kv=1) + _kv(b"k", 9, struct.pack("<IQ", 77, 0)),
        "unknown item type 77",
    ),
    "key of 2^20 bytes": (
        _header(n_kv=1) + struct.pack("<Q", 2**20) + b"\0" * 64,
        "at most 65,535",
    ),
    "duplicate key": (
        _header(n_kv=2) + _kv(b"k", 4, b"\0" * 4) + _kv(b"k", 4, b"\0" * 4),
        "appears twice",
    ),
    "alignment 3": (
        _header(n_kv=1) + _kv(b"general.alignment", 4, struct.pack("<I", 3)),
        "power of two",
    ),
    "alignment as a string": (
        _header(n_kv=1) + _kv(b"general.alignment", 8, struct.pack("<Q", 1) + b"x"),
        "power of two",
    ),
    "tensor name of 64 bytes": (_header(n_tensors=1) + _tensor(b"n" * 64, (32,), 0), "at most 63"),
    "five dimensions": (_header(n_tensors=1) + _tensor(b"t", (1, 1, 1, 1, 1), 0), "5 dimensions"),
    "2^64-1 elements": (_header(n_tensors=1) + _tensor(b"t", (2**64 - 1,), 0), "too large"),
    "dims overflow": (_header(n_tensors=1) + _tensor(b"t", (2**32, 2**32), 0), "too large"),
    "unknown ggml type": (_header(n_tensors=1) + _tensor(b"t", (32,), 99), "unknown ggml type 99"),
    "removed ggml type": (_header(n_tensors=1) + _tensor(b"t", (32,), 4), "unknown ggml type 4"),
    "row not whole blocks": (_header(n_tensors=1) + _tensor(b"t", (100,), 12), "Q4_K blocks"),
    "offset not aligned": (_header(n_tensors=1) + _tensor(b"t", (1,), 0, 3), "not aligned"),
    "data past the end": (_header(n_tensors=1) + _tensor(b"t", (1024,), 0), "truncated: tensor"),
    "duplicate tensor": (
        _header(n_tensors=2) + _tensor(b"t", (1,), 0) + _tensor(b"t", (1,), 0, 32) + b"\0" * 128,
        "appears twice",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_header_is_one_line(tmp_path: Path, case: str) -> None:
    data, expected = HOSTILE[case]
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    start = time.perf_counter()
    message = _error(path)
    assert expected in message
    assert time.perf_counter() - start < 1.0  # no count is believed before the bytes are there


def test_every_truncation_of_a_real_header_is_one_line(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    data = path.read_bytes()
    header = read_gguf(path).header_bytes
    cut = tmp_path / "cut.gguf"
    for n in range(header + 1):
        cut.write_bytes(data[:n])
        _error(cut)


def test_truncated_download_names_the_tensor(tmp_path: Path) -> None:
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    os.truncate(path, path.stat().st_size - 4096)
    message = _error(path)
    assert "truncated: tensor '" in message
    assert "(an incomplete download?)" in message


def test_header_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_HEADER_BYTES", 1024)
    (path,) = m.write_lfm2(tmp_path / "tiny.gguf")
    assert "header larger than" in _error(path)


def test_array_items_over_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ARRAY_ITEMS_TOTAL", 3000)
    (path,) = m.write_lfm2(tmp_path / "t.gguf", m.with_(m.TINY, tokens=5000))
    read_gguf(path, keep_array_items=100)  # skipped arrays cost no items
    assert "over 3,000 in one header" in _error(path, keep_array_items=10_000)


def test_unreadable_paths(tmp_path: Path) -> None:
    assert "cannot read" in _error(tmp_path / "absent.gguf")
    assert "cannot read" in _error(tmp_path)
