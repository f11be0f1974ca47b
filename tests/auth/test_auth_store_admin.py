"""Store operations behind `openee service-accounts` and `openee keys`, and the audit log."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from openee.auth import AuditLog, AuthStore, create_service_account_key
from openee.errors import NotFoundError
from openee.statedb import StateDB

TOKEN_URI = "http://127.0.0.1:8765/token"


@pytest.fixture
def store(state_target: Path | StateDB) -> AuthStore:
    """An auth store in a SQLite file, and in PostgreSQL."""
    return AuthStore(state_target)


def test_list_accounts_by_project(store: AuthStore) -> None:
    store.add_account("b@p1.iam.gserviceaccount.com", "p1")
    store.add_account("a@p2.iam.gserviceaccount.com", "p2")
    assert [a.email for a in store.list_accounts()] == [
        "a@p2.iam.gserviceaccount.com",
        "b@p1.iam.gserviceaccount.com",
    ]
    assert [a.email for a in store.list_accounts("p1")] == ["b@p1.iam.gserviceaccount.com"]


def test_several_keys_per_account_each_with_its_own_kid(store: AuthStore) -> None:
    keys = [create_service_account_key(store, "proj", TOKEN_URI) for _ in range(3)]
    kids = {k["private_key_id"] for k in keys}
    assert len(kids) == 3
    assert {k.kid for k in store.list_keys(keys[0]["client_email"])} == kids
    assert {k.kid for k in store.list_all_keys()} == kids


def test_revoking_a_key_revokes_only_the_tokens_it_minted(store: AuthStore) -> None:
    email = "openee@proj.iam.gserviceaccount.com"
    first = create_service_account_key(store, "proj", TOKEN_URI)
    second = create_service_account_key(store, "proj", TOKEN_URI)
    store.store_token("t1", email, (), "proj", 2e9, kid=first["private_key_id"])
    store.store_token("t2", email, (), "proj", 2e9, kid=second["private_key_id"])
    assert store.revoke_key(first["private_key_id"])
    assert store.lookup_token("t1") is None
    assert store.lookup_token("t2") is not None
    assert not store.revoke_key("nope")


def test_disabling_an_account_revokes_its_tokens_for_good(store: AuthStore) -> None:
    email = create_service_account_key(store, "proj", TOKEN_URI)["client_email"]
    store.store_token("t1", email, (), "proj", 2e9)
    store.set_account_disabled(email, True)
    store.set_account_disabled(email, False)
    assert store.lookup_token("t1") is None


def test_delete_account_removes_keys_and_tokens(store: AuthStore) -> None:
    key = create_service_account_key(store, "proj", TOKEN_URI)
    email = key["client_email"]
    store.store_token("t1", email, (), "proj", 2e9, kid=key["private_key_id"])
    store.delete_account(email)
    assert store.get_account(email) is None
    assert store.get_key(key["private_key_id"]) is None
    assert store.count_tokens() == 0
    with pytest.raises(NotFoundError):
        store.delete_account(email)


def test_old_database_gains_the_kid_column(tmp_path: Path) -> None:
    path = tmp_path / "auth.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE access_tokens (token_hash TEXT PRIMARY KEY, email TEXT NOT NULL,"
            " scopes TEXT NOT NULL DEFAULT '', project TEXT NOT NULL, expires_at REAL NOT NULL)"
        )
        conn.execute("INSERT INTO access_tokens VALUES ('h', 'e', '', 'p', 2e9)")
    store = AuthStore(path)
    store.store_token("t", "e", (), "p", 2e9, kid="k")
    assert store.lookup_token("t") is not None
    assert store.count_tokens() == 2


def test_remember_assertion_is_atomic(store: AuthStore) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        results.append(store.remember_assertion("iss", "same-jti", 2e9))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_audit_log_appends_json_lines_with_mode_0600(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "sub" / "audit.log")
    audit.record("token.grant", principal="a@p", project="p")
    audit.record("key.revoke", kid="k")
    lines = [json.loads(x) for x in audit.path.read_text().splitlines()]
    assert [e["event"] for e in lines] == ["token.grant", "key.revoke"]
    assert lines[0]["principal"] == "a@p" and lines[0]["project"] == "p"
    assert stat.S_IMODE(audit.path.stat().st_mode) == 0o600
