"""Capability ids (thumbnails, downloads, map tiles): random, hashed at rest, expiring, and
bound to the one request, kind and project they were created for."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openee.auth import AuthStore, hash_token
from openee.auth.capabilities import DEFAULT_CAPABILITY_TTL_S, CapabilityStore

REQUEST = {"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}, "bandIds": []}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def caps(tmp_path: Path, clock: Clock) -> CapabilityStore:
    return CapabilityStore(AuthStore(tmp_path / "auth.sqlite"), 60, clock=clock)


def test_ids_are_random_160_bit_hex_and_stored_hashed(caps: CapabilityStore) -> None:
    ids = {caps.create("map", "p", "a@p.iam.gserviceaccount.com", (), REQUEST) for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 40 and int(i, 16) >= 0 for i in ids)
    with sqlite3.connect(caps.store.path) as conn:
        stored = {row[0] for row in conn.execute("SELECT id_hash FROM capabilities")}
    assert stored == {hash_token(i) for i in ids}
    assert not ids & stored


def test_resolves_to_its_own_request_kind_and_project_only(caps: CapabilityStore) -> None:
    first = caps.create("thumbnail", "p", "a@p.iam.gserviceaccount.com", ("s",), REQUEST)
    other_request = {**REQUEST, "bandIds": ["B4"]}
    second = caps.create("thumbnail", "p", "a@p.iam.gserviceaccount.com", ("s",), other_request)
    got = caps.resolve("thumbnail", "p", first)
    assert got is not None and got.request == REQUEST and got.scopes == ("s",)
    got2 = caps.resolve("thumbnail", "p", second)
    assert got2 is not None and got2.request == other_request
    assert caps.resolve("map", "p", first) is None
    assert caps.resolve("thumbnail", "q", first) is None
    assert caps.resolve("thumbnail", "p", first[:-1] + ("0" if first[-1] != "0" else "1")) is None


@pytest.mark.parametrize("bad", ["", "x" * 40, "A" * 40, "0" * 39, "' OR 1=1 --", "../" * 14])
def test_malformed_ids_resolve_to_nothing(caps: CapabilityStore, bad: str) -> None:
    assert caps.resolve("thumbnail", "p", bad) is None


def test_ids_expire(caps: CapabilityStore, clock: Clock) -> None:
    raw = caps.create("map", "p", "a@p.iam.gserviceaccount.com", (), REQUEST)
    clock.now += 59
    assert caps.resolve("map", "p", raw) is not None
    clock.now += 1
    assert caps.resolve("map", "p", raw) is None
    assert caps.purge_expired() == 1


def test_default_ttl_is_a_day(tmp_path: Path) -> None:
    assert DEFAULT_CAPABILITY_TTL_S == 86400
    assert CapabilityStore(AuthStore(tmp_path / "a.sqlite")).ttl_seconds == 86400
    with pytest.raises(ValueError):
        CapabilityStore(AuthStore(tmp_path / "a.sqlite"), 0)


def test_deleting_the_creator_deletes_its_ids(caps: CapabilityStore) -> None:
    store = caps.store
    store.add_account("a@p.iam.gserviceaccount.com", "p")
    raw = caps.create("map", "p", "a@p.iam.gserviceaccount.com", (), REQUEST)
    store.delete_account("a@p.iam.gserviceaccount.com")
    assert caps.resolve("map", "p", raw) is None


def test_access_log_paths_never_hold_ids() -> None:
    from openee.api.middleware import loggable_path

    raw = "0123456789abcdef0123456789abcdef01234567"
    for path, logged in (
        (f"/v1/projects/p/thumbnails/{raw}:getPixels", "/v1/projects/p/thumbnails/{id}:getPixels"),
        (f"/v1/projects/p/maps/{raw}/tiles/3/1/2", "/v1/projects/p/maps/{id}/tiles/3/1/2"),
        (f"/v1/projects/p/tables/{raw}:getFeatures", "/v1/projects/p/tables/{id}:getFeatures"),
        (
            f"/v1/projects/p/videoThumbnails/{raw}:getPixels",
            "/v1/projects/p/videoThumbnails/{id}:getPixels",
        ),
        (
            f"/v1/projects/p/filmstripThumbnails/{raw}:getPixels",
            "/v1/projects/p/filmstripThumbnails/{id}:getPixels",
        ),
        ("/v1/projects/p/thumbnails", "/v1/projects/p/thumbnails"),
        ("/v1/projects/p/assets/maps/x", "/v1/projects/p/assets/maps/x"),
    ):
        assert loggable_path(path) == logged
