#!/usr/bin/env python3
"""Start a throwaway Google Cloud Storage emulator on 127.0.0.1 and print its endpoint URL.

    python scripts/gcs.py [--port N] [--bucket NAME]... [--log FILE]
        # prints http://127.0.0.1:PORT on stdout, runs until stdin closes, SIGTERM or Ctrl-C

The server is `gcp-storage-emulator` (pure Python, from PyPI, in the test extras): an in-memory
store that speaks the JSON API (listing, uploads; what gcsfs and google-cloud-storage use) and
the XML API's object GET with `Range` (what GDAL's /vsigs/ reads with). Point openee at it with
`CPL_GS_ENDPOINT=http://127.0.0.1:PORT/` and `GS_NO_SIGN_REQUEST=YES` (it checks no signature).
Objects are uploaded with a plain `PUT /bucket/key`.

`--log FILE` appends one JSON line per request it receives (`method`, `path`, `range`): the
emulator keeps no request log of its own, and the tests count the store's GETs and check that
they are range requests of blocks. It listens on loopback only. For tests, never for data.

The pytest fixture of `tests/e2e/test_e2e_gcs.py` runs this script once per module.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

DAEMON_HELP = "keep running when stdin closes; stop with SIGTERM"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, buckets: list[str], log: Path | None) -> Any:
    """The emulator in a thread of this process, listening; returns the server."""
    from gcp_storage_emulator import server as emulator

    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    if log is not None:
        lock, path = threading.Lock(), log

        class Logged(emulator.RequestHandler):
            """The emulator's handler, writing each request it parsed to `log`."""

            def parse_request(self) -> bool:
                parsed = bool(super().parse_request())
                if parsed:
                    line = {"method": self.command, "path": self.path}
                    line["range"] = self.headers.get("Range", "")
                    with lock, path.open("a") as out:
                        out.write(json.dumps(line) + "\n")
                return parsed

        # The emulator builds its handler from this module attribute when its thread starts.
        emulator.RequestHandler = Logged
    server = emulator.create_server("127.0.0.1", port, in_memory=True)
    server.start()  # returns once the socket listens
    for name in buckets:  # through the JSON API, as a client creates one
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/storage/v1/b?project=test",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--bucket", action="append", default=[], help="create it (repeatable)")
    parser.add_argument("--log", type=Path, default=None, help="append each request to FILE")
    parser.add_argument("--daemon", action="store_true", help=DAEMON_HELP)
    args = parser.parse_args()
    port = args.port or free_port()
    server = serve(port, args.bucket, args.log)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: done.set())

    def wait_stdin() -> None:
        # stdin closing means the parent (e.g. the pytest session) is gone.
        if not args.daemon and not sys.stdin.isatty():
            sys.stdin.buffer.read()
            done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    print(f"http://127.0.0.1:{port}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
