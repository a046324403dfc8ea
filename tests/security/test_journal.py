"""The serve journal under damage and faults: a damaged record is set aside and the records
after it kept, `stored.position` is checked against the journal, a failed append leaves
no partial record, and every file it writes is private to the user."""

from __future__ import annotations

import errno
import logging
import os
import stat
import struct
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from botanu.engine.store import open_store
from botanu.serve import journal as journal_module
from botanu.serve.journal import Journal, Position

from .conftest import export

pytestmark = pytest.mark.slow  # starts botanu serve, and the journal under faults

KIND = 1
HEADER = struct.Struct("<4sBII")  # magic, kind, length, crc32: the journal's record header
SEGMENT = "000000000001.journal"
FULL = os.strerror(errno.ENOSPC)


def payload(n: int, size: int = 40) -> bytes:
    return f"record-{n}:".encode().ljust(size, b".")


def written(folder: Path, count: int = 5, **options: int) -> tuple[list[bytes], list[Position]]:
    """A journal in `folder` holding `count` records, appended one by one, then closed."""
    journal = Journal(folder, **options)
    payloads = [payload(n) for n in range(1, count + 1)]
    ends = [journal.append([(KIND, p)])[0] for p in payloads]
    journal.close()
    return payloads, ends


def unstored(folder: Path) -> list[bytes]:
    journal = Journal(folder)
    try:
        return [record.payload for record in journal.unstored()]
    finally:
        journal.close()


def flip(path: Path, offset: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def set_aside(folder: Path) -> bytes:
    """Everything the journal set aside, joined."""
    return b"".join(p.read_bytes() for p in sorted((folder / "damaged").iterdir()))


# --- a damaged record ---------------------------------------------------------------------
def test_a_flipped_bit_in_record_2_of_5_sets_it_aside_and_keeps_the_others(tmp_path, caplog):
    folder = tmp_path / "journal"
    payloads, ends = written(folder)
    flip(folder / SEGMENT, ends[0].offset + HEADER.size + 12)  # inside record 2's payload

    with caplog.at_level(logging.WARNING, "botanu.serve"):
        assert unstored(folder) == [payloads[0], *payloads[2:]]
    assert payloads[1][13:] in set_aside(folder)  # record 2's bytes are kept
    assert f"segment 1 at byte {ends[0].offset}" in caplog.text
    # it is not cut: the segment still holds every byte, and a second start finds the same
    assert (folder / SEGMENT).stat().st_size == ends[-1].offset
    assert unstored(folder) == [payloads[0], *payloads[2:]]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data, at: data.__setitem__(slice(at, at + 4), b"XXXX"), id="magic"),
        pytest.param(
            lambda data, at: data.__setitem__(slice(at + 5, at + 9), struct.pack("<I", 1 << 30)),
            id="length-past-the-end",
        ),
        pytest.param(
            lambda data, at: data.__setitem__(slice(at + 5, at + 9), struct.pack("<I", 3)),
            id="length-too-short",
        ),
        pytest.param(lambda data, at: data.__setitem__(slice(at, at + 20), bytes(20)), id="zeros"),
    ],
)
def test_a_damaged_header_in_the_middle_keeps_the_records_after_it(tmp_path, damage):
    folder = tmp_path / "journal"
    payloads, ends = written(folder)
    data = bytearray((folder / SEGMENT).read_bytes())
    damage(data, ends[1].offset)  # record 3's header
    (folder / SEGMENT).write_bytes(bytes(data))

    assert unstored(folder) == [*payloads[:2], *payloads[3:]]
    assert (folder / SEGMENT).stat().st_size == ends[-1].offset  # nothing truncated
    assert set_aside(folder)


