#!/usr/bin/env python3
"""Translation benchmark: quality, speed and glossary handling of every installed pair.

For each pair between the FLORES-200 devtest languages (en fr es de ru zh ar km) that
the installed backends serve, directly or in two legs, it reports on the first N
sentences of ``eval/text/mt_flores200_devtest``:

* chrF++ and BLEU (sacrebleu) through interp's wrapper, and chrF++ of the engine
  called directly on the same sentences (the wrapper must lose nothing);
* milliseconds per sentence, one sentence at a time as finals arrive (median, p95);
* glossary terms the engine kept in its own sentence, on the concept note's sentences
  that contain a term.  ``translate_with_glossary`` sends each term through the engine
  as a placeholder and writes the glossary's rendering in its place, so the rendering
  itself is always there; what can fail is the engine's handling of the placeholder.
  Where it loses or mangles one, the sentence is translated in pieces around its terms
  instead, and the terms sit in a patchwork rather than in a sentence the engine made.
  The column counts the terms whose sentence came back with every placeholder intact.

``--live`` also replays an English stream at real pace through recognition and
translation into five languages at once, and reports whether translation keeps up:
for each final, the delay from the final to the last of its translations (median,
p95, max over finals), and the final latency beside it.

Usage: scripts/bench_mt.py [--eval-dir ../shared/eval] [--sentences 200] [--live]
       [--no-pairs] [--no-speech]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp import config  # noqa: E402
from interp.audio.pcm import Samples  # noqa: E402
from interp.evaluation import percentile  # noqa: E402
from interp.glossary import Glossary, load_glossary  # noqa: E402
from interp.translation.apertium import installed_modes  # noqa: E402
from interp.translation.service import TranslationService, installed_service  # noqa: E402

FLORES_LANGUAGES = ("en", "fr", "es", "de", "ru", "zh", "ar", "km")
GLOSSARY = ROOT / "interp" / "data" / "glossary" / "iptp-plenary.toml"
LIVE_TARGETS = ["es", "fr", "ca", "pt", "it"]


def scores(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    chrf = CHRF(word_order=2).corpus_score(hypotheses, [references]).score
    bleu = BLEU().corpus_score(hypotheses, [references]).score
    return round(chrf, 1), round(bleu, 1)


def apertium_directly(lines: list[str], legs: list[tuple[str, str]]) -> list[str]:
    """The engine as its own command runs it: ``apertium -u MODE``, leg after leg."""
    modes = installed_modes()
    text = "\n".join(lines) + "\n"
    for leg in legs:
        text = subprocess.run(
            ["apertium", "-u", modes[leg]], input=text, capture_output=True, text=True, check=True
        ).stdout
    return text.rstrip("\n").split("\n")


def concept_note_sentences(eval_dir: Path, glossary: Glossary) -> list[str]:
    note = eval_dir.parent / "seed" / "concept-note.txt"
    if not note.is_file():
        return []
    text = " ".join(note.read_text(encoding="utf-8").split())
    sentences = re.split(r"(?<=[.;:])\s+", text)
    return [s for s in sentences if glossary.marks(s, "en") and len(s) < 600]


def glossary_in_sentence(
    service: TranslationService, glossary: Glossary, sentences: list[str], target: str
) -> tuple[int, int, int]:
    """Terms kept in the engine's own sentence, all protected terms, sentences in pieces.

    The first step of ``translate_with_glossary``: protect, translate, restore.  A
    sentence whose placeholders do not all come back intact is the one it translates
    in pieces; its terms do not count.
    """
    if service.route("en", target) is None:
        return 0, 0, 0
    protected = [glossary.protect(sentence, "en", target) for sentence in sentences]
    translated = service.translate([item.text for item in protected], "en", target)
    kept = total = in_pieces = 0
    for item, text in zip(protected, translated, strict=True):
        if not item.renderings:
            continue
        total += len(item.renderings)
        if item.restore(text) is None:
            in_pieces += 1
        else:
            kept += len(item.renderings)
    return kept, total, in_pieces


def bench_pairs(args: argparse.Namespace, service: TranslationService) -> list[dict[str, Any]]:
    flores = args.eval_dir / "text" / "mt_flores200_devtest"
    corpus = {
        lang: (flores / f"flores200_devtest.{lang}")
        .read_text(encoding="utf-8")
        .splitlines()[: args.sentences]
        for lang in FLORES_LANGUAGES
        if (flores / f"flores200_devtest.{lang}").is_file()
    }
    glossary = load_glossary(GLOSSARY)
    note = concept_note_sentences(args.eval_dir, glossary)
    rows = []
    for source in corpus:
        for target in corpus:
            route = service.route(source, target) if source != target else None
            if route is None:
                continue
            service.translate([corpus[source][0]], source, target)  # warm the engines
            hypotheses, times = [], []
            for sentence in corpus[source]:
                began = time.perf_counter()
                hypotheses.extend(service.translate([sentence], source, target))
                times.append((time.perf_counter() - began) * 1000)
            chrf, bleu = scores(hypotheses, corpus[target])
            row: dict[str, Any] = {
                "pair": f"{source}-{target}",
                "route": route.describe(),
                "sentences": len(hypotheses),
                "chrf++": chrf,
                "bleu": bleu,
                "ms_median": round(statistics.median(times), 1),
                "ms_p95": round(percentile(times, 0.95), 1),
            }
            if all(leg.backend == "apertium" for leg in route.legs):
                direct = apertium_directly(
                    corpus[source], [(leg.source, leg.target) for leg in route.legs]
                )
                row["chrf++_engine_direct"] = scores(direct, corpus[target])[0]
            if source == "en" and note:
                kept, total, in_pieces = glossary_in_sentence(service, glossary, note, target)
                if total:
                    row["glossary_in_sentence"] = f"{kept}/{total}"
                    row["glossary_sentences_in_pieces"] = in_pieces
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows


def whole_clip(audio: Samples) -> Callable[[float, float], Samples]:
    """The audio source of a speech translation that is given the whole clip."""
    return lambda start, end: audio


def bench_speech(args: argparse.Namespace, settings: config.Settings) -> list[dict[str, Any]]:
    """Whisper's translation into English, from FLEURS speech with FLORES references.

    Also English on into Spanish and French through the installed text engines, as
    ``--targets en,es,fr`` does for a floor language no text engine leaves.
    """
    import csv

    from interp.audio.source import decode_file
    from interp.pipeline.speech import load_speech_model
    from interp.translation.speech import SpeechTranslator

    table = args.eval_dir / "speech" / "speech_translation_fleurs_flores"
    rows_in = list(
        csv.DictReader((table / "fleurs_clips_with_flores_translations.tsv").open(), delimiter="\t")
    )
    model = load_speech_model(settings)
    service = installed_service(settings.models_dir)
    by_language: dict[str, list[dict[str, str]]] = {}
    for row in rows_in:
        if (
            row["source_lang"] != "en"
            and (args.eval_dir / "speech" / row["audio_16k_wav"]).is_file()
        ):
            by_language.setdefault(row["source_lang"], []).append(row)
    results = []
    try:
        for language, clips in sorted(by_language.items()):
            english: list[str] = []
            references: dict[str, list[str]] = {"en": [], "es": [], "fr": []}
            times: list[float] = []
            for clip in clips:
                audio = decode_file(args.eval_dir / "speech" / clip["audio_16k_wav"])
                speech = SpeechTranslator(model, settings.asr, whole_clip(audio))
                began = time.perf_counter()
                english.append(speech.translate(0.0, len(audio) / 16000, language))
                times.append((time.perf_counter() - began) * 1000)
                for lang in references:
                    references[lang].append(clip[f"ref_{lang}"])
            result: dict[str, Any] = {
                "pair": f"{language}-en (speech)",
                "route": "whisper",
                "clips": len(clips),
                "chrf++": scores(english, references["en"])[0],
                "bleu": scores(english, references["en"])[1],
                "ms_median": round(statistics.median(times), 1),
                "ms_p95": round(percentile(times, 0.95), 1),
            }
            for target in ("es", "fr"):
                if target != language and service.route("en", target):
                    onward = service.translate(english, "en", target)
                    result[f"chrf++_{target}_via_en"] = scores(onward, references[target])[0]
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        service.close()
    return results


async def live_run(args: argparse.Namespace, settings: config.Settings) -> dict[str, Any]:
    """Recognition and translation into five languages together, at real pace."""
    from interp.audio.source import FileSource
    from interp.events import CommittedSegment, Translation
    from interp.pipeline.live import run_live
    from interp.pipeline.speech import load_speech_model, new_transcriber
    from interp.pipeline.workers import ModelWorker
    from interp.translation.stage import TranslationStage

    recording = args.eval_dir / "speech" / "longform_concat_fleurs" / "fleurs_en_concat.wav"
    service = installed_service(settings.models_dir)
    targets = [t for t in LIVE_TARGETS if service.route("en", t)]
    worker = ModelWorker("speech")
    model = await worker.run(load_speech_model, settings)
    transcriber = await worker.run(new_transcriber, settings, model)
    final_at: dict[int, float] = {}
    final_latency: list[float] = []
    arrived: dict[int, dict[str, float]] = {}  # final → target → delay of its translation
    failures = 0
    received = 0.0

    def on_translation(result: Any) -> None:
        nonlocal failures
        if isinstance(result, Translation):
            delay = time.perf_counter() - final_at[result.segment]
            arrived.setdefault(result.segment, {})[result.lang] = delay
        else:
            failures += 1

    stage = TranslationStage(
        service, load_glossary(GLOSSARY), targets, on_translation, lambda: received, "en"
    )

    def on_event(event: Any, at: float) -> None:
        nonlocal received
        received = at
        if isinstance(event, CommittedSegment):
            final_at[event.segment] = time.perf_counter()
            final_latency.append(at - event.end)
            stage.submit(event)

    async def recognise() -> float:
        try:
            source = FileSource(recording, settings.audio.chunk_ms, 1.0)
            return await run_live(source, transcriber, worker, on_event)
        finally:
            stage.finish()

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        audio = group.create_task(recognise())
        group.create_task(stage.run())
    wall = time.perf_counter() - began
    worker.close()
    service.close()
    # Per final: the delay to the last of its translations, once every target has one.
    last = [max(by_lang.values()) for by_lang in arrived.values() if len(by_lang) == len(targets)]
    return {
        "recording": recording.name,
        "audio_s": round(audio.result(), 1),
        "wall_s": round(wall, 1),
        "targets": targets,
        "finals": len(final_at),
        "finals_with_every_translation": len(last),
        "translations": {t: sum(t in by_lang for by_lang in arrived.values()) for t in targets},
        "failures": failures,
        "last_translation_delay_ms_median": round(statistics.median(last) * 1000, 1)
        if last
        else None,
        "last_translation_delay_ms_p95": round(percentile(last, 0.95) * 1000, 1) if last else None,
        "last_translation_delay_ms_max": round(max(last) * 1000, 1) if last else None,
        "final_latency_median_s": round(statistics.median(final_latency), 2),
        "final_latency_p95_s": round(percentile(final_latency, 0.95), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--live", action="store_true", help="also run the 5-language live test")
    parser.add_argument("--no-pairs", action="store_true", help="skip the table of text pairs")
    parser.add_argument(
        "--no-speech", action="store_true", help="skip Whisper's speech translation"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "mt.json")
    args = parser.parse_args(argv)
    overrides = {"models_dir": args.models_dir} if args.models_dir else {}
    settings = config.load(overrides=overrides)
    rows = []
    if not args.no_pairs:
        service = installed_service(settings.models_dir)
        try:
            rows = bench_pairs(args, service)
        finally:
            service.close()
    if rows:
        print(f"\n{'pair':<7} {'route':<34} {'chrF++':>6} {'direct':>6} {'BLEU':>5} "
              f"{'ms med':>6} {'ms p95':>6} {'glossary in sentence':>20}")  # fmt: skip
        for row in rows:
            print(
                f"{row['pair']:<7} {row['route'][:34]:<34} {row['chrf++']:>6} "
                f"{row.get('chrf++_engine_direct', '-'):>6} {row['bleu']:>5} "
                f"{row['ms_median']:>6} {row['ms_p95']:>6} "
                f"{row.get('glossary_in_sentence', '-'):>20}"
            )
    result: dict[str, Any] = {"pairs": rows}
    if not args.no_speech:
        result["speech"] = bench_speech(args, settings)
        print(f"\n{'speech':<18} {'chrF++':>6} {'BLEU':>5} {'ms med':>7} {'→es':>5} {'→fr':>5}")
        for row in result["speech"]:
            print(
                f"{row['pair']:<18} {row['chrf++']:>6} {row['bleu']:>5} {row['ms_median']:>7} "
                f"{row.get('chrf++_es_via_en', '-'):>5} {row.get('chrf++_fr_via_en', '-'):>5}"
            )
    if args.live:
        result["live"] = asyncio.run(live_run(args, settings))
        print("\nlive, five targets alongside recognition (delay: final → its last translation):")
        print(json.dumps(result["live"], indent=1, ensure_ascii=False))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
