"""Sample conversions and the SampleBuffer, checked against a plain list model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.audio.pcm import SampleBuffer, float32_to_int16, int16_to_float32

operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 50)),
        st.tuples(st.just("trim"), st.integers(-20, 120)),
        st.tuples(st.just("reset"), st.integers(0, 1000)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 16), st.integers(0, 1000), operations)
def test_sample_buffer_behaves_like_a_list(
    capacity: int, first: int, ops: list[tuple[str, int]]
) -> None:
    buffer = SampleBuffer(capacity=capacity)
    buffer.reset(first)
    model: list[float] = []
    model_start = first
    counter = 0
    for op, arg in ops:
        if op == "append":
            samples = np.arange(counter, counter + arg, dtype=np.float32)
            counter += arg
            buffer.append(samples)
            model += samples.tolist()
        elif op == "trim":
            # trim relative to the current start, so trims land inside, before and after
            target = model_start + arg * len(model) // 100
            buffer.trim_before(target)
            drop = min(max(0, target - model_start), len(model))
            model = model[drop:]
            model_start += drop
        else:
            buffer.reset(arg)
            model, model_start = [], arg
        assert len(buffer) == len(model)
        assert buffer.start_sample == model_start
        assert buffer.end_sample == model_start + len(model)
        assert buffer.view().tolist() == model
        assert buffer.view().dtype == np.float32


def test_trim_before_the_start_or_past_the_end() -> None:
    buffer = SampleBuffer(capacity=4)
    buffer.reset(100)
    buffer.append(np.arange(10, dtype=np.float32))
    buffer.trim_before(50)
    assert (buffer.start_sample, len(buffer)) == (100, 10)
    buffer.trim_before(104)
    assert buffer.start_sample == 104
    assert buffer.view().tolist() == [4, 5, 6, 7, 8, 9]
    buffer.trim_before(10_000)
    assert (buffer.start_sample, len(buffer), buffer.end_sample) == (110, 0, 110)
    buffer.append(np.ones(3, dtype=np.float32))
    assert (buffer.start_sample, buffer.end_sample) == (110, 113)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-32768, 32767), max_size=200))
def test_int16_round_trip(values: list[int]) -> None:
    raw = np.array(values, dtype="<i2").tobytes()
    samples = int16_to_float32(raw)
    assert samples.dtype == np.float32
    assert np.all(samples >= -1.0) and np.all(samples < 1.0)
    assert float32_to_int16(samples) == raw


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-4.0, 4.0, width=32), max_size=200))
def test_float32_to_int16_clips(values: list[float]) -> None:
    samples = np.array(values, dtype=np.float32)
    pcm = np.frombuffer(float32_to_int16(samples), dtype="<i2")
    assert len(pcm) == len(values)
    expected = np.clip(np.array(values, dtype=np.float64) * 32768.0, -32768, 32767)
    assert np.all(np.abs(pcm - expected) <= 1.0)


def test_odd_byte_count_is_refused() -> None:
    with pytest.raises(ValueError, match="even number"):
        int16_to_float32(b"\x00\x01\x02")
    assert int16_to_float32(b"").shape == (0,)
    assert float32_to_int16(np.zeros(0, dtype=np.float32)) == b""
