"""Compressed pixel responses (ADR 0049): which `Content-Encoding` a response gets, and the
compressors.

Only raw pixels (NPY, `application/octet-stream`) are worth compressing: PNG, JPEG, GeoTIFF
(DEFLATE inside) and ZIP are compressed already. Whether compressing pays depends on the link,
the client and the pixels, none of which the client states: the client's side of a gzip body is
zlib's inflate, about 240 MB/s of output on one core here, slower than loopback (about 330 MB/s
through requests), faster than 1 Gbit/s (125 MB/s). So the policy (OPENEE_RESPONSE_COMPRESSION):

  auto     compress for clients that accept it, except on loopback (the client is on this
           machine: gzip loses there, zstd gains ~10 %), and only pixels that compress (a
           sample of the first rows must shrink at least MIN_RATIO times)
  always   compress whenever the client accepts it and the sample shrinks (a server behind a
           reverse proxy on the same machine, whose clients are remote)
  off      never

Codings, in the server's order of preference among those the client accepts: zstd (twice as
fast to decode as gzip; requests/urllib3 2.x ask for it when the client has `backports.zstd`, or
Python 3.14's `compression.zstd`; the stock `ee` client never does: googleapiclient sends
`gzip, deflate` whatever is installed), gzip, deflate. gzip and
deflate are written by ISA-L (`isal`, several times faster than zlib at the same ratio, the same
format).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from isal import isal_zlib

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

from openee.settings import is_loopback_host

COMPRESSIBLE_MEDIA_TYPES = frozenset({"application/octet-stream"})  # NPY
# Below this the sample is judged incompressible: the compressor's time and the client's decode
# are not won back on the wire (bench/RESULTS.md, 2026-12-05 wire section).
MIN_RATIO = 1.5
SAMPLE_BYTES = 256 * 1024
ISAL_LEVEL = 1  # ISA-L's levels are 0-3; 1 is about as fast as 0 and compresses better
ZSTD_LEVEL = 1
SLICE_BYTES = 1024 * 1024
# Bodies smaller than this go as they are: a few packets either way.
MIN_BODY_BYTES = 64 * 1024


class Compressor(Protocol):
    def compress(self, data: Any, /) -> bytes: ...
    def flush(self) -> bytes: ...


@dataclass(frozen=True)
class Coding:
    """A content coding the server writes."""

    name: str

    def compressor(self) -> Compressor:
        if self.name == "zstd":
            return zstd.ZstdCompressor(level=ZSTD_LEVEL)
        wbits = 16 + zlib.MAX_WBITS if self.name == "gzip" else zlib.MAX_WBITS
        return isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, wbits)

    def encode(self, parts: Iterable[bytes | memoryview]) -> Iterator[bytes]:
        """The compressed body of `parts`, in pieces of at most SLICE_BYTES of input each, so
        that the client decodes one piece while the next is compressed."""
        compressor = self.compressor()
        for part in parts:
            view = memoryview(part).cast("B")
            for start in range(0, len(view), SLICE_BYTES):
                out = compressor.compress(view[start : start + SLICE_BYTES])
                if out:
                    yield out
        yield compressor.flush()

    def whole(self, body: bytes | memoryview) -> bytes:
        compressor = self.compressor()
        return compressor.compress(body) + compressor.flush()

    def ratio(self, sample: bytes | memoryview) -> float:
        """How many times the sample shrinks."""
        return len(sample) / max(1, len(self.whole(sample)))


PREFERENCE = (Coding("zstd"), Coding("gzip"), Coding("deflate"))


def accepted(header: str | None) -> set[str]:
    """The codings an `Accept-Encoding` header accepts (q > 0; `*` stands for any)."""
    names: set[str] = set()
    refused: set[str] = set()
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        (names if q > 0 else refused).add(name)
    if "*" in names:
        names |= {c.name for c in PREFERENCE}
    return names - refused - {"*"}


def choose(
    policy: str,
    accept_encoding: str | None,
    client_host: str | None,
    media_type: str,
) -> Coding | None:
    """The coding a response of `media_type` may get before its pixels are looked at, or None.

    (`worth_it` then looks at a sample of the pixels.)"""
    if policy == "off" or media_type not in COMPRESSIBLE_MEDIA_TYPES:
        return None
    if policy == "auto" and client_host is not None and is_loopback_host(client_host):
        return None
    names = accepted(accept_encoding)
    return next((c for c in PREFERENCE if c.name in names), None)


def worth_it(coding: Coding, sample: bytes | memoryview, body_bytes: int) -> bool:
    """Whether a body of `body_bytes` whose first pixels are `sample` should be compressed."""
    return body_bytes >= MIN_BODY_BYTES and coding.ratio(sample[:SAMPLE_BYTES]) >= MIN_RATIO
