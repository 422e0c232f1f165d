"""Writes the server's messages to the archive on its own thread, in small batches.

The event loop only puts messages on a queue.  The writer commits at least every
``flush_s`` (a quarter of a second), so a killed process loses at most that much.

Two kinds of failure are told apart (:func:`is_environmental`):

* The archive cannot be written at all (a full disk, an I/O error, a locked or
  vanished file).  The batch is kept and retried with a backoff that grows to
  ``retry_max_s``; nothing is dropped, and messages arriving meanwhile wait in the
  queue (:attr:`ArchiveWriter.pending` shows how many).
* Anything else: one message is bad (a value SQLite cannot bind, a title that is a
  list).  The batch is then written message by message; a message that still fails
  after ``retry_limit`` tries is set aside in the archive's dead letters, with its
  error and its JSON, and everything else is stored.

Both are counted in :class:`~interp.health.Health`.  :meth:`ArchiveWriter.close`
waits at most ``close_timeout_s`` and says how many messages were left unstored.
"""

from __future__ import annotations

import errno
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..health import Health
from ..wire import Message
from .store import Archive

logger = logging.getLogger(__name__)

_STOP = None

# SQLite's primary result codes for an archive that cannot be written right now.
_ENVIRONMENTAL_CODES = {
    5,  # SQLITE_BUSY
    6,  # SQLITE_LOCKED
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
}
_ENVIRONMENTAL_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS}


