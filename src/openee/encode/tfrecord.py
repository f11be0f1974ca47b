"""TFRecord files of `tf.train.Example` protos, as Earth Engine's TFRecord exports write them
(docs/decisions/0045), without TensorFlow.

- A TFRecord file is a sequence of records: the data's length (uint64, little-endian), the
  masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data (TensorFlow's
  `record_writer`); CRC-32C comes from google-crc32c (Google's C library).
- An Example is written in protobuf's wire format directly: its schema (tensorflow/core/example/
  example.proto: Example{Features features = 1}, Features{map<string, Feature> feature = 1},
  Feature{oneof bytes_list = 1, float_list = 2, int64_list = 3}, FloatList{repeated float
  value = 1 [packed]}) is four small messages, and a patch of a few bands is a few float arrays
  that numpy turns into packed little-endian float32 bytes at once, where building protobuf
  message objects would copy every value through Python.

The image options (`TfRecordImageExportOptions` on the wire) are parsed by the HTTP layer
(`api/export_options.py`) into `TfRecordOptions`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import google_crc32c
import numpy as np

IMAGE_FORMAT = "TF_RECORD_IMAGE"
TABLE_FORMAT = "TF_RECORD_TABLE"
# Earth Engine's default maxFileSize: 1 GiB, before compression (the TFRecord guide).
DEFAULT_MAX_FILE_BYTES = 1 << 30
_MASK_DELTA = 0xA282EAD8


# -- record framing -----------------------------------------------------------------------------


def masked_crc(data: bytes | memoryview) -> int:
    """TensorFlow's masked CRC-32C: the CRC rotated right by 15 bits plus a constant."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord record holding `data`."""
    length = struct.pack("<Q", len(data))
    return b"".join(
        (length, struct.pack("<I", masked_crc(length)), data, struct.pack("<I", masked_crc(data)))
    )


def record_lengths(buffer: bytes | memoryview) -> Iterable[int]:
    """The size of each framed record of a buffer of whole records (for splitting files)."""
    offset = 0
    while offset < len(buffer):
        (length,) = struct.unpack_from("<Q", buffer, offset)
        size = 16 + length
        yield size
        offset += size


# -- tf.train.Example ---------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def float_feature(values: np.ndarray) -> bytes:
    """A Feature holding a FloatList (float32, packed)."""
    packed = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return _field(2, _field(1, packed) if packed else b"")


def bytes_feature(values: Sequence[bytes]) -> bytes:
    """A Feature holding a BytesList."""
    return _field(1, b"".join(_field(1, v) for v in values))


def example(features: Sequence[tuple[str, bytes]]) -> bytes:
    """A serialized Example from (name, serialized Feature) pairs, in the given order."""
    entries = b"".join(
        _field(1, _field(1, name.encode()) + _field(2, feature)) for name, feature in features
    )
    return _field(1, entries)


# -- image options ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TfRecordOptions:
    """An image export's `tfRecordOptions` (the client's TFRecord `formatOptions`)."""

    patch: tuple[int, int]  # (width, height): patchDimensions
    margin: tuple[int, int] = (0, 0)  # pixels added on each side: kernelSize // 2
    compress: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    default_value: float = 0.0
    tensor_depths: dict[str, int] = field(default_factory=dict)
    collapse_bands: bool = False
    # None: every patch is written and the mixer sidecar too; else patches with a larger share
    # of masked pixels are dropped, and no mixer is written (its grid would have holes).
    max_masked_ratio: float | None = None

    @property
    def extension(self) -> str:
        return ".tfrecord.gz" if self.compress else ".tfrecord"

    def tile(self) -> tuple[int, int]:
        """A patch with its margins, (width, height)."""
        return self.patch[0] + 2 * self.margin[0], self.patch[1] + 2 * self.margin[1]


# -- image patches ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandTensor:
    """One band of a tile: `values` of shape (depth, height, width), float."""

    name: str
    values: np.ndarray


def patch_example(tensors: Sequence[BandTensor], collapse: bool) -> bytes:
    """A patch as Earth Engine writes it: one float feature per band holding the tile's values in
    channel, row, column order (CHW); with collapseBands, one feature named after the first band
    holding every band's channels."""
    if collapse:
        stacked = np.concatenate([t.values for t in tensors])
        return example([(tensors[0].name, float_feature(stacked.ravel()))])
    return example([(t.name, float_feature(t.values.ravel())) for t in tensors])


# -- tables -------------------------------------------------------------------------------------


def _flat_numbers(value: Any) -> list[float] | None:
    """A number, boolean or (nested) list of them as a flat list (an ee.Array row-major)."""
    if isinstance(value, bool | int | float):
        return [float(value)]
    if isinstance(value, list):
        out: list[float] = []
        for item in value:
            flat = _flat_numbers(item)
            if flat is None:
                return None
            out.extend(flat)
        return out
    return None


def property_feature(value: Any) -> bytes | None:
    """A property as a Feature: numbers (and arrays of them) as floats, as Earth Engine's
    TFRecord guide states; strings as UTF-8 bytes; anything else as its JSON text. None (no
    feature) for a null property."""
    if value is None:
        return None
    numbers = _flat_numbers(value)
    if numbers is not None:
        return float_feature(np.asarray(numbers, dtype=np.float64))
    if isinstance(value, str):
        return bytes_feature([value.encode()])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return bytes_feature([v.encode() for v in value])
    return bytes_feature([json.dumps(value, separators=(",", ":")).encode()])


def table_records(features: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """One framed Example per feature, holding its `columns` (`system:index` is the feature's
    id, `.geo` its GeoJSON geometry, both as text)."""
    out = []
    for f in features:
        props = f.get("properties") or {}
        entries = []
        for column in columns:
            if column == "system:index":
                value = f.get("id")
            elif column == ".geo":
                geometry = f.get("geometry")
                value = None if geometry is None else json.dumps(geometry, separators=(",", ":"))
            else:
                value = props.get(column)
            feature = property_feature(value)
            if feature is not None:
                entries.append((column, feature))
        out.append(frame(example(entries)))
    return b"".join(out)
