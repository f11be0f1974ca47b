"""The URLs the server writes into responses (api/public_url.py, ADR 0059): from
OPENEE_PUBLIC_URL, else a trusted proxy's X-Forwarded-Proto/Host/Prefix, else the request and
OPENEE_ROOT_PATH. The oracle of every test is the URL the headers or settings it sends name.

The test client's peer address is chosen per client: 127.0.0.1 (a proxy on this machine,
trusted by default) or 203.0.113.7 (anyone else)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.auth import anonymous_principal
from openee.services.destinations import staging_dir
from openee.services.exports import EXPORT_FEATURES, REQUEST_FILE
from openee.services.operations import SUCCEEDED, OperationStore
from openee.settings import DEFAULT_PROJECT, Settings, forwarded_allow_ips, path_prefix

TRUSTED_PEER = ("127.0.0.1", 50000)
UNTRUSTED_PEER = ("203.0.113.7", 50000)
PROXY = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "maps.example.org:8443",
    "X-Forwarded-Prefix": "/openee",
}
PUBLIC = "https://maps.example.org:8443/openee"
URL = f"/v1/projects/{DEFAULT_PROJECT}"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


# A FeatureCollection of one point feature with property a = 7.
TABLE = {
    "result": "0",
    "values": {
        "0": _call(
            "Collection",
            features={
                "arrayValue": {
                    "values": [
                        _call(
                            "Feature",
                            geometry=_call(
                                "GeometryConstructors.Point", coordinates={"constantValue": [1, 2]}
                            ),
                            metadata={"constantValue": {"a": 7}},
                        )
                    ]
                }
            },
        )
    },
}
DRIVE_CSV = {
    "expression": TABLE,
    "fileExportOptions": {
        "driveDestination": {"folder": "f", "filenamePrefix": "t"},
        "fileFormat": "CSV",
    },
}


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("public-url"), auth_enabled=False)


@pytest.fixture(scope="module")
def clients(app_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """(a client from a trusted proxy's address, one from anyone else) of one app."""
    app = create_app(app_settings)
    with (
        TestClient(app, client=TRUSTED_PEER, raise_server_exceptions=False) as trusted,
        TestClient(app, client=UNTRUSTED_PEER, raise_server_exceptions=False) as untrusted,
    ):
        yield trusted, untrusted


def root_url(client: TestClient, headers: dict[str, str], path: str = "") -> str:
    r = client.get(f"{path}/$discovery/rest", params={"version": "v1"}, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["rootUrl"])


def test_a_trusted_proxy_names_the_public_url(clients: tuple[TestClient, TestClient]) -> None:
    trusted, _ = clients
    assert root_url(trusted, PROXY) == PUBLIC + "/"


def test_an_untrusted_client_cannot_choose_the_url(clients: tuple[TestClient, TestClient]) -> None:
    _, untrusted = clients
    # Its own Host is what it asked for; its X-Forwarded-* are ignored.
    assert root_url(untrusted, PROXY) == "http://testserver/"


def test_without_forwarded_headers_the_request_is_the_url(
    clients: tuple[TestClient, TestClient],
) -> None:
    trusted, _ = clients
    assert root_url(trusted, {}) == "http://testserver/"


@pytest.mark.parametrize(
    "prefix", ["//evil.example", "https://evil.example/x", "/a/../b", "/a b", "openee"]
)
def test_a_malformed_forwarded_prefix_is_ignored(
    clients: tuple[TestClient, TestClient], prefix: str
) -> None:
    trusted, _ = clients
    assert root_url(trusted, {"X-Forwarded-Prefix": prefix}) == "http://testserver/"


def test_a_malformed_forwarded_host_is_ignored(clients: tuple[TestClient, TestClient]) -> None:
    trusted, _ = clients
    headers = {"X-Forwarded-Host": "evil.example/path@x", "X-Forwarded-Prefix": "/p"}
    assert root_url(trusted, headers) == "http://testserver/p/"


def test_a_client_value_a_proxy_appends_to_is_not_believed(
    clients: tuple[TestClient, TestClient],
) -> None:
    """A proxy that appends to X-Forwarded-* (Apache's mod_proxy: "values are appended") passes
    on what the client sent first; only its own value, the last, is the trusted peer's."""
    trusted, _ = clients
    headers = {
        "X-Forwarded-Host": "evil.example, maps.example.org:8443",
        "X-Forwarded-Prefix": "/evil, /openee",
        "X-Forwarded-Proto": "https",
    }
    assert root_url(trusted, headers) == PUBLIC + "/"


def test_a_second_header_line_from_the_proxy_is_the_one_believed(
    clients: tuple[TestClient, TestClient],
) -> None:
    trusted, _ = clients
    r = trusted.get(
        "/$discovery/rest",
        params={"version": "v1"},
        headers=[
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Host", "maps.example.org:8443"),
            ("X-Forwarded-Prefix", "/openee"),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json()["rootUrl"] == PUBLIC + "/"


@pytest.mark.parametrize("path", ["", "/openee"])
def test_routes_answer_with_or_without_the_prefix(
    clients: tuple[TestClient, TestClient], path: str
) -> None:
    # A proxy that strips the prefix and one that passes it on both reach the routes.
    trusted, _ = clients
    assert root_url(trusted, PROXY, path) == PUBLIC + "/"
    r = trusted.get(f"{path}{URL}/algorithms", headers=PROXY)
    assert r.status_code == 200
    assert "algorithms" in r.json()


def test_a_redirect_stays_under_the_prefix(clients: tuple[TestClient, TestClient]) -> None:
    # Starlette's trailing-slash redirect builds an absolute URL from the request.
    trusted, _ = clients
    r = trusted.get("/$discovery/rest/", headers=PROXY, follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == f"{PUBLIC}/$discovery/rest"


def test_a_drive_link_is_under_the_public_url(
    clients: tuple[TestClient, TestClient], app_settings: Settings
) -> None:
    trusted, _ = clients
    started = trusted.post(f"{URL}/table:export", json=DRIVE_CSV, headers=PROXY)
    assert started.status_code == 200, started.text
    name = started.json()["name"]
    done = trusted.post(f"/v1/{name}:wait", json={"timeout": "60s"}, headers=PROXY).json()
    assert done["metadata"]["state"] == SUCCEEDED, done
    owner = anonymous_principal(DEFAULT_PROJECT).email
    link = f"{PUBLIC}/v1/drive/{owner}/f/t.csv"
    assert done["metadata"]["destinationUris"] == [link]
    # The link, as the proxy passes it on (prefix stripped), answers the file.
    r = trusted.get(link.removeprefix(PUBLIC), headers=PROXY)
    assert r.status_code == 200, r.text
    assert r.content == (app_settings.data_dir / "drive" / owner / "f" / "t.csv").read_bytes()


def test_a_resumed_export_keeps_the_url_it_started_with(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", auth_enabled=False)
    store = OperationStore(settings.operations_path)  # as a server that then stopped
    principal = dataclasses.asdict(anonymous_principal(DEFAULT_PROJECT))
    op, _ = store.create(DEFAULT_PROJECT, EXPORT_FEATURES, "d", principal["email"], None)
    store.start(op.id)
    staging = staging_dir(settings.data_dir, op.id)
    staging.mkdir(parents=True)
    record = {
        "project": DEFAULT_PROJECT,
        "body": DRIVE_CSV,
        "principal": principal,
        "baseUrl": "https://kept.example.org/tools/openee",
    }
    (staging / REQUEST_FILE).write_text(json.dumps(record))
    store.close()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        done = client.post(f"{URL}/operations/{op.id}:wait", json={"timeout": "60s"}).json()
    assert done["metadata"]["state"] == SUCCEEDED, done
    owner = principal["email"]
    assert done["metadata"]["destinationUris"] == [
        f"https://kept.example.org/tools/openee/v1/drive/{owner}/f/t.csv"
    ]


def test_root_path_and_public_url_settings(tmp_path: Path) -> None:
    prefixed = Settings(data_dir=tmp_path / "a", auth_enabled=False, root_path="/openee/")
    with TestClient(create_app(prefixed), client=UNTRUSTED_PEER) as client:
        assert root_url(client, {}) == "http://testserver/openee/"
        assert root_url(client, {}, "/openee") == "http://testserver/openee/"
    assert prefixed.token_url == "http://127.0.0.1:8080/openee/token"
    public = Settings(
        data_dir=tmp_path / "b", auth_enabled=False, public_url="https://ee.example.org/x/"
    )
    with TestClient(create_app(public), client=TRUSTED_PEER) as client:
        # The operator's public URL wins over whatever a proxy says.
        assert root_url(client, PROXY) == "https://ee.example.org/x/"
    assert public.token_url == "https://ee.example.org/x/token"


def test_forwarded_allow_ips_trusts_what_it_names(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", auth_enabled=False, forwarded_allow_ips=("203.0.113.0/24",)
    )
    app = create_app(settings)
    with (
        TestClient(app, client=UNTRUSTED_PEER) as proxy,
        TestClient(app, client=TRUSTED_PEER) as loopback,
    ):
        assert root_url(proxy, PROXY) == PUBLIC + "/"
        assert root_url(loopback, PROXY) == "http://testserver/"


@pytest.mark.parametrize("text", ["openee", "/a/../b", "/x?y", "https://h/p", "/a b"])
def test_a_bad_root_path_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="path prefix"):
        path_prefix(text)


def test_root_path_forms() -> None:
    assert path_prefix("") == ""
    assert path_prefix("/") == ""
    assert path_prefix("/openee/") == "/openee"
    assert path_prefix("/tools/openee") == "/tools/openee"


@pytest.mark.parametrize("text", ["localhost", "10.0.0.0/33", "proxy.internal"])
def test_a_bad_forwarded_allow_ips_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="forwarded-allow-ips"):
        forwarded_allow_ips(f"127.0.0.1,{text}")
