"""The archive: durable writes, search in every script, exports that parsers accept."""

from __future__ import annotations

import html
import io
import sqlite3
import time
from pathlib import Path

import pytest

from interp import formats
from interp.archive.export import export
from interp.archive.store import MIGRATIONS, Archive
from interp.archive.writer import ArchiveWriter
from interp.errors import ArchiveError
from interp.wire import Message

from ..deadlines import Deadline

SESSION = "20261123-090000-aaaa"


def message(kind: str, seq: int, segment: int, lang: str, text: str, **extra: object) -> Message:
    return Message(
        type=kind,  # type: ignore[arg-type]
        session=SESSION, seq=seq, segment=f"seg-{segment}", lang=lang, text=text,
        start=segment * 5.0, end=segment * 5.0 + 4.0, emitted_at=segment * 5.0 + 5.5,
        speaker=str(extra.pop("speaker", "")) or None,
        agenda_item=str(extra.pop("item", "")) or None, extra=dict(extra),
    )  # fmt: skip


PLENARY = [
    Message(
        "session",
        SESSION,
        1,
        extra={"state": "started", "title": "11th Plenary", "wall_time": 1732352400.0},
    ),  # fmt: skip
    message(
        "final",
        2,
        0,
        "en",
        "The Phnom Penh Declaration was adopted.",
        speaker="President",
        item="Item 1: Opening",
    ),  # fmt: skip
    message(
        "translation", 3, 0, "fr", "La Déclaration de Phnom Penh a été adoptée.", backend="apertium"
    ),  # fmt: skip
    message(
        "final",
        4,
        1,
        "km",
        "សន្តិភាព និង ការអត់ឱន",
        speaker="Delegate of Cambodia",
        item="Item 2: Peace Charter",
    ),  # fmt: skip
    message(
        "final",
        5,
        2,
        "zh",
        "世界和平宣言得到通过",
        speaker="Delegate of China",
        item="Item 2: Peace Charter",
    ),  # fmt: skip
    message(
        "final",
        6,
        3,
        "en",
        "Delegates <b>welcomed</b> the Peace Charter & the IPTP.",
        speaker="Delegate of Cambodia",
        item="Item 2: Peace Charter",
    ),  # fmt: skip
    message(
        "translation",
        7,
        3,
        "fr",
        "Les délégués ont salué la Charte de la paix.",
        backend="apertium",
    ),  # fmt: skip
    Message("session", SESSION, 8, extra={"state": "ended", "wall_time": 1732356000.0}),
]


@pytest.fixture()
def archive(tmp_path: Path) -> Archive:
    store = Archive(tmp_path / "archive.sqlite")
    store.write(PLENARY)
    return store


def test_schema_is_versioned_and_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    again = Archive(path)
    assert again.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sessions_and_transcripts(archive: Archive) -> None:
    (session,) = archive.sessions()
    assert session["title"] == "11th Plenary" and session["state"] == "ended"
    assert session["languages"] == ["en", "fr", "km", "zh"]
    detail = archive.session(SESSION)
    assert detail["segments"] == 4 and "Delegate of Cambodia" in detail["speakers"]
    french = archive.transcript(SESSION, "fr")
    assert [m.text for m in french] == [
        "La Déclaration de Phnom Penh a été adoptée.",
        "Les délégués ont salué la Charte de la paix.",
    ]
    with pytest.raises(ArchiveError, match="no session"):
        archive.transcript("nope")


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("declaration", None, {("seg-0", "en"), ("seg-0", "fr")}),  # accents and case folded
        ("DÉCLARATION de phnom", "fr", {("seg-0", "fr")}),
        ("សន្តិភាព", None, {("seg-1", "km")}),  # Khmer: no spaces between words
        ("和平宣言", None, {("seg-2", "zh")}),  # Chinese, four characters
        ("和平", None, {("seg-2", "zh")}),  # two characters: below a trigram
        ("peace charter", "en", {("seg-3", "en")}),
    ],
)
def test_search_in_every_script(
    archive: Archive, query: str, lang: str | None, expected: set[tuple[str, str]]
) -> None:
    hits = archive.search(query, lang=lang)
    assert {(h.segment, h.lang) for h in hits} == expected


