"""The receiver's write-ahead journal: an acknowledged export is on disk before its `200`.

Each accepted request body (decompressed, already checked, so known to decode) is
appended as one record and the file is fsynced; only then is the request acknowledged.
The store is written later, in large batches, and the journal position it has reached is
kept in a small file beside it. After a crash the records past that position are stored
again; a span already stored is skipped by the store, so none is stored twice.

A record: magic, payload kind, length, CRC-32, payload. A torn record at the end of the
last segment (a crash in the middle of an append, never acknowledged) is cut off.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Journal", "Position", "Record"]

log = logging.getLogger("botanu.serve")

_HEADER = struct.Struct("<4sBII")  # magic, kind, length, crc32
_MAGIC = b"BTNJ"
_SEGMENT_SUFFIX = ".journal"


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """Where a record ends: segment number, then byte offset in it."""

    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Record:
    kind: int  # what the payload is (the receiver's own numbering)
    payload: bytes
    end: Position


class Journal:
    """Segmented append-only log in `folder`; one writer (the receiver) at a time."""

    def __init__(self, folder: Path, segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._position_file = folder / "stored.position"
        self.rejected_file = folder / "rejected.jsonl"
        segments = self._segments()
        self._segment = segments[-1] if segments else 1
        self._file = open(self._path(self._segment), "ab")  # noqa: SIM115 (kept open)
        self._offset = self._file.tell()

    # --- writing ------------------------------------------------------------------------
    def append(self, records: list[tuple[int, bytes]]) -> list[Position]:
        """Append records and fsync once; returns where each one ends."""
        ends = []
        for kind, payload in records:
            if self._offset >= self.segment_bytes:
                self._roll()
            header = _HEADER.pack(_MAGIC, kind, len(payload), zlib.crc32(payload))
            self._file.write(header)
            self._file.write(payload)
            self._offset += _HEADER.size + len(payload)
            ends.append(Position(self._segment, self._offset))
        self._file.flush()
        os.fsync(self._file.fileno())
        return ends

    def _roll(self) -> None:
        self._file.close()
        self._segment += 1
        self._file = open(self._path(self._segment), "ab")  # noqa: SIM115
        self._offset = 0
        _fsync_folder(self.folder)

    # --- the store's progress -----------------------------------------------------------
    def stored_position(self) -> Position:
        """How far the store has taken the journal (start of the first segment: nothing)."""
        try:
            segment, offset = self._position_file.read_text().split()
            return Position(int(segment), int(offset))
        except (OSError, ValueError):
            segments = self._segments()
            return Position(segments[0] if segments else 1, 0)

    def mark_stored(self, position: Position) -> None:
        """Record that the store holds everything up to `position`, then drop the segments
        it has finished."""
        temporary = self._position_file.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            handle.write(f"{position.segment} {position.offset}")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._position_file)
        _fsync_folder(self.folder)
        for segment in self._segments():
            if segment < position.segment:
                self._path(segment).unlink(missing_ok=True)

    # --- reading after a restart ----------------------------------------------------------
    def unstored(self) -> Iterator[Record]:
        """The records past the stored position, in order. A torn tail is cut off."""
        start = self.stored_position()
        for segment in self._segments():
            if segment < start.segment:
                continue
            offset = start.offset if segment == start.segment else 0
            yield from self._read(segment, offset)

    def _read(self, segment: int, offset: int) -> Iterator[Record]:
        path = self._path(segment)
        with open(path, "rb") as handle:
            handle.seek(offset)
            while True:
                header = handle.read(_HEADER.size)
                if not header:
                    return
                good = len(header) == _HEADER.size
                if good:
                    magic, kind, length, crc = _HEADER.unpack(header)
                    payload = handle.read(length)
                    good = magic == _MAGIC and len(payload) == length
                    good = good and zlib.crc32(payload) == crc
                if not good:
                    self._cut(segment, offset)
                    return
                offset += _HEADER.size + length
                yield Record(kind, payload, Position(segment, offset))

    def _cut(self, segment: int, offset: int) -> None:
        """A record that does not check out: only the end of the newest segment may hold one
        (a crash mid-append). Anything after it was never acknowledged."""
        log.warning("botanu serve: journal segment %d cut at byte %d (torn write)", segment, offset)
        if segment == self._segment:
            self._file.truncate(offset)
            self._offset = offset
        else:
            os.truncate(self._path(segment), offset)

    # --- files ----------------------------------------------------------------------------
    def _segments(self) -> list[int]:
        return sorted(
            int(p.stem) for p in self.folder.glob(f"*{_SEGMENT_SUFFIX}") if p.stem.isdigit()
        )

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:012d}{_SEGMENT_SUFFIX}"

    def close(self) -> None:
        self._file.close()


def _fsync_folder(folder: Path) -> None:
    """Make a created, renamed or removed file name durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