def test_a_damaged_last_record_of_an_older_segment_is_set_aside_not_cut(tmp_path):
    folder = tmp_path / "journal"
    payloads, ends = written(folder, segment_bytes=100)  # two records a segment
    older = folder / f"{ends[1].segment:012d}.journal"
    assert ends[1].segment < ends[-1].segment
    size = older.stat().st_size
    with open(older, "r+b") as handle:  # its last record cut short, as by a lost write
        handle.truncate(size - 7)

    assert unstored(folder) == [payloads[0], *payloads[2:]]
    assert older.stat().st_size == size - 7  # an older segment is never truncated
    assert payloads[1][:-7] in set_aside(folder)


def test_a_torn_tail_at_the_end_of_the_newest_segment_is_still_cut(tmp_path):
    folder = tmp_path / "journal"
    payloads, ends = written(folder, count=3)
    torn = HEADER.pack(b"BTNJ", KIND, 100, 0) + b"half a reco"
    with open(folder / SEGMENT, "ab") as handle:  # a crash in the middle of an append
        handle.write(torn)

    journal = Journal(folder)
    assert [record.payload for record in journal.unstored()] == payloads
    assert (folder / SEGMENT).stat().st_size == ends[-1].offset
    (end,) = journal.append([(KIND, b"after the restart")])
    journal.close()
    assert end == Position(1, ends[-1].offset + HEADER.size + len(b"after the restart"))
    assert unstored(folder) == [*payloads, b"after the restart"]


# --- stored.position ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "position",
    [
        pytest.param(lambda ends: f"1 {ends[-1].offset + 1000}", id="past-the-end"),
        pytest.param(lambda ends: "7 0", id="a-later-segment"),
        pytest.param(lambda ends: f"1 {ends[1].offset + 5}", id="mid-record"),
        pytest.param(lambda ends: "1 -4", id="negative"),
        pytest.param(lambda ends: "1", id="garbled"),
    ],
)
def test_a_stored_position_the_journal_cannot_hold_replays_everything(tmp_path, caplog, position):
    folder = tmp_path / "journal"
    payloads, ends = written(folder)
    (folder / "stored.position").write_text(position(ends))

    with caplog.at_level(logging.WARNING, "botanu.serve"):
        assert unstored(folder) == payloads
    assert "stored.position" in caplog.text
    assert (folder / SEGMENT).stat().st_size == ends[-1].offset


def test_a_stored_position_at_a_missing_segment_replays_from_the_oldest(tmp_path, caplog):
    folder = tmp_path / "journal"
    payloads, ends = written(folder, segment_bytes=100)
    segments = sorted({end.segment for end in ends})
    assert len(segments) == 3
    (folder / f"{segments[1]:012d}.journal").unlink()  # the one the position names
    (folder / "stored.position").write_text(f"{segments[1]} 0")

    with caplog.at_level(logging.WARNING, "botanu.serve"):
        kept = unstored(folder)
    assert kept == [p for p, end in zip(payloads, ends, strict=True) if end.segment != segments[1]]
    assert "stored.position" in caplog.text


def test_a_stored_position_past_a_torn_tail_replays_everything(tmp_path):
    folder = tmp_path / "journal"
    payloads, ends = written(folder, count=3)
    with open(folder / SEGMENT, "ab") as handle:
        handle.write(HEADER.pack(b"BTNJ", KIND, 100, 0) + b"torn")
    (folder / "stored.position").write_text(f"1 {(folder / SEGMENT).stat().st_size}")

    assert unstored(folder) == payloads
    assert (folder / SEGMENT).stat().st_size == ends[-1].offset


def test_a_valid_stored_position_still_skips_what_is_stored(tmp_path, caplog):
    folder = tmp_path / "journal"
    payloads, ends = written(folder)
    journal = Journal(folder)
    journal.mark_stored(ends[2])
    with caplog.at_level(logging.WARNING, "botanu.serve"):
        assert [record.payload for record in journal.unstored()] == payloads[3:]
    journal.close()
    assert not caplog.text