def test_snippets_are_escaped_and_highlighted(archive: Archive) -> None:
    (hit,) = archive.search("welcomed", lang="en")
    assert "<mark>welcomed</mark>" in hit.snippet
    assert "&lt;b&gt;" in hit.snippet and "&amp;" in hit.snippet and "<b>" not in hit.snippet
    assert (hit.start, hit.speaker, hit.agenda_item) == (15.0, "Delegate of Cambodia",
                                                         "Item 2: Peace Charter")  # fmt: skip


def test_filters(archive: Archive) -> None:
    assert {h.segment for h in archive.search("peace", speaker="Delegate of Cambodia")} == {"seg-3"}
    assert archive.search("phnom", session="other") == []
    assert len(archive.search("phnom", since=1732352000.0, until=1732353000.0)) == 2
    assert archive.search("phnom", since=1732360000.0) == []


def test_the_speaker_filter_matches_any_part_of_the_name(archive: Archive) -> None:
    for part in ("Cambodia", "delegate of cambodia", "  of   Cambodia "):
        assert {h.segment for h in archive.search("peace", speaker=part)} == {"seg-3"}, part
    assert archive.search("peace", speaker="Peru") == []
    assert archive.search("peace", speaker="%") == []  # a wildcard is just a character


def test_a_name_in_the_search_box_finds_where_that_speaker_took_the_floor(tmp_path: Path) -> None:
    store = Archive(tmp_path / "archive.sqlite")
    arabic = "السيد محمد بن راشد"
    store.write([
        *PLENARY[:-1],
        message("final", 9, 4, "ar", "شكرا سيدي الرئيس", speaker=arabic, item="Item 3"),
        message("final", 10, 5, "ar", "نرحب بالميثاق", speaker=arabic, item="Item 3"),
        message("final", 11, 6, "en", "Thank you.", speaker="President", item="Item 3"),
        message("final", 12, 7, "en", "The Peace Charter again.", speaker="Dr. María López"),
    ])  # fmt: skip
    # Each turn once, at its first final; the words of the name need not be in the text.
    turns = store.search("محمد")
    assert [(h.segment, h.matched) for h in turns] == [("seg-4", "speaker")]
    assert turns[0].speaker == arabic and f"<bdi><mark>{arabic}</mark></bdi>:" in turns[0].snippet
    assert [h.segment for h in store.search("Delegate of Cambodia")] == ["seg-1", "seg-3"]
    # "maria" finds "María": the name is folded as the text is.
    assert {h.segment for h in store.search("maria")} == {"seg-7"}
    # Words in the text come first; a speaker's turns follow.
    peace = store.search("peace")
    assert [h.matched for h in peace] == ["text"] * len(peace)
    assert store.search("president")[0].segment == "seg-0"
    assert [h.segment for h in store.search("president")] == ["seg-0", "seg-6"]


@pytest.mark.parametrize(
    "query", ['"', "AND", "phnom OR", "NEAR(a b)", "peace*", "(charter", "col:phnom", "^x", "-"]
)
def test_query_syntax_characters_are_just_text(archive: Archive, query: str) -> None:
    archive.search(query)  # no FTS syntax error escapes


@pytest.mark.parametrize(
    ("query", "fragment"), [("", "empty"), ("   ", "empty"), ("x" * 10_000, "at most")]
)
def test_bad_queries_are_clear_errors(archive: Archive, query: str, fragment: str) -> None:
    with pytest.raises(ArchiveError, match=fragment):
        archive.search(query)


def test_srt_and_webvtt_exports_pass_parsers(archive: Archive) -> None:
    import srt
    import webvtt

    session = archive.session(SESSION)
    for lang in (None, "fr"):
        messages = archive.transcript(SESSION, lang)
        subtitles = list(srt.parse(export("srt", messages, session, lang).decode()))
        # SRT has no speaker field: the name leads a cue where the speaker changes.
        before: list[str | None] = [None] + [m.speaker for m in messages[:-1]]
        assert [s.content for s in subtitles] == [
            f"{m.speaker}: {m.text}" if m.speaker != previous else m.text
            for m, previous in zip(messages, before, strict=True)
        ]
        vtt = export("vtt", messages, session, lang).decode()
        captions = webvtt.from_buffer(io.StringIO(vtt))
        assert len(captions) == len(messages)
        assert captions[0].start == "00:00:00.000"
        # Every cue carries its speaker as a voice span, and the text beside it.
        assert [c.voice for c in captions] == [m.speaker for m in messages]
        assert [html.unescape(c.text) for c in captions] == [m.text for m in messages]
        assert vtt.startswith(f"WEBVTT\n\nNOTE\n{session['title']}\nSession {SESSION}")
        items = [line for line in vtt.splitlines() if line.startswith("NOTE agenda item: ")]
        assert items == [
            "NOTE agenda item: Item 1: Opening",
            "NOTE agenda item: Item 2: Peace Charter",
        ]


