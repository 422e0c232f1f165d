"""The archive writer never wedges: poison messages, a full disk, a bounded close;
and the reads that must stay fast (short words in a search, the session list)."""

from __future__ import annotations

import errno
import json
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from interp.archive.store import Archive
from interp.archive.writer import ArchiveWriter, is_environmental
from interp.errors import ArchiveError
from interp.health import Health
from interp.wire import Message

from ..deadlines import Deadline
from .test_archive import PLENARY, SESSION, message


def wait_for(condition: Any, what: str, seconds: float = 5) -> None:
    # The writer offers no event to wait on: its counters are polled under one deadline.
    deadline = Deadline(seconds)
    while not condition():
        if deadline.expired:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def poisoned() -> tuple[list[Message], list[Message]]:
    """A session's messages with two that SQLite cannot take, and the good ones."""
    bad_start = Message(
        "session", "20261123-140000-bbbb", 1,
        extra={"state": "started", "title": ["a", "list"], "wall_time": 1732366800.0},
    )  # fmt: skip
    bad_final = replace(message("final", 9, 9, "en", "Who spoke?"), speaker=["x"])  # type: ignore[arg-type]
    good = list(PLENARY)
    messages = good[:2] + [bad_start] + good[2:4] + [bad_final] + good[4:]
    return messages, good