# --- a failed append ----------------------------------------------------------------------
def fail_once(monkeypatch, name: str, error: int = errno.ENOSPC) -> list[bool]:
    """`os.<name>` raises once, then works. Injected because a unit test cannot fill the
    filesystem under a file at an exact point (the tmpfs test below does it for real)."""
    real = getattr(os, name)
    failed: list[bool] = []

    def failing(*args: object) -> object:
        if not failed:
            failed.append(True)
            raise OSError(error, os.strerror(error))
        return real(*args)

    monkeypatch.setattr(os, name, failing)
    return failed


def test_a_failed_fsync_leaves_the_segment_as_before_and_later_positions_true(
    tmp_path, monkeypatch
):
    folder = tmp_path / "journal"
    journal = Journal(folder)
    first = journal.append([(KIND, payload(1)), (KIND, payload(2))])
    before = (folder / SEGMENT).read_bytes()

    failed = fail_once(monkeypatch, "fsync")
    with pytest.raises(OSError, match=FULL):
        journal.append([(KIND, payload(3)), (KIND, b"x" * 100_000)])
    assert failed
    assert (folder / SEGMENT).read_bytes() == before

    later = journal.append([(KIND, payload(4))])
    journal.close()
    reopened = Journal(folder)
    records = list(reopened.unstored())
    reopened.close()
    assert [r.payload for r in records] == [payload(1), payload(2), payload(4)]
    assert [r.end for r in records] == [*first, *later]


def test_a_failed_write_leaves_the_segment_as_before(tmp_path, monkeypatch):
    folder = tmp_path / "journal"
    journal = Journal(folder)
    journal.append([(KIND, payload(1))])
    before = (folder / SEGMENT).read_bytes()
    real = os.pwrite

    def partial(descriptor: int, data: bytes, offset: int) -> int:
        if len(data) > 50_000:  # half of the big record lands, then the disk is full
            real(descriptor, bytes(data)[:30_000], offset)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(descriptor, data, offset)

    monkeypatch.setattr(journal_module.os, "pwrite", partial)
    with pytest.raises(OSError, match=FULL):
        journal.append([(KIND, payload(2)), (KIND, b"x" * 100_000)])
    monkeypatch.undo()
    assert (folder / SEGMENT).read_bytes() == before
    (end,) = journal.append([(KIND, payload(3))])
    journal.close()
    assert end == Position(1, len(before) + HEADER.size + len(payload(3)))
    assert unstored(folder) == [payload(1), payload(3)]


def test_a_failed_append_across_segments_leaves_no_new_segment(tmp_path, monkeypatch):
    folder = tmp_path / "journal"
    journal = Journal(folder, segment_bytes=100)
    first = journal.append([(KIND, payload(1))])
    before = (folder / SEGMENT).read_bytes()
    fail_once(monkeypatch, "fsync")
    with pytest.raises(OSError, match=FULL):  # three records: the third begins segment 2
        journal.append([(KIND, payload(n)) for n in (2, 3, 4)])
    monkeypatch.undo()
    assert sorted(p.name for p in folder.glob("*.journal")) == [SEGMENT]
    assert (folder / SEGMENT).read_bytes() == before
    later = journal.append([(KIND, payload(5)), (KIND, payload(6)), (KIND, payload(7))])
    journal.close()
    reopened = Journal(folder)
    records = list(reopened.unstored())
    reopened.close()
    assert [r.payload for r in records] == [payload(n) for n in (1, 5, 6, 7)]
    assert [r.end for r in records] == [*first, *later]
    assert later[-1].segment == 2


def test_when_even_the_undo_fails_the_next_append_starts_a_fresh_segment(tmp_path, monkeypatch):
    folder = tmp_path / "journal"
    journal = Journal(folder)
    journal.append([(KIND, payload(1))])
    fail_once(monkeypatch, "fsync")
    fail_once(monkeypatch, "ftruncate", errno.EIO)
    with pytest.raises(OSError, match=FULL):
        journal.append([(KIND, payload(2))])
    monkeypatch.undo()
    (end,) = journal.append([(KIND, payload(3))])
    journal.close()
    assert end.segment == 2
    # the refused record is left in segment 1: it may come back (the store skips a span it
    # holds), but every acknowledged one does, and nothing after it is lost
    kept = unstored(folder)
    assert kept[0] == payload(1)
    assert kept[-1] == payload(3)


