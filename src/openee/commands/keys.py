"""`openee keys create|list|revoke`: service-account keys, several per account.

`create` writes a Google-format JSON key (with the private key) to `--out` and registers only
its public half; `list` shows key ids, never key material; `revoke` stops a key from minting
tokens and revokes the access tokens it minted.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from openee.commands.service_accounts import (
    actor,
    add_command,
    emit,
    fail,
    open_store,
    resolve_account,
    timestamp,
)
from openee.errors import NotFoundError, OpeneeError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="service-account keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)

    create = add_command(keys_sub, "create", "create a key for a service account", create_key)
    create.add_argument(
        "--account", default="openee", help="e-mail, or account id within --project"
    )
    create.add_argument("--port", type=int, default=8080, help="port of the server, for token_uri")
    create.add_argument("--token-uri", default=None, help="token_uri to write (overrides --port)")
    create.add_argument("--out", type=Path, required=True)
    create.add_argument("--force", action="store_true", help="overwrite an existing --out file")

    listing = add_command(
        keys_sub, "list", "list keys (ids and state, never key material)", list_keys
    )
    listing.add_argument("--account", default=None, help="only this account's keys")

    revoke = add_command(
        keys_sub, "revoke", "revoke a key and the access tokens it minted", revoke_key
    )
    revoke.add_argument("kid", help="the key id (private_key_id in the JSON key)")


def create_key(args: argparse.Namespace) -> int:
    from openee.auth import create_service_account_key, write_key_file

    settings, store, audit = open_store(args)
    try:
        email = resolve_account(args, settings, args.account)
        account = store.get_account(email)
        if account is None:
            raise NotFoundError(
                f"Service account '{email}' not found; create it with "
                "`openee service-accounts create`."
            )
        if args.out.exists() and not args.force:
            raise ValueError(f"{args.out} exists; pass --force to overwrite it.")
    except (OpeneeError, ValueError) as exc:
        return fail(exc)
    token_uri = args.token_uri or dataclasses.replace(settings, port=args.port).token_url
    name = email.split("@", 1)[0]
    key = create_service_account_key(store, account.project, token_uri, name)
    write_key_file(key, args.out)
    audit.record(
        "key.create",
        actor=actor(),
        principal=email,
        project=account.project,
        kid=key["private_key_id"],
    )
    emit({"client_email": email, "private_key_id": key["private_key_id"], "out": str(args.out)})
    return 0


def list_keys(args: argparse.Namespace) -> int:
    settings, store, _ = open_store(args)
    try:
        if args.account is None:
            records = store.list_all_keys()
        else:
            records = store.list_keys(resolve_account(args, settings, args.account))
    except ValueError as exc:
        return fail(exc)
    for key in records:
        emit(
            {
                "private_key_id": key.kid,
                "client_email": key.email,
                "created": timestamp(key.created),
                "revoked": key.revoked,
            }
        )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    _, store, audit = open_store(args)
    key = store.get_key(args.kid)
    if key is None:
        return fail(NotFoundError(f"Key '{args.kid}' not found."))
    store.revoke_key(key.kid)
    account = store.get_account(key.email)
    audit.record(
        "key.revoke",
        actor=actor(),
        principal=key.email,
        project=account and account.project,
        kid=key.kid,
    )
    emit({"private_key_id": key.kid, "client_email": key.email, "revoked": True})
    return 0
