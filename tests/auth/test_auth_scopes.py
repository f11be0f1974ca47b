"""Scopes on the principal, the `require_write` dependency, and `--no-auth` settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from openee.api.deps import require_write
from openee.auth import (
    CLOUD_PLATFORM_READONLY_SCOPE,
    CLOUD_PLATFORM_SCOPE,
    EARTHENGINE_READONLY_SCOPE,
    EARTHENGINE_SCOPE,
    Principal,
    anonymous_principal,
)
from openee.errors import PermissionDeniedError
from openee.settings import Settings, is_loopback_host

DRIVE = "https://www.googleapis.com/auth/drive"


@pytest.mark.parametrize(
    ("scopes", "can_write"),
    [
        ((EARTHENGINE_SCOPE,), True),
        ((CLOUD_PLATFORM_SCOPE,), True),
        ((EARTHENGINE_READONLY_SCOPE,), False),
        ((CLOUD_PLATFORM_READONLY_SCOPE,), False),
        ((EARTHENGINE_READONLY_SCOPE, CLOUD_PLATFORM_READONLY_SCOPE), False),
        ((DRIVE,), False),
        ((), False),  # application-default credentials without scopes
        ((EARTHENGINE_READONLY_SCOPE, CLOUD_PLATFORM_SCOPE), True),
    ],
)
def test_write_needs_a_write_scope(scopes: tuple[str, ...], can_write: bool) -> None:
    principal = Principal("a@p.iam.gserviceaccount.com", "p", scopes)
    assert principal.can_write is can_write
    if can_write:
        assert require_write(principal) is principal
    else:
        with pytest.raises(PermissionDeniedError, match="insufficient authentication scopes") as e:
            require_write(principal)
        assert e.value.http_status == 403


def test_anonymous_principal_may_write() -> None:
    principal = anonymous_principal("openee-demo")
    assert principal.anonymous and principal.can_write
    assert principal.project == "openee-demo"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_auth_is_on_by_default(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).auth_enabled


def test_no_auth_is_refused_off_loopback(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, host="127.0.0.1", auth_enabled=False)
    with pytest.raises(ValueError, match="loopback"):
        Settings(data_dir=tmp_path, host="0.0.0.0", auth_enabled=False)


def test_token_settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENEE_TOKEN_TTL", "5")
    monkeypatch.setenv("OPENEE_AUTH_MAX_FAILURES", "50")
    settings = Settings.from_env(data_dir=tmp_path)
    assert (settings.token_ttl_s, settings.auth_max_failures) == (5, 50)
    assert settings.audit_path == tmp_path / "audit.log"
