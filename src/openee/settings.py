"""Runtime settings: where data lives, how the server binds, which limits apply."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_PROJECT = "openee-demo"
DEFAULT_DATA_DIR = Path("openee-data")


def setting(
    default: Any,
    env: str | None,
    doc: str,
    parse: Callable[[str], Any] | None = None,
    shown: str | None = None,
) -> Any:
    """A field declared once: its default, the OPENEE_* variable that sets it (None: not settable
    from the environment), one line of documentation, and how the variable's text is read
    (default: the type of `default`); `shown` describes a default that depends on the machine.
    The README's settings table and `openee serve --help` are generated from these."""
    metadata = {"env": env, "doc": doc, "parse": parse, "shown": shown}
    return field(default=default, metadata=metadata)


def _default_process_budget() -> int:
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 * 1024**3
    return int(0.6 * physical)


@dataclass(frozen=True)
class Limits:
    """Request limits. The default profile bounds a request by the memory it needs;
    `strict()` mirrors Earth Engine's 48 MiB response cap and wording."""

    max_response_bytes: int | None = setting(
        None, None, "Earth Engine's cap on raw pixel bytes per request (strict profile: 48 MiB)."
    )
    memory_budget_bytes: int = setting(
        4 * 1024**3,
        "OPENEE_MEMORY_BUDGET",
        "Bytes one computePixels request may use at its peak; larger requests are refused.",
    )
    max_grid_side: int = setting(32768, None, "Pixels per side of a requested grid.")
    max_bands: int = setting(1024, None, "Bands of a requested image.")
    max_body_bytes: int = setting(10 * 1024**2, None, "Bytes of a request body.")
    process_memory_budget_bytes: int = setting(
        _default_process_budget(),
        "OPENEE_PROCESS_MEMORY_BUDGET",
        "Bytes all computePixels-like requests running at once may use at their peaks together; "
        "past it a request waits, then gets 429 RESOURCE_EXHAUSTED.",
        shown="60 % of the machine's memory",
    )
    deadline_s: float = setting(
        300.0,
        "OPENEE_DEADLINE",
        "Seconds a request may run before 504 DEADLINE_EXCEEDED (Earth Engine: 300).",
    )
    strict_wording: bool = setting(False, None, "Earth Engine's wording in limit errors.")

    @classmethod
    def strict(cls) -> Limits:
        return cls(max_response_bytes=48 * 1024 * 1024, strict_wording=True)


def _optional(text: str) -> str | None:
    return text or None


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def _paths(text: str) -> tuple[Path, ...]:
    """Directories separated by os.pathsep (`:` on POSIX), as PATH is."""
    return tuple(Path(p) for p in text.split(os.pathsep) if p)


COMPRESSION_POLICIES = ("auto", "always", "off")


def _compression_policy(text: str) -> str:
    value = text.strip().lower()
    if value not in COMPRESSION_POLICIES:
        raise ValueError(text)
    return value


# A path prefix: segments of URL path characters (RFC 3986 pchar, percent-escapes included).
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+")


def path_prefix(text: str) -> str:
    """A path prefix (`--root-path`, OPENEE_ROOT_PATH, a proxy's X-Forwarded-Prefix) in one
    form: empty, or `/a/b` with no trailing slash. ValueError for anything else (a scheme or
    host, `..`, a query, spaces): it is written into URLs other clients follow."""
    value = text.strip().rstrip("/")
    if not value:
        return ""
    if not _PREFIX.fullmatch(value) or any(s in (".", "..") for s in value.split("/")):
        raise ValueError(f"a path prefix must look like '/openee', not '{text[:100]}'.")
    return value


def forwarded_allow_ips(text: str) -> tuple[str, ...]:
    """OPENEE_FORWARDED_ALLOW_IPS: `*`, or addresses and networks (uvicorn's
    --forwarded-allow-ips), each checked, so that a typo is an error rather than a proxy
    silently not trusted."""
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    for item in items:
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"forwarded-allow-ips: '{item[:100]}' is not an address, a network or '*'."
                ) from None
    return items


_CORES = os.cpu_count() or 2


