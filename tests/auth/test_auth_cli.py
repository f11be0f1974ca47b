"""`openee service-accounts ...` and `openee keys ...`, run through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account

from openee.auth import JWT_BEARER_GRANT_TYPE, AuthStore, InvalidGrantError, TokenService
from openee.cli import main

PROJECT = "openee-demo"
EMAIL = f"ci-runner@{PROJECT}.iam.gserviceaccount.com"


def run(
    capsys: pytest.CaptureFixture[str], data_dir: Path, *argv: str
) -> tuple[int, list[dict[str, Any]], str]:
    code = main([*argv, "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def store_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("auth.sqlite*") if p.is_file())


def grant(data_dir: Path, key_file: Path) -> dict[str, Any]:
    """Exchanges a google-auth assertion from the key file, in process."""
    creds = service_account.Credentials.from_service_account_file(str(key_file))
    raw = creds._make_authorization_grant_assertion()
    service = TokenService(AuthStore(data_dir / "auth.sqlite"), "http://127.0.0.1:8080/token")
    assertion = raw.decode() if isinstance(raw, bytes) else str(raw)
    return service.grant({"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion})


def test_service_account_lifecycle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "service-accounts", "create", "ci-runner")
    assert code == 0
    assert out == [{"email": EMAIL, "project": PROJECT, "display_name": "ci-runner"}]

    code, _, err = run(capsys, tmp_path, "service-accounts", "create", "ci-runner")
    assert code == 1 and "already exists" in err

    code, out, _ = run(capsys, tmp_path, "service-accounts", "list")
    assert [(a["email"], a["disabled"], a["active_keys"]) for a in out] == [(EMAIL, False, 0)]

    assert run(capsys, tmp_path, "service-accounts", "disable", "ci-runner")[0] == 0
    assert run(capsys, tmp_path, "service-accounts", "list")[1][0]["disabled"] is True
    assert run(capsys, tmp_path, "service-accounts", "enable", EMAIL)[0] == 0
    assert run(capsys, tmp_path, "service-accounts", "delete", EMAIL)[1] == [
        {"email": EMAIL, "deleted": True}
    ]
    assert run(capsys, tmp_path, "service-accounts", "list")[1] == []
    code, _, err = run(capsys, tmp_path, "service-accounts", "delete", EMAIL)
    assert code == 1 and "not found" in err

    events = [json.loads(x)["event"] for x in (tmp_path / "audit.log").read_text().splitlines()]
    assert events == [
        "service_account.create",
        "service_account.disable",
        "service_account.enable",
        "service_account.delete",
    ]


@pytest.mark.parametrize("name", ["X", "short", "9starts-with-digit", "ends-with-", "a" * 31])
def test_invalid_account_ids_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    code, out, err = run(capsys, tmp_path, "service-accounts", "create", name)
    assert code == 1 and out == [] and "Invalid account id" in err


def test_keys_create_list_revoke(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, tmp_path, "service-accounts", "create", "ci-runner")
    files = [tmp_path / "k1.json", tmp_path / "k2.json"]
    kids = []
    for path in files:
        code, out, _ = run(
            capsys, tmp_path, "keys", "create", "--account", "ci-runner", "--out", str(path)
        )
        assert code == 0
        kids.append(out[0]["private_key_id"])
        assert out[0]["client_email"] == EMAIL
    assert len(set(kids)) == 2

    key = json.loads(files[0].read_text())
    assert key["type"] == "service_account"
    assert key["private_key_id"] == kids[0]
    assert key["token_uri"] == "http://127.0.0.1:8080/token"
    # Only the public halves were stored.
    data = store_bytes(tmp_path)
    for path in files:
        body = json.loads(path.read_text())["private_key"].splitlines()[1:-1]
        assert all(line.encode() not in data for line in body)

    code, out, _ = run(capsys, tmp_path, "keys", "list", "--account", "ci-runner")
    assert [(k["private_key_id"], k["revoked"]) for k in out] == [
        (kids[0], False),
        (kids[1], False),
    ]
    assert "private_key" not in out[0] and "public_pem" not in out[0]

    # Both keys mint tokens; revoking one stops it and revokes its tokens, not the other's.
    token = grant(tmp_path, files[0])["access_token"]
    other_token = grant(tmp_path, files[1])["access_token"]
    assert run(capsys, tmp_path, "keys", "revoke", kids[0])[1][0]["revoked"] is True
    store = AuthStore(tmp_path / "auth.sqlite")
    assert store.lookup_token(token) is None
    assert store.lookup_token(other_token) is not None
    with pytest.raises(InvalidGrantError):
        grant(tmp_path, files[0])
    assert grant(tmp_path, files[1])["token_type"] == "Bearer"
    assert [k["revoked"] for k in run(capsys, tmp_path, "keys", "list")[1]] == [True, False]

    code, _, err = run(capsys, tmp_path, "keys", "revoke", "0" * 40)
    assert code == 1 and "not found" in err


def test_keys_create_refuses_unknown_account_and_overwrites(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "k.json"
    code, _, err = run(
        capsys, tmp_path, "keys", "create", "--account", "ghost-account", "--out", str(out_file)
    )
    assert code == 1 and "service-accounts create" in err
    assert not out_file.exists()

    run(capsys, tmp_path, "service-accounts", "create", "ci-runner")
    args = ("keys", "create", "--account", EMAIL, "--out", str(out_file))
    assert run(capsys, tmp_path, *args, "--token-uri", "https://ee.example.org/token")[0] == 0
    assert json.loads(out_file.read_text())["token_uri"] == "https://ee.example.org/token"
    code, _, err = run(capsys, tmp_path, *args)
    assert code == 1 and "--force" in err
    assert run(capsys, tmp_path, *args, "--force")[0] == 0
