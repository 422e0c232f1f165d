"""A sounddevice stand-in whose devices can vanish, go silent and come back.

It keeps PortAudio's rule that matters here: the device list is read only when
PortAudio initialises, so a device plugged in again is seen only after
``_terminate`` and ``_initialize``.  Each stream runs its callback on its own
thread, as PortAudio does; each block holds, in column ``c``, the value ``c + 1``
plus a running sample count, so a test can tell channels and order apart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np


class PortAudioError(Exception):
    pass


@dataclass
class Device:
    name: str
    channels: int
    plugged: bool = True
    silent: bool = False
    """Plugged and open, but the callback stops coming (a hung driver)."""
    audio: np.ndarray[Any, Any] | None = None
    """What the device hears, on its first channel, from ``cursor`` on (then silence);
    None: the counting blocks described above."""
    cursor: int = 0


@dataclass
class FakeSoundDevice:
    devices: list[Device]
    block_pause_s: float = 0.005
    _initialized: int = 1
    listed: list[Device] = field(default_factory=list)
    initialisations: int = 0
    streams: list[FakeStream] = field(default_factory=list)
    calling_threads: set[int] = field(default_factory=set)
    """Idents of the threads each PortAudio call came from (the loop's must not be one)."""
    default: Any = None

    def __post_init__(self) -> None:
        self.listed = [d for d in self.devices if d.plugged]
        self.default = SimpleNamespace(device=[0, 0])
        self.PortAudioError = PortAudioError

    def _called(self) -> None:
        self.calling_threads.add(threading.get_ident())

    # -- what interp.audio.capture calls ----------------------------------------

    def query_devices(self) -> list[dict[str, Any]]:
        self._called()
        return [{"name": d.name, "max_input_channels": d.channels} for d in self.listed]

    def _terminate(self) -> None:
        self._called()
        self._initialized -= 1

    def _initialize(self) -> None:
        self._called()
        self._initialized += 1
        self.initialisations += 1
        self.listed = [d for d in self.devices if d.plugged]

    def InputStream(self, **kwargs: Any) -> FakeStream:  # noqa: N802 - sounddevice's name
        self._called()
        index = kwargs["device"]
        if index >= len(self.listed) or not self.listed[index].plugged:
            raise PortAudioError(f"Invalid device [PaErrorCode -9996] (index {index})")
        device = self.listed[index]
        if kwargs["channels"] > device.channels:
            raise PortAudioError("Invalid number of channels [PaErrorCode -9998]")
        stream = FakeStream(self, device, kwargs)
        self.streams.append(stream)
        return stream

    # -- what a test does -------------------------------------------------------

    def unplug(self, name: str) -> None:
        """The device goes: its open streams finish, as PortAudio's do on a lost device."""
        device = self._device(name)
        device.plugged = False
        for stream in self.streams:
            if stream.device is device:
                stream.finish()

    def plug(self, name: str, first: bool = True) -> None:
        """The device comes back, at the front of the list (so with another index).

        To PortAudio it is a new device: the entry listed before it went away stays
        dead, so only a re-initialised list finds it.
        """
        device = self._device(name)
        self.devices.remove(device)
        self.devices.insert(0 if first else len(self.devices), replace(device, plugged=True))

    def _device(self, name: str) -> Device:
        return next(d for d in self.devices if d.name == name)


class FakeStream:
    def __init__(self, sd: FakeSoundDevice, device: Device, kwargs: dict[str, Any]) -> None:
        self.sd = sd
        self.device = device
        self.channels = int(kwargs["channels"])
        self.blocksize = int(kwargs["blocksize"])
        self.callback = kwargs["callback"]
        self.finished_callback = kwargs["finished_callback"]
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.sd._called()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        count = 0
        while not self._stop.is_set():
            if not self.device.silent:
                self.callback(self._block(count), self.blocksize, None, None)
                count += self.blocksize
            time.sleep(self.sd.block_pause_s)

    def _block(self, count: int) -> np.ndarray[Any, Any]:
        block = np.zeros((self.blocksize, self.channels), dtype=np.float32)
        device = self.device
        if device.audio is not None:
            heard = device.audio[device.cursor : device.cursor + self.blocksize]
            block[: len(heard), 0] = heard
            device.cursor += self.blocksize
            return block
        for column in range(self.channels):
            block[:, column] = column + 1
        block += (count + np.arange(self.blocksize, dtype=np.float32))[:, None] * 1e-9
        return block

    def finish(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self.finished_callback()

    def abort(self) -> None:
        self.sd._called()
        self._stop.set()

    def close(self) -> None:
        self.sd._called()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.closed = True