@dataclass(frozen=True)
class Settings:
    data_dir: Path = setting(  # noqa: RUF009 - setting() is a dataclass field
        DEFAULT_DATA_DIR, "OPENEE_DATA_DIR", "Catalog, keys, operations and imported files."
    )
    host: str = setting("127.0.0.1", "OPENEE_HOST", "Address the server binds.")
    port: int = setting(8080, "OPENEE_PORT", "Port the server binds.")
    default_project: str = setting(
        DEFAULT_PROJECT, "OPENEE_PROJECT", "Project of the demo data and the first key."
    )
    limits: Limits = field(default_factory=Limits)
    public_url: str | None = setting(
        None,
        "OPENEE_PUBLIC_URL",
        "Externally visible base URL: every URL the server writes (token_uri of generated keys,"
        " download links, discovery rootUrl) starts with it; unset, they follow each request"
        " (its host, and a trusted proxy's X-Forwarded-Proto/Host/Prefix).",
        _optional,
    )
    root_path: str = setting(
        "",
        "OPENEE_ROOT_PATH",
        "Path prefix a reverse proxy serves openee under (`/openee`): written into the URLs the"
        " server makes; requests are served with or without it (the proxy may strip it).",
        path_prefix,
        shown="none",
    )
    forwarded_allow_ips: tuple[str, ...] = setting(
        ("127.0.0.1", "::1"),
        "OPENEE_FORWARDED_ALLOW_IPS",
        "Proxies (comma-separated addresses or networks, `*` for any) whose X-Forwarded-For,"
        " -Proto, -Host and -Prefix headers are believed; from anyone else they are ignored.",
        forwarded_allow_ips,
        shown="127.0.0.1,::1",
    )
    chunk_workers: int = setting(
        max(2, _CORES),
        "OPENEE_CHUNK_WORKERS",
        "Chunks of a request computed at once.",
        shown="the cores, at least 2",
    )
    chunk_size: int = setting(1024, "OPENEE_CHUNK_SIZE", "Side of a chunk of the output grid.")
    prefault_bytes: int = setting(
        128 * 1024**2,
        "OPENEE_PREFAULT_BYTES",
        "Memory `openee serve` faults in at start in the chunk and read threads' malloc arenas"
        " (at most 32 MiB a thread), so its first requests do not pay for fresh pages; 0: none.",
    )
    response_buffer_bytes: int = setting(
        128 * 1024**2,
        "OPENEE_RESPONSE_BUFFER_BYTES",
        "Memory `openee serve` keeps resident for large responses (NPY of 32 MiB or more), faulted"
        " in at start and reused, so they are not written into freshly mapped pages; 0: none.",
    )
    dask_scheduler: str | None = setting(
        None,
        "OPENEE_DASK_SCHEDULER",
        "A Dask scheduler ('tcp://host:port'): export chunks, and those of requests past "
        "OPENEE_DASK_THRESHOLD, then run as Dask tasks there.",
        _optional,
    )
    dask_threshold: int = setting(
        2**24,
        "OPENEE_DASK_THRESHOLD",
        "Estimated cost (output pixels x source files read) from which a request's chunks run "
        "on the Dask cluster (with OPENEE_DASK_SCHEDULER); cheaper ones run in the server.",
    )
    auth_enabled: bool = setting(
        True, None, "Authentication (off only with `serve --no-auth`, on loopback)."
    )
    token_ttl_s: int = setting(3600, "OPENEE_TOKEN_TTL", "Seconds an access token stays valid.")
    auth_max_failures: int = setting(
        20,
        "OPENEE_AUTH_MAX_FAILURES",
        "Failed authentications per minute, per address or account, before a 60 s block.",
    )
    capability_ttl_s: int = setting(
        24 * 3600,
        "OPENEE_CAPABILITY_TTL",
        "Seconds thumbnail, download and map-tile URLs stay valid.",
    )
    catalog: str | None = setting(
        None,
        "OPENEE_CATALOG",
        "PostgreSQL connection string or SQLite path of the catalog (default: in the data dir).",
        _optional,
    )
    state: str | None = setting(
        None,
        "OPENEE_STATE",
        "PostgreSQL connection string of the shared state: accounts, keys, tokens, IAM, API"
        " keys, map ids, operations, audit trail, rate limits (default: OPENEE_CATALOG when that"
        " is PostgreSQL, else SQLite files in the data dir).",
        _optional,
    )
    operation_lease_s: float = setting(
        30.0,
        "OPENEE_OPERATION_LEASE",
        "Seconds an unfinished operation stays with its server without a heartbeat; then"
        " another server (or the next start) takes it over.",
    )
    capability_secret_file: Path | None = setting(  # noqa: RUF009 - setting() is a dataclass field
        None,
        "OPENEE_CAPABILITY_SECRET_FILE",
        "File of the secret that keys map, thumbnail and download ids; replicas must share it"
        " (default: keys/capabilities.secret in the data dir).",
        _optional_path,
    )
    import_workers: int = setting(
        2,
        "OPENEE_IMPORT_WORKERS",
        "Imports (image:import, table:import) and exports running at once.",
    )
    compute_slots: int = setting(
        max(4, 2 * _CORES),
        "OPENEE_COMPUTE_SLOTS",
        "Compute requests running at once, shared fairly between projects.",
        shown="twice the cores, at least 4",
    )
    project_concurrency: int = setting(
        40,
        "OPENEE_PROJECT_CONCURRENCY",
        "Compute requests one project may run at once (Earth Engine: 40).",
    )
    tile_cache_bytes: int = setting(
        256 * 1024**2,
        "OPENEE_TILE_CACHE_BYTES",
        "Bytes of encoded map tiles kept in memory (0: no tile cache).",
    )
    tile_cache_dir: Path | None = setting(  # noqa: RUF009 - setting() is a dataclass field
        None,
        "OPENEE_TILE_CACHE_DIR",
        "Directory of a disk tier of the map-tile cache, kept across restarts (default: none).",
        _optional_path,
    )
    tile_cache_disk_bytes: int = setting(
        1024**3,
        "OPENEE_TILE_CACHE_DISK_BYTES",
        "Bytes of encoded map tiles the disk tier keeps (with OPENEE_TILE_CACHE_DIR).",
    )
    tile_cache_ttl_s: float = setting(
        300.0, "OPENEE_TILE_CACHE_TTL", "Seconds a cached map tile is served before recomputing."
    )
    admission_wait_s: float = setting(
        10.0,
        "OPENEE_ADMISSION_WAIT",
        "Seconds a compute request waits for a slot before 429 RESOURCE_EXHAUSTED.",
    )
    export_workers: int = setting(
        2, "OPENEE_EXPORT_WORKERS", "Exports running at once (the others wait PENDING)."
    )
    allowed_roots: tuple[Path, ...] = setting(
        (),
        "OPENEE_ALLOWED_ROOTS",
        "Shared data roots besides the data dir and the demo data, separated by `:`: files"
        " there are readable by every user's requests (import, loadGeoTIFF, ...).",
        _paths,
        shown="none",
    )
    allowed_url_prefixes: tuple[str, ...] = setting(
        (),
        "OPENEE_ALLOWED_URL_PREFIXES",
        "URL prefixes (`https://host/path/`, `s3://bucket/path/`, `gs://bucket/path/`),"
        " space-separated, whose files"
        " requests and `openee ingest` may read; any other URL is refused.",
        lambda text: tuple(text.split()),
        shown="none",
    )
    remote_cache_dir: Path | None = setting(  # noqa: RUF009 - setting() is a dataclass field
        None,
        "OPENEE_REMOTE_CACHE_DIR",
        "Directory of a disk tier under reads of `s3://` and `gs://` files: blocks fetched once"
        " are kept"
        " there, across restarts; one server process per directory (default: none; needs the"
        " `buckets` extra).",
        _optional_path,
    )
    remote_cache_bytes: int = setting(
        10 * 1024**3,
        "OPENEE_REMOTE_CACHE_BYTES",
        "Bytes the disk tier keeps (with OPENEE_REMOTE_CACHE_DIR): past it, whole files are"
        " evicted, least recently read first, while serving and at start (ADR 0057).",
    )
    response_compression: str = setting(
        "auto",
        "OPENEE_RESPONSE_COMPRESSION",
        "Compress NPY pixel responses for clients that accept it: auto (not to loopback clients,"
        " only pixels that compress), always, or off (ADR 0049).",
        _compression_policy,
    )
    buckets: tuple[tuple[str, str], ...] = setting(
        (),
        "OPENEE_BUCKETS",
        "Export buckets, `name=url,...` (s3://, gs://, az://, a folder); any other bucket is"
        " the folder <data dir>/buckets/<name>.",
        lambda text: parse_buckets(text),
        shown="none",
    )

    def __post_init__(self) -> None:
        if self.response_compression not in COMPRESSION_POLICIES:
            raise ValueError(
                f"response_compression must be one of {', '.join(COMPRESSION_POLICIES)}, "
                f"not '{self.response_compression}'."
            )
        if self.state and not is_postgres_dsn(self.state):
            raise ValueError(
                "OPENEE_STATE must be a PostgreSQL connection string (postgresql://...); without"
                " it the state stays in the data dir's SQLite files."
            )
        # The same checks and form as OPENEE_ROOT_PATH's text (`/openee/` is `/openee`).
        object.__setattr__(self, "root_path", path_prefix(self.root_path))
        forwarded_allow_ips(",".join(self.forwarded_allow_ips))
        if not self.auth_enabled and not is_loopback_host(self.host):
            raise ValueError(
                "--no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost), "
                f"not '{self.host}'. Authentication stays on."
            )

    @property
    def base_url(self) -> str:
        """The URL the server names itself by with no request at hand (the first key's
        token_uri, the start-up banner); requests build theirs in `api/public_url.py`."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}{self.root_path}"

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
    def capability_secret_path(self) -> Path:
        """The secret that keys thumbnail, download and map ids (ADR 0037)."""
        return self.capability_secret_file or self.keys_dir / "capabilities.secret"

    @property
    def state_dsn(self) -> str | None:
        """The shared state database (ADR 0046): OPENEE_STATE, else OPENEE_CATALOG when that
        is PostgreSQL; None: the data dir's SQLite files."""
        if self.state:
            return self.state
        catalog = self.catalog or ""
        return catalog if is_postgres_dsn(catalog) else None

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from OPENEE_* environment variables, then explicit overrides (None values
        are not overrides). `OPENEE_LIMITS=strict` starts the limits from Earth Engine's."""
        limits = Limits.strict() if os.environ.get(PROFILE_ENV) == "strict" else Limits()
        limits = replace(limits, **_from_environment(Limits))
        values: dict[str, Any] = {**_from_environment(cls), "limits": limits}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


