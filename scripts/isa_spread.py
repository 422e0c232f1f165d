"""Accuracy figures the model tests hold to, under every CPU instruction set here.

CTranslate2 picks its int8 kernels by CPU, so a decode may differ from one machine to
the next.  This prints, for each ``CT2_FORCE_CPU_ISA`` the CPU supports, the figures
the tests under ``tests/models`` and ``tests/cli`` assert bands on, so the bands can be
set with margin over the spread measured.  Every run uses a fixed pass cost, as the
tests do, so the figures do not depend on the machine's speed or load.

    python scripts/isa_spread.py            # every supported ISA, one process each
    python scripts/isa_spread.py --isa AVX  # one ISA, in this process
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))


def supported_isas() -> list[str]:
    """GENERIC always, then what /proc/cpuinfo's flags allow."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    wanted = [("AVX", "avx"), ("AVX2", "avx2"), ("AVX512", "avx512f")]
    return ["GENERIC"] + [isa for isa, flag in wanted if flag in flags]


def measure() -> dict[str, object]:
    import dataclasses

    import numpy as np
    import sacrebleu

    from interp import cli, config
    from interp.asr.faster_whisper import FasterWhisperRecognizer, transcribe_offline
    from interp.audio.source import decode_file
    from interp.evaluation import word_error_rate
    from interp.events import CommittedSegment, PartialText
    from interp.pipeline.simulate import PassCostClock, simulate_realtime
    from interp.pipeline.speech import load_speech_model, new_transcriber
    from tests.models.portable import PASS_COST_S, flores, heard_fraction

    settings = config.load(environ={})
    model = load_speech_model(settings)
    out: dict[str, object] = {}
    stream_wers: dict[str, float] = {}
    offline_wers: dict[str, float] = {}

    def stream(s: config.Settings, audio: np.ndarray) -> list[object]:
        core = new_transcriber(s, model)
        return [
            e for e, _ in simulate_realtime(core, audio, clock=PassCostClock(core, PASS_COST_S))
        ]

    clips = [
        ("jfk.flac", "en"),
        ("fleurs-fr-005.ogg", "fr"),
        ("fleurs-es-002.ogg", "es"),
        ("fleurs-de-005.ogg", "de"),
        ("fleurs-fr-002.ogg", "fr"),
        ("fleurs-en-008.ogg", "en"),
    ]
    for name, _lang in clips:
        audio = decode_file(DATA / name)
        reference = (DATA / name).with_suffix(".txt").read_text()
        events = stream(settings, audio)
        finals = [e for e in events if isinstance(e, CommittedSegment)]
        partials = [e for e in events if isinstance(e, PartialText)]
        text = " ".join(f.text for f in finals)
        stream_wers[name] = word_error_rate(reference, text)
        out[f"stream wer {name}"] = round(stream_wers[name], 3)
        out[f"stream final langs {name}"] = sorted({f.lang for f in finals})
        out[f"stream partial langs {name}"] = [p.lang for p in partials]
        out[f"stream text {name}"] = text
        segments = list(transcribe_offline(model, audio, settings.asr))
        offline_wers[name] = word_error_rate(reference, " ".join(s.text for s in segments))
        out[f"offline wer {name}"] = round(offline_wers[name], 3)
        out[f"offline langs {name}"] = sorted({s.lang for s in segments})

    # Whisper's own translation, streaming, of the Spanish clip.
    asr = dataclasses.replace(settings.asr, language="es", task="translate")
    events = stream(dataclasses.replace(settings, asr=asr), decode_file(DATA / "fleurs-es-002.ogg"))
    english = " ".join(e.text for e in events if isinstance(e, CommittedSegment))
    out["translate-task chrF es-002"] = round(
        sacrebleu.sentence_chrf(english, [flores("fleurs-es-002", "en")]).score, 1
    )
    out["translate-task text es-002"] = english

    tested = list(clips)[:4]  # the clips of tests/models/test_speech_model.py
    out["stream wer mean of 4"] = round(sum(stream_wers[n] for n, _ in tested) / 4, 3)
    out["offline wer mean of 4"] = round(sum(offline_wers[n] for n, _ in tested) / 4, 3)

    # The recogniser's passes on 6 s of German, as in tests/models/test_recognizer.py.
    german = decode_file(DATA / "fleurs-de-005.ogg")[: 6 * 16_000]
    spoken = " ".join((DATA / "fleurs-de-005.txt").read_text().split()[:10])

    def words(hypothesis: Any) -> str:
        return " ".join(w.text for w in hypothesis.words)

    asked: list[tuple[str, float]] = []

    def choose(language: str, probability: float) -> str:
        asked.append((language, probability))
        return language

    full = FasterWhisperRecognizer(model, dataclasses.replace(settings.asr, encoder_margin_s=0.0))
    detected = full.transcribe(german, language=None, prompt="", choose_language=choose)
    out["recognizer de detected probability"] = round(asked[0][1], 3) if asked else 0
    out["recognizer de detected language is de"] = int(bool(asked) and asked[0][0] == "de")
    out["recognizer de detecting pass heard"] = round(heard_fraction(spoken, words(detected)), 2)
    plain = FasterWhisperRecognizer(model, settings.asr)
    as_fr = plain.transcribe(german, language=None, prompt="", choose_language=lambda _l, _p: "fr")
    forced_fr = plain.transcribe(german, language="fr", prompt="")
    forced_de = plain.transcribe(german, language="de", prompt="")
    out["recognizer chosen fr vs forced fr wer"] = round(
        word_error_rate(words(forced_fr), words(as_fr)), 2
    )
    out["recognizer chosen fr vs forced de wer"] = round(
        word_error_rate(words(forced_de), words(as_fr)), 2
    )
    short_asr = dataclasses.replace(settings.asr, encoder_margin_s=3.0)
    short = FasterWhisperRecognizer(model, short_asr).transcribe(german, language="de", prompt="")
    out["recognizer 6s de text"] = words(short)
    out["recognizer 6s de heard"] = round(heard_fraction(spoken, words(short)), 2)
    french = decode_file(DATA / "fleurs-fr-002.ogg")
    hypothesis = plain.transcribe(french, language="fr", prompt="")
    out["recognizer fr-002 words"] = len(hypothesis.words)
    out["recognizer fr-002 last word end"] = (
        round(hypothesis.words[-1].end, 2) if hypothesis.words else 0
    )
    out["recognizer fr-002 wer"] = round(
        word_error_rate((DATA / "fleurs-fr-002.txt").read_text(), words(hypothesis)), 3
    )

    # The command line with targets, as in tests/cli/test_translate_cli.py.
    with tempfile.TemporaryDirectory() as tmp:
        for clip, argv, wanted in [
            ("fleurs-de-005", ["--targets", "en,es"], ("en", "es")),
            ("fleurs-en-008", ["--language", "en", "--targets", "es,fr"], ("es", "fr")),
        ]:
            path = Path(tmp) / f"{clip}.jsonl"
            audio_file = next(DATA.glob(f"{clip}.*[!t]"))
            cli.main(
                [
                    "transcribe",
                    str(audio_file),
                    "--stream",
                    "--pass-cost",
                    str(PASS_COST_S),
                    "-o",
                    str(path),
                    *argv,
                ]
            )
            messages = [json.loads(line) for line in path.read_text().splitlines()]
            for target in wanted:
                text = " ".join(
                    m["text"]
                    for m in messages
                    if m["type"] == "translation" and m["lang"] == target
                )
                out[f"cli chrF {clip}→{target}"] = round(
                    sacrebleu.sentence_chrf(text, [flores(clip, target)]).score, 1
                )
                out[f"cli text {clip}→{target}"] = text
                if clip == "fleurs-de-005" and target == "en":
                    out["cli chrF fleurs-de-005→en against the German"] = round(
                        sacrebleu.sentence_chrf(text, [flores(clip, "de")]).score, 1
                    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", help="measure under this ISA only, in this process")
    args = parser.parse_args()
    if args.isa:
        print(json.dumps(measure(), ensure_ascii=False))
        return 0
    results: dict[str, dict[str, object]] = {}
    for isa in supported_isas():
        env = dict(os.environ, CT2_FORCE_CPU_ISA=isa)
        run = subprocess.run([sys.executable, __file__, "--isa", isa], env=env, check=True,
                             capture_output=True, text=True)  # fmt: skip
        results[isa] = json.loads(run.stdout.splitlines()[-1])
    isas = list(results)
    print(f"{'figure':<48} " + " ".join(f"{isa:>10}" for isa in isas))
    for key in results[isas[0]]:
        values = [results[isa][key] for isa in isas]
        if all(isinstance(v, (int, float)) for v in values):
            print(f"{key:<48} " + " ".join(f"{v:>10}" for v in values))
    for key in results[isas[0]]:
        values = [results[isa][key] for isa in isas]
        if not all(isinstance(v, (int, float)) for v in values):
            print(f"\n{key}")
            for isa, value in zip(isas, values, strict=True):
                print(f"  {isa:>8}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
