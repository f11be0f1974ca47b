"""An NPY file built in place: the header, then one structured array with a field per band.

Earth Engine's NPY output is a structured (height, width) array. Building the file's bytes
directly (rather than np.save of an array) lets the chunks of a request be written straight
into their final place: no output arrays beside it and no copies into it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openee.encode.buffers import RESPONSE_BUFFERS


def structured_dtype(names: Sequence[str], dtypes: Sequence[np.dtype]) -> np.dtype:
    """Earth Engine's NPY pixel: one field per band, named after it, of the band's type."""
    return np.dtype(list(zip(names, dtypes, strict=True)))


def npy_header(dtype: np.dtype, shape: tuple[int, int]) -> bytes:
    """The bytes of an NPY file before its (C-ordered) array: magic, version, header."""
    meta = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    header = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(header, meta)
    except ValueError:  # a header over 64 KiB (thousands of band names)
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, meta)
    return header.getvalue()


@dataclass(frozen=True)
class NpyFile:
    buffer: memoryview  # the whole file: header + array
    array: np.ndarray  # (height, width) structured view of the buffer, NOT initialised

    @classmethod
    def allocate(cls, names: list[str], dtypes: list[np.dtype], shape: tuple[int, int]) -> NpyFile:
        dtype = structured_dtype(names, dtypes)
        head = npy_header(dtype, shape)
        # Zeroed: chunks write only the boxes where a band may be valid, with masked pixels at
        # 0, so the rest of the file is never written. Small files: np.zeros (calloc, the
        # kernel's zero pages, docs/decisions/0048); large ones: a kept resident block, zeroed
        # again (docs/decisions/0061).
        raw = RESPONSE_BUFFERS.zeros(len(head) + dtype.itemsize * shape[0] * shape[1])
        raw[: len(head)] = np.frombuffer(head, dtype=np.uint8)
        array = raw[len(head) :].view(dtype).reshape(shape)
        return cls(raw.data, array)

    def fields(self) -> list[np.ndarray]:
        """One writable (height, width) view per band, in band order."""
        names = self.array.dtype.names or ()
        return [self.array[name] for name in names]

    @property
    def header(self) -> memoryview:
        """The bytes before the array (magic, version, header length, header)."""
        return self.buffer[: len(self.buffer) - self.array.nbytes]

    def rows(self, start: int, stop: int) -> memoryview:
        """The bytes of rows [start, stop) of the array: a view of the buffer, not a copy."""
        offset = len(self.header)
        row_bytes = self.array.strides[0]
        return self.buffer[offset + start * row_bytes : offset + stop * row_bytes]

    def zero_masked(self, valid: Sequence[np.ndarray], start: int, stop: int) -> None:
        """Sets the pixels of rows [start, stop) that are not valid to 0, band by band (Earth
        Engine's NPY holds 0 where a band is masked); `valid` is each band's (height, width)
        mask."""
        for field, mask in zip(self.fields(), valid, strict=True):
            rows = mask[start:stop]
            if not rows.all():
                np.copyto(field[start:stop], 0, where=~rows)
