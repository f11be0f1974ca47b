"""Kept response buffers (docs/decisions/0061): always zeroed, never handed out while any view of
the previous array is alive, bounded, and NPY files built on them equal np.save's bytes."""

from __future__ import annotations

import gc
import io

import numpy as np
import pytest

from openee.encode import npy as npy_module
from openee.encode.buffers import MIN_KEPT, ResponseBuffers
from openee.encode.npy import NpyFile

SIZE = MIN_KEPT + 12345


def address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def test_a_given_back_block_is_reused_and_zeroed_again() -> None:
    buffers = ResponseBuffers(2 * SIZE)
    first = buffers.zeros(SIZE)
    first[::4096] = 7
    where = address(first)
    del first
    gc.collect()
    second = buffers.zeros(SIZE - 100)
    assert address(second) == where  # the same resident block
    assert not second.any()  # the 7s are gone: a reused block is zeroed


def test_a_block_is_not_reused_while_a_view_of_it_lives() -> None:
    buffers = ResponseBuffers(2 * SIZE)
    first = buffers.zeros(SIZE)
    # The kinds of references a response keeps: a structured view of its tail (NpyFile.array)
    # and a memoryview slice of it (NpyStream.parts, the HTTP body).
    tail = first[1001:].view(np.uint16)  # bytes 5001-5002 at [2000]
    part = first.data[5000:6000]
    first[5000:6000] = 9
    where = address(first)
    del first
    gc.collect()
    second = buffers.zeros(SIZE)
    assert address(second) != where
    second[...] = 1
    assert bytes(part) == b"\x09" * 1000  # untouched by the other response
    assert tail[2000] == 9 | 9 << 8
    del tail, part
    gc.collect()
    assert address(buffers.zeros(SIZE)) == where  # free again once nothing refers to it


def test_at_most_keep_bytes_are_kept_and_small_buffers_are_not() -> None:
    buffers = ResponseBuffers(SIZE)
    held = buffers.zeros(SIZE)
    other = buffers.zeros(SIZE)  # over the bound: an ordinary array, not kept
    assert other.flags.owndata and not held.flags.owndata
    assert buffers.zeros(1024).flags.owndata  # under MIN_KEPT: np.zeros
    assert not other.any()


def test_prefault_keeps_one_block_within_the_bound() -> None:
    buffers = ResponseBuffers(SIZE)
    buffers.prefault(SIZE)
    buffers.prefault(SIZE)  # no room for a second
    a = buffers.zeros(SIZE)
    b = buffers.zeros(SIZE)
    assert not a.flags.owndata and b.flags.owndata


@pytest.mark.parametrize("kept", [0, 1 << 30])
def test_npy_file_bytes_equal_np_save(monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    buffers = ResponseBuffers(kept)
    monkeypatch.setattr(npy_module, "RESPONSE_BUFFERS", buffers)
    rng = np.random.default_rng(0)
    shape = (2048, 1100)  # 3 float64 bands: over MIN_KEPT
    for _ in range(2):  # the second file reuses the first one's block when kept
        npy = NpyFile.allocate(["B4", "B3", "B2"], [np.dtype("float64")] * 3, shape)
        assert npy.array.nbytes >= MIN_KEPT
        expected = np.zeros(shape, dtype=npy.array.dtype)
        for name in ("B4", "B3"):  # B2 never written: must read as zeros
            values = rng.random(shape)
            npy.array[name][:1000] = values[:1000]
            expected[name][:1000] = values[:1000]
        reference = io.BytesIO()
        np.save(reference, expected)
        assert bytes(npy.buffer) == reference.getvalue()
        del npy
        gc.collect()
