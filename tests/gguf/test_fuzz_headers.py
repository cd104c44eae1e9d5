"""Hostile GGUF headers, generated: read_gguf and describe raise GgufError or nothing else."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmcheck.gguf.describe import describe
from llmcheck.gguf.reader import GgufError, read_gguf
from tests.gguf import _make as m

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_EXTREMES = (0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 63, 64, 255, 2**31, 2**32 - 1, 2**63)


@pytest.fixture(scope="module")
def valid_header(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real tiny LFM2-MoE file (header and data), the seed every mutation starts from."""
    folder = tmp_path_factory.mktemp("seed")
    (path,) = m.write_lfm2(folder / "seed.gguf", m.with_(m.TINY_MOE, tokens=2100))
    return path.read_bytes()


def _check(tmp: Path, data: bytes) -> None:
    path = tmp / "fuzz.gguf"
    path.write_bytes(data)
    message = ""
    try:
        describe(read_gguf(path))
    except GgufError as exc:
        message = str(exc)
    assert "\n" not in message


@FUZZ
@given(tail=st.binary(max_size=512), version=st.sampled_from([2, 3]))
def test_random_bytes_after_the_magic(
    tmp_path_factory: pytest.TempPathFactory, tail: bytes, version: int
) -> None:
    _check(tmp_path_factory.mktemp("r"), b"GGUF" + struct.pack("<I", version) + tail)


@FUZZ
@given(data=st.data())
def test_mutated_real_header(
    tmp_path_factory: pytest.TempPathFactory, valid_header: bytes, data: st.DataObject
) -> None:
    """Overwrite bytes, plant extreme 32/64-bit values, or cut the file anywhere."""
    header_len = 4000
    buf = bytearray(valid_header)
    for _ in range(data.draw(st.integers(1, 4))):
        at = min(data.draw(st.integers(4, header_len)), len(buf) - 1)
        kind = data.draw(st.sampled_from(["byte", "u32", "u64", "cut"]))
        if kind == "byte":
            buf[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del buf[at:]
        else:
            fmt = "<I" if kind == "u32" else "<Q"
            value = data.draw(st.sampled_from(_EXTREMES)) % (1 << (32 if kind == "u32" else 64))
            buf[at : at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    _check(tmp_path_factory.mktemp("m"), bytes(buf))
