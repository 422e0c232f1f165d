#!/usr/bin/env python
"""Speech recognition benchmark: WER, latency, speed and memory on the evaluation set.

For each recording it runs the offline transcription (batched, beam 5) and the live
pipeline on a simulated real-time clock (computation-aware), and reports:

* offline and streaming WER, after one text normalisation (``normalise_text``);
* first text: from the start of each segment's speech to its first event;
* final latency: ``emitted_at - end`` of every final (median and p95);
* RTF of both modes, and RSS;
* the record pass (``--record``): each final's audio decoded again as the server's
  record pass decodes it (the finals grouped into utterances, each utterance decoded by
  ``record_words``: beam 5, Whisper's full window, the previous record as context), and
  its WER against the same reference, beside offline's.

``--load N`` keeps N cores busy with spinning processes while it measures, as a
venue's machine is busy with a browser, the recorder or a second room.

``--sweep KEY=V1,V2,...`` measures the live pipeline once per value of one streaming
setting (``commit_horizon_s=0,1,2``) on the same files, offline once: per value and
language, the word-weighted WER and its ratio to offline, first text and final
latency; this is how the streaming settings' values are chosen and their sensitivity
shown.

``--soak-minutes N`` loops the long streams through one live pipeline for N minutes
of audio and reports lag and RSS over time.

Usage: .venv/bin/python scripts/bench_asr.py [--eval-dir DIR] [--all-clips] [--record]
       [--split tuning|held-out] [--load 1] [--sweep KEY=V1,V2] [--soak-minutes 30]
       [--json OUT]
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp import config  # noqa: E402
from interp.asr.faster_whisper import record_words, transcribe_offline  # noqa: E402
from interp.audio.source import decode_file  # noqa: E402
from interp.config import SAMPLE_RATE  # noqa: E402
from interp.evaluation import normalise_text  # noqa: E402
from interp.evaluation import word_error_rate as wer  # noqa: E402
from interp.events import CommittedSegment  # noqa: E402
from interp.pipeline.record import record_events  # noqa: E402
from interp.pipeline.simulate import simulate_realtime  # noqa: E402
from interp.pipeline.speech import load_speech_model, new_transcriber  # noqa: E402

LANGUAGES = ("en", "fr", "es", "de")


@dataclass
class Recording:
    path: Path
    lang: str
    reference: str
    kind: str  # stream | clip


HELD_OUT_STREAMS = ("es", "de")
"""The record pass's settings were chosen on the other streams and clips 000-004: these
streams and clips 005-009 are held out (``--split held-out``)."""


def split_of(rec: Recording) -> str:
    if rec.kind == "stream":
        return "held-out" if rec.lang in HELD_OUT_STREAMS else "tuning"
    number = rec.path.stem.rsplit("-", 1)[-1]
    return "held-out" if number.isdigit() and int(number) >= 5 else "tuning"


def find_recordings(eval_dir: Path, all_clips: bool) -> list[Recording]:
    speech = eval_dir / "speech"
    found = []
    for lang in LANGUAGES:
        stream = speech / "longform_concat_fleurs" / f"fleurs_{lang}_concat.wav"
        if stream.exists():
            found.append(Recording(stream, lang, stream.with_suffix(".txt").read_text(), "stream"))
        clips = sorted((speech / "fleurs_cuttledoc").glob(f"fleurs-{lang}-*.wav"))
        for clip in clips if all_clips else clips[:3]:
            reference = clip.with_suffix(".flores.txt")
            found.append(Recording(clip, lang, reference.read_text(), "clip"))
    jfk = speech / "faster-whisper" / "jfk.wav"
    if jfk.exists():
        found.append(Recording(jfk, "en", jfk.with_suffix(".txt").read_text(), "clip"))
    return found


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Result:
    name: str
    lang: str
    kind: str
    duration_s: float
    offline_wer: float = 0.0
    stream_wer: float = 0.0
    offline_rtf: float = 0.0
    stream_rtf: float = 0.0
    first_text_median_s: float = 0.0
    first_text_max_s: float = 0.0
    final_latency_median_s: float = 0.0
    final_latency_p95_s: float = 0.0
    finals: int = 0
    reference_words: int = 0
    rss_mb: float = 0.0
    stream_text: str = ""
    offline_text: str = ""
    record_wer: float | None = None
    record_text: str = ""
    record_s_per_final: float = 0.0
    final_latencies: list[float] = field(default_factory=list)
    first_texts: list[float] = field(default_factory=list)


def run_stream(settings: config.Settings, model: Any, audio: np.ndarray, language: str | None):
    transcriber = new_transcriber(settings, model)
    first_seen: dict[int, float] = {}
    events: list[tuple[Any, float]] = []
    began = time.perf_counter()
    for event, emitted_at in simulate_realtime(transcriber, audio):
        first_seen.setdefault(event.segment, emitted_at - event.start)
        events.append((event, emitted_at))
    return events, first_seen, time.perf_counter() - began


def record_pass(
    settings: config.Settings, model: Any, audio: np.ndarray, events: list[tuple[Any, float]]
) -> tuple[str, float]:
    """The record pass over a stream's events, as the server runs it; its text and s/final.

    The finals are grouped into utterances as the server groups them (by the events in
    their order, on the emitted clock), and each utterance's audio is decoded by
    ``record_words``; a final the record gives no words keeps its live text.
    """
    finals = [event for event, _ in events if isinstance(event, CommittedSegment)]
    decode = functools.partial(record_words, model, settings=settings.asr)
    began = time.perf_counter()
    records = record_events(
        lambda x, lang, prompt, end: decode(x, lang, prompt, end), events, audio, settings.asr
    )
    spent = time.perf_counter() - began
    return " ".join(records.get(f.segment, f.text) for f in finals), spent / max(1, len(finals))


def offline_result(
    rec: Recording, settings: config.Settings, model: Any, audio: np.ndarray
) -> Result:
    """A recording's result with its offline transcription measured."""
    duration = len(audio) / SAMPLE_RATE
    result = Result(rec.path.name, rec.lang, rec.kind, round(duration, 1))
    result.reference_words = len(normalise_text(rec.reference).split()) or 1
    began = time.perf_counter()
    offline = list(transcribe_offline(model, audio, settings.asr))
    result.offline_rtf = (time.perf_counter() - began) / duration
    result.offline_text = " ".join(s.text for s in offline)
    result.offline_wer = wer(rec.reference, result.offline_text)
    return result


