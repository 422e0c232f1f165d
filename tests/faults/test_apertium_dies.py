"""The real Apertium dies mid-session: later finals are still translated."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from interp.translation.apertium import ApertiumTranslator

from ..fakes import ScriptBuilder
from .room import open_test_room

pytestmark = pytest.mark.skipif(
    shutil.which("apertium") is None, reason="Apertium is not installed (apt install apertium)"
)


async def test_apertium_killed_mid_session_is_restarted(tmp_path: Path) -> None:
    apertium = ApertiumTranslator()
    if ("en", "es") not in {(p.source, p.target) for p in apertium.pairs()}:
        pytest.skip("the Apertium en-es pair is not installed (apt install apertium-eng-spa)")
    builder = ScriptBuilder().silence_ms(300).sentence("The house is red.", pause_ms=1200)
    builder.sentence("The dog is big.", pause_ms=1200)
    builder.sentence("The cat is small.", pause_ms=1200)
    script = builder.build()
    second, third = script.words[4].start - 1600, script.words[8].start - 1600
    async with open_test_room(tmp_path, script, [apertium], targets=["es"]) as room:
        async with room.listen("source") as source, room.listen("es") as spanish:
            room.session.start()
            room.source.push(script.audio[:second])
            await spanish.until(lambda m: m["type"] == "translation", "the first translation")
            (pipeline,) = apertium._pipelines.values()
            os.killpg(pipeline.pid, signal.SIGKILL)
            room.source.push(script.audio[second:third])
            dog = await source.until(lambda m: m.get("text") == "The dog is big.", "the second")
            # The final the dead engine was given: its translation or its error.
            await spanish.until(
                lambda m: m["type"] in ("translation", "error") and m["segment"] == dog["segment"],
                "the second final answered",
            )
            room.source.push(script.audio[third:])
            await source.until(lambda m: m.get("text") == "The cat is small.", "the last final")
            await room.session.stop()
            await spanish.drain()
            await source.drain()
    finals = [m for m in source.received if m["type"] == "final"]
    assert [f["text"] for f in finals] == [
        "The house is red.",
        "The dog is big.",
        "The cat is small.",
    ]
    answered: dict[str, list[dict[str, object]]] = {}
    for message in spanish.received:
        if message["type"] in ("translation", "error") and message.get("segment"):
            answered.setdefault(str(message["segment"]), []).append(message)
    assert {s: len(m) for s, m in answered.items()} == {f["segment"]: 1 for f in finals}
    (last,) = answered[finals[-1]["segment"]]
    assert last["type"] == "translation" and "gato" in str(last["text"]).lower()
    assert room.archived_finals() == {f["segment"]: f["text"] for f in finals}
    # The dead pipeline's pipes must be closed too, not left to the garbage collector.
    assert pipeline._process.stdin is None or pipeline._process.stdin.closed
    assert pipeline._process.stdout is None or pipeline._process.stdout.closed
