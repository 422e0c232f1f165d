"""Builds the speech stack from the settings: model, voice detection, streaming core."""

from __future__ import annotations

from ..asr.base import SpeechModel
from ..asr.faster_whisper import FasterWhisperRecognizer, load_model
from ..asr.streaming import StreamingTranscriber
from ..config import Settings
from ..glossary import load_glossary
from ..modelstore import resolve_speech_model
from ..vad.silero import SileroSpeechProb


def load_speech_model(settings: Settings) -> SpeechModel:
    """Resolve and load the configured Whisper model (raises ModelUnavailable)."""
    return load_model(resolve_speech_model(settings.asr.model, settings.models_dir), settings.asr)


def new_transcriber(settings: Settings, model: SpeechModel) -> StreamingTranscriber:
    """A fresh streaming core for one audio stream, sharing the loaded model.

    The session glossary, when there is one, prompts the model with its terms.
    """
    glossary = load_glossary(settings.glossary)
    return StreamingTranscriber(
        FasterWhisperRecognizer(model, settings.asr),
        SileroSpeechProb(),
        settings.asr,
        settings.vad,
        prompt_prefix=glossary.prompt(),
    )
