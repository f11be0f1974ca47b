#!/usr/bin/env python3
"""Start a throwaway S3-compatible server on 127.0.0.1 and print its endpoint URL.

    python scripts/s3.py [--port N]      # prints http://127.0.0.1:PORT on stdout, runs until
                                         # stdin closes, SIGTERM or Ctrl-C, then stops

The server is moto's (`moto[server]` from PyPI, in the test extras): an in-memory S3 that
speaks the real wire protocol (signed requests, range GETs, ListObjectsV2), so GDAL's /vsis3/,
s3fs and boto3 talk to it as to a bucket in the cloud. It listens on loopback only; any access key
is accepted. Its request log (`POST /moto-api/recorder/reset-recording` and `start-recording`,
then `GET /moto-api/recorder/download-recording`; kept in the server's temporary directory) is
how the tests count the store's GETs. For tests and benchmarks, never for data.

The pytest fixture of `tests/e2e/test_e2e_object_storage.py` runs this script once per module.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

DAEMON_HELP = "keep running when stdin closes; stop with SIGTERM (scripts/cluster.py)"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, base: Path) -> Any:
    """moto's server in a thread of this process, once it answers; returns the server. Its
    request log is written under `base` (moto's default is the working directory)."""
    os.environ["MOTO_RECORDER_FILEPATH"] = str(base / "requests.log")
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"http://127.0.0.1:{port}/moto-api/"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the S3 server did not start") from None
            time.sleep(0.05)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--daemon", action="store_true", help=DAEMON_HELP)
    args = parser.parse_args()
    port = args.port or free_port()
    base = Path(tempfile.mkdtemp(prefix="openee-s3-"))
    try:
        return _run(port, base, args.daemon)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(port: int, base: Path, daemon: bool = False) -> int:
    server = serve(port, base)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: done.set())

    def wait_stdin() -> None:
        # stdin closing means the parent (e.g. the pytest session) is gone.
        if not daemon and not sys.stdin.isatty():
            sys.stdin.buffer.read()
            done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    print(f"http://127.0.0.1:{port}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
