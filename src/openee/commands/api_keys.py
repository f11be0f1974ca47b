"""`openee api-keys create|list|revoke`: API keys for `?key=` on map tiles and thumbnails.

`create` prints the key once; only its hash is stored. A key belongs to a project: on map tiles
and thumbnails of that project it is checked (a bad key answers 400), and on API calls without
a bearer token it authenticates as a read-only viewer of the project.
"""

from __future__ import annotations

import argparse

from openee.auth.apikeys import ApiKeyStore
from openee.commands.service_accounts import (
    actor,
    add_command,
    emit,
    fail,
    open_store,
    project_of,
    timestamp,
)
from openee.errors import OpeneeError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("api-keys", help="API keys (?key=) for map tiles and thumbnails")
    keys_sub = keys.add_subparsers(dest="api_keys_command", required=True)

    create = add_command(keys_sub, "create", "create an API key for a project", create_key)
    create.add_argument("--display-name", default="")

    add_command(keys_sub, "list", "list API keys (ids and state, never the keys)", list_keys)

    revoke = add_command(keys_sub, "revoke", "revoke an API key", revoke_key)
    revoke.add_argument("key_id", help="the key id shown by create and list")


def create_key(args: argparse.Namespace) -> int:
    settings, store, audit = open_store(args)
    try:
        project = project_of(args, settings)
    except ValueError as exc:
        return fail(exc)
    record, raw = ApiKeyStore(store).create(project, args.display_name)
    audit.record("api_key.create", actor=actor(), project=project, key_id=record.key_id)
    emit({"key_id": record.key_id, "project": project, "key": raw})
    return 0


def list_keys(args: argparse.Namespace) -> int:
    _, store, _ = open_store(args)
    for key in ApiKeyStore(store).list(args.project):
        emit(
            {
                "key_id": key.key_id,
                "project": key.project,
                "display_name": key.display_name,
                "created": timestamp(key.created),
                "revoked": key.revoked,
            }
        )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    _, store, audit = open_store(args)
    try:
        key = ApiKeyStore(store).revoke(args.key_id)
    except OpeneeError as exc:
        return fail(exc)
    audit.record("api_key.revoke", actor=actor(), project=key.project, key_id=key.key_id)
    emit({"key_id": key.key_id, "project": key.project, "revoked": True})
    return 0
