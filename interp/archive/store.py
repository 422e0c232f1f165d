"""The archive: one SQLite file (WAL) holding every session, with full-text search.

Schema (versioned by ``PRAGMA user_version``, migrated on open): sessions, their
speakers and agenda items, final segments, and translations.  Search uses one FTS5
table over finals and translations with the ``trigram`` tokenizer: it matches any
three or more characters anywhere, so Khmer and Chinese, which do not separate words
by spaces, are found as well as Latin, Cyrillic and Arabic.  The indexed text is
case-folded and stripped of diacritics ("declaration" finds "Déclaration").  Words of
one or two characters ("de", "la", a Chinese word) filter the hits that the longer words
of the query find and rank; only a query made of short words alone falls back to a scan.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ArchiveError
from ..wire import Message

MAX_QUERY_CHARS = 500

MIGRATIONS = [
    # 1: the first schema
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        title TEXT,
        venue TEXT,
        started_at REAL NOT NULL,
        ended_at REAL,
        state TEXT NOT NULL CHECK (state IN ('running', 'ended', 'interrupted')),
        languages TEXT NOT NULL DEFAULT '[]',
        audio_path TEXT
    );
    CREATE TABLE speakers (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL REFERENCES sessions(id),
        name TEXT NOT NULL,
        UNIQUE (session, name)
    );
    CREATE TABLE agenda_items (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL REFERENCES sessions(id),
        title TEXT NOT NULL,
        UNIQUE (session, title)
    );
    CREATE TABLE segments (
        session TEXT NOT NULL REFERENCES sessions(id),
        segment TEXT NOT NULL,
        seq INTEGER NOT NULL,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        emitted_at REAL,
        speaker INTEGER REFERENCES speakers(id),
        agenda_item INTEGER REFERENCES agenda_items(id),
        PRIMARY KEY (session, segment)
    );
    CREATE TABLE translations (
        session TEXT NOT NULL,
        segment TEXT NOT NULL,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        backend TEXT,
        emitted_at REAL,
        PRIMARY KEY (session, segment, lang),
        FOREIGN KEY (session, segment) REFERENCES segments(session, segment)
    );
    CREATE VIRTUAL TABLE search USING fts5(
        folded, session UNINDEXED, segment UNINDEXED, lang UNINDEXED, tokenize = 'trigram'
    );
    """,
    # 2: messages that could never be stored, and each session's languages kept as
    # they are written (the session list no longer scans segments for them)
    """
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        session TEXT,
        error TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE TABLE session_languages (
        session TEXT NOT NULL,
        lang TEXT NOT NULL,
        PRIMARY KEY (session, lang)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO session_languages (session, lang)
        SELECT DISTINCT session, lang FROM segments
        UNION SELECT DISTINCT session, lang FROM translations;
    """,
    # 3: the record pass's texts beside the live ones, a final's and its translations'
    # in one table (a record's translation may come before or after the live one), and
    # the search index told which text a row is
    """
    CREATE TABLE records (
        session TEXT NOT NULL,
        segment TEXT NOT NULL,
        lang TEXT NOT NULL,
        text TEXT NOT NULL,
        backend TEXT,
        emitted_at REAL,
        PRIMARY KEY (session, segment, lang)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE search_v3 USING fts5(
        folded, session UNINDEXED, segment UNINDEXED, lang UNINDEXED, kind UNINDEXED,
        tokenize = 'trigram'
    );
    INSERT INTO search_v3 (folded, session, segment, lang, kind)
        SELECT folded, session, segment, lang, 'live' FROM search;
    DROP TABLE search;
    ALTER TABLE search_v3 RENAME TO search;
    """,
]

TextChoice = Literal["record", "live"]
"""Which text the archive reads: the record pass's where there is one, or the captions as shown."""


