"""`openee db upgrade`: create or upgrade the schemas of the catalog and of the state stores
(accounts, tokens, IAM, capabilities, operations; with PostgreSQL also the audit trail and the
failed-authentication counts) to this version of openee, then print each component's version.

A server does the same when it starts; run this first to upgrade a shared database once,
before the replicas of the new version start (ADR 0046).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openee.settings import Settings, is_postgres_dsn


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("db", help="upgrade the catalog and state databases")
    actions = parser.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser("upgrade", help="create or upgrade every schema, print versions")
    upgrade.add_argument("--data-dir", type=Path, default=None, help="OPENEE_DATA_DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from openee.bootstrap import open_state
    from openee.catalog.store import upgrade_store

    try:
        settings = Settings.from_env(data_dir=args.data_dir)
    except ValueError as exc:
        print(f"openee db: {exc}", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        catalog_version = upgrade_store(settings.catalog_target)
        state = open_state(settings)
    except Exception as exc:  # an unreachable server, a refused login, a newer schema, ...
        print(f"openee db: {exc}", file=sys.stderr)
        return 1
    try:
        target = str(settings.catalog_target)
        print(f"catalog: {'PostgreSQL' if is_postgres_dsn(target) else f'SQLite file {target}'}")
        print(f"  catalog: version {catalog_version}")
        where = "PostgreSQL" if state.shared else f"SQLite files in {settings.data_dir}"
        print(f"state: {where}")
        for db in {id(s.db): s.db for s in (state.auth, state.operations)}.values():
            for component, version in sorted(db.versions().items()):
                print(f"  {component}: version {version}")
    finally:
        state.close()
    return 0
