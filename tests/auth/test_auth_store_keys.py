"""Tests for the auth store and for minting service-account key files."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from google.oauth2 import service_account

from openee.auth import (
    AuthStore,
    create_service_account_key,
    hash_token,
    service_account_email,
    write_key_file,
)
from openee.errors import AlreadyExistsError, NotFoundError

TOKEN_URI = "http://127.0.0.1:8765/token"


@pytest.fixture
def store(tmp_path: Path) -> AuthStore:
    return AuthStore(tmp_path / "auth.sqlite")


def _store_bytes(store: AuthStore) -> bytes:
    """The bytes of the database and its WAL / shared-memory files."""
    return b"".join(
        p.read_bytes() for p in store.path.parent.glob(store.path.name + "*") if p.is_file()
    )


def test_schema_creation_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "auth.sqlite"
    first = AuthStore(path)
    first.add_account("a@p.iam.gserviceaccount.com", "p")
    second = AuthStore(path)
    account = second.get_account("a@p.iam.gserviceaccount.com")
    assert account is not None
    assert account.project == "p"
    assert not account.disabled


def test_duplicate_account_and_key(store: AuthStore) -> None:
    store.add_account("a@p.iam.gserviceaccount.com", "p")
    with pytest.raises(AlreadyExistsError):
        store.add_account("a@p.iam.gserviceaccount.com", "p")
    store.add_key("a@p.iam.gserviceaccount.com", "k1", "-----BEGIN PUBLIC KEY-----\n...")
    with pytest.raises(AlreadyExistsError):
        store.add_key("a@p.iam.gserviceaccount.com", "k1", "-----BEGIN PUBLIC KEY-----\n...")


def test_add_key_requires_account_and_refuses_private_keys(store: AuthStore) -> None:
    with pytest.raises(NotFoundError):
        store.add_key("nobody@p.iam.gserviceaccount.com", "k", "-----BEGIN PUBLIC KEY-----")
    store.add_account("a@p.iam.gserviceaccount.com", "p")
    with pytest.raises(ValueError, match="private"):
        store.add_key("a@p.iam.gserviceaccount.com", "k", "-----BEGIN PRIVATE KEY-----")


def test_revoke_key_and_disable_account(store: AuthStore) -> None:
    email = "a@p.iam.gserviceaccount.com"
    store.add_account(email, "p")
    store.add_key(email, "k1", "-----BEGIN PUBLIC KEY-----")
    assert store.revoke_key("k1")
    assert not store.revoke_key("missing")
    key = store.get_key("k1")
    assert key is not None and key.revoked
    assert [k.kid for k in store.list_keys(email)] == ["k1"]
    store.set_account_disabled(email, True)
    account = store.get_account(email)
    assert account is not None and account.disabled
    with pytest.raises(NotFoundError):
        store.set_account_disabled("nobody@p.iam.gserviceaccount.com", True)


def test_token_lookup_expiry_revoke_and_purge(store: AuthStore) -> None:
    store.store_token("tok", "a@p", ("s1", "s2"), "p", expires_at=1000.0)
    record = store.lookup_token("tok", now=999.0)
    assert record is not None
    assert (record.email, record.project, record.scopes) == ("a@p", "p", ("s1", "s2"))
    assert store.lookup_token("tok", now=1000.0) is None
    assert store.lookup_token("other", now=0.0) is None
    store.store_token("tok2", "a@p", (), "p", expires_at=5000.0)
    assert store.purge_expired_tokens(now=2000.0) == 1
    record2 = store.lookup_token("tok2", now=2000.0)
    assert record2 is not None and record2.scopes == ()
    assert store.revoke_token("tok2")
    assert not store.revoke_token("tok2")
    assert store.lookup_token("tok2", now=2000.0) is None


def test_tokens_are_stored_hashed(store: AuthStore) -> None:
    raw = "raw-token-value-that-must-not-hit-disk-0123456789"
    store.store_token(raw, "a@p", ("s",), "p", expires_at=1e12)
    data = _store_bytes(store)
    assert raw.encode() not in data
    assert hash_token(raw).encode() in data


def test_store_is_usable_from_many_threads(store: AuthStore) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                store.store_token(f"t{i}-{j}", "a@p", ("s",), "p", expires_at=1e12)
                assert store.lookup_token(f"t{i}-{j}") is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_create_service_account_key_format(store: AuthStore) -> None:
    key = create_service_account_key(store, "my-proj", TOKEN_URI)
    email = service_account_email("my-proj")
    assert email == "openee@my-proj.iam.gserviceaccount.com"
    assert key["type"] == "service_account"
    assert key["project_id"] == "my-proj"
    assert key["client_email"] == email
    assert key["token_uri"] == TOKEN_URI
    assert key["universe_domain"] == "googleapis.com"
    assert key["client_id"].isdigit()
    for field in ("auth_uri", "auth_provider_x509_cert_url", "client_x509_cert_url"):
        assert key[field].startswith("https://")
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")

    private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    assert isinstance(private, RSAPrivateKey)
    assert private.key_size == 2048

    record = store.get_key(key["private_key_id"])
    assert record is not None
    assert record.email == email and not record.revoked
    public = serialization.load_pem_public_key(record.public_pem.encode())
    assert isinstance(public, RSAPublicKey)
    assert public.public_numbers() == private.public_key().public_numbers()

    account = store.get_account(email)
    assert account is not None and account.project == "my-proj"

    # google-auth accepts the key as is and keeps our token_uri.
    creds = service_account.Credentials.from_service_account_info(key)
    assert creds.service_account_email == email
    assert creds._token_uri == TOKEN_URI


def test_second_key_reuses_account(store: AuthStore) -> None:
    first = create_service_account_key(store, "p", TOKEN_URI, account_name="ci")
    second = create_service_account_key(store, "p", TOKEN_URI, account_name="ci")
    assert first["client_email"] == second["client_email"] == "ci@p.iam.gserviceaccount.com"
    assert first["private_key_id"] != second["private_key_id"]
    assert len(store.list_keys("ci@p.iam.gserviceaccount.com")) == 2


def test_private_key_never_reaches_the_store(store: AuthStore) -> None:
    key = create_service_account_key(store, "p", TOKEN_URI)
    data = _store_bytes(store)
    assert b"PRIVATE KEY" not in data
    body_lines = [ln for ln in key["private_key"].splitlines() if not ln.startswith("-----")]
    for line in body_lines:
        assert line.encode() not in data


def test_write_key_file_mode_and_atomicity(store: AuthStore, tmp_path: Path) -> None:
    key = create_service_account_key(store, "p", TOKEN_URI)
    path = tmp_path / "deep" / "keys" / "key.json"
    write_key_file(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == key

    # Overwriting replaces the file and leaves no temporary files behind.
    other = create_service_account_key(store, "p", TOKEN_URI)
    write_key_file(other, path)
    assert json.loads(path.read_text()) == other
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["key.json"]

    creds = service_account.Credentials.from_service_account_file(str(path))
    assert creds.service_account_email == other["client_email"]
