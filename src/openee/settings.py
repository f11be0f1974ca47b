"""Runtime settings: where data lives, how the server binds, which limits apply."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PROJECT = "openee-demo"


@dataclass(frozen=True)
class Limits:
    """Request limits. The default profile bounds a request by the memory it needs;
    `strict()` mirrors Earth Engine's 48 MiB response cap and wording."""

    max_response_bytes: int | None = None  # Earth Engine's cap on raw pixel bytes (strict)
    # What one computePixels request may use at its peak (output, chunks, encoding).
    memory_budget_bytes: int = 4 * 1024 * 1024 * 1024
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
    # The side of a chunk (pixels). OPENEE_CHUNK_SIZE.
    chunk_size: int = 1024
    # A Dask scheduler address ('tcp://host:port'): chunks then run as Dask tasks there.
    dask_scheduler: str | None = None
    # Authentication. Turning it off (`serve --no-auth`) is refused unless bound to loopback.
    auth_enabled: bool = True
    token_ttl_s: int = 3600
    # Failed authentications per minute, per client address or account, before a 60 s block.
    auth_max_failures: int = 20
    # How long thumbnail, download and map-tile ids (capability URLs) stay valid.
    capability_ttl_s: int = 24 * 3600
    # The catalog: a PostgreSQL connection string (`postgresql://...` or `host=... dbname=...`)
    # or a SQLite file path (default: `catalog_path`). OPENEE_CATALOG.
    catalog: str | None = None
    # How many imports (`image:import`, `table:import`) and exports run at once.
    import_workers: int = 2
    # Export buckets: (bucket name, URL root) pairs, e.g. ("results", "s3://results-bucket/ee").
    # A bucket not listed is the local folder `<data dir>/buckets/<name>`. OPENEE_BUCKETS.
    buckets: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.auth_enabled and not is_loopback_host(self.host):
            raise ValueError(
                f"Authentication can only be disabled on a loopback address, not '{self.host}'."
            )

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def catalog_target(self) -> str | Path:
        """What `catalog.store.open_store` opens: OPENEE_CATALOG, else the data dir's SQLite."""
        return self.catalog or self.catalog_path

    @property
    def operations_path(self) -> Path:
        """The long-running operations (imports) of this server."""
        return self.data_dir / "operations.sqlite"

    @property
    def auth_path(self) -> Path:
        return self.data_dir / "auth.sqlite"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

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
        if "OPENEE_DASK_SCHEDULER" in os.environ:
            env["dask_scheduler"] = os.environ["OPENEE_DASK_SCHEDULER"]
        if "OPENEE_TOKEN_TTL" in os.environ:
            env["token_ttl_s"] = int(os.environ["OPENEE_TOKEN_TTL"])
        if "OPENEE_AUTH_MAX_FAILURES" in os.environ:
            env["auth_max_failures"] = int(os.environ["OPENEE_AUTH_MAX_FAILURES"])
        if os.environ.get("OPENEE_CATALOG"):
            env["catalog"] = os.environ["OPENEE_CATALOG"]
        if "OPENEE_CHUNK_SIZE" in os.environ:
            env["chunk_size"] = int(os.environ["OPENEE_CHUNK_SIZE"])
        if "OPENEE_CAPABILITY_TTL" in os.environ:
            env["capability_ttl_s"] = int(os.environ["OPENEE_CAPABILITY_TTL"])
        if os.environ.get("OPENEE_BUCKETS"):
            env["buckets"] = parse_buckets(os.environ["OPENEE_BUCKETS"])
        if os.environ.get("OPENEE_LIMITS") == "strict":
            env["limits"] = Limits.strict()
        elif "OPENEE_MEMORY_BUDGET" in os.environ:
            env["limits"] = Limits(memory_budget_bytes=int(os.environ["OPENEE_MEMORY_BUDGET"]))
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]


def parse_buckets(text: str) -> tuple[tuple[str, str], ...]:
    """`name=url,name2=url2` (OPENEE_BUCKETS) as (name, url) pairs."""
    pairs = []
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, url = part.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ValueError(f"OPENEE_BUCKETS: expected name=url, got '{part.strip()}'.")
        pairs.append((name.strip(), url.strip()))
    return tuple(pairs)


def is_loopback_host(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