def measure_stream(
    result: Result, rec: Recording, settings: config.Settings, model: Any, audio: np.ndarray
) -> list[tuple[Any, float]]:
    """Run the live pipeline on ``audio`` and fill the result's streaming fields."""
    events, first_seen, compute = run_stream(settings, model, audio, rec.lang)
    finals = [(e, at) for e, at in events if isinstance(e, CommittedSegment)]
    result.stream_rtf = compute / (len(audio) / SAMPLE_RATE)
    result.stream_text = " ".join(f.text for f, _ in finals)
    result.stream_wer = wer(rec.reference, result.stream_text)
    result.final_latencies = [round(at - f.end, 3) for f, at in finals]
    result.first_texts = [round(v, 3) for v in first_seen.values()]
    result.finals = len(finals)
    result.final_latency_median_s = statistics.median(result.final_latencies or [float("nan")])
    result.final_latency_p95_s = percentile(result.final_latencies, 95)
    result.first_text_median_s = statistics.median(result.first_texts or [float("nan")])
    result.first_text_max_s = max(result.first_texts or [float("nan")])
    return events


def bench_file(
    rec: Recording,
    settings: config.Settings,
    model: Any,
    fixed_language: bool,
    with_record: bool = False,
) -> Result:
    import dataclasses

    audio = decode_file(rec.path)
    if fixed_language:
        settings = dataclasses.replace(
            settings, asr=dataclasses.replace(settings.asr, language=rec.lang)
        )
    result = offline_result(rec, settings, model, audio)
    events = measure_stream(result, rec, settings, model, audio)
    if with_record:
        result.record_text, result.record_s_per_final = record_pass(settings, model, audio, events)
        result.record_wer = wer(rec.reference, result.record_text)
    result.rss_mb = psutil.Process().memory_info().rss / 1e6
    return result


