"""Writes the server's messages to the archive on its own thread, in small batches.

The event loop only puts messages on a queue.  The writer commits at least every
``flush_s`` (a quarter of a second), so a killed process loses at most that much.  A
write that fails (a full disk, a vanished file) is logged and retried with the same
batch: nothing already received is dropped, and nothing stored is touched.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from ..errors import ArchiveError
from ..wire import Message
from .store import Archive

logger = logging.getLogger(__name__)

_STOP = None


class ArchiveWriter:
    def __init__(self, path: Path, flush_s: float = 0.25, retry_s: float = 1.0) -> None:
        self.path = path
        self._flush_s = flush_s
        self._retry_s = retry_s
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self.error: str | None = None
        self.written = 0
        archive = Archive(path)  # fails now, with a clear message, if it cannot be opened
        interrupted = archive.mark_interrupted()
        if interrupted:
            logger.warning("sessions interrupted by a crash, marked as such: %s", interrupted)
        archive.close()
        self._thread = threading.Thread(target=self._run, name="archive", daemon=True)
        self._thread.start()

    def put(self, message: Message) -> None:
        if message.type in ("final", "translation", "session"):
            self._queue.put(message)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        archive = Archive(self.path)
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                deadline = time.monotonic() + self._flush_s
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        batch.append(self._queue.get(timeout=left))
                    except queue.Empty:
                        break
                stopping = batch[-1] is _STOP or _STOP in batch
                messages = [m for m in batch if m is not None]
                while messages:
                    try:
                        archive.write(messages)
                        self.written += len(messages)
                        self.error = None
                        break
                    except ArchiveError as exc:
                        self.error = str(exc)
                        logger.error("%s; retrying", exc)
                        if stopping:
                            return
                        time.sleep(self._retry_s)
        finally:
            archive.close()