def test_a_poison_message_is_set_aside_and_everything_else_stored(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    health = Health()
    writer = ArchiveWriter(path, flush_s=0.05, health=health, retry_limit=3)
    messages, good = poisoned()
    for m in messages:
        writer.put(m)
    wait_for(lambda: writer.written + writer.dead_letters == len(messages), "every message")
    writer.close()
    assert (writer.written, writer.dead_letters, writer.pending) == (len(good), 2, 0)
    archive = Archive(path, readonly=True)
    finals = [m for m in good if m.type == "final"]
    assert [m.text for m in archive.transcript(SESSION)] == [m.text for m in finals]
    assert archive.sessions()[0]["state"] == "ended"
    letters = archive.dead_letters()
    assert [letter["message"]["seq"] for letter in letters] == [1, 9]
    assert letters[0]["message"]["title"] == ["a", "list"]
    assert letters[1]["message"]["speaker"] == ["x"] and letters[1]["session"] == SESSION
    assert all("ProgrammingError" in letter["error"] for letter in letters)
    assert health.archive_dead_letters == 2
    assert health.archive_write_errors >= 3  # the batch, then each poison message
    assert health.last_error is not None and "dead letter" in health.last_error


def filler(count: int) -> list[Message]:
    return [message("final", 100 + i, 10 + i, "en", f"point {i} " + "filler " * 500)
            for i in range(count)]  # fmt: skip


def full_writer(path: Path, health: Health, **options: Any) -> tuple[ArchiveWriter, list[Archive]]:
    """A writer whose database is full from the start: SQLite's own page limit on the
    writer's connection, the error a full disk gives."""
    opened: list[Archive] = []
    ready = threading.Event()

    def fill_up(archive: Archive) -> None:
        pages = archive.db.execute("PRAGMA page_count").fetchone()[0]
        archive.db.execute(f"PRAGMA max_page_count = {pages}")
        opened.append(archive)
        ready.set()

    writer = ArchiveWriter(path, flush_s=0.02, retry_s=0.01, health=health, on_open=fill_up,
                           **options)  # fmt: skip
    assert ready.wait(Deadline(5).remaining())
    return writer, opened


def test_the_writer_stores_record_texts(tmp_path: Path) -> None:
    # The record pass's texts reach the archive through the same writer as the finals.
    path = tmp_path / "archive.sqlite"
    writer = ArchiveWriter(path, flush_s=0.05)
    record = message("record", 90, 3, "en", "Delegates welcomed the Peace Charter.")
    for m in [*PLENARY, record]:
        writer.put(m)
    writer.close()
    archive = Archive(path, readonly=True)
    try:
        floor = {m.segment: m for m in archive.transcript(SESSION)}
    finally:
        archive.close()
    assert floor["seg-3"].text == record.text
    assert floor["seg-3"].extra["live_text"] != record.text


def test_a_full_disk_keeps_the_batch_and_writes_it_when_space_is_back(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    health = Health()
    writer, (archive,) = full_writer(path, health, retry_max_s=0.05)
    batch = [PLENARY[0], *filler(20)]
    for m in batch:
        writer.put(m)
    wait_for(lambda: health.archive_write_errors >= 3, "tries against the full disk")
    assert writer.written == 0 and writer.dead_letters == 0
    assert writer.pending == len(batch)  # the backlog is visible, nothing dropped
    assert writer.error is not None and "full" in writer.error
    later = filler(25)[20:]
    for m in later:
        writer.put(m)
    archive.db.execute("PRAGMA max_page_count = 1000000")  # space is back
    wait_for(lambda: writer.written == len(batch) + len(later), "everything written")
    writer.close()
    assert writer.pending == 0 and writer.error is None and health.archive_dead_letters == 0
    reader = Archive(path, readonly=True)
    assert len(reader.transcript(SESSION)) == 25 and reader.dead_letters() == []


def test_close_is_bounded_and_says_how_much_was_not_stored(tmp_path: Path) -> None:
    health = Health()
    writer, _ = full_writer(tmp_path / "archive.sqlite", health, retry_max_s=0.05,
                            close_timeout_s=0.2)  # fmt: skip
    for m in [PLENARY[0], *filler(7)]:
        writer.put(m)
    wait_for(lambda: health.archive_write_errors >= 1, "a try against the full disk")
    writer.close()
    assert writer.unstored == 8 and health.archive_unstored == 8
    assert health.last_error is not None and "8 messages not stored" in health.last_error
    wait_for(lambda: not writer._thread.is_alive(), "the writer's thread to end")


def test_what_counts_as_the_archive_being_unwritable() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    wrapped = ArchiveError("cannot write")
    wrapped.__cause__ = full
    assert is_environmental(full) and is_environmental(wrapped)
    assert is_environmental(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_environmental(sqlite3.ProgrammingError("Error binding parameter 2"))
    assert not is_environmental(TypeError("unhashable type: 'list'"))
    assert not is_environmental(sqlite3.IntegrityError("NOT NULL constraint failed"))


# -- reads ---------------------------------------------------------------------


def test_short_words_are_ranked_through_the_index(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.sqlite")
    archive.write([
        PLENARY[0],
        # Inserted first, but long: it ranks below the exact title.
        message("final", 2, 0, "es", "La Carta " + "sobre el proceso " * 30 + "de la Paz."),
        message("final", 3, 1, "es", "Carta por Paz"),  # no "de", no "la"
        message("final", 4, 2, "es", "Carta de la Paz"),
        message("final", 5, 3, "es", "La Paz no es una carta"),  # no "de"
    ])  # fmt: skip
    statements: list[str] = []
    archive.db.set_trace_callback(statements.append)
    hits = archive.search("Carta de la Paz")
    assert [hit.segment for hit in hits] == ["seg-2", "seg-0"]
    assert "<mark>Carta</mark> <mark>de</mark> <mark>la</mark> <mark>Paz</mark>" in hits[0].snippet
    assert any("MATCH" in sql and "ORDER BY rank" in sql for sql in statements)
    # Short words alone still find what they can.
    assert {hit.segment for hit in archive.search("de la")} == {"seg-0", "seg-2"}


def old_languages(archive: Archive, session: dict[str, Any]) -> list[str]:
    """The session list's languages as the archive used to compute them."""
    sid = session["id"]
    (declared,) = archive.db.execute(
        "SELECT languages FROM sessions WHERE id = ?", (sid,)
    ).fetchone()
    spoken = archive.db.execute(
        "SELECT DISTINCT lang FROM segments WHERE session = ? UNION "
        "SELECT DISTINCT lang FROM translations WHERE session = ?",
        (sid, sid),
    )
    return sorted(set(json.loads(declared or "[]")) | {row[0] for row in spoken})


def many_sessions(archive: Archive) -> None:
    for number in range(6):
        sid = f"20261123-0{number}0000-cccc"
        archive.write([
            Message("session", sid, 1, extra={"state": "started", "title": f"Sitting {number}",
                                              "languages": ["en"][: number % 2],
                                              "wall_time": 1.7e9 + number}),
            *[replace(m, session=sid) for m in PLENARY[1 : 2 + number]],
        ])  # fmt: skip


def test_the_session_list_runs_no_query_per_session(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive.sqlite")
    many_sessions(archive)
    statements: list[str] = []
    archive.db.set_trace_callback(statements.append)
    listed = archive.sessions()
    archive.db.set_trace_callback(None)
    assert len(listed) == 6 and len(statements) <= 2
    assert not any("DISTINCT" in sql for sql in statements)
    assert [s["languages"] for s in listed] == [old_languages(archive, s) for s in listed]
    assert listed[0]["languages"] == ["en", "fr", "km", "zh"]


def test_an_old_archive_gets_its_session_languages_on_migration(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    archive = Archive(path)
    many_sessions(archive)
    before = archive.sessions()
    # Back to the first schema, as an archive written before the migration was.
    archive.db.executescript(
        "DROP TABLE session_languages; DROP TABLE dead_letters; DROP TABLE records;"
        " PRAGMA user_version = 1;"
    )
    archive.close()
    again = Archive(path)
    assert again.sessions() == before
    assert [s["languages"] for s in before] == [old_languages(again, s) for s in before]


@pytest.mark.parametrize("query", ["a", "de la", "Carta de", "%_"])
def test_any_query_of_short_words_is_answered(tmp_path: Path, query: str) -> None:
    archive = Archive(tmp_path / "archive.sqlite")
    archive.write([PLENARY[0], message("final", 2, 0, "es", "Carta de la Paz, 100%_")])
    assert [hit.segment for hit in archive.search(query)] == ["seg-0"]
