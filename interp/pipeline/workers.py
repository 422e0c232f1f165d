"""One worker thread per model, so no model call ever runs on the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class ModelWorker:
    """A single thread that owns a model; coroutines ``await worker.run(fn, ...)``."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self, wait: bool = True) -> None:
        """Stop the thread; queued calls are cancelled.

        With ``wait`` this blocks until the call under way returns, so on the event
        loop use :meth:`aclose`, or ``wait=False`` for a thread that may be hung (it
        is left to finish on its own).
        """
        self._executor.shutdown(wait=wait, cancel_futures=True)

    async def aclose(self) -> None:
        """:meth:`close`, waited for on another thread, never on the loop."""
        await asyncio.to_thread(self.close)
