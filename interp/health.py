"""What went wrong and how often: counters the status, the pages and ``/metrics`` show.

One :class:`Health` lives as long as the server.  The archive writer, the session's
pipeline, the audio sources and the translation stage count into it from whatever
thread they run on (an integer increment is atomic under the GIL); the server reads
it for ``/api/status``, the operator page and Prometheus.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Health:
    archive_write_errors: int = 0
    """Batches or messages the archive writer could not store on a try (it retries)."""
    archive_dead_letters: int = 0
    """Messages that never could be stored, kept aside in the archive's dead letters."""
    archive_unstored: int = 0
    """Messages still unstored when the archive writer's close gave up waiting."""
    audio_dropped_chunks: int = 0
    """Chunks of audio lost because recognition or the queue could not take them."""
    audio_stalls: int = 0
    """Times the audio source went silent (no callback) past the watchdog's limit."""
    audio_outages: int = 0
    """Times the audio input was lost (unplugged, stopped or stalled) and waited for."""
    translations_failed: int = 0
    """Translations of a final into one target that failed."""
    records_skipped: int = 0
    """Finals that kept their live text as their record (the record pass was too far behind)."""
    records_failed: int = 0
    """Record passes that raised; their finals keep their live text as their record."""
    pipeline_errors: int = 0
    """Exceptions that ended a session's pipeline (each published as an ``error``)."""
    pipeline_restarts: int = 0
    """Times the pipeline was started again after an error."""
    last_error: str | None = None
    """The latest of those errors, as the operator is shown it."""
    last_error_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: str, amount: int = 1, error: str | None = None) -> None:
        """Add ``amount`` to the counter ``name``; an ``error`` becomes the latest one."""
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)
            if error is not None:
                self.last_error, self.last_error_at = error, time.time()

    def counters(self) -> dict[str, int]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.type in ("int", int) and not f.name.startswith("_")
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.counters(), "last_error": self.last_error}
