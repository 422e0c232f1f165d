#!/usr/bin/env python3
"""Archive benchmark: a million segments in eight languages, then search.

Builds an archive of N final segments (default 1,000,000) from the FLORES-200 devtest
sentences in en fr es de ru zh ar km, through the same ``Archive.write`` the server
uses, in batches as the writer thread commits them. It reports:

* insert throughput (segments per second) and the database size;
* search latency, p50 and p95, for words drawn from the corpus in every language
  (including Khmer and Chinese), with and without a language filter.

Usage: scripts/bench_archive.py [--segments 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp.archive.store import Archive  # noqa: E402
from interp.evaluation import percentile  # noqa: E402
from interp.wire import Message  # noqa: E402

LANGUAGES = ("en", "fr", "es", "de", "ru", "zh", "ar", "km")
PER_SESSION = 2000


def corpus(eval_dir: Path) -> dict[str, list[str]]:
    flores = eval_dir / "text" / "mt_flores200_devtest"
    return {
        lang: (flores / f"flores200_devtest.{lang}").read_text(encoding="utf-8").splitlines()
        for lang in LANGUAGES
    }


def build(path: Path, texts: dict[str, list[str]], count: int, batch: int) -> float:
    archive = Archive(path)
    began = time.perf_counter()
    pending: list[Message] = []
    for i in range(count):
        session = f"bench-{i // PER_SESSION:05d}"
        index = i % PER_SESSION
        if index == 0:
            pending.append(
                Message(
                    "session",
                    session,
                    0,
                    extra={
                        "state": "started",
                        "title": f"Benchmark session {i // PER_SESSION}",
                        "wall_time": 1.7e9 + i,
                    },
                )  # fmt: skip
            )
        lang = LANGUAGES[i % len(LANGUAGES)]
        sentences = texts[lang]
        pending.append(
            Message(
                "final",
                session,
                index + 1,
                f"seg-{index}",
                lang,
                sentences[(i // len(LANGUAGES)) % len(sentences)],
                index * 6.0,
                index * 6.0 + 5.0,
                index * 6.0 + 6.5,
                f"Speaker {i % 17}",
                f"Item {index // 200}",
            )  # fmt: skip
        )
        if len(pending) >= batch:
            archive.write(pending)
            pending = []
    if pending:
        archive.write(pending)
    elapsed = time.perf_counter() - began
    archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    archive.close()
    return elapsed


def queries(texts: dict[str, list[str]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    chosen = []
    for i in range(count):
        lang = LANGUAGES[i % len(LANGUAGES)]
        sentence = rng.choice(texts[lang])
        if lang in ("zh", "km"):  # no spaces between words: take a run of characters
            start = rng.randrange(max(1, len(sentence) - 4))
            word = sentence[start : start + rng.choice((3, 4))]
        else:
            words = [w.strip(".,;:!?()\"'«»") for w in sentence.split()]
            word = rng.choice([w for w in words if len(w) >= 5] or words)
        chosen.append((lang, word))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="search the archive built before")
    parser.add_argument("--db", type=Path, default=ROOT / "bench-results" / "archive-bench.sqlite")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "archive.json")
    args = parser.parse_args(argv)
    texts = corpus(args.eval_dir)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.json.read_text()) if args.reuse and args.json.is_file() else {}
    if args.reuse and args.db.is_file() and previous:
        elapsed, args.segments = previous["insert_s"], previous["segments"]
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        elapsed = build(args.db, texts, args.segments, args.batch)
    size = args.db.stat().st_size
    rate = args.segments / elapsed
    print(f"built {args.segments:,} segments in {elapsed:.0f} s: {rate:,.0f} segments/s, "
          f"{size / 1e9:.2f} GB", flush=True)  # fmt: skip
    archive = Archive(args.db, readonly=True)
    rng = random.Random(7)
    timings: dict[str, list[float]] = {"any language": [], "language filter": []}
    hits_found = []
    for lang, word in queries(texts, args.queries, rng):
        for label, filter_lang in (("any language", None), ("language filter", lang)):
            began = time.perf_counter()
            hits = archive.search(word, lang=filter_lang)
            timings[label].append((time.perf_counter() - began) * 1000)
            hits_found.append(len(hits))
    result = {
        "segments": args.segments,
        "insert_s": round(elapsed, 1),
        "segments_per_s": round(args.segments / elapsed),
        "db_bytes": size,
        "queries": args.queries,
        "queries_with_hits": sum(1 for h in hits_found if h) / len(hits_found),
        **{
            f"search_ms_{label.replace(' ', '_')}_{name}": round(fn(values), 1)
            for label, values in timings.items()
            for name, fn in (
                ("p50", statistics.median),
                ("p95", lambda v: percentile(v, 0.95)),
            )  # fmt: skip
        },
    }
    print(json.dumps(result, indent=1))
    args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