@pytest.fixture
def tiny_filesystem(tmp_path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test (needs root and mount rights; skipped without)."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)


def test_a_full_filesystem_leaves_no_partial_record(tiny_filesystem):
    filler = tiny_filesystem / "filler"
    filler.write_bytes(bytes(400_000))
    folder = tiny_filesystem / "journal"
    journal = Journal(folder)
    kept = [journal.append([(KIND, payload(n, 100_000))])[0] for n in range(1, 4)]
    before = (folder / SEGMENT).read_bytes()

    with pytest.raises(OSError, match=FULL) as raised:  # a real partial write, then ENOSPC
        journal.append([(KIND, payload(4, 500_000))])
    assert raised.value.errno == errno.ENOSPC
    assert (folder / SEGMENT).read_bytes() == before

    filler.unlink()  # space returns
    kept += journal.append([(KIND, payload(4, 500_000))])
    journal.close()
    reopened = Journal(folder)
    records = list(reopened.unstored())
    reopened.close()
    assert [r.payload for r in records] == [
        payload(n, s) for n, s in zip(range(1, 5), [100_000] * 3 + [500_000], strict=True)
    ]
    assert [r.end for r in records] == kept


# --- permissions --------------------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_journal_folder_and_files_are_private_whatever_the_umask(tmp_path):
    from botanu.serve.journal import open_private  # the helper the pipeline opens files with

    folder = tmp_path / "journal"
    previous = os.umask(0)
    try:
        _, ends = written(folder)
        flip(folder / SEGMENT, ends[0].offset + HEADER.size + 12)
        journal = Journal(folder)
        assert len(list(journal.unstored())) == 4
        journal.mark_stored(ends[1])
        journal.close()
        with open_private(folder / "rejected.jsonl") as handle:
            handle.write("{}\n")
    finally:
        os.umask(previous)
    assert mode(folder) == 0o700
    assert mode(folder / "damaged") == 0o700
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {SEGMENT, "stored.position", "rejected.jsonl"}
    assert any(p.parent.name == "damaged" for p in files)
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_loose_existing_journal_folder_is_tightened(tmp_path):
    folder = tmp_path / "journal"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    (folder / SEGMENT).write_bytes(b"")
    (folder / SEGMENT).chmod(0o644)
    Journal(folder).close()
    assert mode(folder) == 0o700
    assert mode(folder / SEGMENT) == 0o600


# --- end to end ---------------------------------------------------------------------------
def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        f"{url}/v1/traces", body, {"Content-Type": "application/x-protobuf"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_a_server_restarted_on_a_damaged_journal_stores_every_other_record(server_factory):
    server = server_factory()
    firsts = [0, 100, 200, 300, 400]
    for first in firsts:
        assert post(server.url, export(first, 3)) == 200
    server.kill()
    # the journal is the only copy: whatever the store took before the kill is dropped
    folder = Path(f"{server.store}.journal")
    for path in (server.store, Path(f"{server.store}.wal"), folder / "stored.position"):
        path.unlink(missing_ok=True)
    segment = folder / SEGMENT
    (length,) = struct.unpack_from("<I", segment.read_bytes(), 5)
    second = HEADER.size + length  # where record 2 starts
    flip(segment, second + HEADER.size + 20, bit=3)

    server.start()
    server.wait_stored()
    server.stop()
    with open_store(str(server.store)) as store:
        stored = {span_id for (span_id,) in store.query("SELECT span_id FROM spans").rows}
    expected = {
        f"{i + 1:016x}" for first in firsts if first != 100 for i in range(first, first + 3)
    }
    assert stored == expected
    assert set_aside(folder)
