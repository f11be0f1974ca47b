#!/usr/bin/env python3
"""A whole openee deployment on one machine, as processes (no Docker), for evaluation.

    python scripts/cluster.py up [--state-dir DIR] [--port 8080]   # starts it all, prints the URL
    python scripts/cluster.py status [--state-dir DIR]              # what runs, and where
    python scripts/cluster.py down [--state-dir DIR]                # stops all it started

`up` starts, in this order, each in a process of its own whose pid is kept in
`<state dir>/cluster.json`:

- PostgreSQL (`scripts/postgres.py`): the shared catalog of every replica;
- an S3-compatible store (`scripts/s3.py`, moto) holding COG copies of the bundled demo imagery
  under `s3://imagery/demo/`, registered as `COPERNICUS/S2_SR_HARMONIZED` by `openee ingest` of
  a copy of the demo's STAC catalog whose hrefs name those objects (the imagery is read from
  the store, in place);
- a Dask scheduler and 2 `dask worker` processes (one thread each): exports and heavy
  interactive requests run their chunks there;
- 2 `openee serve` replicas on the shared PostgreSQL database (catalog and state: accounts,
  tokens, IAM, operations, audit), each with a data dir of its own, one capability secret file
  (`OPENEE_CAPABILITY_SECRET_FILE`: map ids) and `OPENEE_PUBLIC_URL` = the balancer;
- a round-robin HTTP load balancer in front (`scripts/balancer.py`): the one URL users get.

The replicas and workers inherit this environment: `OPENEE_DASK_THRESHOLD=0 cluster.py up`
sends every request's chunks to the Dask workers. `down` stops them in the reverse order (SIGTERM to each process group, SIGKILL after 20 s),
which also throws away the database and the store's objects: an evaluation deployment keeps no
data. docs/decisions/0047-deployment-for-a-team.md says why it is made this way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
STATE_FILE = "cluster.json"
BUCKET, PREFIX = "imagery", "demo/"
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
REPLICAS, WORKERS = 2, 2
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
# moto accepts any credentials; a real store's come from the operator's environment.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "cluster",
    "AWS_SECRET_ACCESS_KEY": "cluster",
    "AWS_REGION": "us-east-1",
    "AWS_VIRTUAL_HOSTING": "FALSE",
}


def say(text: str) -> None:
    print(f"cluster.py: {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Deployment:
    """The state dir: the components started (name, pid, command, log) and the endpoints."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir.resolve()
        self.logs = self.dir / "logs"
        self.file = self.dir / STATE_FILE
        saved = json.loads(self.file.read_text()) if self.file.is_file() else {}
        self.components: list[dict[str, Any]] = saved.get("components", [])
        self.info: dict[str, Any] = saved.get("info", {})

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"components": self.components, "info": self.info}, indent=2)
        self.file.write_text(text + "\n")

    def spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Starts `cmd` in a session of its own (it outlives `up`), its stdout in
        logs/NAME.out and its stderr in logs/NAME.log; records its pid at once."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with (
            open(self.logs / f"{name}.out", "wb") as out,
            open(self.logs / f"{name}.log", "wb") as err,
        ):
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=self.dir,
                start_new_session=True,
            )
        self.components.append({"name": name, "pid": proc.pid, "cmd": cmd})
        self.save()
        return proc

    def first_line(self, name: str, proc: subprocess.Popen[bytes]) -> str:
        """The first line `name` prints on stdout (its URL or DSN), once it is up."""
        out = self.logs / f"{name}.out"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            lines = out.read_text().splitlines() if out.is_file() else []
            if lines:
                return lines[0].strip()
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start:\n{self.tail(name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        try:
            return (self.logs / f"{name}.log").read_text(errors="replace")[-size:]
        except OSError:
            return "<no log>"

    def wait_http(self, name: str, proc: subprocess.Popen[bytes], url: str) -> None:
        """Until `url` answers 200 (openee's discovery document)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{name} not ready at {url}:\n{self.tail(name)}")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment with this checkout's openee first on the path, plus `extra`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def demo_cogs(target: Path) -> list[tuple[Path, str]]:
    """COG copies (tiled 256, DEFLATE, overviews) of the demo imagery's files under `target`,
    made once; (local COG, object key) pairs."""
    import rasterio.shutil

    from openee.demo import S2_L2A_CATALOG

    root = S2_L2A_CATALOG.parent
    pairs = []
    for source in sorted(root.rglob("*.tif")):
        relative = source.relative_to(root)
        cog = target / relative
        if not cog.is_file():
            cog.parent.mkdir(parents=True, exist_ok=True)
            partial = cog.with_suffix(".partial.tif")
            rasterio.shutil.copy(
                source,
                partial,
                driver="COG",
                COMPRESS="DEFLATE",
                BLOCKSIZE="256",
                OVERVIEWS="AUTO",
            )
            partial.rename(cog)
        pairs.append((cog, PREFIX + relative.as_posix()))
    return pairs


def stac_copy(target: Path) -> Path:
    """A copy of the demo's STAC catalog whose hrefs to its local files name their objects in
    the store (`s3://imagery/demo/...`); the catalog.json of that copy."""
    from openee.demo import S2_L2A_CATALOG

    root = S2_L2A_CATALOG.parent
    for document in root.rglob("*.json"):
        data = json.loads(document.read_text())
        for asset in data.get("assets", {}).values():
            href = asset.get("href", "")
            if "://" not in href and (document.parent / href).is_file():
                relative = (document.parent / href).resolve().relative_to(root.resolve())
                asset["href"] = f"s3://{BUCKET}/{PREFIX}{relative.as_posix()}"
        copy = target / document.relative_to(root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(data))
    return target / S2_L2A_CATALOG.name


def upload(endpoint: str, pairs: list[tuple[Path, str]]) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_CREDENTIALS["AWS_REGION"],
    )
    client.create_bucket(Bucket=BUCKET)
    for path, key in pairs:
        client.upload_file(str(path), BUCKET, key)


def wait_workers(scheduler: str, count: int) -> None:
    from distributed import Client

    with Client(scheduler, timeout=READY_TIMEOUT_S, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=READY_TIMEOUT_S)


def up(state_dir: Path, port: int, cogs: Path | None = None) -> dict[str, Any]:
    """Starts the deployment (see the module's doc) with the COG copies of the demo imagery
    made in (or reused from) `cogs`; its endpoints, key file and settings."""
    deploy = Deployment(state_dir)
    if deploy.components:
        raise RuntimeError(f"{deploy.file} exists: run `cluster.py down` first")
    with socket.socket() as sock:  # before a minute of starting the rest
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise RuntimeError(f"port {port} is in use: choose another with --port") from None
    deploy.save()
    try:
        return _up(deploy, port, cogs or deploy.dir / "cogs")
    except BaseException:
        down(state_dir)
        raise


def _up(deploy: Deployment, port: int, cogs: Path) -> dict[str, Any]:
    python = sys.executable
    balancer_url = f"http://127.0.0.1:{port}"
    plain = child_env({})

    pg = deploy.spawn("postgres", [python, str(SCRIPTS / "postgres.py"), "--daemon"], plain)
    dsn = deploy.first_line("postgres", pg)
    s3 = deploy.spawn(
        "s3", [python, str(SCRIPTS / "s3.py"), "--daemon", "--port", str(free_port())], plain
    )
    endpoint = deploy.first_line("s3", s3)
    store_env = {
        **S3_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "OPENEE_ALLOWED_URL_PREFIXES": f"s3://{BUCKET}/{PREFIX}",
    }
    say(f"PostgreSQL {dsn}; S3 store {endpoint}; copying the demo imagery into it as COGs")
    upload(endpoint, demo_cogs(cogs))
    ingest = subprocess.run(
        [
            python,
            "-m",
            "openee",
            "ingest",
            str(stac_copy(deploy.dir / "stac")),
            "--asset-id",
            COLLECTION,
            "--catalog",
            dsn,
            "--data-dir",
            str(deploy.dir / "ingest"),
        ],
        env=child_env(store_env),
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT_S,
    )
    if ingest.returncode != 0:
        raise RuntimeError(f"openee ingest failed:\n{ingest.stderr[-3000:]}")

    say(f"registered s3://{BUCKET}/{PREFIX} as {COLLECTION}; starting Dask")
    scheduler = f"tcp://127.0.0.1:{free_port()}"
    dask_env = child_env(store_env)
    deploy.spawn(
        "dask-scheduler",
        [
            python,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            scheduler.rpartition(":")[2],
            "--no-dashboard",
        ],
        dask_env,
    )
    for i in range(1, WORKERS + 1):
        deploy.spawn(
            f"dask-worker-{i}",
            [
                python,
                "-m",
                "distributed.cli.dask_worker",
                scheduler,
                "--name",
                f"worker-{i}",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(deploy.dir / "dask" / f"worker-{i}"),
            ],
            dask_env,
        )
    wait_workers(scheduler, WORKERS)
    say(f"Dask scheduler {scheduler} with {WORKERS} workers; starting {REPLICAS} replicas")

    replica_env = child_env(
        {
            **store_env,
            "OPENEE_CATALOG": dsn,
            "OPENEE_PUBLIC_URL": balancer_url,
            "OPENEE_DASK_SCHEDULER": scheduler,
            # One secret keys the map, thumbnail and download ids of every replica: a map made
            # on one is tiled by the other (the first replica writes it, the second reads it).
            "OPENEE_CAPABILITY_SECRET_FILE": str(deploy.dir / "secrets" / "capabilities.secret"),
        }
    )
    replicas = []
    for i in range(1, REPLICAS + 1):  # one after the other: the first creates what is shared
        replica_port = free_port()
        name = f"replica-{i}"
        proc = deploy.spawn(
            name,
            [
                python,
                "-m",
                "openee",
                "serve",
                "--port",
                str(replica_port),
                "--data-dir",
                str(deploy.dir / name),
            ],
            replica_env,
        )
        url = f"http://127.0.0.1:{replica_port}"
        deploy.wait_http(name, proc, f"{url}/$discovery/rest?version=v1")
        replicas.append(url)

    balancer = deploy.spawn(
        "balancer",
        [
            python,
            str(SCRIPTS / "balancer.py"),
            "--port",
            str(port),
            *[arg for url in replicas for arg in ("--backend", url)],
        ],
        plain,
    )
    deploy.first_line("balancer", balancer)  # bound to its port (not another server on it)
    deploy.wait_http("balancer", balancer, f"{balancer_url}/$discovery/rest?version=v1")
    key_path = deploy.dir / "replica-1" / "keys" / "default.json"
    deploy.info = {
        "url": balancer_url,
        "key": str(key_path),
        "project": json.loads(key_path.read_text())["project_id"],
        "replicas": replicas,
        "catalog": dsn,
        "s3_endpoint": endpoint,
        "dask_scheduler": scheduler,
        "environment": store_env,
    }
    deploy.save()
    return deploy.info


def _alive(component: dict[str, Any]) -> bool:
    """Whether the process recorded is still the one started (not a reused pid)."""
    pid = int(component["pid"])
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it if it is our own child and has ended
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.is_dir():
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            return False
        return bool(args) and args[0] == component["cmd"][0].encode()
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def down(state_dir: Path) -> list[str]:
    """Stops every component recorded, last started first; the names stopped."""
    deploy = Deployment(state_dir)
    stopped = []
    for component in reversed(deploy.components):
        if _alive(component):
            _stop(component)
            stopped.append(component["name"])
    if deploy.file.is_file():
        deploy.file.unlink()
    return stopped


def _stop(component: dict[str, Any]) -> None:
    pid = int(component["pid"])
    try:
        os.killpg(pid, signal.SIGTERM)  # its session: a dask nanny's worker, ...
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _alive(component):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def status(state_dir: Path) -> list[tuple[str, int, bool]]:
    """(name, pid, running) of every component recorded."""
    deploy = Deployment(state_dir)
    return [(c["name"], int(c["pid"]), _alive(c)) for c in deploy.components]


USAGE = """\
openee is up behind the balancer: {url}
service-account key: {key}

import ee
ee.Initialize(ee.ServiceAccountCredentials(None, {key!r}), project={project!r}, url={url!r})
print(ee.ImageCollection({collection!r}).size().getInfo())

stop it with: {stop}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("openee-cluster"),
        help="pid files, logs, data dirs (default: ./openee-cluster)",
    )
    parser.add_argument("--port", type=int, default=8080, help="the balancer's port (up)")
    parser.add_argument(
        "--cogs",
        type=Path,
        default=None,
        help="where the COG copies of the demo imagery are made, or found from a previous up"
        " (default: <state dir>/cogs)",
    )
    args = parser.parse_args()
    if args.command == "up":
        try:
            info = up(args.state_dir, args.port, args.cogs)
        except RuntimeError as exc:
            print(f"cluster.py up: {exc}", file=sys.stderr)
            return 1
        stop = f"{sys.executable} {Path(__file__)} down --state-dir {args.state_dir}"
        print(USAGE.format(collection=COLLECTION, stop=stop, **info))
        return 0
    if args.command == "down":
        names = down(args.state_dir)
        print("stopped: " + (", ".join(names) if names else "nothing was running"))
        return 0
    rows = status(args.state_dir)
    if not rows:
        print("nothing started")
        return 1
    info = Deployment(args.state_dir).info
    for name, pid, running in rows:
        print(f"{name:16} pid {pid:<8} {'running' if running else 'STOPPED'}")
    if info:
        print(f"balancer: {info['url']}  key: {info['key']}")
    return 0 if all(running for *_, running in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
