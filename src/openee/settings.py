"""Runtime settings: where data lives, how the server binds, which limits apply."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PROJECT = "openee-demo"


@dataclass(frozen=True)
class Limits:
    """Request limits. The default profile is generous; `strict()` mirrors Earth Engine."""

    max_response_bytes: int = 1024 * 1024 * 1024
    max_grid_side: int = 32768
    max_bands: int = 1024
    max_body_bytes: int = 10 * 1024 * 1024
    strict_wording: bool = False

    @classmethod
    def strict(cls) -> Limits:
        return cls(max_response_bytes=48 * 1024 * 1024, strict_wording=True)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("openee-data")
    host: str = "127.0.0.1"
    port: int = 8080
    default_project: str = DEFAULT_PROJECT
    limits: Limits = field(default_factory=Limits)
    # The externally visible base URL; used for the token_uri of generated keys.
    public_url: str | None = None
    # How many chunks of a request run at once.
    chunk_workers: int = max(2, os.cpu_count() or 2)
    chunk_size: int = 1024

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def auth_path(self) -> Path:
        return self.data_dir / "auth.sqlite"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from OPENEE_* environment variables, then explicit overrides."""
        env: dict[str, object] = {}
        if "OPENEE_DATA_DIR" in os.environ:
            env["data_dir"] = Path(os.environ["OPENEE_DATA_DIR"])
        if "OPENEE_PORT" in os.environ:
            env["port"] = int(os.environ["OPENEE_PORT"])
        if "OPENEE_HOST" in os.environ:
            env["host"] = os.environ["OPENEE_HOST"]
        if "OPENEE_PROJECT" in os.environ:
            env["default_project"] = os.environ["OPENEE_PROJECT"]
        if os.environ.get("OPENEE_LIMITS") == "strict":
            env["limits"] = Limits.strict()
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]
