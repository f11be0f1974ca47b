"""`openee operations`: the server's operations (imports, exports) from its data dir (or the
shared state database), with
progress bars: `list` (newest first), `watch ID` (until it is done)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from openee.bootstrap import open_state
from openee.services.operations import Operation
from openee.settings import Settings

BAR_WIDTH = 30


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("operations", help="list or watch imports and exports")
    parser.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    parser.add_argument("--project", default=None, help="default: the server's default project")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="operations, newest first")
    listing.add_argument("--limit", type=int, default=50)
    watch = actions.add_parser("watch", help="show an operation's progress until it is done")
    watch.add_argument("id", help="the operation id (or its name projects/p/operations/ID)")
    watch.add_argument("--interval", type=float, default=1.0)
    parser.set_defaults(func=run)


def progress_bar(op: Operation) -> str:
    """`[#########.....]  60%  3/5 chunks` from the operation's metadata."""
    metadata = op.resource()["metadata"]
    fraction = float(metadata.get("progress") or 0.0)
    filled = round(fraction * BAR_WIDTH)
    bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction * 100:3.0f}%"
    stages = metadata.get("stages") or []
    if stages:
        stage = stages[0]
        bar += f"  {stage.get('completeWorkUnits', 0)}/{stage.get('totalWorkUnits', 0)} chunks"
    return bar


def line(op: Operation) -> str:
    text = f"{op.id}  {op.state:<10} {op.type:<16} {progress_bar(op)}  {op.description}"
    if op.error:
        text += f"\n    error: {op.error.get('message')}"
    return text


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=args.data_dir)
    if settings.state_dsn is None and not settings.operations_path.exists():
        print(f"openee operations: no operations in {args.data_dir}", file=sys.stderr)
        return 1
    project = args.project or settings.default_project
    store = open_state(settings).operations
    try:
        if args.action == "list":
            for listed in store.list(project, 0, args.limit):
                print(line(listed))
            return 0
        op_id = args.id.rsplit("/", 1)[-1]
        op = store.get(project, op_id)
        if op is None:
            print(f"openee operations: no operation {op_id} in {project}", file=sys.stderr)
            return 1
        while True:
            end = "\n" if op.done or not sys.stdout.isatty() else "\r"
            print(f"{op.state:<10} {progress_bar(op)}", end=end, flush=True)
            if op.done:
                return 0 if op.state == "SUCCEEDED" else 1
            time.sleep(args.interval)
            op = store.require(project, op_id)
    finally:
        store.close()
