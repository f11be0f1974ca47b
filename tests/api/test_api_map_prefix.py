"""The map page under a reverse proxy's path prefix: every URL it uses is relative to it, so
each resolves under the prefix and reaches the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Settings

PREFIX = "/tools/openee"
PAGE = f"http://testserver{PREFIX}/map"


class StrippingProxy:
    """What a reverse proxy does with `location /tools/openee/ { proxy_pass http://openee/; }`:
    requests under the prefix reach the server without it; others are not the server's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(PREFIX + "/"):
            await send({"type": "http.response.start", "status": 502, "headers": []})
            await send({"type": "http.response.body", "body": b"not proxied"})
            return
        if scope["type"] == "http":
            inner = path[len(PREFIX) :]
            scope = {**scope, "path": inner, "raw_path": inner.encode()}
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("prefix"), auth_enabled=False)
    with TestClient(StrippingProxy(create_app(settings))) as client:
        yield client


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith("data:"):
                self.urls.append(value)


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_page_and_its_files_load_under_the_prefix(proxied: TestClient) -> None:
    page = proxied.get(path_of(PAGE))
    assert page.status_code == 200
    links = _Links()
    links.feed(page.text)
    assert len(links.urls) >= 4  # leaflet.css, map.css, leaflet.js, map.js
    for url in links.urls:
        resolved = path_of(urljoin(PAGE, url))
        assert resolved.startswith(PREFIX + "/map/"), (url, resolved)
        assert proxied.get(resolved).status_code == 200, resolved


SCRIPTS = ("map.js", "ee.js")
# A string literal that is an absolute path: it would leave the prefix.
ABSOLUTE = re.compile(r"""(?:fetch\(|new URL\(|serverUrl\()\s*["'`]/|location\.origin\}?/""")


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_use_no_absolute_path(proxied: TestClient, script: str) -> None:
    text = proxied.get(path_of(urljoin(PAGE, f"map/{script}"))).text
    assert not ABSOLUTE.search(text), ABSOLUTE.search(text)


def server_paths() -> set[str]:
    web = Path(__file__).resolve().parents[2] / "src/openee/web"
    found = set()
    for script in SCRIPTS:
        text = (web / script).read_text()
        found |= set(re.findall(r"""serverUrl\(\s*["'`]([^"'`$]*)""", text))
    return found


def test_every_server_url_resolves_under_the_prefix(proxied: TestClient) -> None:
    # serverUrl("map/config.json"), serverUrl("token"), serverUrl(`v1/${path}`)
    assert server_paths() == {"map/config.json", "token", "v1/"}
    config = proxied.get(path_of(urljoin(PAGE, "map/config.json")))
    assert config.status_code == 200
    assert config.json() == {"authRequired": False, "defaultProject": DEFAULT_PROJECT}
    token = proxied.post(path_of(urljoin(PAGE, "token")), data={"grant_type": "password"})
    assert token.status_code == 400  # the token endpoint, refusing a bad grant
    api = proxied.get(path_of(urljoin(PAGE, f"v1/projects/{DEFAULT_PROJECT}/algorithms")))
    assert api.status_code == 200
    assert "algorithms" in api.json()


def test_trailing_slash_redirects_within_the_prefix(proxied: TestClient) -> None:
    response = proxied.get(f"{PREFIX}/map/", follow_redirects=False)
    assert response.status_code in (302, 307)
    target = path_of(urljoin(f"http://testserver{PREFIX}/map/", response.headers["location"]))
    assert target == f"{PREFIX}/map"
    assert proxied.get(target).status_code == 200
