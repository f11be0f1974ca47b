"""The `openee` command. Each subcommand lives in its own module under `openee.commands`."""

from __future__ import annotations

import argparse
import sys

from openee.commands import (
    api_keys,
    db,
    export,
    iam,
    ingest,
    keys,
    operations,
    serve,
    service_accounts,
)

COMMANDS = (serve, service_accounts, keys, api_keys, iam, ingest, operations, export, db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="openee", description="openee: Earth Engine's REST API, self-hosted."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