def sweep(
    recordings: list[Recording], settings: config.Settings, model: Any, key: str, values: list[str]
) -> list[dict[str, Any]]:
    """The live pipeline once per value of ``settings.asr.<key>``; offline once per file."""
    import dataclasses

    kind = type(getattr(settings.asr, key))
    runs = {value: dataclasses.replace(settings, asr=dataclasses.replace(
        settings.asr, **{key: kind(value)})) for value in values}  # fmt: skip
    results: dict[str, list[Result]] = {value: [] for value in values}
    for rec in recordings:
        audio = decode_file(rec.path)
        offline = offline_result(rec, settings, model, audio)
        line = [f"{rec.path.name[:24]:<24} offline {offline.offline_wer:.3f}"]
        for value, run in runs.items():
            result = dataclasses.replace(offline)
            measure_stream(result, rec, run, model, audio)
            results[value].append(result)
            line.append(f"{key}={value} {result.stream_wer:.3f}")
        print("  ".join(line), flush=True)
    table = []
    print(f"\nsweep of {key} (word-weighted WER per language; ratio to offline; seconds)")
    for value in values:
        summary = summarise(results[value])
        langs = sorted(lang for lang in summary if lang != "all")
        words = sum(r.reference_words for r in results[value])
        total = sum(r.stream_wer * r.reference_words for r in results[value]) / words
        offline_total = sum(r.offline_wer * r.reference_words for r in results[value]) / words
        entry = {
            key: value,
            "wer": round(total, 4),
            "ratio": round(total / offline_total, 3) if offline_total else None,
            "wer_by_language": {lang: summary[lang]["stream_wer"] for lang in langs},
            "ratio_by_language": {lang: summary[lang]["ratio"] for lang in langs},
            "first_text_median_s": summary["all"]["first_text_median_s"],
            "final_latency_median_s": summary["all"]["final_latency_median_s"],
            "final_latency_p95_s": summary["all"]["final_latency_p95_s"],
        }
        table.append(entry)
        print(json.dumps(entry))
    offline_langs = {lang: summary[lang]["offline_wer"] for lang in langs}
    print(json.dumps({"offline_wer_by_language": offline_langs}))
    return table


def print_table(results: list[Result], header: bool = True) -> None:
    header_line = (
        f"{'file':<24} {'lang':<4} {'dur s':>6} {'WER off':>8} {'WER str':>8} {'ratio':>6} "
        f"{'1st txt':>8} {'fin p50':>8} {'fin p95':>8} {'RTF off':>8} {'RTF str':>8} {'RSS MB':>7}"
        f" {'WER rec':>8} {'ratio':>6} {'s/fin':>6}"
    )
    if header:
        print(header_line)
        print("-" * len(header_line))
    for r in results:
        ratio = r.stream_wer / r.offline_wer if r.offline_wer else float("nan")
        record = (
            ""
            if r.record_wer is None
            else (
                f" {r.record_wer:>8.3f} "
                f"{r.record_wer / r.offline_wer if r.offline_wer else float('nan'):>6.2f} "
                f"{r.record_s_per_final:>6.2f}"
            )
        )
        print(
            f"{r.name[:24]:<24} {r.lang:<4} {r.duration_s:>6.1f} {r.offline_wer:>8.3f} "
            f"{r.stream_wer:>8.3f} {ratio:>6.2f} {r.first_text_median_s:>8.2f} "
            f"{r.final_latency_median_s:>8.2f} {r.final_latency_p95_s:>8.2f} "
            f"{r.offline_rtf:>8.3f} {r.stream_rtf:>8.3f} {r.rss_mb:>7.0f}{record}",
            flush=True,
        )


