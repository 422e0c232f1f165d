"""The Opus recording survives ``kill -9`` up to its last fraction of a second."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from interp.archive.recorder import AudioRecorder
from interp.audio.source import decode_file
from interp.health import Health

from ..conftest import ROOT
from ..deadlines import scaled

RECORDED_S = 20.0


def test_a_killed_recorder_leaves_audio_up_to_its_last_moment(tmp_path: Path) -> None:
    path = tmp_path / "session.ogg"
    # Feeds RECORDED_S of audio, waits until the thread has written it all, dies at once.
    program = textwrap.dedent(f"""
        import os, signal, numpy as np
        from pathlib import Path
        from interp.archive.recorder import AudioRecorder
        recorder = AudioRecorder(Path({str(path)!r}))
        tone = (0.1 * np.sin(np.arange(1600) / 5)).astype(np.float32)
        for _ in range(int({RECORDED_S} * 10)):
            recorder.write(tone)
        recorder.wait_written()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, timeout=scaled(60), capture_output=True
    )
    assert done.returncode == -9, done.stderr.decode()
    kept = len(decode_file(path)) / 16_000
    assert kept >= RECORDED_S - 1.0, f"{kept:.1f} s of {RECORDED_S} s survived the kill"


def test_a_full_recorder_queue_drops_and_counts() -> None:
    health = Health()
    recorder = AudioRecorder.__new__(AudioRecorder)  # no file: only the hand-over is tested
    import queue

    recorder._failed = False
    recorder._health = health
    recorder._queue = queue.Queue(2)
    for _ in range(5):
        recorder.write(np.ones(160, dtype=np.float32))
    assert health.audio_dropped_chunks == 3
