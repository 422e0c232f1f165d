"""The one configuration object: a TOML file, then ``INTERP_*`` variables, then flags.

Every default lives here and nowhere else.  ``load()`` is called once, in
:func:`interp.cli.main`, and the frozen :class:`Settings` is passed down explicitly.
Nothing reads the environment at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError
from .languages import check_speech_language

SAMPLE_RATE = 16_000
"""Audio inside interp is always 16 kHz mono float32."""

Task = Literal["transcribe", "translate"]


def _default_models_dir() -> Path:
    # A checkout keeps its models beside the package, in the repository's models/.
    return Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True, slots=True)
class AudioSettings:
    chunk_ms: int = 100
    """Size of the chunks a source delivers."""
    queue_chunks: int = 600
    """Bound of the queue between a source and recognition (60 s at 100 ms)."""
    device_retry_s: float = 30.0
    """How long a vanished capture device is waited for before giving up."""
    device_poll_s: float = 1.0
    """Pause between tries to find a vanished device again (each re-lists PortAudio's)."""
    stall_s: float = 2.0
    """Silence from the device callback after which the stream is taken as dead and reopened."""
    pushed_queue_s: float = 60.0
    """Seconds of pushed ``/ws/audio`` audio held for recognition; older audio is dropped."""
    recorder_queue_chunks: int = 600
    """Chunks waiting for the Opus recorder's thread; past it audio is dropped and counted."""


@dataclass(frozen=True, slots=True)
class VadSettings:
    threshold: float = 0.4
    """Speech probability above which speech starts (0.4 measured better than 0.5)."""
    neg_threshold: float = 0.35
    """Speech probability below which silence is counted."""
    min_silence_ms: int = 600
    """Silence that ends an utterance."""
    speech_pad_ms: int = 500
    """Audio kept before the detected onset, so first syllables are not clipped."""
    min_speech_ms: int = 250
    """Utterances shorter than this are dropped as clicks and knocks."""


@dataclass(frozen=True, slots=True)
class AsrSettings:
    model: str = "whisper-base"
    """A catalogue name (see ``interp models list``) or a CTranslate2 Whisper directory."""
    compute_type: str = "int8"
    cpu_threads: int = 0
    """0 means every core."""
    language: str | None = None
    """None detects the language per utterance."""
    task: Task = "transcribe"
    stream_beam_size: int = 2
    """Beam of a streaming pass: 2 keeps passes under real time on two cores."""
    encoder_margin_s: float = 8.0
    """Silence after the buffer the encoder sees; 0 pads every pass to Whisper's 30 s."""
    offline_beam_size: int = 5
    speech_translation_beam_size: int = 5
    """Beam of Whisper's translation of a final's speech into English."""
    record_pass: bool = False
    """After each final, decode its audio again with offline settings, as background
    work, for the archive's record text (the live text is kept beside it).  Off by
    default: on the held-out split (scripts/bench_asr.py --record --split held-out)
    the record measured worse than the live text in German, Spanish and French (WER
    0.202 / 0.142 / 0.379 against live 0.162 / 0.133 / 0.331), its utterances being
    shorter windows than offline's."""
    record_beam_size: int = 5
    record_encoder_margin_s: float = 0.0
    """The record's encoder window: 0 is Whisper's full 30 s, as offline decoding sees it."""
    record_pad_s: float = 0.3
    """Audio kept on each side of an utterance for its record: a word's timestamps can
    cut its first or last sound."""
    record_gap_s: float = 0.6
    """A pause longer than this between two finals starts another utterance for the
    record: finals closer than this are decoded together, as one utterance.  Voice
    detection's own ``min_silence_ms``; 1.0 joined sentences into windows in which
    Whisper skipped speech (scripts/bench_asr.py --record, tuning split)."""
    record_wait_s: float = 3.0
    """Silence after an utterance's last final before its record is made, when no
    speech continues it (speech that continues it is waited for)."""
    record_quiet_s: float = 1.0
    """Each piece of a record waits until no live pass has run for this long: a pause
    in speech, as live passes come every ``step_ms`` while someone speaks.  So the
    record never holds up a live pass between two steps, and when the machine is
    slower than speech it falls behind and catches up in pauses or after the session."""
    record_min_share: float = 0.9
    """A final's record shorter than this share of its live text (in letters) is not
    taken: the decode skipped speech the live passes heard.  Swept 0, 0.5, 0.75, 0.9 on
    the tuning split: word-weighted WER 0.202, 0.195, 0.195, 0.189 (live 0.206); only
    the English stream moves."""
    record_max_s: float = 25.0
    """Longest utterance decoded at once: Whisper's window, less the pad and a margin."""
    record_backlog_s: float = 1800.0
    """Audio of finals waiting for their record pass; past it a final keeps its live
    text as its record (a machine that never catches up must not run out of memory)."""
    offline_batched: bool = False
    """faster-whisper's batched pipeline offline (VAD chunks of ``offline_chunk_s``
    decoded side by side, without timestamps or temperature fallback) in place of its
    sequential ``transcribe``.  On the tuning files of scripts/bench_offline.py batched
    measured WER 0.143 against sequential's 0.132 (fr x1.23, en x1.05, de x1.04) and
    ran slower on 2 CPU cores (RTF 1.66 against 1.45, a loaded machine: every chunk
    pads to a 30 s encoder window).  On the held-out files it measured better (0.168
    against 0.231): sequential's 30 s windows skip whole sentences of the joined
    FLEURS streams."""
    offline_batch_size: int = 8
    """Chunks decoded at once when ``offline_batched``."""
    offline_chunk_s: int = 10
    """Longest chunk of speech decoded at once when ``offline_batched``."""
    step_ms: int = 700
    """New audio needed before another streaming pass."""
    hurry_lag_s: float = 0.0
    """Recognition this far behind the live edge (the wall-clock wait of the oldest audio
    fed) makes the passes cheaper until it is back under half of it: a beam of
    ``hurried_beam_size`` and steps ``hurried_step_factor`` times longer.  0 never
    hurries, the default: swept 0, 1.0, 1.5, 2.5 with one core busy (the English and
    French tuning streams), hurrying kept no lower latency (final p50 3.67 s unhurried,
    3.42-4.55 s hurried) and lost words (WER 0.236 against 0.243-0.268)."""
    hurried_beam_size: int = 1
    hurried_step_factor: float = 2.0
    commit_horizon_s: float = 0.0
    """Commit a word after one pass when it is aligned to end at least this long
    before the end of the pass's audio (an alignment commit, as AlignAtt); nearer the
    end, two passes must agree (LocalAgreement).  0 commits by agreement only."""
    first_pass_ms: int = 500
    """Speech needed before the first pass of an utterance."""
    simulated_pass_cost_s: float | None = None
    """``transcribe --stream``: a fixed cost per recognition pass and per translation
    batch, in place of the measured time, for runs that are the same on every machine.
    None measures."""
    join_pause_ms: int = 1500
    """Speech resuming within this much silence continues the previous utterance's
    last sentence: its audio stays in the buffer, since speakers pause mid-sentence
    and Whisper hears the rest of a sentence better with its start.  0 turns it off."""
    max_buffer_s: float = 15.0
    """The audio buffer is trimmed before it grows past this."""
    prompt_chars: int = 200
    """Committed text, beyond the buffer, given to the model as context."""
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    min_word_probability: float = 0.05
    """Words the model itself barely believes are dropped as noise."""


@dataclass(frozen=True, slots=True)
class TranslationSettings:
    targets: str = ""
    """Comma-separated languages every final is translated into, such as ``es,fr``."""
    threads: int = 1
    """Threads of a neural (Argos) engine; recognition keeps the other cores."""
    max_chars: int = 2000
    """Longest text one translation takes; longer input is refused with a clear error."""
    queue_limit: int = 256
    """Finals waiting for translation; past it a final gets an error per target, not a wait."""

    def target_list(self) -> list[str]:
        return [code.strip() for code in self.targets.split(",") if code.strip()]


def _default_token_file() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "interp" / "token"


def _default_archive() -> Path:
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "interp" / "archive.sqlite"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "0.0.0.0"
    port: int = 8765
    room: str = ""
    """The room's name ("Plenary hall"): it begins each untitled session's title."""
    token: str = ""
    """The operator's and floor devices' token; empty: generated once into token_file."""
    token_file: Path = field(default_factory=_default_token_file)
    open_captions: bool = True
    """Read-only captions need no token on the venue network."""
    captions_token: str = ""
    """With ``open_captions`` off: the token delegates' pages give (the operator's works too)."""
    archive_token: str = ""
    """The archivists' token (archive API, audio, exports); empty: generated once into
    archive_token_file.  The operator token opens the archive too."""
    archive_token_file: Path = field(
        default_factory=lambda: _default_token_file().with_name("archive-token")
    )
    open_archive: bool = False
    """The archive is a public record: it needs no token (``--open-archive``)."""
    allowed_hosts: str = ""
    """Comma-separated names the server answers to besides its own (a DNS alias, a proxy)."""
    allowed_origins: str = ""
    """Comma-separated extra origins allowed for control and audio (the page's own is)."""
    outbox_limit: int = 256
    """Messages waiting for one listener before it is too slow and disconnected."""
    history_limit: int = 5000
    max_message_bytes: int = 1 << 20
    control_per_second: float = 5.0
    status_every_s: float = 2.0
    stop_timeout_s: float = 10.0
    """How long a stop waits for the last final and its translations before cutting off."""
    restart_backoff_s: float = 0.5
    """Wait before a failed pipeline is started again; doubled on each failure in a row."""
    restart_backoff_max_s: float = 30.0
    """The longest wait between restarts of a pipeline that keeps failing."""
    archive: Path = field(default_factory=_default_archive)
    """The SQLite file every session is kept in."""
    archive_retry_limit: int = 5
    """Tries of a message failing for an unclear reason before it becomes a dead letter."""
    archive_retry_max_s: float = 30.0
    """Longest wait between tries while the archive cannot be written (a full disk)."""
    archive_close_timeout_s: float = 10.0
    """How long closing waits for the archive writer to store what is still queued."""


@dataclass(frozen=True, slots=True)
class Settings:
    audio: AudioSettings = field(default_factory=AudioSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    translation: TranslationSettings = field(default_factory=TranslationSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    models_dir: Path = field(default_factory=_default_models_dir)
    glossary: Path | None = None


_SECTIONS = {
    "audio": AudioSettings,
    "vad": VadSettings,
    "asr": AsrSettings,
    "translation": TranslationSettings,
    "server": ServerSettings,
}


def _coerce(name: str, raw: Any, current: Any) -> Any:
    """Convert a TOML or environment value to the type of the default it replaces."""
    if raw is None or current is None:
        return raw
    try:
        if isinstance(current, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in {"1", "true", "yes", "on"}
            return bool(raw)
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, Path):
            return Path(raw).expanduser()
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: {raw!r} is not a valid value") from exc


def _apply(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """Apply ``{"asr.language": "fr", "models_dir": ...}`` style overrides."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    top: dict[str, Any] = {}
    for key, raw in overrides.items():
        section, _, name = key.rpartition(".")
        if section:
            if section not in _SECTIONS:
                raise ConfigError(f"unknown setting section {section!r} in {key!r}")
            target = getattr(settings, section)
            if name not in {f.name for f in dataclasses.fields(target)}:
                raise ConfigError(f"unknown setting {key!r}")
            sections[section][name] = _coerce(key, raw, getattr(target, name))
        else:
            if name not in {f.name for f in dataclasses.fields(settings)}:
                raise ConfigError(f"unknown setting {key!r}")
            current = getattr(settings, name)
            top[name] = _coerce(key, raw, current if current is not None else Path())
    replaced = {
        name: dataclasses.replace(getattr(settings, name), **values)
        for name, values in sections.items()
        if values
    }
    return dataclasses.replace(settings, **replaced, **top)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings: defaults, then the TOML file, then ``INTERP_*``, then flags.

    Environment variables name a setting with ``__`` between section and key, for
    example ``INTERP_ASR__LANGUAGE=fr`` or ``INTERP_MODELS_DIR=/srv/models``.

    Raises:
        ConfigError: the file is unreadable or a value is invalid.
    """
    settings = Settings()
    if path is not None:
        try:
            table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file not found: {path}") from exc
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
        settings = _apply(settings, _flatten(table))
    env = os.environ if environ is None else environ
    from_env = {
        key[len("INTERP_") :].lower().replace("__", "."): value
        for key, value in env.items()
        if key.startswith("INTERP_") and not key.startswith("INTERP_TESTS_")
    }
    settings = _apply(settings, from_env)
    settings = _apply(settings, {k: v for k, v in (overrides or {}).items() if v is not None})
    language = check_speech_language(settings.asr.language)
    if settings.asr.task not in ("transcribe", "translate"):
        raise ConfigError(f"unknown task {settings.asr.task!r}: use transcribe or translate")
    return dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, language=language))
