"""The ``interp`` command line (see the README and docs/ for the contract).

Every user error is one line on stderr and a non-zero exit; ``--debug`` shows the
traceback and debug logs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import config, formats
from .errors import InputError, InterpError
from .wire import Message, Stamper, new_session_id, segment_id

logger = logging.getLogger("interp")

DEMO_RECORDING = Path(__file__).resolve().parent / "data" / "demo" / "fleurs_en_concat.ogg"


def _settings(args: argparse.Namespace) -> config.Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "language", None):
        overrides["asr.language"] = args.language
    if getattr(args, "task", None):
        overrides["asr.task"] = args.task
    if getattr(args, "model", None):
        overrides["asr.model"] = args.model
    if getattr(args, "models_dir", None):
        overrides["models_dir"] = args.models_dir
    if getattr(args, "glossary", None):
        overrides["glossary"] = args.glossary
    return config.load(getattr(args, "config", None), overrides=overrides)


# -- models ----------------------------------------------------------------------


def _cmd_models(args: argparse.Namespace) -> int:
    from . import modelstore

    settings = _settings(args)
    models_dir = settings.models_dir
    if args.action == "list":
        installed = {m.name: m for m in modelstore.installed_models(models_dir)}
        print(f"models in {models_dir}:")
        for name, entry in modelstore.catalog_entries().items():
            model = installed.pop(name, None)
            state = (
                f"installed, {model.size_bytes / 1e6:.0f} MB"
                if model
                else (f"not installed (interp models install {name})")
            )
            print(
                f"  {name:<16} {entry['kind']:<7} {state}\n"
                f"  {'':<16} {entry['description']}\n  {'':<16} from: {entry['origin']}"
            )
        for model in installed.values():
            print(
                f"  {model.name:<16} {model.kind:<7} installed, {model.size_bytes / 1e6:.0f} MB\n"
                f"  {'':<16} {model.description}\n  {'':<16} from: {model.origin}"
            )
        print(
            "translation: no Argos Translate package is installed (none can be downloaded "
            "here; copy .argosmodel files in from a connected machine)"
        )
        return 0
    if args.action == "install":
        target = args.path
        if target in modelstore.catalog_entries():
            path = modelstore.install_catalog_model(target, models_dir)
        elif target.endswith(".argosmodel"):
            raise InputError(f"{target}: installing Argos Translate packages is not supported yet")
        else:
            path = modelstore.install_directory(Path(target), models_dir)
        print(f"installed and verified: {path}")
        return 0
    results = modelstore.verify(models_dir)
    if not results:
        print(f"no models installed in {models_dir}; run: interp models install whisper-base")
        return 1
    for name, ok, detail in results:
        print(f"  {name:<16} {'ok' if ok else 'FAILED'}  {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


# -- transcribe ------------------------------------------------------------------


def _progress_bar(total_s: float) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(
        total=round(total_s, 1),
        unit="s",
        unit_scale=False,
        file=sys.stderr,
        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]",
    )


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from .audio.source import decode_file
    from .config import SAMPLE_RATE
    from .pipeline.speech import load_speech_model, new_transcriber

    settings = _settings(args)
    audio = decode_file(Path(args.file))
    if len(audio) == 0:
        raise InputError(f"{args.file} contains no audio samples")
    fmt = args.format or ("jsonl" if args.stream else "txt")
    model = load_speech_model(settings)
    stamper = Stamper(new_session_id())
    messages: list[Message] = []
    if args.stream:
        from .pipeline.simulate import simulate_realtime

        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:
            last_emitted = len(audio) / SAMPLE_RATE
            stream = simulate_realtime(new_transcriber(settings, model), audio)
            live = (stamper.stamp(event, at) for event, at in stream)
            for message in itertools.chain([stamper.session_message("started", 0.0)], live):
                messages.append(message)
                last_emitted = max(last_emitted, message.emitted_at or 0.0)
                if fmt == "jsonl":
                    out.write(formats.to_jsonl([message]))
                    out.flush()
            messages.append(stamper.session_message("ended", last_emitted))
            if fmt == "jsonl":
                out.write(formats.to_jsonl([messages[-1]]))
            else:
                out.write(formats.render(fmt, messages))
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    from .asr.faster_whisper import transcribe_offline

    bar = _progress_bar(len(audio) / SAMPLE_RATE)

    def progress(done: float) -> None:
        if bar is not None:
            bar.update(round(done, 1) - bar.n)

    try:
        for index, segment in enumerate(transcribe_offline(model, audio, settings.asr, progress)):
            messages.append(
                Message(
                    type="final",
                    session=stamper.session,
                    seq=index + 1,
                    segment=segment_id(index),
                    lang=segment.lang,
                    text=segment.text,
                    start=segment.start,
                    end=segment.end,
                )
            )
    finally:
        if bar is not None:
            bar.update(bar.total - bar.n)
            bar.close()
    text = formats.render(fmt, messages)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


# -- demo ------------------------------------------------------------------------


def _source(spec: str, settings: config.Settings, speed: float) -> Any:
    from .audio.source import FileSource

    if spec == "mic" or spec.startswith("mic:"):
        from .audio.capture import MicrophoneSource

        return MicrophoneSource(
            spec.partition(":")[2] or None,
            settings.audio.chunk_ms,
            settings.audio.queue_chunks,
            settings.audio.device_retry_s,
        )
    return FileSource(Path(spec), settings.audio.chunk_ms, speed)


async def _live(args: argparse.Namespace, settings: config.Settings) -> None:
    from .console import CaptionPrinter
    from .pipeline.live import run_live
    from .pipeline.speech import load_speech_model, new_transcriber
    from .pipeline.workers import ModelWorker

    source = _source(args.source or str(DEMO_RECORDING), settings, args.speed)
    worker = ModelWorker("speech")
    try:
        model = await worker.run(load_speech_model, settings)
        transcriber = await worker.run(new_transcriber, settings, model)
        stamper = Stamper(new_session_id())
        printer = CaptionPrinter()
        print(
            f"live captions of {args.source or 'the demo recording (FLEURS, CC BY 4.0)'}; "
            f"Ctrl-C stops",
            file=sys.stderr,
        )
        await run_live(
            source,
            transcriber,
            worker,
            lambda event, at: printer.show(stamper.stamp(event, at)),
            settings.audio.queue_chunks,
        )
    finally:
        worker.close()


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        asyncio.run(_live(args, settings))
    except* InterpError as group:
        raise group.exceptions[0] from None
    return 0


# -- parser ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an option given before the subcommand is not reset by the subparser.
    hidden = argparse.SUPPRESS
    common.add_argument("--config", type=Path, default=hidden, help="TOML configuration file")
    common.add_argument(
        "--models-dir", type=Path, default=hidden, help="where models are installed"
    )
    common.add_argument(
        "--debug", action="store_true", default=hidden, help="show debug logs and tracebacks"
    )
    parser = argparse.ArgumentParser(
        prog="interp",
        parents=[common],
        description="Live captions for multilingual assemblies, on premises.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def speech_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--language",
            help="floor language code, or 'auto' (the default) to detect per utterance",
        )
        sub.add_argument(
            "--task",
            choices=["transcribe", "translate"],
            help="translate gives English from any language",
        )
        sub.add_argument(
            "--model", help="speech model: a catalogue name or a CTranslate2 Whisper directory"
        )
        sub.add_argument(
            "--glossary",
            type=Path,
            help="session glossary (.toml or .csv): terms the speech model should spell as listed",
        )

    demo = commands.add_parser(
        "demo", parents=[common], help="live captions of a real recording shipped with interp"
    )
    demo.add_argument(
        "--source", help="an audio file, 'mic' or 'mic:DEVICE' (default: the demo recording)"
    )
    demo.add_argument(
        "--speed", type=float, default=1.0, help="replay pace of a file (0: as fast as possible)"
    )
    speech_options(demo)
    demo.set_defaults(handler=_cmd_demo)

    transcribe = commands.add_parser("transcribe", parents=[common], help="transcribe a whole file")
    transcribe.add_argument("file")
    transcribe.add_argument(
        "--stream", action="store_true", help="run the live pipeline on a simulated real-time clock"
    )
    transcribe.add_argument("--format", choices=formats.FORMATS)
    transcribe.add_argument("-o", "--output", help="output file (default: standard output)")
    speech_options(transcribe)
    transcribe.set_defaults(handler=_cmd_transcribe)

    models = commands.add_parser("models", parents=[common], help="list, install or verify models")
    models.add_argument("action", choices=["list", "install", "verify"])
    models.add_argument("path", nargs="?", help="install: a catalogue name or a model directory")
    models.set_defaults(handler=_cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "models" and args.action == "install" and not args.path:
        parser.error("models install needs a catalogue name or a model directory")
    try:
        return int(args.handler(args))
    except InterpError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"interp: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (| head): not an error
        return 0
    except OSError as exc:  # an output file that cannot be written, a full disk
        if getattr(args, "debug", False):
            raise
        where = f": {exc.filename}" if exc.filename else ""
        print(f"interp: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
