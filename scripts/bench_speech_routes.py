#!/usr/bin/env python3
"""A final into English: Whisper's speech translation, or its recognised text and a text engine.

On the FLEURS clips of ``speech/speech_translation_fleurs_flores`` (German, Spanish,
French, Chinese, with FLORES-200 English references), every route a session can take
for a final's English:

* **plain**: faster-whisper's own ``transcribe(task="translate")`` over the clip (beam
  5, its 30 s window, temperature fallback), what a user of faster-whisper would call;
* **speech**: interp's ``translate_speech``, the route of a floor no text engine
  leaves: the encoder sees the clip plus a margin, one decode, as background work on
  the shared model.  Swept over the beam (1, 2, 5) and the margin (4 and 8 s);
* **text**: the clip recognised as a live closing pass recognises it
  (``FasterWhisperRecognizer``, the session's settings), then the installed text
  engine (Apertium es→en, fr→es→en; Argos zh→en), where one serves the pair.  Its time
  is the engine's alone: the recognition is done for the captions anyway.

Clips 000-004 of each language are the tuning split, on which the beam and margin were
chosen; 005-009 and the Chinese clips are held out and reported on their own.  For each
route, language and split: chrF++ (sacrebleu, corpus level) and the milliseconds per
clip (median, max) on an otherwise idle model.

Usage: scripts/bench_speech_routes.py [--eval-dir ../shared/eval] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp import config  # noqa: E402
from interp.audio.source import decode_file  # noqa: E402
from interp.config import SAMPLE_RATE  # noqa: E402
from interp.events import join_words  # noqa: E402
from interp.translation.service import installed_service  # noqa: E402

TABLE = (
    Path("speech")
    / "speech_translation_fleurs_flores"
    / "fleurs_clips_with_flores_translations.tsv"
)
TUNING = {f"-00{i}." for i in range(5)}
"""Clip names of the tuning split; every other clip is held out."""
BEAMS = (1, 2, 5)
MARGINS_S = (4.0, 8.0)


@dataclasses.dataclass
class Clip:
    name: str
    language: str
    reference: str
    audio: Any
    split: str


def chrf(hypotheses: list[str], references: list[str]) -> float:
    from sacrebleu.metrics.chrf import CHRF

    return round(CHRF(word_order=2).corpus_score(hypotheses, [references]).score, 1)


def load_clips(eval_dir: Path) -> list[Clip]:
    with (eval_dir / TABLE).open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["source_lang"] != "en"]
    clips = []
    for row in rows:
        path = eval_dir / "speech" / row["audio_16k_wav"]
        if not path.is_file():
            print(f"absent: {row['audio_16k_wav']}", file=sys.stderr)
            continue
        split = "tuning" if any(mark in path.name for mark in TUNING) else "held-out"
        clips.append(Clip(path.name, row["source_lang"], row["ref_en"], decode_file(path), split))
    return clips


def plain(model: Any, settings: config.Settings) -> Callable[[Clip], str]:
    def run(clip: Clip) -> str:
        segments, _ = model.transcribe(
            clip.audio,
            language=clip.language,
            task="translate",
            beam_size=5,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    return run


def speech(
    model: Any, settings: config.Settings, beam: int, margin: float
) -> Callable[[Clip], str]:
    from interp.asr.faster_whisper import translate_speech

    asr = dataclasses.replace(
        settings.asr, speech_translation_beam_size=beam, encoder_margin_s=margin
    )
    return lambda clip: translate_speech(model, clip.audio, clip.language, "", asr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--json", type=Path, help="also write the figures and outputs here")
    args = parser.parse_args(argv)

    from interp.asr.faster_whisper import FasterWhisperRecognizer
    from interp.pipeline.speech import load_speech_model

    settings = config.load(environ={})
    clips = load_clips(args.eval_dir)
    if not clips:
        print(f"no FLEURS clip found under {args.eval_dir / 'speech'}", file=sys.stderr)
        return 1
    model = load_speech_model(settings)
    service = installed_service(settings.models_dir, settings.translation.threads)
    recognizer = FasterWhisperRecognizer(model, settings.asr)
    # Warm the model and every text engine before anything is timed.
    recognizer.transcribe(clips[0].audio[: 2 * SAMPLE_RATE], language="de", prompt="")
    languages = sorted({clip.language for clip in clips})
    engines = {lang: service.route(lang, "en") for lang in languages}
    for lang, route in engines.items():
        if route is not None:
            service.translate(["Hallo."], lang, "en")

    routes: dict[str, Callable[[Clip], str]] = {"plain (beam 5, 30 s)": plain(model, settings)}
    for beam in BEAMS:
        for margin in MARGINS_S:
            routes[f"speech beam {beam}, margin {margin:g} s"] = speech(
                model, settings, beam, margin
            )
    outputs: dict[str, list[tuple[Clip, str, float]]] = {name: [] for name in routes}
    outputs["text (recognised, then engine)"] = []
    for clip in clips:
        for name, route in routes.items():
            began = time.perf_counter()
            english = route(clip)
            outputs[name].append((clip, english, time.perf_counter() - began))
        if engines[clip.language] is not None:
            heard = recognizer.transcribe(clip.audio, language=clip.language, prompt="")
            began = time.perf_counter()
            (english,) = service.translate([join_words(heard.words)], clip.language, "en")
            outputs["text (recognised, then engine)"].append(
                (clip, english, time.perf_counter() - began)
            )
        print(f"{clip.name} done", file=sys.stderr, flush=True)
    service.close()

    table: list[dict[str, Any]] = []
    print(f"\n{'route':<32} {'language':<8} {'split':<9} {'clips':>5} {'chrF++':>6} "
          f"{'ms median':>9} {'ms max':>7}")  # fmt: skip
    groups = [(lang, split) for lang in languages for split in ("tuning", "held-out")]
    groups += [("all", "tuning"), ("all", "held-out"), ("all", "all")]
    for name, results in outputs.items():
        for lang, split in groups:
            chosen = [
                r for r in results
                if split in (r[0].split, "all") and lang in (r[0].language, "all")
            ]  # fmt: skip
            if not chosen:
                continue
            row = {
                "route": name, "language": lang, "split": split, "clips": len(chosen),
                "chrf++": chrf([r[1] for r in chosen], [r[0].reference for r in chosen]),
                "ms_median": round(1000 * statistics.median(r[2] for r in chosen)),
                "ms_max": round(1000 * max(r[2] for r in chosen)),
            }  # fmt: skip
            table.append(row)
            print(f"{name:<32} {lang:<8} {split:<9} {row['clips']:>5} {row['chrf++']:>6} "
                  f"{row['ms_median']:>9} {row['ms_max']:>7}")  # fmt: skip
    for lang, route in engines.items():
        print(f"text route {lang}→en: {route.describe() if route else 'none installed'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        detail = {
            name: [{"clip": c.name, "english": e, "ms": round(1000 * t)} for c, e, t in results]
            for name, results in outputs.items()
        }
        args.json.write_text(
            json.dumps({"table": table, "outputs": detail}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