PROFILE_ENV = "OPENEE_LIMITS"
PROFILE_DOC = "`strict`: Earth Engine's own limits and wording (48 MiB responses, ...)."


def declared() -> list[tuple[str, str, str]]:
    """(environment variable, default as text, doc) of every setting the environment sets."""
    out = [(PROFILE_ENV, "(default profile)", PROFILE_DOC)]
    for cls in (Settings, Limits):
        for f in fields(cls):
            if f.metadata.get("env"):
                default = f.metadata["shown"] or ("none" if f.default is None else f.default)
                out.append((f.metadata["env"], str(default), f.metadata["doc"]))
    return sorted(out)


def _from_environment(cls: type) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = f.metadata.get("env")
        if not name or name not in os.environ:
            continue
        text = os.environ[name]
        parse: Any = f.metadata.get("parse") or type(f.default)
        try:
            values[f.name] = parse(text)
        except ValueError:
            kind = {int: "a whole number", float: "a number"}.get(parse, "valid")
            raise ValueError(f"{name} must be {kind}, not '{text}'.") from None
    return values


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


def is_postgres_dsn(text: str) -> bool:
    """A libpq connection string: a `postgresql://` URI or `key=value` pairs (`host=... dbname=`)."""
    return text.startswith(("postgresql://", "postgres://")) or bool(
        re.match(r"^\s*(host|hostaddr|port|dbname|user|service|options)\s*=", text)
    )


def is_loopback_host(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
