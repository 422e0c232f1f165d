"""The record pass's texts in the archive: kept beside the live ones, read by default."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from interp.archive.export import export
from interp.archive.store import MIGRATIONS, Archive
from interp.cli import main

from .test_archive import PLENARY, SESSION, message

# The live captions of seg-3 misheard a name; the record pass heard it, and its French
# was made again from the record.  seg-0's record is the live text itself.
RECORDS = [
    message("record", 9, 3, "en", "Delegates welcomed the Peace Charter and the IPTP.",
            backend="whisper-record"),
    message("record", 10, 3, "fr", "Les délégués ont salué la Charte de la paix et l'IPTP.",
            backend="apertium"),
    message("record", 11, 0, "en", "The Phnom Penh Declaration was adopted.",
            backend="whisper-record"),
]  # fmt: skip
LIVE_3 = "Delegates <b>welcomed</b> the Peace Charter & the IPTP."


@pytest.fixture()
def archive(tmp_path: Path) -> Archive:
    store = Archive(tmp_path / "archive.sqlite")
    store.write(PLENARY + RECORDS)
    return store


def test_transcripts_read_the_record_and_keep_the_live_text_beside_it(archive: Archive) -> None:
    floor = {m.segment: m for m in archive.transcript(SESSION)}
    assert floor["seg-3"].text == RECORDS[0].text
    assert floor["seg-3"].extra["live_text"] == LIVE_3
    assert "live_text" not in floor["seg-0"].extra  # the same text: nothing to show twice
    assert floor["seg-1"].text == "សន្តិភាព និង ការអត់ឱន"  # no record yet: the live text
    live = {m.segment: m for m in archive.transcript(SESSION, text="live")}
    assert live["seg-3"].text == LIVE_3 and live["seg-3"].extra["record_text"] == RECORDS[0].text
    french = archive.transcript(SESSION, "fr")
    assert [m.text for m in french] == [
        "La Déclaration de Phnom Penh a été adoptée.",
        RECORDS[1].text,
    ]
    assert french[1].extra["live_text"] == "Les délégués ont salué la Charte de la paix."
    assert french[1].extra["backend"] == "apertium"


def test_a_record_translation_before_its_live_translation_loses_neither(tmp_path: Path) -> None:
    store = Archive(tmp_path / "a.sqlite")
    early = [m for m in PLENARY if not (m.type == "translation" and m.segment == "seg-3")]
    late = [m for m in PLENARY if m.type == "translation" and m.segment == "seg-3"]
    store.write(early + RECORDS)
    store.write(late)
    (_, second) = store.transcript(SESSION, "fr")
    assert second.text == RECORDS[1].text
    assert second.extra["live_text"] == late[0].text


def test_search_finds_either_text_once_and_live_only_when_asked(archive: Archive) -> None:
    # "and the IPTP" is only in the record, "&" only live: both find seg-3, once each.
    (hit,) = archive.search("and the iptp", lang="en")
    assert (hit.segment, hit.record) == ("seg-3", True)
    assert "<mark>" in hit.snippet and hit.text == RECORDS[0].text
    assert archive.search("and the iptp", lang="en", text_choice="live") == []
    hits = archive.search("peace charter", lang="en")
    assert [h.segment for h in hits] == ["seg-3"]
    (live,) = archive.search("peace charter", lang="en", text_choice="live")
    assert live.text == LIVE_3 and not live.record
    assert {h.segment for h in archive.search("iptp", lang="fr")} == {"seg-3"}
    # Only the live captions hold "<b>": the hit says so, as the archive page does.
    (shown,) = archive.search("<b>welcomed", lang="en")
    assert shown.live_only and shown.text == LIVE_3 and not hits[0].live_only


def test_a_record_written_twice_is_stored_and_indexed_once(archive: Archive) -> None:
    archive.write(RECORDS)
    count = archive.db.execute("SELECT COUNT(*) FROM search WHERE kind = 'record'").fetchone()[0]
    assert count == len(RECORDS)


def test_exports_carry_the_record_unless_live_is_asked(archive: Archive) -> None:
    session = archive.session(SESSION)
    record = export("txt", archive.transcript(SESSION), session, None).decode()
    assert RECORDS[0].text in record and LIVE_3 not in record
    assert "record text" in record.splitlines()[1]
    live = export("txt", archive.transcript(SESSION, text="live"), session, None, "live").decode()
    assert LIVE_3 in live and RECORDS[0].text not in live
    assert "captions as shown live" in live.splitlines()[1]


def test_the_command_line_exports_either_text(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(archive.path)
    archive.close()
    assert main(["archive", "export", SESSION, "--archive", path]) == 0
    assert RECORDS[0].text in capsys.readouterr().out
    assert main(["archive", "export", SESSION, "--archive", path, "--text", "live"]) == 0
    assert LIVE_3 in capsys.readouterr().out


def test_an_archive_of_the_previous_version_is_migrated_even_when_read(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    db.execute("INSERT INTO sessions (id, started_at, state) VALUES (?, 0, 'ended')", (SESSION,))
    db.execute(
        "INSERT INTO segments (session, segment, seq, lang, text, start, end)"
        " VALUES (?, 'seg-0', 1, 'en', 'The Peace Charter was signed.', 0, 3)",
        (SESSION,),
    )
    db.execute(
        "INSERT INTO search (folded, session, segment, lang) VALUES (?, ?, 'seg-0', 'en')",
        ("the peace charter was signed.", SESSION),
    )
    db.commit()
    db.close()
    reader = Archive(path, readonly=True)
    assert reader.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    (hit,) = reader.search("peace charter")
    assert hit.segment == "seg-0" and not hit.record
    assert [m.text for m in reader.transcript(SESSION)] == ["The Peace Charter was signed."]
