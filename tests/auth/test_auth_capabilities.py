"""Capability ids (thumbnails, downloads, map tiles): content-addressed with a server secret,
hashed at rest, expiring, and bound to the one request, kind and project they were created for."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from openee.auth import AuthStore, hash_token
from openee.auth.capabilities import (
    DEFAULT_CAPABILITY_TTL_S,
    CapabilityStore,
    load_or_create_secret,
)

REQUEST = {"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}, "bandIds": []}
SECRET = bytes(range(32))
A = "a@p.iam.gserviceaccount.com"


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
    return CapabilityStore(AuthStore(tmp_path / "auth.sqlite"), SECRET, 60, clock=clock)


def test_ids_are_an_hmac_of_the_request_and_stored_hashed(caps: CapabilityStore) -> None:
    requests = [{**REQUEST, "bandIds": [f"B{i}"]} for i in range(20)]
    ids = [caps.create("map", "p", A, ("s",), r) for r in requests]
    assert len(set(ids)) == 20
    # Independent oracle: HMAC-SHA256 keyed with the secret over the documented message.
    header = json.dumps(["map", "p", A, ["s"]], separators=(",", ":"))
    body = json.dumps(requests[0], sort_keys=True, separators=(",", ":"))
    mac = hmac.new(SECRET, f"{header}\n{body}".encode(), hashlib.sha256).hexdigest()
    assert ids[0] == mac[:40]
    with sqlite3.connect(caps.store.path) as conn:
        stored = {row[0] for row in conn.execute("SELECT id_hash FROM capabilities")}
    assert stored == {hash_token(i) for i in ids}
    assert not set(ids) & stored


def test_the_same_request_gets_the_same_id_and_others_differ(
    caps: CapabilityStore, tmp_path: Path
) -> None:
    first = caps.create("map", "p", A, ("s",), REQUEST)
    reordered = dict(reversed(list(REQUEST.items())))  # key order does not matter
    assert caps.create("map", "p", A, ("s",), reordered) == first
    others = {
        caps.create("map", "p", "b@p.iam.gserviceaccount.com", ("s",), REQUEST),
        caps.create("thumbnail", "p", A, ("s",), REQUEST),
        caps.create("map", "q", A, ("s",), REQUEST),
        caps.create("map", "p", A, ("s", "t"), REQUEST),
        CapabilityStore(caps.store, bytes(32), 60).create("map", "p", A, ("s",), REQUEST),
    }
    assert first not in others and len(others) == 5


def test_asking_again_renews_the_expiry(caps: CapabilityStore, clock: Clock) -> None:
    raw = caps.create("map", "p", A, (), REQUEST)
    clock.now += 50
    assert caps.create("map", "p", A, (), REQUEST) == raw
    clock.now += 50
    assert caps.resolve("map", "p", raw) is not None
    clock.now += 10
    assert caps.resolve("map", "p", raw) is None
    assert caps.create("map", "p", A, (), REQUEST) == raw  # an expired id comes back to life
    assert caps.resolve("map", "p", raw) is not None


def test_the_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "capabilities.secret"
    secret = load_or_create_secret(path)
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == secret
    assert load_or_create_secret(tmp_path / "other.secret") != secret


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
    assert CapabilityStore(AuthStore(tmp_path / "a.sqlite"), SECRET).ttl_seconds == 86400
    with pytest.raises(ValueError):
        CapabilityStore(AuthStore(tmp_path / "a.sqlite"), SECRET, 0)
    with pytest.raises(ValueError):
        CapabilityStore(AuthStore(tmp_path / "a.sqlite"), b"short")


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
