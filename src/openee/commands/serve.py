"""`openee serve`: start the server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openee.settings import Settings, declared, forwarded_allow_ips

SNIPPET = """\
import ee
ee.Initialize(ee.ServiceAccountCredentials(None, {key!r}), project={project!r}, url={url!r})
print(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').size().getInfo())"""

NO_AUTH_SNIPPET = """\
import ee
ee.Initialize(None, project={project!r}, url={url!r})
print(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').size().getInfo())"""

NO_AUTH_WARNING = """\
################################################################################
#  WARNING: AUTHENTICATION IS DISABLED (--no-auth).                            #
#  Every request runs as an anonymous principal with full read/write scopes.   #
#  Anyone who can reach {bind:<52} #
#  can use this server. For local experiments only.                            #
################################################################################"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # No argparse defaults: an option the user did not pass leaves the setting to OPENEE_* or to
    # Settings' own default (passing defaults here silently overrode OPENEE_PORT and the like).
    defaults = Settings()
    serve = sub.add_parser(
        "serve",
        help="start the server",
        description="Start the server. Settings come from these environment variables:\n\n"
        + "\n".join(
            f"  {env} (default: {default})\n      {doc}" for env, default, doc in declared()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--port", type=int, help=f"OPENEE_PORT; default {defaults.port}")
    serve.add_argument("--host", help=f"OPENEE_HOST; default {defaults.host}")
    serve.add_argument(
        "--data-dir", type=Path, help=f"OPENEE_DATA_DIR; default ./{defaults.data_dir}"
    )
    serve.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="OPENEE_DASK_SCHEDULER: run chunks (export chunks too) as tasks of this Dask"
        " scheduler (tcp://host:port)",
    )
    serve.add_argument(
        "--root-path",
        metavar="PREFIX",
        help="OPENEE_ROOT_PATH: the path prefix a reverse proxy serves openee under (/openee)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="ADDRESSES",
        help="OPENEE_FORWARDED_ALLOW_IPS: proxies whose X-Forwarded-* headers are believed"
        " (comma-separated addresses or networks, '*' for any); default 127.0.0.1,::1",
    )
    serve.add_argument(
        "--no-auth",
        action="store_true",
        help="serve without authentication (loopback addresses only; local experiments)",
    )
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(
            data_dir=args.data_dir,
            port=args.port,
            host=args.host,
            auth_enabled=False if args.no_auth else None,
            dask_scheduler=args.dask_scheduler,
            root_path=args.root_path,
            forwarded_allow_ips=None
            if args.forwarded_allow_ips is None
            else forwarded_allow_ips(args.forwarded_allow_ips),
        )
    except ValueError as exc:  # a malformed OPENEE_* value, or --no-auth off loopback
        print(f"openee serve: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from openee.api.app import create_app
    from openee.engine.allocator import tune_allocator
    from openee.engine.startup import prepare_response_buffers, prepare_threads
    from openee.statedb import SchemaTooNewError

    tune_allocator()

    try:
        app = create_app(settings)
    except SchemaTooNewError as exc:  # a database a newer openee upgraded
        print(f"openee serve: {exc}", file=sys.stderr)
        return 1
    # Before the first request: every chunk and read thread started, their arenas faulted in
    # (docs/decisions/0060).
    prepare_threads(
        [(app.state.openee.executor.local, settings.chunk_workers)], settings.prefault_bytes
    )
    prepare_response_buffers(settings.response_buffer_bytes)  # docs/decisions/0061
    print(f"openee serving on {settings.base_url}", file=sys.stderr)
    if not settings.auth_enabled:
        print(NO_AUTH_WARNING.format(bind=f"{settings.host}:{settings.port}"), file=sys.stderr)
        snippet = NO_AUTH_SNIPPET.format(project=settings.default_project, url=settings.base_url)
    else:
        key_path = (settings.keys_dir / "default.json").resolve()
        print(f"service-account key: {key_path}", file=sys.stderr)
        snippet = SNIPPET.format(
            key=str(key_path), project=settings.default_project, url=settings.base_url
        )
    print("paste into Python:\n" + snippet, file=sys.stderr)
    # proxy_headers off: the app reads X-Forwarded-* itself, from OPENEE_FORWARDED_ALLOW_IPS
    # only (api/public_url.py); uvicorn's own pass would replace the peer address it checks.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
    return 0
