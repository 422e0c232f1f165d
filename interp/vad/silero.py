"""Silero VAD, the ONNX model bundled with faster-whisper, run as a stream.

faster-whisper's own VAD scores a whole file with fresh state on every call, which is
right offline and wrong live: here the LSTM state and the 64-sample context carry over
from one call to the next, so scoring audio in any chunking gives the same numbers as
scoring it at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import BackendError, ModelUnavailable
from .base import WINDOW_SAMPLES

_CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)


def bundled_model_path() -> Path:
    """Where faster-whisper keeps its Silero model."""
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as exc:
        raise ModelUnavailable(
            "voice detection needs faster-whisper, which is not installed; run the "
            "README's set-up command (make setup)"
        ) from exc
    candidates = sorted(Path(get_assets_path()).glob("silero_vad*.onnx"))
    if not candidates:
        raise ModelUnavailable(
            "the Silero VAD model is missing from faster-whisper's assets; reinstall it "
            "with: .venv/bin/pip install --force-reinstall faster-whisper"
        )
    return candidates[-1]


class SileroSpeechProb:
    """Streaming speech probabilities from Silero VAD (one ONNX session, one thread)."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        model_path = path or bundled_model_path()
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), providers=["CPUExecutionProvider"], sess_options=options
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelUnavailable(f"cannot load the VAD model {model_path}: {exc}") from exc
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)

    def probabilities(self, windows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(windows) == 0:
            return np.zeros(0, dtype=np.float32)
        assert windows.shape[1] == WINDOW_SAMPLES
        # Each window is scored with the last 64 samples of the one before it.
        previous_tails = np.concatenate([self._context[None], windows[:-1, -_CONTEXT_SAMPLES:]])
        model_input = np.ascontiguousarray(np.concatenate([previous_tails, windows], axis=1))
        try:
            probs, self._h, self._c = self._session.run(
                None, {"input": model_input, "h": self._h, "c": self._c}
            )
        except Exception as exc:
            raise BackendError("voice detection", str(exc)) from exc
        self._context = windows[-1, -_CONTEXT_SAMPLES:].copy()
        return np.asarray(probs, dtype=np.float32).reshape(-1)
