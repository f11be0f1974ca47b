"""The disk tier's block cache lists a block only once its bytes are in the file (ADR 0057), and
a tier starting on a directory drops data files no metadata lists. No store needed: the fetcher
is a function over known bytes (the oracle); the reads through a real S3 server are in
tests/e2e/test_e2e_object_storage.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openee.raster.remote_cache import _DiskTier, _written_first_cache

DATA = bytes(range(256)) * 4  # 1024 bytes
BLOCK = 100


def _cache(tmp_path: Path, fetcher: Callable[[int, int], bytes]) -> Any:
    return _written_first_cache()(BLOCK, fetcher, len(DATA), str(tmp_path / "sparse"), set())


# fsspec's mapped block file is dropped after mapping (see tests/e2e/test_e2e_object_storage.py).
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedRandom:ResourceWarning")


def test_a_fetch_lists_its_blocks_after_writing_them(tmp_path: Path) -> None:
    asked: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        asked.append((start, end))
        return DATA[start:end]

    cache = _cache(tmp_path, fetch)
    assert cache._fetch(150, 420) == DATA[150:420]
    assert asked == [(100, 500)]  # blocks 1..4, one range
    assert cache.blocks == {1, 2, 3, 4}
    assert cache._fetch(0, 1024) == DATA  # only what is missing is asked for
    assert asked[1:] == [(0, 100), (500, 1024)]
    assert cache.blocks == set(range(11))


@pytest.mark.parametrize("answer", ["error", "short"])
def test_a_failed_or_short_fetch_lists_nothing(tmp_path: Path, answer: str) -> None:
    def fetch(start: int, end: int) -> bytes:
        if answer == "error":
            raise OSError("the store did not answer")
        return DATA[start : end - 1]

    cache = _cache(tmp_path, fetch)
    with pytest.raises(OSError):
        cache._fetch(0, 300)
    assert cache.blocks == set()  # fsspec's own MMapCache lists 0..3 here, holding zeros
    cache.fetcher = lambda start, end: DATA[start:end]
    assert cache._fetch(0, 300) == DATA[:300]  # fetched again, never zeros


def test_a_tier_starts_without_data_files_no_entry_lists(tmp_path: Path) -> None:
    kept = tmp_path / "s3"  # the s3:// store's part of the tier
    kept.mkdir()
    (kept / "a").write_bytes(b"x" * 10)
    (kept / "orphan").write_bytes(b"y" * 10)
    entry = {"original": "b/k.tif", "fn": "a", "blocks": [0], "time": 0.0, "uid": "e", "size": 10}
    (kept / "cache").write_text(json.dumps({"b/k.tif": entry}))
    tier = _DiskTier(tmp_path, max_bytes=1 << 30)
    assert sorted(p.name for p in kept.iterdir()) == ["a", "cache"]
    assert tier._filesystems["s3"]._metadata.cached_files[-1]["b/k.tif"]["fn"] == "a"