def test_docx_opens_with_headings_per_item_and_speaker(archive: Archive) -> None:
    from docx import Document

    session = archive.session(SESSION)
    data = export("docx", archive.transcript(SESSION), session, None)
    document = Document(io.BytesIO(data))
    headings = [
        p.text for p in document.paragraphs if p.style and p.style.name.startswith("Heading")
    ]
    assert headings == [
        "Item 1: Opening", "President", "Item 2: Peace Charter", "Delegate of Cambodia",
        "Delegate of China", "Delegate of Cambodia",
    ]  # fmt: skip
    assert any("Phnom Penh Declaration" in p.text for p in document.paragraphs)


def test_json_and_txt_exports(archive: Archive) -> None:
    import json

    session = archive.session(SESSION)
    messages = archive.transcript(SESSION)
    data = json.loads(export("json", messages, session, None))
    assert [d["segment"] for d in data] == ["seg-0", "seg-1", "seg-2", "seg-3"]
    assert all(d["v"] == 1 and d["type"] == "final" for d in data)
    txt = export("txt", messages, session, None).decode()
    # A readable record: the title, then each agenda item and speaker where they change,
    # and every final once, timed as the pages time it.
    lines = txt.splitlines()
    assert lines[0] == session["title"] and lines[1].startswith(f"Session {SESSION} · started")
    timed = [line for line in lines if line.startswith("[")]
    assert timed == [f"[{formats.clock(m.start)}] {m.text}" for m in messages]
    assert [line for line in lines if line.endswith(":") and not line.startswith("[")] == [
        "President:", "Delegate of Cambodia:", "Delegate of China:", "Delegate of Cambodia:"
    ]  # fmt: skip
    assert "Item 2: Peace Charter" in lines


def test_unreadable_or_unwritable_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archive"):
        Archive(tmp_path / "missing.sqlite", readonly=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ArchiveError, match="cannot create the archive"):
        Archive(blocker / "archive.sqlite")
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("minutes of the meeting, not a database " * 100)
    with pytest.raises(ArchiveError, match="cannot open the archive"):
        Archive(not_sqlite)
    assert not_sqlite.read_text().startswith("minutes")  # left as it was


def test_a_full_disk_loses_nothing_already_stored(archive: Archive) -> None:
    before = archive.transcript(SESSION)
    pages = archive.db.execute("PRAGMA page_count").fetchone()[0]
    archive.db.execute(f"PRAGMA max_page_count = {pages}")  # what a full disk looks like
    big = [message("final", 100 + i, 10 + i, "en", "filler " * 2000) for i in range(20)]
    with pytest.raises(ArchiveError, match="full"):
        archive.write(big)
    assert archive.transcript(SESSION) == before
    assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_writer_batches_and_marks_crashed_sessions(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    writer = ArchiveWriter(path, flush_s=0.05)
    for m in PLENARY[:-1]:  # the session never ends: as if the process died
        writer.put(m)
    # Committed while the writer runs, not only when it closes: another reader sees it.
    # The writer offers no event to wait on, so its count is polled under one deadline.
    deadline = Deadline(5)
    while writer.written < len(PLENARY) - 1 and not deadline.expired:
        time.sleep(0.01)
    assert writer.written == len(PLENARY) - 1
    reader = Archive(path, readonly=True)
    finals = [m for m in PLENARY[:-1] if m.type == "final"]
    assert [m.segment for m in reader.transcript(SESSION)] == [m.segment for m in finals]
    reader.close()
    writer.close()
    assert Archive(path).sessions()[0]["state"] == "running"
    ArchiveWriter(path).close()  # a restart
    assert Archive(path).sessions()[0]["state"] == "interrupted"


def test_readers_see_committed_data_while_a_writer_is_open(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    writer = Archive(path)
    writer.write(PLENARY[:2])
    reader = Archive(path, readonly=True)
    assert [m.segment for m in reader.transcript(SESSION)] == ["seg-0"]
    with pytest.raises(ArchiveError, match="cannot write"):
        reader.write(PLENARY[2:3])
    assert isinstance(reader.db, sqlite3.Connection)
