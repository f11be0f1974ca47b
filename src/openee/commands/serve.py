"""`openee serve`: start the server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openee.settings import Settings

SNIPPET = """\
import ee
ee.Initialize(ee.ServiceAccountCredentials(None, {key!r}), project={project!r}, url={url!r})
print(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').size().getInfo())"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--data-dir", type=Path, default=Path("openee-data"))
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from openee.api.app import create_app

    settings = Settings.from_env(data_dir=args.data_dir, port=args.port, host=args.host)
    app = create_app(settings)
    key_path = (settings.keys_dir / "default.json").resolve()
    print(f"openee serving on {settings.base_url}", file=sys.stderr)
    print(f"service-account key: {key_path}", file=sys.stderr)
    snippet = SNIPPET.format(
        key=str(key_path), project=settings.default_project, url=settings.base_url
    )
    print("paste into Python:\n" + snippet, file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0
