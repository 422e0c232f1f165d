"""A fault in the pipeline is reported, counted, and the session goes on after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..fakes import FakeRecognizer, Script, ScriptBuilder
from .room import open_test_room


class FailingOnce:
    """A recogniser that raises once, on the first pass over audio holding ``word``."""

    def __init__(self, script: Script, word: int, failed: list[bool]) -> None:
        self._inner = FakeRecognizer.for_script(script)
        self._word = script.words[word]
        self._failed = failed

    def transcribe(self, audio: Any, **options: Any) -> Any:
        hypothesis = self._inner.transcribe(audio, **options)
        if not self._failed and any(w.text == self._word.text for w in hypothesis.words):
            self._failed.append(True)
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return hypothesis


def recognisers(script: Script, word: int) -> Callable[[], FailingOnce]:
    failed: list[bool] = []  # shared by every transcriber: the fault happens once
    return lambda: FailingOnce(script, word, failed)


async def test_the_recogniser_raises_once_and_the_session_goes_on(tmp_path: Path) -> None:
    builder = ScriptBuilder().silence_ms(300).sentence("The first point.", pause_ms=1200)
    builder.sentence("Faulty words here.", pause_ms=1200)
    builder.sentence("The session goes on.", pause_ms=1200)
    script = builder.build()
    faulty = 3  # "Faulty"
    second_start, third_start = script.words[3].start - 1600, script.words[6].start - 1600
    async with open_test_room(
        tmp_path, script, overrides={"server.restart_backoff_s": 0.05},
        make_recognizer=recognisers(script, faulty),
    ) as room:  # fmt: skip
        async with room.listen() as watcher, room.listen() as other:
            session = room.session.start()
            room.source.push(script.audio[:second_start])
            await watcher.until(lambda m: m["type"] == "final", "the first final")
            room.source.push(script.audio[second_start:third_start])
            error = await watcher.until(lambda m: m["type"] == "error", "the error event")
            assert error["stage"] == "pipeline" and "RuntimeError: CUDA error" in error["text"]
            room.source.push(script.audio[third_start:])
            later = await watcher.until(
                lambda m: m["type"] == "final" and m["text"] == "The session goes on.",
                "speech after the restart captioned",
            )
            status = room.session.status()
            await room.session.stop()
            await watcher.drain()
            await other.drain()
    assert later["session"] == error["session"] == session
    seqs = [m["seq"] for m in watcher.received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert status["restarts"] == 1 and status["running"]
    assert room.health.pipeline_errors == 1 and room.health.pipeline_restarts == 1
    assert "CUDA error" in (room.health.last_error or "")
    # Later segment ids go on from the earlier ones; nothing committed was lost.
    finals = {m["segment"]: m["text"] for m in watcher.received if m["type"] == "final"}
    assert len(finals) == len([m for m in watcher.received if m["type"] == "final"])
    assert finals == room.published_finals() == room.archived_finals()
    assert later["start"] >= script.words[6].start_s - 0.5
    # The other listener kept receiving all along.
    assert [m["seq"] for m in other.received if m["type"] == "final"] == [
        m["seq"] for m in watcher.received if m["type"] == "final"
    ]
    assert room.archived_state(session) == "ended"