def summarise(results: list[Result]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for lang in sorted({r.lang for r in results}):
        rows = [r for r in results if r.lang == lang]
        words = sum(r.reference_words for r in rows)
        offline = sum(r.offline_wer * r.reference_words for r in rows) / words
        stream = sum(r.stream_wer * r.reference_words for r in rows) / words
        summary[lang] = {
            "offline_wer": round(offline, 4),
            "stream_wer": round(stream, 4),
            "ratio": round(stream / offline, 3) if offline else None,
        }
        if all(r.record_wer is not None for r in rows):
            record = sum((r.record_wer or 0.0) * r.reference_words for r in rows) / words
            summary[lang]["record_wer"] = round(record, 4)
            summary[lang]["record_ratio"] = round(record / offline, 3) if offline else None
    latencies = [v for r in results for v in r.final_latencies]
    firsts = [v for r in results for v in r.first_texts]
    summary["all"] = {
        "final_latency_median_s": round(statistics.median(latencies), 3),
        "final_latency_p95_s": round(percentile(latencies, 95), 3),
        "first_text_median_s": round(statistics.median(firsts), 3),
        "first_text_p95_s": round(percentile(firsts, 95), 3),
        "rss_at_end_mb": round(psutil.Process().memory_info().rss / 1e6, 1),
        # ru_maxrss is in KiB on Linux: the high-water mark of the whole run.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1),
    }
    return summary


def soak(
    settings: config.Settings, model: Any, eval_dir: Path, minutes: float
) -> list[dict[str, float]]:
    """Loop the long streams through one live pipeline; sample lag and RSS each minute."""
    streams = sorted((eval_dir / "speech" / "longform_concat_fleurs").glob("fleurs_*_concat.wav"))
    audio = np.concatenate([decode_file(p) for p in streams])
    total = int(minutes * 60 * SAMPLE_RATE)
    looped = np.resize(audio, total)  # repeats the streams end to end
    transcriber = new_transcriber(settings, model)
    process = psutil.Process()
    samples: list[dict[str, float]] = []
    next_report = [60.0]
    worst_lag = [0.0]

    def sample(audio_s: float, now_s: float) -> None:
        # Lag: how far the simulated clock has run past the audio consumed, i.e. how
        # much audio waits unprocessed; the worst value of each minute is kept.
        worst_lag[0] = max(worst_lag[0], now_s - audio_s)
        if audio_s < next_report[0]:
            return
        next_report[0] += 60.0
        row = {
            "audio_min": round(audio_s / 60, 2),
            "max_lag_s": round(worst_lag[0], 3),
            "rss_mb": round(process.memory_info().rss / 1e6, 1),
            "buffer_s": round(transcriber.buffer_seconds, 1),
        }
        worst_lag[0] = 0.0
        samples.append(row)
        print(
            f"  {row['audio_min']:6.2f} min  max lag {row['max_lag_s']:5.2f} s  "
            f"RSS {row['rss_mb']:7.1f} MB  buffer {row['buffer_s']:4.1f} s",
            flush=True,
        )

    print(f"soak: {minutes:.0f} min of audio, simulated real time")
    for _ in simulate_realtime(transcriber, looped, on_feed=sample):
        pass
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--all-clips", action="store_true", help="every FLEURS clip, not 3 per language"
    )
    parser.add_argument(
        "--language",
        choices=["auto", "fixed"],
        default="auto",
        help="detect the language (auto) or give the reference language (fixed)",
    )
    parser.add_argument("--only", help="run only files whose name contains this")
    parser.add_argument(
        "--split", choices=["tuning", "held-out"], help="only the tuning or held-out files"
    )
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument(
        "--sweep", help="KEY=V1,V2: the live pipeline once per value of an AsrSettings field"
    )
    parser.add_argument("--record", action="store_true", help="also measure the record pass")
    parser.add_argument(
        "--load", type=int, default=0, help="cores kept busy by spinning processes meanwhile"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "asr.json")
    args = parser.parse_args()
    if not args.eval_dir.is_dir():
        sys.exit(f"bench_asr: evaluation data not found in {args.eval_dir}; pass --eval-dir")

    settings = config.load()
    spinners = busy_cores(args.load)
    began = time.perf_counter()
    model = load_speech_model(settings)
    print(
        f"model {settings.asr.model} loaded in {time.perf_counter() - began:.2f} s; "
        f"RSS {psutil.Process().memory_info().rss / 1e6:.0f} MB"
    )
    report: dict[str, Any] = {
        "settings": {"asr": vars_of(settings.asr), "vad": vars_of(settings.vad)}
    }
    if args.soak_minutes:
        report["soak"] = soak(settings, model, args.eval_dir, args.soak_minutes)
        lags = [row["max_lag_s"] for row in report["soak"]]
        rss = [row["rss_mb"] for row in report["soak"]]
        print(
            f"soak: worst lag in the first/last minute and overall "
            f"{lags[0]:.2f}/{lags[-1]:.2f}/{max(lags):.2f} s; "
            f"RSS growth after the first minute {rss[-1] - rss[0]:.1f} MB"
        )
    else:
        recordings = find_recordings(args.eval_dir, args.all_clips)
        if args.only:
            recordings = [r for r in recordings if args.only in r.path.name]
        if args.split:
            recordings = [r for r in recordings if split_of(r) == args.split]
        if args.sweep:
            key, _, values = args.sweep.partition("=")
            report["split"] = args.split
            report["sweep"] = sweep(recordings, settings, model, key, values.split(","))
        else:
            results = []
            for rec in recordings:
                result = bench_file(rec, settings, model, args.language == "fixed", args.record)
                results.append(result)
                print_table([result], header=len(results) == 1)
            print()
            print_table(results)
            summary = summarise(results)
            print()
            for lang, row in summary.items():
                print(f"{lang:<4} {json.dumps(row)}")
            report["results"] = [vars(r) for r in results]
            report["summary"] = summary
    for spinner in spinners:
        spinner.terminate()
    report["load"] = args.load
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print(f"\nwritten: {args.json}")


def _spin() -> None:
    while True:
        pass


def busy_cores(count: int) -> list[Any]:
    """``count`` processes that keep a core busy each until terminated."""
    import multiprocessing

    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    return spinners


def vars_of(obj: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


if __name__ == "__main__":
    main()
