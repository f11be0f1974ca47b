"""Settings are declared once: every OPENEE_* variable the code reads is a declared setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openee.settings import Settings, declared

SRC = Path(__file__).resolve().parents[1] / "src" / "openee"
# Not a setting: a hook of the test suite.
NOT_SETTINGS = {"OPENEE_RECORD_ALGORITHMS"}


def test_every_variable_the_code_names_is_declared() -> None:
    named = set()
    for path in SRC.rglob("*.py"):
        named |= set(re.findall(r"\bOPENEE_[A-Z_]+\b", path.read_text()))
    assert named - NOT_SETTINGS - {env for env, _, _ in declared()} == set()


def test_the_environment_sets_declared_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENEE_PORT", "9999")
    monkeypatch.setenv("OPENEE_DEADLINE", "12.5")
    monkeypatch.setenv("OPENEE_LIMITS", "strict")
    monkeypatch.setenv("OPENEE_CATALOG", "")
    settings = Settings.from_env(data_dir=Path("elsewhere"), host=None)
    assert settings.port == 9999
    assert settings.limits.deadline_s == 12.5
    assert settings.limits.max_response_bytes == 48 * 1024 * 1024  # the strict profile
    assert settings.catalog is None  # empty means unset
    assert settings.data_dir == Path("elsewhere")  # an explicit override wins
    assert settings.host == "127.0.0.1"  # None is no override


def test_a_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENEE_COMPUTE_SLOTS", "many")
    with pytest.raises(ValueError, match="OPENEE_COMPUTE_SLOTS must be a whole number"):
        Settings.from_env()