def is_environmental(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the archive cannot be written
    at all, as opposed to one message being bad."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            code = getattr(seen, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _ENVIRONMENTAL_CODES:
                return True
            if "database or disk is full" in str(seen):
                return True
        if isinstance(seen, OSError) and seen.errno in _ENVIRONMENTAL_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Abandoned(Exception):
    """close() gave up waiting: the writer thread stops where it is."""


class ArchiveWriter:
    """The archive's single writer.

    Args:
        path: the archive file; opened (and migrated) now, so a bad path fails here.
        flush_s: the longest a received message waits before its batch is committed.
        retry_s: the first wait after the archive could not be written.
        health: counts write errors, dead letters and messages left unstored.
        retry_limit: tries of a message failing for a message's own reason.
        retry_max_s: the longest wait between tries while the archive cannot be written.
        close_timeout_s: how long :meth:`close` waits for the queue to be stored.
        on_open: called on the writer's thread with its archive (tuning, tests).
    """

    def __init__(
        self,
        path: Path,
        flush_s: float = 0.25,
        retry_s: float = 1.0,
        *,
        health: Health | None = None,
        retry_limit: int = 5,
        retry_max_s: float = 30.0,
        close_timeout_s: float = 10.0,
        on_open: Callable[[Archive], None] | None = None,
    ) -> None:
        self.path = path
        self.health = health if health is not None else Health()
        self._flush_s = flush_s
        self._retry_s = retry_s
        self._retry_limit = max(1, retry_limit)
        self._retry_max_s = max(retry_s, retry_max_s)
        self._close_timeout_s = close_timeout_s
        self._on_open = on_open
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._abandon = threading.Event()
        self._holding = 0  # messages taken off the queue, not yet stored or set aside
        self._stop_taken = False  # the stop marker is off the queue, in the batch
        self.error: str | None = None
        """The latest write error, until a write succeeds again."""
        self.written = 0
        """Messages stored."""
        self.dead_letters = 0
        """Messages set aside as dead letters."""
        self.unstored = 0
        """Messages still unstored when :meth:`close` gave up waiting."""
        archive = Archive(path)  # fails now, with a clear message, if it cannot be opened
        interrupted = archive.mark_interrupted()
        if interrupted:
            logger.warning("sessions interrupted by a crash, marked as such: %s", interrupted)
        archive.close()
        # A daemon only so that a writer stuck in a system call cannot hold the exit;
        # close() stops it otherwise.
        self._thread = threading.Thread(target=self._run, name="archive", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Messages received and not yet stored (queued, or in the batch being tried)."""
        return self._queue.qsize() + self._holding

    def put(self, message: Message) -> None:
        if message.type in ("final", "translation", "record", "session"):
            self._queue.put(message)

    def close(self) -> None:
        """Store what is queued, waiting at most ``close_timeout_s``; blocking, so call
        it off the event loop."""
        self._queue.put(_STOP)
        self._thread.join(timeout=self._close_timeout_s)
        if self._thread.is_alive():
            self._abandon.set()
            # Less the stop marker itself, if it is still queued.
            self.unstored = max(0, self.pending - (0 if self._stop_taken else 1))
            why = f"the archive writer was stopped with {self.unstored} messages not stored"
            logger.error("%s (last error: %s)", why, self.error)
            self.health.count("archive_unstored", self.unstored, error=why)

    # -- the writer's thread ---------------------------------------------------

    def _run(self) -> None:
        archive = Archive(self.path)
        try:
            if self._on_open is not None:
                self._on_open(archive)
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                deadline = time.monotonic() + self._flush_s
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        batch.append(self._queue.get(timeout=left))
                    except queue.Empty:
                        break
                stopping = self._stop_taken = _STOP in batch
                messages = [m for m in batch if m is not None]
                self._holding = len(messages)
                if messages:
                    self._store(archive, messages)
                self._holding = 0
        except _Abandoned:
            pass
        finally:
            archive.close()

    def _store(self, archive: Archive, messages: list[Message]) -> None:
        backoff = _Backoff(self._retry_s, self._retry_max_s, self._abandon)
        while True:
            try:
                archive.write(messages)
            except Exception as exc:
                self._failed(exc, f"a batch of {len(messages)}")
                if is_environmental(exc):
                    backoff.wait()
                    continue
                break
            self._stored(len(messages))
            return
        # One message (at least) is bad: find it, store the others.
        for message in messages:
            self._store_one(archive, message, backoff)
            self._holding -= 1

    def _store_one(self, archive: Archive, message: Message, backoff: _Backoff) -> None:
        tries = 0
        while True:
            try:
                archive.write([message])
            except Exception as exc:
                if is_environmental(exc):
                    self._failed(exc, "a message")
                    backoff.wait()
                    continue
                tries += 1
                if tries < self._retry_limit:
                    continue
                self._set_aside(archive, message, exc, backoff)
                return
            self._stored(1)
            return

    def _set_aside(
        self, archive: Archive, message: Message, exc: Exception, backoff: _Backoff
    ) -> None:
        cause = exc.__cause__ or exc  # SQLite's own error, not the archive's wrapping
        error = f"{type(cause).__name__}: {cause}"
        while True:
            try:
                archive.record_dead_letter(message, error)
                break
            except Exception as failure:
                self._failed(failure, "a dead letter")
                backoff.wait()
        self.dead_letters += 1
        why = f"archive: a {message.type} (seq {message.seq}) set aside as a dead letter: {error}"
        logger.error("%s", why)
        self.health.count("archive_write_errors", error=why)
        self.health.count("archive_dead_letters")

    def _failed(self, exc: BaseException, what: str) -> None:
        self.error = str(exc)
        logger.error(
            "archive: %s could not be written (%s); retrying, %d messages waiting",
            what, exc, self.pending,
        )  # fmt: skip
        self.health.count("archive_write_errors", error=f"archive: {exc}")

    def _stored(self, count: int) -> None:
        self.written += count
        self.error = None


class _Backoff:
    """Waits that double up to a ceiling; interrupted when close() gives up."""

    def __init__(self, first_s: float, max_s: float, abandon: threading.Event) -> None:
        self._next_s = first_s
        self._max_s = max_s
        self._abandon = abandon

    def wait(self) -> None:
        if self._abandon.wait(self._next_s):
            raise _Abandoned
        self._next_s = min(self._next_s * 2, self._max_s)
