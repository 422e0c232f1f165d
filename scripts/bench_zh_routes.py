#!/usr/bin/env python3
"""Chinese speech into English: Whisper's own translation, or Chinese text then Argos.

For every Chinese FLEURS clip of ``speech/speech_translation_fleurs_flores`` that is
present, both routes a session can take for a Chinese final's English:

* **speech**: Whisper translates the audio into English (``task="translate"``), the
  route of last resort, what a session uses where no text route leaves Chinese;
* **text**: Whisper recognises the Chinese (``task="transcribe"``), and the installed
  Argos package (``interp models install argos-zh-en``) translates the text, the
  route a session takes wherever it is installed.

Both decode the whole clip once with the session's settings (beam
``asr.offline_beam_size``), as a final's audio is decoded.  It prints chrF++ and BLEU
against the FLORES-200 English references, and the time per clip (for the text route
also split into recognition and translation).

Usage: scripts/bench_zh_routes.py [--eval-dir ../shared/eval] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp import config  # noqa: E402
from interp.audio.source import decode_file  # noqa: E402
from interp.config import SAMPLE_RATE  # noqa: E402
from interp.translation.service import installed_service  # noqa: E402

TABLE = (
    Path("speech")
    / "speech_translation_fleurs_flores"
    / "fleurs_clips_with_flores_translations.tsv"
)


def scores(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    chrf = CHRF(word_order=2).corpus_score(hypotheses, [references]).score
    bleu = BLEU().corpus_score(hypotheses, [references]).score
    return round(chrf, 1), round(bleu, 1)


def decode(model: Any, audio: Any, settings: config.Settings, task: str) -> str:
    """One decode of the whole clip, as the speech translator decodes a final."""
    segments, _ = model.transcribe(
        audio,
        language="zh",
        task=task,
        beam_size=settings.asr.offline_beam_size,
        condition_on_previous_text=False,
        without_timestamps=True,
        vad_filter=False,
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--json", type=Path, help="also write the figures and outputs here")
    args = parser.parse_args(argv)

    from interp.pipeline.speech import load_speech_model

    settings = config.load(environ={})
    with (args.eval_dir / TABLE).open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["source_lang"] == "zh"]
    clips = [row for row in rows if (args.eval_dir / "speech" / row["audio_16k_wav"]).is_file()]
    missing = [row["audio_16k_wav"] for row in rows if row not in clips]
    if not clips:
        print(f"no Chinese FLEURS clip found under {args.eval_dir / 'speech'}", file=sys.stderr)
        return 1
    service = installed_service(settings.models_dir, settings.translation.threads)
    route = service.require("zh", "en")  # the text route must exist: the Argos package
    model = load_speech_model(settings)
    service.translate(["你好。"], "zh", "en")  # load the package before timing
    first = decode_file(args.eval_dir / "speech" / clips[0]["audio_16k_wav"])
    decode(model, first[: 2 * SAMPLE_RATE], settings, "transcribe")  # and warm the model

    results: list[dict[str, Any]] = []
    for row in clips:
        audio = decode_file(args.eval_dir / "speech" / row["audio_16k_wav"])
        began = time.perf_counter()
        speech = decode(model, audio, settings, "translate")
        speech_s = time.perf_counter() - began
        began = time.perf_counter()
        chinese = decode(model, audio, settings, "transcribe")
        recognised_s = time.perf_counter() - began
        began = time.perf_counter()
        (text,) = service.translate([chinese], "zh", "en")
        translated_s = time.perf_counter() - began
        results.append(
            {
                "clip": row["audio_16k_wav"],
                "seconds": round(len(audio) / SAMPLE_RATE, 1),
                "reference": row["ref_en"],
                "speech": speech,
                "speech_ms": round(1000 * speech_s),
                "chinese": chinese,
                "text": text,
                "recognition_ms": round(1000 * recognised_s),
                "argos_ms": round(1000 * translated_s),
            }
        )
    service.close()

    references = [r["reference"] for r in results]
    speech_chrf, speech_bleu = scores([r["speech"] for r in results], references)
    text_chrf, text_bleu = scores([r["text"] for r in results], references)

    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in results))

    text_ms = statistics.median(r["recognition_ms"] + r["argos_ms"] for r in results)
    print(
        f"Chinese FLEURS clips: {len(results)}"
        + (f" (absent: {', '.join(missing)})" if missing else "")
    )
    print(f"text route: {route.describe()}")
    print(f"\n{'route':<40} {'chrF++':>6} {'BLEU':>5} {'ms per clip, median':>20}")
    speech_row = f"{'speech: Whisper zh→en translation':<40} {speech_chrf:>6} {speech_bleu:>5}"
    text_row = f"{'text: Whisper zh recognition + Argos':<40} {text_chrf:>6} {text_bleu:>5}"
    print(f"{speech_row} {median('speech_ms'):>20.0f}")
    print(
        f"{text_row} {text_ms:>20.0f}  (recognition {median('recognition_ms'):.0f}, "
        f"Argos {median('argos_ms'):.0f})"
    )
    for r in results:
        print(f"\n{r['clip']} ({r['seconds']} s)\n  reference: {r['reference']}")
        print(f"  speech:    {r['speech']}\n  heard:     {r['chinese']}\n  text:      {r['text']}")
    if args.json:
        summary = {
            "speech": {"chrf": speech_chrf, "bleu": speech_bleu, "ms_median": median("speech_ms")},
            "text": {"chrf": text_chrf, "bleu": text_bleu, "ms_median": text_ms},
            "clips": results,
            "absent": missing,
        }
        args.json.write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
