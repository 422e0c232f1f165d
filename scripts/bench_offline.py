#!/usr/bin/env python
"""Offline transcription against plain faster-whisper: accuracy and speed, file by file.

Runs, on every clip and stream of the evaluation set that has an exact reference:

* interp: ``transcribe_offline`` with the configured settings, the code path of
  ``interp transcribe FILE`` (same decoding, same settings loading);
* plain: ``WhisperModel.transcribe(audio, beam_size=5, vad_filter=True,
  condition_on_previous_text=False)``, faster-whisper's own sequential decoding;

with the same loaded model object for both, the language detected (not given), and
one text normalisation (``normalise_text``: lower case, punctuation removed, fillers
kept).  Mandarin and Khmer are written without spaces between words, so they are
scored by character error rate (spaces removed) and weighted by reference
characters; every other language by WER, weighted by reference words.

Files whose reference is Whisper output ("SILVER ONLY" in the data README:
``multilingual.wav``, ``nde_khmer-audio-16k.wav``) are skipped.

The files are split once into a tuning set and a held-out set: in file-name order,
every third clip of each language starting with the second, and every second stream
starting with the second (English and French), are held out.  Settings are tuned
on the tuning set only; the held-out figures are printed on their own.  The streams
are FLEURS clips joined together, so a held-out stream contains tuning clips (and
the other way round).

Usage: .venv/bin/python scripts/bench_offline.py [--eval-dir DIR] [--set tuning]
       [--only NAME] [--reuse-plain OLD.json] [--json OUT] [--show OLD.json]

Settings come from ``interp/config.py`` and ``INTERP_*`` variables, as for ``interp``
itself: ``INTERP_ASR__OFFLINE_BATCHED=1`` measures the batched pipeline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp import config  # noqa: E402
from interp.asr.faster_whisper import transcribe_offline  # noqa: E402
from interp.audio.source import decode_file  # noqa: E402
from interp.config import SAMPLE_RATE  # noqa: E402
from interp.evaluation import normalise_text  # noqa: E402
from interp.pipeline.speech import load_speech_model  # noqa: E402

SILVER_ONLY = {"multilingual.wav", "nde_khmer-audio-16k.wav"}
"""References that are Whisper output themselves (see the data README)."""
CHARACTER_SCORED = {"zh", "km"}
"""Languages written without spaces between words: scored by character error rate."""
PLAIN_OPTIONS: dict[str, Any] = {
    "beam_size": 5,
    "vad_filter": True,
    "condition_on_previous_text": False,
}


@dataclass
class Recording:
    path: Path
    lang: str
    kind: str  # stream | clip
    reference: str
    held_out: bool = False


def language_of(path: Path) -> str:
    """The spoken language of an evaluation file, from its name (see the data README)."""
    name = path.stem
    for prefix in ("fleurs-", "fleurs_"):
        if name.startswith(prefix):
            return name[len(prefix) : len(prefix) + 2]
    if name.startswith(("ex7_", "test_")):
        return name.split("_", 1)[1][:2]
    if name == "ru":
        return "ru"
    if name.startswith("aishell"):
        return "zh"
    if name.startswith("khm_"):
        return "km"
    return "en"


def find_recordings(eval_dir: Path) -> list[Recording]:
    found = []
    for wav in sorted((eval_dir / "speech").glob("*/*.wav")):
        if wav.name in SILVER_ONLY or wav.name.endswith(".orig.wav"):
            continue
        # FLEURS clips: the FLORES sentence (cased, punctuated), as bench_asr.py scores.
        flores = wav.with_suffix(".flores.txt")
        reference = flores if flores.exists() else wav.with_suffix(".txt")
        if not reference.exists():
            continue
        kind = "stream" if wav.parent.name == "longform_concat_fleurs" else "clip"
        found.append(Recording(wav, language_of(wav), kind, reference.read_text("utf-8")))
    split_tuning_held_out(found)
    return found


def split_tuning_held_out(recordings: list[Recording]) -> None:
    """Hold out every third clip of each language and every second stream, by name.

    Clips of one language in file-name order: the 2nd, 5th, 8th ... are held out.
    Streams (one per language) in file-name order: the 2nd and 4th (en, fr).
    """
    groups: dict[tuple[str, str], list[Recording]] = {}
    for rec in recordings:
        key = ("", "stream") if rec.kind == "stream" else (rec.lang, "clip")
        groups.setdefault(key, []).append(rec)
    for (_, kind), members in groups.items():
        period = 2 if kind == "stream" else 3
        for index, rec in enumerate(sorted(members, key=lambda r: r.path.name)):
            rec.held_out = index % period == 1


def error_rate(reference: str, hypothesis: str, lang: str) -> tuple[float, int]:
    """(errors / reference units, reference units): WER, or CER where words are unspaced."""
    import jiwer

    ref, hyp = normalise_text(reference), normalise_text(hypothesis)
    if lang in CHARACTER_SCORED:
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
        return float(jiwer.cer(ref, hyp or "∅")), len(ref)
    return float(jiwer.wer(ref, hyp or "∅")), len(ref.split())


@dataclass
class Result:
    name: str
    lang: str
    kind: str
    held_out: bool
    duration_s: float
    units: int
    plain_error: float
    interp_error: float
    plain_s: float
    interp_s: float
    plain_text: str
    interp_text: str
    plain_lang: str
    interp_lang: str


def run_plain(model: Any, audio: Any) -> tuple[str, str, float]:
    began = time.perf_counter()
    segments, info = model.transcribe(audio, **PLAIN_OPTIONS)
    text = " ".join(s.text.strip() for s in segments)
    return text, info.language, time.perf_counter() - began


def run_interp(model: Any, audio: Any, asr: config.AsrSettings) -> tuple[str, str, float]:
    began = time.perf_counter()
    segments = list(transcribe_offline(model, audio, asr))
    text = " ".join(s.text for s in segments)
    langs = sorted({s.lang for s in segments})
    return text, ",".join(langs), time.perf_counter() - began


def bench(
    rec: Recording, model: Any, asr: config.AsrSettings, old_plain: dict[str, Any] | None
) -> Result:
    audio = decode_file(rec.path)
    if old_plain and rec.path.name in old_plain:
        old = old_plain[rec.path.name]
        plain_text, plain_lang, plain_s = old["plain_text"], old["plain_lang"], old["plain_s"]
    else:
        plain_text, plain_lang, plain_s = run_plain(model, audio)
    interp_text, interp_lang, interp_s = run_interp(model, audio, asr)
    plain_error, units = error_rate(rec.reference, plain_text, rec.lang)
    interp_error, _ = error_rate(rec.reference, interp_text, rec.lang)
    return Result(
        rec.path.name,
        rec.lang,
        rec.kind,
        rec.held_out,
        round(len(audio) / SAMPLE_RATE, 2),
        units,
        plain_error,
        interp_error,
        plain_s,
        interp_s,
        plain_text,
        interp_text,
        plain_lang,
        interp_lang,
    )


def ratio(interp: float, plain: float) -> float:
    if plain:
        return interp / plain
    return 1.0 if interp == 0 else float("inf")


ROW = "{:<34} {:<4} {:<6} {:>3} {:>6} {:>6} {:>7} {:>7} {:>6} {:>7} {:>7}"


def print_header(first: str) -> None:
    line = ROW.format(
        first,
        "lang",
        "kind",
        "set",
        "dur s",
        "units",
        "plain",
        "interp",
        "ratio",
        "RTF pl",
        "RTF in",
    )
    print(line)
    print("-" * len(line))


def print_row(r: Result) -> None:
    metric = "CER" if r.lang in CHARACTER_SCORED else ""
    print(
        ROW.format(
            r.name[:34],
            r.lang,
            r.kind,
            "H" if r.held_out else "T",
            f"{r.duration_s:.1f}",
            f"{r.units}{metric and 'c'}",
            f"{r.plain_error:.3f}",
            f"{r.interp_error:.3f}",
            f"{ratio(r.interp_error, r.plain_error):.2f}",
            f"{r.plain_s / r.duration_s:.3f}",
            f"{r.interp_s / r.duration_s:.3f}",
        ),
        flush=True,
    )


def aggregate(rows: list[Result]) -> dict[str, float]:
    units = sum(r.units for r in rows) or 1
    duration = sum(r.duration_s for r in rows) or 1.0
    plain = sum(r.plain_error * r.units for r in rows) / units
    interp = sum(r.interp_error * r.units for r in rows) / units
    plain_s = sum(r.plain_s for r in rows)
    interp_s = sum(r.interp_s for r in rows)
    return {
        "files": len(rows),
        "units": units,
        "audio_s": round(duration, 1),
        "plain_error": round(plain, 4),
        "interp_error": round(interp, 4),
        "ratio": round(ratio(interp, plain), 3),
        "plain_s": round(plain_s, 1),
        "interp_s": round(interp_s, 1),
        "plain_rtf": round(plain_s / duration, 4),
        "interp_rtf": round(interp_s / duration, 4),
    }


def summarise(results: list[Result]) -> dict[str, dict[str, dict[str, float]]]:
    """Per set (tuning, held-out, all), per language and overall.

    "overall" weighs WER by words and CER by characters alike; "overall (WER)" is the
    word-scored languages alone.
    """
    sets = {
        "tuning": [r for r in results if not r.held_out],
        "held-out": [r for r in results if r.held_out],
        "all": results,
    }
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for set_name, rows in sets.items():
        if not rows:
            continue
        table = {}
        for lang in sorted({r.lang for r in rows}):
            table[lang] = aggregate([r for r in rows if r.lang == lang])
        table["overall (WER)"] = aggregate([r for r in rows if r.lang not in CHARACTER_SCORED])
        table["overall"] = aggregate(rows)
        summary[set_name] = table
    return summary


def print_summary(summary: dict[str, dict[str, dict[str, float]]]) -> None:
    line = "{:<14} {:>5} {:>6} {:>7} {:>7} {:>7} {:>6} {:>8} {:>8} {:>7} {:>7}"
    for set_name, table in summary.items():
        print(f"\n{set_name}: error rate word-weighted (zh, km: CER, character-weighted)")
        head = line.format(
            "language",
            "files",
            "units",
            "audio s",
            "plain",
            "interp",
            "ratio",
            "plain s",
            "interp s",
            "RTF pl",
            "RTF in",
        )
        print(head)
        print("-" * len(head))
        for lang, row in table.items():
            print(
                line.format(
                    lang,
                    row["files"],
                    row["units"],
                    f"{row['audio_s']:.0f}",
                    f"{row['plain_error']:.4f}",
                    f"{row['interp_error']:.4f}",
                    f"{row['ratio']:.3f}",
                    f"{row['plain_s']:.1f}",
                    f"{row['interp_s']:.1f}",
                    f"{row['plain_rtf']:.3f}",
                    f"{row['interp_rtf']:.3f}",
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--set", choices=["tuning", "held-out", "all"], default="all")
    parser.add_argument("--only", help="run only files whose name contains this")
    parser.add_argument(
        "--reuse-plain",
        type=Path,
        help="take plain faster-whisper's transcripts and times from an earlier --json",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "offline.json")
    parser.add_argument("--show", type=Path, help="print the tables of an earlier --json")
    args = parser.parse_args()
    if args.show:
        reprint(args.show)
        return
    if not args.eval_dir.is_dir():
        sys.exit(f"bench_offline: evaluation data not found in {args.eval_dir}; pass --eval-dir")

    settings = config.load()
    model = load_speech_model(settings)
    recordings = find_recordings(args.eval_dir)
    if args.set != "all":
        recordings = [r for r in recordings if r.held_out == (args.set == "held-out")]
    if args.only:
        recordings = [r for r in recordings if args.only in r.path.name]
    old_plain = None
    if args.reuse_plain:
        old = json.loads(args.reuse_plain.read_text())
        old_plain = {r["name"]: r for r in old["results"]}

    # One untimed run of each first: the VAD model and the runtime load lazily.
    warm = decode_file(recordings[0].path)[: 5 * SAMPLE_RATE]
    run_plain(model, warm)
    run_interp(model, warm, settings.asr)

    print(f"model {settings.asr.model}; interp offline settings: {offline_settings(settings)}")
    print_header("file")
    results: list[Result] = []
    for rec in recordings:
        results.append(bench(rec, model, settings.asr, old_plain))
        print_row(results[-1])
        write_report(args.json, settings, results)  # a run cut short keeps what it did
    print_summary(summarise(results))
    print(f"\nwritten: {args.json}")


def write_report(path: Path, settings: config.Settings, results: list[Result]) -> None:
    report = {
        "settings": offline_settings(settings),
        "plain_options": PLAIN_OPTIONS,
        "summary": summarise(results),
        "results": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False))


def reprint(path: Path) -> None:
    """The tables of an earlier ``--json``, without running anything."""
    report = json.loads(path.read_text())
    results = [Result(**r) for r in report["results"]]
    print(f"{path}: interp offline settings: {report['settings']}")
    print_header("file")
    for result in results:
        print_row(result)
    print_summary(summarise(results))


def offline_settings(settings: config.Settings) -> dict[str, Any]:
    asr = settings.asr
    return {
        f: getattr(asr, f)
        for f in asr.__dataclass_fields__
        if f.startswith("offline") or f.endswith("threshold") or f in ("model", "language")
    }


if __name__ == "__main__":
    main()
