"""Fixtures of the security suite (issue 16, ADR 0033): an in-process app over a fresh data dir,
a canary HTTP listener on 127.0.0.1 that no request may reach, an allow-listed HTTP server on
127.0.0.1 that redirects out of its prefix, and canary files outside the roots that no answer
may carry and no read may touch (their access time is set before their modification time, so
any read moves it, relatime or not)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# Make `import security_kit` work from the test modules whatever the rootdir/import mode.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from security_kit import (
    CANARY_VALUE,
    TOKEN,
    Api,
    Listener,
    Outside,
    write_tif,
)

from openee.api.app import create_app
from openee.settings import Settings


@pytest.fixture
def canary() -> Iterator[Listener]:
    """Must see 0 requests."""
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture(scope="session")
def allowed_server() -> Iterator[Listener]:
    """The allow-listed URL prefix is `{url}/allowed/`."""
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Outside:
    folder = tmp_path_factory.mktemp("outside")
    files = [
        write_tif(folder / "secret.tif", CANARY_VALUE),
        folder / "secret.csv",
        folder / "secret.txt",
    ]
    files[1].write_text(f"name,longitude,latitude\n{TOKEN},1,2\n")
    files[2].write_text(TOKEN)
    # An overview level of a 64 x 64 raster, for sidecars planted beside one.
    files.append(write_tif(folder / "secret.ovr", CANARY_VALUE, size=32))
    for path in files:
        mtime = time.time()
        os.utime(path, (mtime - 3600, mtime))
    return Outside(folder, files)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory, allowed_server: Listener) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("security-data")
    settings = Settings(
        data_dir=data_dir,
        auth_enabled=False,
        allowed_url_prefixes=(f"{allowed_server.url}/allowed/",),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, data_dir)


@pytest.fixture
def uploads(api: Api, tmp_path: Path) -> Path:
    """A fresh folder inside the project's area of the data dir."""
    folder = api.area / f"up_{tmp_path.name}"
    folder.mkdir(parents=True)
    return folder
