"""`openee service-accounts create|list|disable|enable|delete`: manage service accounts.

The commands work on the data directory's SQLite store directly, so they take effect on a
running server at once: a disabled or deleted account can no longer get or use tokens.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openee.auth import AuditLog, AuthStore, service_account_email
from openee.bootstrap import open_state
from openee.errors import NotFoundError, OpeneeError
from openee.settings import Settings

# Google's rules for the account id (the part of the e-mail before the `@`).
_ACCOUNT_ID = re.compile(r"[a-z][-a-z0-9]{4,28}[a-z0-9]")
_PROJECT_ID = re.compile(r"[a-z][-a-z0-9]{2,61}[a-z0-9]")


def add_command(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """Adds the action `name` running `func`, with `--data-dir` and `--project` (shared by the
    account and key commands); the caller adds its own arguments to the parser returned."""
    parser = actions.add_parser(name, help=text)
    parser.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    parser.add_argument(
        "--project", default=None, help="project of bare account ids (default: the server's)"
    )
    parser.set_defaults(func=func)
    return parser


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("service-accounts", help="service accounts")
    accounts_sub = accounts.add_subparsers(dest="service_accounts_command", required=True)

    create = add_command(accounts_sub, "create", "create a service account", create_account)
    create.add_argument("name", help="account id, e.g. 'ci-runner' (6-30 chars: a-z, 0-9, -)")
    create.add_argument("--display-name", default="")

    add_command(accounts_sub, "list", "list service accounts", list_accounts)

    for name, func, text in (
        ("disable", disable_account, "disable an account and revoke its access tokens"),
        ("enable", enable_account, "re-enable a disabled account"),
        ("delete", delete_account, "delete an account, its keys and its access tokens"),
    ):
        command = add_command(accounts_sub, name, text, func)
        command.add_argument("account", help="e-mail, or account id within --project")


def open_store(args: argparse.Namespace) -> tuple[Settings, AuthStore, AuditLog]:
    """Returns the settings, the auth store and the audit log of `--data-dir` (or of the shared
    state database, OPENEE_STATE or a PostgreSQL OPENEE_CATALOG)."""
    settings = Settings.from_env(data_dir=args.data_dir)
    if settings.state_dsn is None:
        return settings, AuthStore(settings.auth_path), AuditLog(settings.audit_path)
    state = open_state(settings)
    return settings, state.auth, state.audit


def project_of(args: argparse.Namespace, settings: Settings) -> str:
    """Returns `--project`, or the server's default project."""
    project = str(args.project or settings.default_project)
    if not _PROJECT_ID.fullmatch(project):
        raise ValueError(f"Invalid project id '{project}'.")
    return project


def resolve_account(args: argparse.Namespace, settings: Settings, account: str) -> str:
    """Returns the e-mail of an account given as an e-mail or as an id within `--project`."""
    if "@" in account:
        return account
    if not _ACCOUNT_ID.fullmatch(account):
        raise ValueError(
            f"Invalid account id '{account}': 6 to 30 characters, lowercase letters, digits "
            "and hyphens, starting with a letter."
        )
    return service_account_email(project_of(args, settings), account)


def actor() -> str:
    """Who runs an administrative command, for the audit log."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record))


def fail(exc: Exception) -> int:
    """Reports a refused command on stderr and returns the exit status."""
    message = exc.message if isinstance(exc, OpeneeError) else str(exc)
    print(f"openee: {message}", file=sys.stderr)
    return 1


def create_account(args: argparse.Namespace) -> int:
    settings, store, audit = open_store(args)
    try:
        email = resolve_account(args, settings, args.name)
        if "@" in args.name:
            raise ValueError("Give the account id (the part before '@'), not an e-mail.")
        project = project_of(args, settings)
        account = store.add_account(email, project, display_name=args.display_name or args.name)
    except (OpeneeError, ValueError) as exc:
        return fail(exc)
    audit.record("service_account.create", actor=actor(), principal=email, project=project)
    emit({"email": account.email, "project": account.project, "display_name": account.display_name})
    return 0


def list_accounts(args: argparse.Namespace) -> int:
    _, store, _ = open_store(args)
    for account in store.list_accounts(args.project):
        keys = store.list_keys(account.email)
        emit(
            {
                "email": account.email,
                "project": account.project,
                "display_name": account.display_name,
                "disabled": account.disabled,
                "active_keys": sum(not k.revoked for k in keys),
                "created": timestamp(account.created),
            }
        )
    return 0


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    settings, store, audit = open_store(args)
    try:
        email = resolve_account(args, settings, args.account)
        store.set_account_disabled(email, disabled)
    except (OpeneeError, ValueError) as exc:
        return fail(exc)
    event = "service_account.disable" if disabled else "service_account.enable"
    account = store.get_account(email)
    audit.record(event, actor=actor(), principal=email, project=account and account.project)
    emit({"email": email, "disabled": disabled})
    return 0


def disable_account(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def enable_account(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def delete_account(args: argparse.Namespace) -> int:
    settings, store, audit = open_store(args)
    try:
        email = resolve_account(args, settings, args.account)
        account = store.get_account(email)
        if account is None:
            raise NotFoundError(f"Service account '{email}' not found.")
        store.delete_account(email)
    except (OpeneeError, ValueError) as exc:
        return fail(exc)
    audit.record("service_account.delete", actor=actor(), principal=email, project=account.project)
    emit({"email": email, "deleted": True})
    return 0
