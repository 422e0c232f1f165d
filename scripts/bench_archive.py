#!/usr/bin/env python3
"""Archive benchmark: finals and their translations in eight languages, then search.

Builds an archive of N final segments (default 250,000: a million rows with their
translations) from the FLORES-200 devtest sentences in en fr es de ru zh ar km, each
final with its translations into the next ``--translations`` languages (default 3;
the same FLORES sentence in that language).
Every message goes through the server's own write path: stamped as the live session
stamps them (:class:`interp.wire.Stamper`) and put on an :class:`ArchiveWriter`, whose
thread commits whatever has queued in its quarter of a second.  The messages are put
as fast as the writer takes them (at most ``BACKLOG`` waiting), not at a session's
pace.  Each session has one floor language; sessions of 2,000 finals.  It reports:

* insert throughput (finals, and all rows, per second) and the database size;
* search latency, p50 and p95, for words of three or more characters (the FTS5 path)
  drawn from the corpus in every language, every word length alike (runs of three
  or four characters in Chinese and Khmer), with and without a language filter;
* the same for one- and two-character queries, which fall back to a scan.

Usage: scripts/bench_archive.py [--segments 250000] [--translations 3] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp.archive.store import Archive  # noqa: E402
from interp.archive.writer import ArchiveWriter  # noqa: E402
from interp.evaluation import percentile  # noqa: E402
from interp.events import CommittedSegment, Translation  # noqa: E402
from interp.wire import Stamper  # noqa: E402

LANGUAGES = ("en", "fr", "es", "de", "ru", "zh", "ar", "km")
PER_SESSION = 2000
BACKLOG = 20_000
"""Messages put on the writer's queue and not yet committed, at most (bounds memory)."""
UNSPACED = ("zh", "km")  # no spaces between words: queries are runs of characters
PUNCTUATION = ".,;:!?()[]\"'«»“”„‘’—–-"


def corpus(eval_dir: Path) -> dict[str, list[str]]:
    flores = eval_dir / "text" / "mt_flores200_devtest"
    return {
        lang: (flores / f"flores200_devtest.{lang}").read_text(encoding="utf-8").splitlines()
        for lang in LANGUAGES
    }


def build(path: Path, texts: dict[str, list[str]], count: int, per_final: int) -> tuple[float, int]:
    """Put every message on an archive writer; the seconds until all are committed, and rows."""
    writer = ArchiveWriter(path)
    lines = min(len(v) for v in texts.values())
    put = 0
    began = time.perf_counter()
    for number, first in enumerate(range(0, count, PER_SESSION)):
        floor = LANGUAGES[number % len(LANGUAGES)]
        targets = [LANGUAGES[(number + k) % len(LANGUAGES)] for k in range(1, per_final + 1)]
        stamper = Stamper(f"bench-{number:05d}")
        started = stamper.session_message("started", 0.0)
        writer.put(replace(started, extra={
            **started.extra, "wall_time": 1.7e9 + number * 20_000.0, "languages": targets,
            "title": f"Benchmark session {number}",
        }))  # fmt: skip
        put += 1
        for index in range(min(PER_SESSION, count - first)):
            stamper.speaker = f"Speaker {index // 40 % 17}"
            stamper.agenda_item = f"Item {index // 200}"
            line = (first + index) % lines
            start, end = index * 6.0, index * 6.0 + 5.0
            final = CommittedSegment(index, floor, texts[floor][line], start, end, end + 1.5)
            writer.put(stamper.stamp(final))
            for k, target in enumerate(targets):
                translation = Translation(
                    index, floor, target, texts[target][line], start, end, end + 1.6 + k / 10,
                    "apertium",
                )  # fmt: skip
                writer.put(stamper.stamp_translation(translation))
            put += 1 + len(targets)
            while put - writer.written > BACKLOG:
                time.sleep(0.01)
        ended = stamper.session_message("ended", index * 6.0 + 6.0)
        writer.put(replace(ended, extra={**ended.extra, "wall_time": 1.7e9 + number * 20_000.0}))
        put += 1
    while writer.written < put:
        if writer.error:
            print(f"archive writer: {writer.error}", file=sys.stderr, flush=True)
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    writer.close()
    archive = Archive(path)
    archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    archive.close()
    return elapsed, put


def words_of(sentence: str, lang: str, rng: random.Random, short: bool) -> str | None:
    """A query drawn from a sentence: a word (or a run of characters) of the wanted length."""
    if lang in UNSPACED:
        length = rng.choice((1, 2) if short else (3, 4))
        start = rng.randrange(max(1, len(sentence) - length))
        run = sentence[start : start + length]
        return run if len(run) == length and not any(c.isspace() for c in run) else None
    words = [w.strip(PUNCTUATION) for w in sentence.split()]
    fitting = [w for w in words if (len(w) <= 2 if short else len(w) >= 3) and w]
    return rng.choice(fitting) if fitting else None