def fold(text: str) -> str:
    """Case-folded, without diacritics, one character for one: offsets stay valid."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)
        kept = "".join(c for c in base if not unicodedata.combining(c)) or char
        out.append(kept[0].casefold()[0])  # casefold may expand ("ß"): keep one character
    return "".join(out)


@dataclass(frozen=True, slots=True)
class SearchHit:
    session: str
    segment: str
    lang: str
    text: str
    snippet: str
    start: float
    end: float
    speaker: str | None
    agenda_item: str | None
    translation: bool = False
    """Found in a translation into ``lang``, not in the words spoken on the floor."""
    matched: str = "text"
    """``text``, or ``speaker``: the query names the speaker of a turn starting here."""
    record: bool = False
    """Found in the record pass's text."""
    live_only: bool = False
    """Found in the live captions, where the record of the same segment says otherwise."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session, "segment": self.segment, "lang": self.lang,
            "text": self.text, "snippet": self.snippet, "start": self.start, "end": self.end,
            "speaker": self.speaker, "agenda_item": self.agenda_item,
            "translation": self.translation, "matched": self.matched, "record": self.record,
            "live_only": self.live_only,
        }  # fmt: skip


class Archive:
    """One archive file.  Not thread-safe: one connection per thread."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                if not path.is_file():
                    raise ArchiveError(f"no archive at {path}")
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                if self.db.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
                    # An archive of an earlier version, never opened by this one's server:
                    # brought up to date once, then read as it is.
                    self.db.close()
                    Archive(path).close()
                    self.db = sqlite3.connect(
                        f"file:{path}?mode=ro", uri=True, check_same_thread=False
                    )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode = WAL")
                # WAL with synchronous=NORMAL: a committed batch survives the process
                # being killed; only a power cut can lose the last commits.
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
            self.db.execute("PRAGMA foreign_keys = ON")
            # Speaker names are matched as the text is: case and diacritics folded.
            self.db.create_function("fold", 1, fold, deterministic=True)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot open the archive {path}: {exc}") from exc
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive {path}: {exc.strerror}") from exc

    def close(self) -> None:
        self.db.close()

    # -- schema ----------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.db:
                self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def mark_interrupted(self) -> list[str]:
        """Sessions still 'running' when the archive opens were cut off by a crash."""
        with self.db:
            rows = self.db.execute("SELECT id FROM sessions WHERE state = 'running'").fetchall()
            self.db.execute(
                "UPDATE sessions SET state = 'interrupted', ended_at = COALESCE(ended_at, ("
                "SELECT MAX(emitted_at) FROM segments WHERE session = sessions.id) + started_at) "
                "WHERE state = 'running'"
            )
        return [row[0] for row in rows]

    # -- writing ---------------------------------------------------------------

    def write(self, messages: Iterable[Message]) -> None:
        """Store a batch of v1 messages in one transaction."""
        try:
            with self.db:
                for message in messages:
                    self._write_one(message)
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot write to the archive {self.path}: {exc}") from exc

    def _write_one(self, m: Message) -> None:
        db = self.db
        if m.type == "session":
            state = m.extra.get("state")
            if state == "started":
                db.execute(
                    "INSERT OR IGNORE INTO sessions"
                    " (id, title, venue, started_at, state, languages, audio_path)"
                    " VALUES (?, ?, ?, ?, 'running', ?, ?)",
                    (m.session, m.extra.get("title"), m.extra.get("venue"),
                     m.extra.get("wall_time", time.time()),
                     json.dumps(m.extra.get("languages", [])), m.extra.get("audio")),
                )  # fmt: skip
            elif state == "ended":
                db.execute(
                    "UPDATE sessions SET state = 'ended', ended_at = ? WHERE id = ?",
                    (m.extra.get("wall_time", time.time()), m.session),
                )
            return
        if m.type not in ("final", "translation", "record") or m.segment is None:
            return
        self._ensure_session(m.session)
        kind = "live"
        if m.type == "record":
            kind = "record"
            cursor = db.execute(
                "INSERT OR IGNORE INTO records (session, segment, lang, text, backend, emitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (m.session, m.segment, m.lang or "", m.text, m.extra.get("backend"), m.emitted_at),
            )
            if not cursor.rowcount:
                return  # a record is made once; a replayed one is not indexed twice
        elif m.type == "final":
            db.execute(
                "INSERT OR IGNORE INTO segments (session, segment, seq, lang, text, start, end,"
                " emitted_at, speaker, agenda_item) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (m.session, m.segment, m.seq, m.lang or "", m.text, m.start or 0.0, m.end or 0.0,
                 m.emitted_at, self._named("speakers", "name", m.session, m.speaker),
                 self._named("agenda_items", "title", m.session, m.agenda_item)),
            )  # fmt: skip
        else:
            db.execute(
                "INSERT OR IGNORE INTO translations (session, segment, lang, text, backend,"
                " emitted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (m.session, m.segment, m.lang or "", m.text, m.extra.get("backend"), m.emitted_at),
            )
        db.execute(
            "INSERT OR IGNORE INTO session_languages (session, lang) VALUES (?, ?)",
            (m.session, m.lang or ""),
        )
        db.execute(
            "INSERT INTO search (folded, session, segment, lang, kind) VALUES (?, ?, ?, ?, ?)",
            (fold(m.text), m.session, m.segment, m.lang or "", kind),
        )

    def record_dead_letter(self, message: Message, error: str) -> None:
        """Keep a message that cannot be stored aside, with why, as raw JSON."""
        try:
            raw = json.dumps(message.to_dict(), ensure_ascii=False, default=repr)
        except (TypeError, ValueError) as exc:  # a dict key JSON cannot hold
            raw = json.dumps({"unencodable": repr(message), "why": str(exc)})
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO dead_letters (at, session, error, message) VALUES (?, ?, ?, ?)",
                    (time.time(), str(message.session), error, raw),
                )
        except sqlite3.Error as exc:
            raise ArchiveError(f"cannot write to the archive {self.path}: {exc}") from exc

    def dead_letters(self) -> list[dict[str, Any]]:
        """The messages set aside, oldest first: when, why, and the message as JSON."""
        rows = self.db.execute(
            "SELECT at, session, error, message FROM dead_letters ORDER BY id"
        ).fetchall()
        return [
            {"at": at, "session": session, "error": error, "message": json.loads(raw)}
            for at, session, error, raw in rows
        ]

    def _ensure_session(self, session: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sessions (id, started_at, state) VALUES (?, ?, 'running')",
            (session, time.time()),
        )

    def _named(self, table: str, column: str, session: str, value: str | None) -> int | None:
        if not value:
            return None
        self.db.execute(
            f"INSERT OR IGNORE INTO {table} (session, {column}) VALUES (?, ?)", (session, value)
        )
        row = self.db.execute(
            f"SELECT id FROM {table} WHERE session = ? AND {column} = ?", (session, value)
        ).fetchone()
        return int(row[0])

    # -- reading ---------------------------------------------------------------

    def sessions(self) -> list[dict[str, Any]]:
        spoken: dict[str, set[str]] = {}
        for sid, lang in self.db.execute("SELECT session, lang FROM session_languages"):
            spoken.setdefault(sid, set()).add(lang)
        rows = self.db.execute(
            "SELECT id, title, started_at, ended_at, state, languages FROM sessions"
            " ORDER BY started_at DESC"
        ).fetchall()
        found = []
        for sid, title, started, ended, state, languages in rows:
            langs = set(json.loads(languages or "[]")) | spoken.get(sid, set())
            found.append({
                "id": sid, "title": title, "started_at": started, "ended_at": ended,
                "state": state, "languages": sorted(langs),
                # No final, no translation: a start nobody spoke in (a device that came
                # and went); the archive page leaves it out of its list.
                "empty": sid not in spoken,
            })  # fmt: skip
        return found

    def session(self, session: str) -> dict[str, Any]:
        for entry in self.sessions():
            if entry["id"] == session:
                entry["segments"] = self.db.execute(
                    "SELECT COUNT(*) FROM segments WHERE session = ?", (session,)
                ).fetchone()[0]
                entry["floor_languages"] = [row[0] for row in self.db.execute(
                    "SELECT DISTINCT lang FROM segments WHERE session = ? ORDER BY lang",
                    (session,),
                )]  # fmt: skip
                entry["speakers"] = self._column("speakers", "name", session)
                entry["agenda_items"] = self._column("agenda_items", "title", session)
                return entry
        raise ArchiveError(f"no session {session!r} in the archive")

    def _column(self, table: str, column: str, session: str) -> list[str]:
        rows = self.db.execute(
            f"SELECT {column} FROM {table} WHERE session = ? ORDER BY id", (session,)
        )
        return [row[0] for row in rows]

    def audio_path(self, session: str) -> Path | None:
        row = self.db.execute("SELECT audio_path FROM sessions WHERE id = ?", (session,)).fetchone()
        if row is None:
            raise ArchiveError(f"no session {session!r} in the archive")
        return Path(row[0]) if row[0] and Path(row[0]).is_file() else None

    def transcript(
        self, session: str, lang: str | None = None, text: TextChoice = "record"
    ) -> list[Message]:
        """The session's finals, or their translations into ``lang``, as v1 messages.

        Finals already in ``lang`` stand in for their own translation.  With ``text``
        "record" each message carries the record pass's text where there is one, and
        the live text as ``live_text`` where the two differ; with "live", the captions
        as the room saw them, and the record as ``record_text``.
        """
        self.session(session)  # raises for an unknown session
        rows = self.db.execute(
            "SELECT s.segment, s.seq, s.lang, s.text, s.start, s.end, s.emitted_at,"
            " sp.name, ai.title, t.text, t.backend, t.emitted_at, r.text, r.backend"
            " FROM segments s LEFT JOIN speakers sp ON sp.id = s.speaker"
            " LEFT JOIN agenda_items ai ON ai.id = s.agenda_item"
            " LEFT JOIN translations t ON t.session = s.session AND t.segment = s.segment"
            " AND t.lang = ?"
            " LEFT JOIN records r ON r.session = s.session AND r.segment = s.segment"
            " AND r.lang = COALESCE(?, s.lang)"
            " WHERE s.session = ? ORDER BY s.start, s.seq",
            (lang or "", lang, session),
        ).fetchall()
        out = []
        for (segment, seq, slang, stext, start, end, emitted, speaker, item,
             ttext, backend, temitted, rtext, rbackend) in rows:  # fmt: skip
            floor = lang is None or lang == slang
            live = stext if floor else ttext
            shown = rtext if text == "record" and rtext else live
            if shown is None:
                continue  # no translation into ``lang`` of this final
            extra: dict[str, Any] = {} if floor else {"backend": backend}
            if rtext and rtext != live and text == "live":
                extra["record_text"] = rtext
            elif rtext and rtext != live:
                extra["backend"] = rbackend
                if live is not None:
                    extra["live_text"] = live
            kind: Literal["final", "translation"] = "final" if floor else "translation"
            at = emitted if floor else temitted
            out.append(Message(kind, session, seq, segment, lang or slang, shown, start, end, at,
                               speaker, item, extra=extra))  # fmt: skip
        return out

    def search(
        self,
        query: str,
        session: str | None = None,
        lang: str | None = None,
        speaker: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        text_choice: TextChoice = "record",
    ) -> list[SearchHit]:
        """Ranked hits with a highlighted snippet; filters narrow them down.

        By default a word is found in the record text or in the live captions, and a
        segment is one hit, showing the text the word was found in; ``text_choice``
        "live" searches the captions as shown alone.
        """
        text = " ".join(query.split())
        if not text:
            raise ArchiveError("an empty query: type a word or phrase to search for")
        if len(text) > MAX_QUERY_CHARS:
            raise ArchiveError(f"a query of {len(text)} characters; at most {MAX_QUERY_CHARS}")
        folded = fold(text)
        where: list[str] = []  # filters on the joined tables
        params: list[Any] = []
        if speaker:  # any part of the name: "Maria" finds "Dr. Maria Lopez"
            where.append("fold(sp.name) LIKE ? ESCAPE '\\'")
            params.append(_like(fold(" ".join(speaker.split()))))
        if since is not None:
            where.append("ss.started_at >= ?")
            params.append(since)
        if until is not None:
            where.append("ss.started_at <= ?")
            params.append(until)
        join = (
            " JOIN segments s ON s.session = x.session AND s.segment = x.segment"
            " JOIN sessions ss ON ss.id = x.session"
            " LEFT JOIN speakers sp ON sp.id = s.speaker"
            " LEFT JOIN agenda_items ai ON ai.id = s.agenda_item"
        )
        columns = (
            "x.session, x.segment, x.lang, x.kind, s.start, s.end, sp.name, ai.title, s.lang,"
            " s.text"
        )
        outer = (" WHERE " + " AND ".join(where)) if where else ""
        inner_where = []
        inner_params: list[Any] = []
        kind = "live" if text_choice == "live" else None
        for column, value in (("session", session), ("lang", lang), ("kind", kind)):
            if value:
                inner_where.append(f"{column} = ?")
                inner_params.append(value)
        inner_extra = "".join(f" AND {clause}" for clause in inner_where)
        # The filters on joined tables apply after the FTS query: let it return more.
        inner_limit = limit if not (speaker or since is not None or until is not None) else -1
        row_limit = limit if kind else 2 * limit  # a segment's live and record rows: one hit
        if inner_limit > 0:
            inner_limit = row_limit
        # Every word must appear; each is a quoted FTS5 string, so no character of the
        # query is syntax.
        words = [w for w in folded.split(" ") if w]
        # Trigrams cannot hold a word of one or two characters ("de", "la"): the long
        # words find and rank the hits through the index, and the short ones only
        # filter those hits.  A query of short words alone has nothing to rank by.
        long_words = [w for w in words if len(w) >= 3]
        short_likes = [_like(w) for w in words if len(w) < 3]
        if long_words:
            match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)
            short_filter = "".join(" AND folded LIKE ? ESCAPE '\\'" for _ in short_likes)
            # Rank and limit inside FTS5 first (its own fast path), then join the few hits.
            hits_sql = (
                "SELECT session, segment, lang, kind, rank FROM search"
                f" WHERE search MATCH ?{short_filter}{inner_extra} ORDER BY rank LIMIT ?"
            )
            sql = (f"SELECT {columns} FROM ({hits_sql}) x {join}{outer}"
                   " ORDER BY x.rank LIMIT ?")  # fmt: skip
            rows = self.db.execute(
                sql, [match, *short_likes, *inner_params, inner_limit, *params, row_limit]
            ).fetchall()
        else:
            likes = " AND ".join("x.folded LIKE ? ESCAPE '\\'" for _ in words)
            scan = [f"x.{clause}" for clause in inner_where] + where
            extra = "".join(f" AND {clause}" for clause in scan)
            sql = f"SELECT {columns} FROM search x {join} WHERE {likes}{extra} LIMIT ?"
            rows = self.db.execute(
                sql, [*short_likes, *inner_params, *params, row_limit]
            ).fetchall()
        # One hit per segment and language; where its live and record texts both
        # match, the record's, at the better rank of the two.
        best: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        for row in rows:
            key, kind_found = (row[0], row[1], row[2]), row[3]
            if key not in best or (kind_found == "record" and best[key][3] != "record"):
                best[key] = row if key not in best else (*row[:4], *best[key][4:])
        hits: list[SearchHit] = []
        for sid, segment, hlang, hkind, start, end, speaker_name, item, slang, stext in list(
            best.values()
        )[:limit]:
            record = self.db.execute(
                "SELECT text FROM records WHERE session = ? AND segment = ? AND lang = ?",
                (sid, segment, hlang),
            ).fetchone()
            if hkind == "record":
                body = record[0]
            elif hlang == slang:
                body = stext
            else:
                found = self.db.execute(
                    "SELECT text FROM translations WHERE session = ? AND segment = ? AND lang = ?",
                    (sid, segment, hlang),
                ).fetchone()
                body = found[0] if found else ""
            hits.append(SearchHit(sid, segment, hlang, body, highlight(body, words),
                                  start, end, speaker_name, item, hlang != slang,
                                  record=hkind == "record",
                                  live_only=hkind == "live" and record is not None
                                  and record[0] != body))  # fmt: skip
        if len(hits) < limit and lang is None:
            hits += self._speaker_turns(folded, session, speaker, since, until, limit - len(hits))
        return hits

    def _speaker_turns(
        self,
        folded_query: str,
        session: str | None,
        speaker: str | None,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[SearchHit]:
        """Where each speaker whose name holds the query took the floor: a turn's first final.

        An archivist types a name in the one search box as often as a word.  The
        speakers are few (one row per name and session), so they are matched first and
        only their sessions are read.
        """
        clauses = ["fold(sp.name) LIKE ? ESCAPE '\\'"]
        params: list[Any] = [_like(folded_query)]
        for clause, value in (
            ("sp.session = ?", session or None),
            ("ss.started_at >= ?", since),
            ("ss.started_at <= ?", until),
            ("fold(sp.name) LIKE ? ESCAPE '\\'", _like(fold(" ".join(speaker.split())))
             if speaker else None),
        ):  # fmt: skip
            if value is not None:
                clauses.append(clause)
                params.append(value)
        speakers = dict(self.db.execute(
            "SELECT sp.id, sp.session FROM speakers sp JOIN sessions ss ON ss.id = sp.session"
            f" WHERE {' AND '.join(clauses)}", params,
        ).fetchall())  # fmt: skip
        if not speakers:
            return []
        sessions = sorted(set(speakers.values()))
        rows = self.db.execute(
            "SELECT session, segment, lang, text, start, end, speaker, name, title FROM ("
            " SELECT s.session, s.segment, s.lang, s.text, s.start, s.end, s.speaker, sp.name,"
            " ai.title, ss.started_at,"
            " LAG(s.speaker) OVER (PARTITION BY s.session ORDER BY s.start, s.seq) AS before"
            " FROM segments s JOIN sessions ss ON ss.id = s.session"
            " LEFT JOIN speakers sp ON sp.id = s.speaker"
            " LEFT JOIN agenda_items ai ON ai.id = s.agenda_item"
            f" WHERE s.session IN ({','.join('?' * len(sessions))}))"
            " WHERE before IS NOT speaker ORDER BY started_at DESC, start",
            sessions,
        ).fetchall()
        turns = [row for row in rows if row[6] in speakers][:limit]
        return [
            SearchHit(
                sid,
                segment,
                slang,
                text,
                _turn_snippet(name, text),
                start,
                end,
                name,
                item,
                matched="speaker",
            )  # fmt: skip
            for sid, segment, slang, text, start, end, _, name, item in turns
        ]


def _like(folded: str) -> str:
    """A LIKE pattern for ``folded`` anywhere, its wildcards taken literally."""
    return "%" + re.sub(r"([%_\\])", r"\\\1", folded) + "%"


def _turn_snippet(name: str, text: str, width: int = 160) -> str:
    shown = text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " …"
    # The name may be in another script than the text: isolated, it cannot reorder it.
    return f"<bdi><mark>{_escape(name)}</mark></bdi>: {_escape(shown)}"


def highlight(text: str, words: list[str], width: int = 160) -> str:
    """The text around the first match, every match wrapped in ``<mark>``...``</mark>``.

    The text is escaped for HTML first; matching uses the folded form, whose offsets are
    the original's (one character for one).
    """
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for word in words:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(word), folded)]
    spans.sort()
    first = spans[0][0] if spans else 0
    begin = max(0, first - width // 3)
    end = min(len(text), begin + width)
    pieces, at = [], begin
    for s, e in spans:
        if s < at or s >= end:
            continue
        pieces += [_escape(text[at:s]), "<mark>", _escape(text[s : min(e, end)]), "</mark>"]
        at = min(e, end)
    pieces.append(_escape(text[at:end]))
    return ("…" if begin else "") + "".join(pieces) + ("…" if end < len(text) else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
