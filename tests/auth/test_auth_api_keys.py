"""API keys: created once, stored hashed, listed without secrets, revocable; the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from openee.auth import AuthStore, hash_token
from openee.auth.apikeys import INVALID_KEY_MESSAGE, ApiKeyStore
from openee.cli import main
from openee.errors import InvalidArgumentError, NotFoundError


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeyStore:
    return ApiKeyStore(AuthStore(tmp_path / "auth.sqlite"))


def test_create_lookup_revoke(keys: ApiKeyStore) -> None:
    record, raw = keys.create("proj", "maps")
    assert raw.startswith("AIza") and len(raw) == 4 + 8 + 43
    assert record.key_id in raw
    found = keys.lookup(raw)
    assert found is not None and found.project == "proj" and found.key_id == record.key_id
    assert keys.check(raw) == found
    keys.revoke(record.key_id)
    assert keys.lookup(raw) is None
    got = keys.get(record.key_id)
    assert got is not None and got.revoked
    with pytest.raises(InvalidArgumentError) as refused:
        keys.check(raw)
    assert refused.value.message == INVALID_KEY_MESSAGE
    with pytest.raises(NotFoundError):
        keys.revoke("nope")


def test_keys_are_stored_hashed(keys: ApiKeyStore) -> None:
    _, raw = keys.create("proj")
    with sqlite3.connect(keys.store.path) as conn:
        rows = conn.execute("SELECT * FROM api_keys").fetchall()
    flat = json.dumps(rows)
    assert raw not in flat and raw[12:] not in flat
    assert hash_token(raw) in flat


@pytest.mark.parametrize("bad", ["", "AIza", "x" * 55, "AIza" + "0" * 51, "AIza' OR 1=1 --"])
def test_bad_keys_are_refused(keys: ApiKeyStore, bad: str) -> None:
    keys.create("proj")
    assert keys.lookup(bad) is None


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert main(["api-keys", "create", "--project", "team-a", "--display-name", "web", *data]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["project"] == "team-a" and created["key"].startswith("AIza")
    assert main(["api-keys", "list", *data]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert created["key"] not in json.dumps(listed)
    assert listed[0]["display_name"] == "web" and listed[0]["revoked"] is False
    assert main(["api-keys", "revoke", created["key_id"], *data]) == 0
    capsys.readouterr()
    assert main(["api-keys", "revoke", "00000000", *data]) == 1
    assert "not found" in capsys.readouterr().err
    audit = (tmp_path / "audit.log").read_text()
    assert '"api_key.create"' in audit and '"api_key.revoke"' in audit
    assert created["key"] not in audit


def test_iam_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path)]
    member = "serviceAccount:ci@team-a.iam.gserviceaccount.com"
    grant = ["iam", "grant", "projects/team-a/assets/shared", "--role", "roles/editor"]
    assert main([*grant, "--member", member, *data]) == 0
    capsys.readouterr()
    assert main(["iam", "show", "projects/team-a/assets/shared", *data]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["bindings"] == [{"role": "roles/editor", "members": [member]}]
    assert main([*grant, "--member", "not-a-member", *data]) == 1
    revoke = ["iam", "revoke", "projects/team-a/assets/shared", "--role", "roles/editor"]
    assert main([*revoke, "--member", member, *data]) == 0
    assert main([*revoke, "--member", member, *data]) == 1