def queries(
    texts: dict[str, list[str]], count: int, rng: random.Random, short: bool = False
) -> list[tuple[str, str]]:
    chosen: list[tuple[str, str]] = []
    while len(chosen) < count:
        lang = LANGUAGES[len(chosen) % len(LANGUAGES)]
        word = words_of(rng.choice(texts[lang]), lang, rng, short)
        if word is not None:
            chosen.append((lang, word))
    return chosen


def timed_searches(
    archive: Archive, chosen: list[tuple[str, str]]
) -> tuple[dict[str, list[float]], list[int]]:
    """Milliseconds per search, with and without a language filter; the hits of each.

    Without a filter, also by query length: a common short word ("the", "des") has
    far more matches for FTS5 to rank than a long one.
    """
    timings: dict[str, list[float]] = {"any_language": [], "language_filter": []}
    hits_found = []
    for lang, word in chosen:
        for label, filter_lang in (("any_language", None), ("language_filter", lang)):
            began = time.perf_counter()
            hits = archive.search(word, lang=filter_lang)
            elapsed = (time.perf_counter() - began) * 1000
            timings[label].append(elapsed)
            if filter_lang is None:
                length = "3_4_chars" if len(word) <= 4 else "5_or_more_chars"
                timings.setdefault(f"any_language_{length}", []).append(elapsed)
            hits_found.append(len(hits))
    return timings, hits_found


def summary(timings: dict[str, list[float]], short: bool = False) -> dict[str, float]:
    """p50 and p95 of each list; short queries are not split by length (all are 1-2)."""
    return {
        f"{label}_{name}": round(fn(values), 1)
        for label, values in timings.items()
        if not (short and label.endswith("_chars"))
        for name, fn in (("p50", statistics.median), ("p95", lambda v: percentile(v, 0.95)))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--segments", type=int, default=250_000, help="finals")
    parser.add_argument(
        "--translations", type=int, default=3, help="translations per final (0 to 7)"
    )
    parser.add_argument("--queries", type=int, default=200, help="of three or more characters")
    parser.add_argument("--short-queries", type=int, default=40, help="of one or two characters")
    parser.add_argument("--reuse", action="store_true", help="search the archive built before")
    parser.add_argument("--db", type=Path, default=ROOT / "bench-results" / "archive-bench.sqlite")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "archive.json")
    args = parser.parse_args(argv)
    if not 0 <= args.translations < len(LANGUAGES):
        parser.error(f"--translations goes from 0 to {len(LANGUAGES) - 1}")
    texts = corpus(args.eval_dir)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.json.read_text()) if args.reuse and args.json.is_file() else {}
    if args.reuse and args.db.is_file() and previous:
        elapsed, messages = previous["insert_s"], previous["messages"]
        args.segments, args.translations = previous["finals"], previous["translations_per_final"]
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        elapsed, messages = build(args.db, texts, args.segments, args.translations)
    size = args.db.stat().st_size
    rows = args.segments * (1 + args.translations)
    print(f"built {args.segments:,} finals and {rows - args.segments:,} translations in "
          f"{elapsed:.0f} s: {args.segments / elapsed:,.0f} finals/s, {rows / elapsed:,.0f} "
          f"rows/s, {size / 1e9:.2f} GB", flush=True)  # fmt: skip
    archive = Archive(args.db, readonly=True)
    rng = random.Random(7)
    chosen = queries(texts, args.queries, rng)
    timings, hits = timed_searches(archive, chosen)
    by_time = sorted(zip(timings["any_language"], chosen, strict=True), reverse=True)
    short_timings, short_hits = timed_searches(
        archive, queries(texts, args.short_queries, rng, short=True)
    )
    result = {
        "finals": args.segments,
        "translations_per_final": args.translations,
        "messages": messages,
        "insert_s": round(elapsed, 1),
        "finals_per_s": round(args.segments / elapsed),
        "rows_per_s": round(rows / elapsed),
        "db_bytes": size,
        "queries": args.queries,
        "queries_with_hits": sum(1 for h in hits if h) / len(hits),
        **{f"search_ms_{key}": value for key, value in summary(timings).items()},
        "slowest_queries": [f"{word} ({lang}) {ms:.0f} ms" for ms, (lang, word) in by_time[:8]],
        "short_queries": args.short_queries,
        "short_queries_with_hits": sum(1 for h in short_hits if h) / max(1, len(short_hits)),
        **(
            {
                f"short_search_ms_{key}": value
                for key, value in summary(short_timings, short=True).items()
            }
            if args.short_queries
            else {}
        ),
    }
    print(json.dumps(result, indent=1))
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
