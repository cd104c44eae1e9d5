"""GGUF files on disk: the header reader, the LFM2-family description, the ggml type table.

``read_gguf(path) -> GgufFile`` (``reader``) reads metadata and the tensor table, never the data;
``describe(gguf) -> Lfm2Model | Lfm2Projector`` (``describe``) turns an LFM2-family header into the
facts the estimator needs, or raises :class:`NotLfm2Error` naming the architecture. Both raise
one-line :class:`GgufError` for anything they cannot read. No numpy and no third-party import: the
``--json`` path stays light (docs/gguf-files.md says why llmcheck does not use gguf-py here).
"""

from __future__ import annotations

from llmcheck.gguf.describe import Lfm2Model, Lfm2Projector, NotLfm2Error, TypeBytes, describe
from llmcheck.gguf.reader import GgufError, GgufFile, GgufTensor, read_gguf

__all__ = [
    "GgufError",
    "GgufFile",
    "GgufTensor",
    "Lfm2Model",
    "Lfm2Projector",
    "NotLfm2Error",
    "TypeBytes",
    "describe",
    "read_gguf",
]
