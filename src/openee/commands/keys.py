"""`openee keys create`: make another service-account key."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from openee.settings import DEFAULT_PROJECT, Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="service-account keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key for a service account")
    create.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    create.add_argument("--project", default=DEFAULT_PROJECT)
    create.add_argument("--account", default="openee")
    create.add_argument("--port", type=int, default=8080, help="port of the server, for token_uri")
    create.add_argument("--out", required=True)
    create.set_defaults(func=create_key)


def create_key(args: argparse.Namespace) -> int:
    from openee.auth import AuthStore, create_service_account_key, write_key_file

    settings = Settings.from_env(data_dir=args.data_dir, port=args.port)
    store = AuthStore(settings.auth_path)
    key = create_service_account_key(store, args.project, settings.token_url, args.account)
    write_key_file(key, Path(args.out))
    summary = {"client_email": key["client_email"], "private_key_id": key["private_key_id"]}
    print(json.dumps({**summary, "out": args.out}))
    return 0
