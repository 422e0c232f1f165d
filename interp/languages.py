"""Language codes the speech model knows, and their validation."""

from __future__ import annotations

from .errors import ConfigError

# The codes Whisper was trained on (the same set faster-whisper accepts).
WHISPER_LANGUAGES = frozenset(
    """af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu
    ha haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn
    mr ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg
    th tk tl tr tt uk ur uz vi yi yo zh yue""".split()
)


def check_speech_language(code: str | None) -> str | None:
    """Return a valid speech language code, ``None`` for automatic detection.

    Raises:
        ConfigError: the code is not one Whisper knows.
    """
    if code is None:
        return None
    normalised = code.strip().lower()
    if normalised == "auto":
        return None
    if normalised not in WHISPER_LANGUAGES:
        raise ConfigError(
            f"unknown language {code!r}: use 'auto' or a two-letter code the speech "
            f"model knows, such as en, fr, es, de, ru, zh, ar, km"
        )
    return normalised
