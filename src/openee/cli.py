"""The `openee` command: serve, keys."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from openee.settings import DEFAULT_PROJECT, Settings

SNIPPET = """\
import ee
ee.Initialize(ee.ServiceAccountCredentials(None, {key!r}), project={project!r}, url={url!r})
print(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').size().getInfo())"""


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openee.api.app import create_app

    settings = Settings.from_env(data_dir=args.data_dir, port=args.port, host=args.host)
    app = create_app(settings)
    key_path = (settings.keys_dir / "default.json").resolve()
    print(f"openee serving on {settings.base_url}", file=sys.stderr)
    print(f"service-account key: {key_path}", file=sys.stderr)
    print(
        "paste into Python:\n"
        + SNIPPET.format(
            key=str(key_path), project=settings.default_project, url=settings.base_url
        ),
        file=sys.stderr,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from openee.auth import AuthStore, create_service_account_key, write_key_file

    settings = Settings.from_env(data_dir=args.data_dir, port=args.port)
    store = AuthStore(settings.auth_path)
    key = create_service_account_key(store, args.project, settings.token_url, args.account)
    write_key_file(key, Path(args.out))
    print(
        json.dumps(
            {
                "client_email": key["client_email"],
                "private_key_id": key["private_key_id"],
                "out": args.out,
            }
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openee", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    serve.set_defaults(func=_serve)
    keys = sub.add_parser("keys", help="service-account keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key for a service account")
    create.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    create.add_argument("--project", default=DEFAULT_PROJECT)
    create.add_argument("--account", default="openee")
    create.add_argument("--port", type=int, default=8080, help="port of the server, for token_uri")
    create.add_argument("--out", required=True)
    create.set_defaults(func=_keys_create)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
