"""`openee iam show|grant|revoke`: role bindings on projects and asset folders, for admins.

The same bindings `setIamPolicy` edits; the CLI works on the data directory directly, so an
admin can bind the first owner of a folder (or of the legacy namespace) without a token.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openee.auth.iam import Iam, resource_name
from openee.commands.service_accounts import actor, emit, fail, open_store
from openee.errors import OpeneeError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    iam = sub.add_parser("iam", help="roles on projects and asset folders")
    iam_sub = iam.add_subparsers(dest="iam_command", required=True)

    show = iam_sub.add_parser("show", help="the policy bound on a resource")
    show.add_argument("resource", help="'projects/p', or an asset name or id")
    show.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    show.set_defaults(func=show_policy)

    for name, func, text in (
        ("grant", grant_role, "bind a role to a member on a resource"),
        ("revoke", revoke_role, "remove a role binding"),
    ):
        command = iam_sub.add_parser(name, help=text)
        command.add_argument("resource", help="'projects/p', or an asset name or id")
        command.add_argument(
            "--role", required=True, help="roles/viewer, roles/editor, roles/owner"
        )
        command.add_argument(
            "--member", required=True, help="e.g. serviceAccount:ci@p.iam.gserviceaccount.com"
        )
        command.add_argument("--data-dir", type=Path, default=Path("openee-data"))
        command.set_defaults(func=func)


def show_policy(args: argparse.Namespace) -> int:
    _, store, _ = open_store(args)
    try:
        emit({"resource": resource_name(args.resource), **Iam(store).get_policy(args.resource)})
    except OpeneeError as exc:
        return fail(exc)
    return 0


def grant_role(args: argparse.Namespace) -> int:
    _, store, audit = open_store(args)
    try:
        resource = resource_name(args.resource)
        Iam(store).grant(resource, args.role, args.member)
    except OpeneeError as exc:
        return fail(exc)
    audit.record(
        "iam.grant",
        actor=actor(),
        project=resource.split("/")[1],
        resource=resource,
        role=args.role,
        member=args.member,
    )
    emit({"resource": resource, "role": args.role, "member": args.member, "granted": True})
    return 0


def revoke_role(args: argparse.Namespace) -> int:
    _, store, audit = open_store(args)
    try:
        resource = resource_name(args.resource)
        existed = Iam(store).revoke(resource, args.role, args.member)
    except OpeneeError as exc:
        return fail(exc)
    if not existed:
        return fail(ValueError(f"No binding of {args.role} to {args.member} on {resource}."))
    audit.record(
        "iam.revoke",
        actor=actor(),
        project=resource.split("/")[1],
        resource=resource,
        role=args.role,
        member=args.member,
    )
    emit({"resource": resource, "role": args.role, "member": args.member, "revoked": True})
    return 0
