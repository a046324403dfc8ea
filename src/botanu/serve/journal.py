"""The receiver's write-ahead journal: an acknowledged export is on disk before its `200`.

Each accepted request body (decompressed, already checked, so known to decode) is
appended as one record and the file is fsynced; only then is the request acknowledged.
The store is written later, in large batches, and the journal position it has reached is
kept in a small file beside it. After a crash the records past that position are stored
again; a span already stored is skipped by the store, so none is stored twice.

A record: magic, payload kind, length, CRC-32, payload. An append is all or nothing: a
failed one is undone. On reading, a record that does not check out is copied to
`damaged/` and reading goes on with the next record that does; only a torn record at the
end of the newest segment (a crash mid-append, never acknowledged) is cut off. The folder
is 0700 and every file in it 0600, whatever the umask.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["Journal", "Position", "Record", "open_private"]

log = logging.getLogger("botanu.serve")

_HEADER = struct.Struct("<4sBII")  # magic, kind, length, crc32
_MAGIC = b"BTNJ"
_SEGMENT_SUFFIX = ".journal"
_SCAN_BYTES = 1024 * 1024  # read at a time when looking for the next good record
_FOLDER_MODE = 0o700
_FILE_MODE = 0o600


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


@dataclass(frozen=True, slots=True)
class _Damage:
    """Bytes `start`-`end` of a segment that hold no good record. `torn`: they run to the
    end of the segment with no good record after them."""

    start: int
    end: int
    torn: bool


class Journal:
    """Segmented append-only log in `folder`; one writer (the receiver) at a time."""

    def __init__(self, folder: Path, segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.folder = folder
        self.segment_bytes = segment_bytes
        _private_folder(folder)
        self._position_file = folder / "stored.position"
        self.rejected_file = folder / "rejected.jsonl"
        self.damaged_folder = folder / "damaged"
        segments = self._segments()
        for path in [self._position_file, *map(self._path, segments)]:
            _tighten_path(path)  # written by an older version, before files were private
        self._segment = segments[-1] if segments else 1
        self._descriptor = _open_private(self._path(self._segment), os.O_WRONLY | os.O_CREAT)
        self._offset = os.fstat(self._descriptor).st_size
        self._broken = False  # a failed append could not be undone: start a fresh segment

    # --- writing ------------------------------------------------------------------------
    def append(self, records: list[tuple[int, bytes]]) -> list[Position]:
        """Append records and fsync once; returns where each one ends. All or nothing: on
        any error the journal is put back as it was and the error raised."""
        if self._broken:
            self._roll()
            self._broken = False
        start_segment, start_offset = self._segment, self._offset
        opened = {self._segment: self._descriptor}  # segments this append writes to
        ends = []
        try:
            for kind, payload in records:
                if self._offset >= self.segment_bytes:
                    self._segment += 1
                    path = self._path(self._segment)
                    self._descriptor = _open_private(path, os.O_WRONLY | os.O_CREAT)
                    opened[self._segment] = self._descriptor
                    self._offset = os.fstat(self._descriptor).st_size
                header = _HEADER.pack(_MAGIC, kind, len(payload), zlib.crc32(payload))
                self._write(header)
                self._write(payload)
                ends.append(Position(self._segment, self._offset))
            for descriptor in opened.values():
                os.fsync(descriptor)
            if len(opened) > 1:
                _fsync_folder(self.folder)  # the new segment's name, before any 200
        except BaseException:
            self._undo(start_segment, start_offset, opened)
            raise
        for segment, descriptor in opened.items():
            if segment != self._segment:
                os.close(descriptor)
        return ends

    def _write(self, data: bytes) -> None:
        """Write all of `data` at the current offset (unbuffered: an error leaves nothing
        in a buffer to land later)."""
        view = memoryview(data)
        while view:
            written = os.pwrite(self._descriptor, view, self._offset)
            if written <= 0:
                raise OSError(errno.EIO, "the journal write made no progress")
            view = view[written:]
            self._offset += written

    def _undo(self, segment: int, offset: int, opened: dict[int, int]) -> None:
        """Put the journal back as before a failed append: later segments it began
        removed, its first segment truncated to where it started."""
        self._segment, self._offset = segment, offset
        self._descriptor = opened[segment]
        for number, descriptor in opened.items():
            if number != segment:
                os.close(descriptor)
        try:
            for number in opened:
                if number != segment:
                    self._path(number).unlink(missing_ok=True)
            os.ftruncate(self._descriptor, offset)
        except OSError as exc:
            # the next append starts a fresh segment; reading sets these bytes aside
            log.error("botanu serve: a failed journal append could not be undone: %s", exc)
            self._segment = max(opened)
            self._broken = True

    def _roll(self) -> None:
        """Go on in a fresh segment (the old one is left as it is)."""
        segment = self._segment + 1
        descriptor = _open_private(self._path(segment), os.O_WRONLY | os.O_CREAT)
        os.close(self._descriptor)
        self._segment, self._descriptor = segment, descriptor
        self._offset = os.fstat(descriptor).st_size
        _fsync_folder(self.folder)

    # --- the store's progress -----------------------------------------------------------
    def stored_position(self) -> Position:
        """How far the store has taken the journal (start of the first segment: nothing, or
        a saved position the journal cannot hold, which is logged)."""
        return self._checked_position(self._segments())

    def mark_stored(self, position: Position) -> None:
        """Record that the store holds everything up to `position`, then drop the segments
        it has finished."""
        temporary = self._position_file.with_suffix(".tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with open(_open_private(temporary, flags), "w", encoding="ascii") as handle:
            handle.write(f"{position.segment} {position.offset}")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._position_file)
        _fsync_folder(self.folder)
        for segment in self._segments():
            if segment < position.segment:
                self._path(segment).unlink(missing_ok=True)

    def _checked_position(self, segments: list[int]) -> Position:
        """The saved position if the journal holds it: an existing segment, within it, at
        a record's end. Else the start of the oldest segment (replaying more is safe: the
        store skips what it holds; replaying less loses spans)."""
        oldest = Position(segments[0] if segments else 1, 0)
        try:
            text = self._position_file.read_text(encoding="ascii")
        except FileNotFoundError:
            return oldest
        except (OSError, ValueError) as exc:
            problem = f"cannot be read ({exc})"
        else:
            try:
                return self._held_position(text, segments)
            except (OSError, ValueError) as exc:
                problem = str(exc)
        log.warning(
            "botanu serve: %s %s; replaying the journal from segment %d (spans already "
            "stored are skipped)",
            self._position_file,
            problem,
            oldest.segment,
        )
        return oldest

    def _held_position(self, text: str, segments: list[int]) -> Position:
        """The position `text` names; ValueError saying why if this journal cannot hold it."""
        try:
            segment, offset = (int(field) for field in text.split())
        except ValueError:
            raise ValueError(f"holds {text[:40]!r}, not a segment and an offset") from None
        if segment not in segments:
            newest = segments[-1] if segments else 0
            later = f" (past the newest, {newest})" if segment > newest else ""
            raise ValueError(f"names segment {segment}, which does not exist{later}")
        size = self._path(segment).stat().st_size
        if not 0 <= offset <= size:
            raise ValueError(f"names byte {offset} of segment {segment}, which holds {size} bytes")
        if offset and offset not in self._boundaries(segment, offset):
            raise ValueError(f"names byte {offset} of segment {segment}, where no record ends")
        return Position(segment, offset)

    def _boundaries(self, segment: int, until: int) -> Iterator[int]:
        """Where records (or damaged spans) of `segment` end, up to `until`; not past a
        torn tail."""
        for item in self._scan(segment, 0):
            if isinstance(item, _Damage) and item.torn:
                return
            end = item.end.offset if isinstance(item, Record) else item.end
            yield end
            if end >= until:
                return

    # --- reading after a restart ----------------------------------------------------------
    def unstored(self) -> Iterator[Record]:
        """The records past the stored position, in order. A damaged record is set aside
        and reading goes on after it; a torn tail of the newest segment is cut off."""
        segments = self._segments()
        start = self._checked_position(segments)
        for segment in segments:
            if segment < start.segment:
                continue
            offset = start.offset if segment == start.segment else 0
            for item in self._scan(segment, offset):
                if isinstance(item, Record):
                    yield item
                elif item.torn and segment == self._segment:
                    self._cut(segment, item)
                else:
                    self._set_aside(segment, item)

    def _scan(self, segment: int, offset: int) -> Iterator[Record | _Damage]:
        """The records of `segment` from `offset`, and the damaged spans between them."""
        with open(self._path(segment), "rb", buffering=0) as handle:
            descriptor = handle.fileno()
            size = os.fstat(descriptor).st_size
            while offset < size:
                record = _record_at(descriptor, segment, offset, size)
                if record is not None:
                    yield record
                    offset = record.end.offset
                    continue
                end = _damage_end(descriptor, offset, size)
                yield _Damage(offset, size if end is None else end, torn=end is None)
                if end is None:
                    return
                offset = end

    def _set_aside(self, segment: int, damage: _Damage) -> bool:
        """Copy damaged bytes to `damaged/` (a later start copies them again over the same
        file); True if they are kept there."""
        target = self.damaged_folder / f"{segment:012d}-{damage.start:012d}.damaged"
        try:
            _private_folder(self.damaged_folder)
            _copy(self._path(segment), damage.start, damage.end, target)
            _fsync_folder(self.damaged_folder)
        except OSError as exc:
            log.error(
                "botanu serve: journal segment %d at byte %d: %d damaged bytes could not be "
                "set aside: %s",
                segment,
                damage.start,
                damage.end - damage.start,
                exc,
            )
            return False
        log.warning(
            "botanu serve: journal segment %d at byte %d: %d bytes do not check out; set "
            "aside in %s%s",
            segment,
            damage.start,
            damage.end - damage.start,
            target,
            "" if damage.torn else ", the records after them are kept",
        )
        return True

    def _cut(self, segment: int, damage: _Damage) -> None:
        """A torn tail of the newest segment: a crash mid-append, never acknowledged. Kept
        in `damaged/` (in case), then cut off so appends follow the last good record."""
        if not self._set_aside(segment, damage):
            return  # left in place: reading finds it again and appends go after it
        log.warning(
            "botanu serve: journal segment %d cut at byte %d (torn write)", segment, damage.start
        )
        os.ftruncate(self._descriptor, damage.start)
        self._offset = damage.start

    # --- files ----------------------------------------------------------------------------
    def _segments(self) -> list[int]:
        return sorted(
            int(p.stem) for p in self.folder.glob(f"*{_SEGMENT_SUFFIX}") if p.stem.isdigit()
        )

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:012d}{_SEGMENT_SUFFIX}"

    def close(self) -> None:
        if self._descriptor >= 0:
            os.close(self._descriptor)
            self._descriptor = -1


def open_private(path: Path, mode: str = "a", encoding: str | None = "utf-8") -> IO[Any]:
    """`open(path, mode)` for a file only the user may read: created 0600 whatever the
    umask, an existing looser one tightened (rejected exports, like the journal, are
    private)."""
    return open(
        path,
        mode,
        encoding=None if "b" in mode else encoding,
        opener=lambda name, flags: _open_private(Path(name), flags),
    )


def _open_private(path: Path, flags: int) -> int:
    descriptor = os.open(path, flags | os.O_CLOEXEC, _FILE_MODE)
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, _FILE_MODE)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def _tighten_path(path: Path) -> None:
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(_FILE_MODE)
    except FileNotFoundError:
        pass


def _private_folder(folder: Path) -> None:
    """Create `folder` 0700, or tighten it to 0700 if it is looser."""
    folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != _FOLDER_MODE:
        folder.chmod(_FOLDER_MODE)  # the umask may have taken bits from mkdir's mode


def _read_at(descriptor: int, count: int, offset: int) -> bytes:
    parts = []
    while count > 0:
        part = os.pread(descriptor, count, offset)
        if not part:
            break
        parts.append(part)
        count -= len(part)
        offset += len(part)
    return b"".join(parts)


def _header_at(descriptor: int, offset: int) -> tuple[bytes, int, int, int]:
    magic, kind, length, crc = _HEADER.unpack(_read_at(descriptor, _HEADER.size, offset))
    return bytes(magic), int(kind), int(length), int(crc)


def _record_at(descriptor: int, segment: int, offset: int, size: int) -> Record | None:
    """The record at `offset` if it checks out: magic, length within the segment, CRC."""
    if size - offset < _HEADER.size:
        return None
    magic, kind, length, crc = _header_at(descriptor, offset)
    end = offset + _HEADER.size + length
    if magic != _MAGIC or end > size:
        return None
    payload = _read_at(descriptor, length, offset + _HEADER.size)
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return Record(kind, payload, Position(segment, end))


def _damage_end(descriptor: int, offset: int, size: int) -> int | None:
    """Where good records resume after a bad one at `offset` (or the segment's end, for a
    whole record whose payload alone is bad); None: nowhere, it runs to the end."""
    if size - offset >= _HEADER.size:
        magic, _, length, _ = _header_at(descriptor, offset)
        end = offset + _HEADER.size + length
        sound = magic == _MAGIC and end <= size
        if sound and (end == size or _record_at(descriptor, 0, end, size) is not None):
            return end  # the header is sound and the next record follows it: payload damage
    return _next_record(descriptor, offset + 1, size)


def _next_record(descriptor: int, start: int, size: int) -> int | None:
    """The first offset from `start` where a record checks out."""
    at = start
    while at + _HEADER.size <= size:
        chunk = _read_at(descriptor, _SCAN_BYTES + len(_MAGIC) - 1, at)  # a magic may straddle
        found = chunk.find(_MAGIC)
        while found != -1 and found < _SCAN_BYTES:
            if _record_at(descriptor, 0, at + found, size) is not None:
                return at + found
            found = chunk.find(_MAGIC, found + 1)
        at += _SCAN_BYTES
    return None


def _copy(source: Path, start: int, end: int, target: Path) -> None:
    """Bytes `start`-`end` of `source` into a new private file `target`, fsynced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with open(source, "rb") as reading, open(_open_private(target, flags), "wb") as writing:
        reading.seek(start)
        left = end - start
        while left > 0:
            data = reading.read(min(left, _SCAN_BYTES))
            if not data:
                break
            writing.write(data)
            left -= len(data)
        writing.flush()
        os.fsync(writing.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a created, renamed or removed file name durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
