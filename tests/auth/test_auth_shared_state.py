"""Auth state shared by replicas (ADR 0046), on SQLite and PostgreSQL: two stores on one database
stand for two servers. Failed authentications count together (the same blocks as one in-memory
limiter seeing every failure), the audit trail is one, map ids and API keys made by one resolve
on the other, and a server with another capability secret is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from openee.auth import AuthStore
from openee.auth.apikeys import ApiKeyStore
from openee.auth.audit import StoredAuditLog
from openee.auth.capabilities import CapabilityStore, check_shared_secret
from openee.auth.ratelimit import FailureLimiter, StoredFailureLimiter, TooManyFailuresError
from openee.statedb import SqliteState, StateDB

SECRET = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def _db(target: Path | StateDB) -> StateDB:
    return target if isinstance(target, StateDB) else SqliteState(target)


def _outcomes(limiters: list[FailureLimiter], clock: Clock, keys: list[str]) -> list[str]:
    """Failures spread over the limiters in turn, a second apart, then checks after the block."""
    out = []
    for i in range(6):
        limiter = limiters[i % len(limiters)]
        try:
            limiter.check(keys)
            limiter.record_failure(keys)
            out.append("counted")
        except TooManyFailuresError as exc:
            out.append(f"blocked {exc.retry_after_s}")
        clock.now += 1
    clock.now += 60
    for limiter in limiters:
        limiter.check(keys)  # the block has ended everywhere
    out.append("free")
    return out


def test_replicas_count_failures_together(state_target: Path | StateDB) -> None:
    shared_clock, memory_clock = Clock(), Clock()
    db = _db(state_target)
    a = StoredFailureLimiter(db, max_failures=3, window_s=60, block_s=30, clock=shared_clock)
    b = StoredFailureLimiter(db, max_failures=3, window_s=60, block_s=30, clock=shared_clock)
    one = FailureLimiter(max_failures=3, window_s=60, block_s=30, clock=memory_clock)
    keys = ["client:10.0.0.7", "account:x@p.iam.gserviceaccount.com"]
    shared = _outcomes([a, b], shared_clock, keys)
    assert shared == _outcomes([one], memory_clock, keys)
    assert shared[:5] == ["counted"] * 3 + ["blocked 30", "blocked 29"]
    a.check(["client:someone-else"])  # other keys are not blocked


def test_one_audit_trail_for_every_replica(state_target: Path | StateDB) -> None:
    db = _db(state_target)
    a, b = StoredAuditLog(db), StoredAuditLog(db)
    a.record("token.grant", principal="x@p", scopes=["s"], client="127.0.0.1")
    b.record("asset.delete", principal="y@p", asset="projects/p/assets/a")
    events = a.events()
    assert [(e["event"], e["principal"]) for e in events] == [
        ("token.grant", "x@p"),
        ("asset.delete", "y@p"),
    ]
    assert events[0]["scopes"] == ["s"] and events[1]["asset"] == "projects/p/assets/a"
    assert events[0]["time"] <= events[1]["time"]


def test_a_map_id_and_an_api_key_made_on_one_replica_resolve_on_the_other(
    state_target: Path | StateDB,
) -> None:
    db = _db(state_target)
    a, b = AuthStore(db), AuthStore(db)
    request = {"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}}
    raw = CapabilityStore(a, SECRET).create("map", "p", "x@p", ("s",), request)
    found = CapabilityStore(b, SECRET).resolve("map", "p", raw)
    assert found is not None and found.request == request and found.creator == "x@p"
    key, secret_key = ApiKeyStore(a).create("p", "web")
    looked_up = ApiKeyStore(b).lookup(secret_key)
    assert looked_up is not None and looked_up.key_id == key.key_id


def test_a_server_with_another_capability_secret_is_refused(
    state_target: Path | StateDB, tmp_path: Path
) -> None:
    db = _db(state_target)
    a, b = AuthStore(db), AuthStore(db)
    check_shared_secret(a, SECRET, tmp_path / "a.secret")
    check_shared_secret(b, SECRET, tmp_path / "b.secret")  # the same secret: accepted
    with pytest.raises(ValueError, match="OPENEE_CAPABILITY_SECRET_FILE"):
        check_shared_secret(b, bytes(32), tmp_path / "other.secret")
