"""The discovery document must build, in googleapiclient, every method the stock ee client calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient import discovery, model
from googleapiclient.http import HttpMockSequence

from openee.api.discovery import SUPPORTED_VERSIONS, discovery_document
from openee.errors import NotFoundError

BASE = "http://example.test:8080/prefix"  # what ee sets as `_baseUrl` after building
P = "projects/p"
ASSET = "projects/p/assets/a"
OP = "projects/p/operations/OP1"

Call = Callable[[Any], Any]

# fmt: off
# (description, call on `resource.projects()`, HTTP method, path after the version, query subset).
# The kwargs are the ones ee/data.py 1.7.50 passes.
CALLS: list[tuple[str, Call, str, str, dict[str, list[str]]]] = [
    ("algorithms.list", lambda r: r.algorithms().list(parent=P, prettyPrint=False),
     "GET", "projects/p/algorithms", {"prettyPrint": ["false"]}),
    ("value.compute", lambda r: r.value().compute(project=P, body={}, prettyPrint=False),
     "POST", "projects/p/value:compute", {"prettyPrint": ["false"]}),
    ("listAssets", lambda r: r.listAssets(parent=P, pageSize=5, pageToken="t", filter="f", view="BASIC"),
     "GET", "projects/p:listAssets", {"pageSize": ["5"], "pageToken": ["t"], "view": ["BASIC"]}),
    ("getConfig", lambda r: r.getConfig(name="projects/p/config"),
     "GET", "projects/p/config", {}),
    ("updateConfig", lambda r: r.updateConfig(name="projects/p/config", body={}, updateMask=["a", "b"]),
     "PATCH", "projects/p/config", {"updateMask": ["a", "b"]}),
    ("assets.get", lambda r: r.assets().get(name=ASSET, prettyPrint=False),
     "GET", ASSET, {"prettyPrint": ["false"]}),
    ("assets.delete", lambda r: r.assets().delete(name=ASSET), "DELETE", ASSET, {}),
    ("assets.patch", lambda r: r.assets().patch(name=ASSET, body={"updateMask": {"paths": []}, "asset": {}}),
     "PATCH", ASSET, {}),
    ("assets.create", lambda r: r.assets().create(parent=P, assetId="a/b", body={},
                                                  prettyPrint=False, overwrite=True),
     "POST", "projects/p/assets", {"assetId": ["a/b"], "overwrite": ["true"]}),
    ("assets.copy", lambda r: r.assets().copy(sourceName=ASSET, body={}),
     "POST", f"{ASSET}:copy", {}),
    ("assets.move", lambda r: r.assets().move(sourceName=ASSET, body={"destinationName": "x"}),
     "POST", f"{ASSET}:move", {}),
    ("assets.listAssets", lambda r: r.assets().listAssets(parent=ASSET, pageSize=2),
     "GET", f"{ASSET}:listAssets", {"pageSize": ["2"]}),
    ("assets.listFeatures", lambda r: r.assets().listFeatures(asset=ASSET, pageSize=2, region="{}",
                                                              filter="x=1", pageToken="t"),
     "GET", f"{ASSET}:listFeatures", {"pageSize": ["2"], "region": ["{}"], "pageToken": ["t"]}),
    ("assets.getPixels", lambda r: r.assets().getPixels(name=ASSET, body={}),
     "POST", f"{ASSET}:getPixels", {}),
    ("assets.getIamPolicy", lambda r: r.assets().getIamPolicy(resource=ASSET, body={}, prettyPrint=False),
     "POST", f"{ASSET}:getIamPolicy", {}),
    ("assets.setIamPolicy", lambda r: r.assets().setIamPolicy(resource=ASSET, body={"policy": {}},
                                                              prettyPrint=False),
     "POST", f"{ASSET}:setIamPolicy", {}),
    ("assets.testIamPermissions", lambda r: r.assets().testIamPermissions(resource=ASSET, body={}),
     "POST", f"{ASSET}:testIamPermissions", {}),
    ("image.computePixels", lambda r: r.image().computePixels(project=P, body={}),
     "POST", "projects/p/image:computePixels", {}),
    ("image.export", lambda r: r.image().export(project=P, body={}), "POST", "projects/p/image:export", {}),
    ("image.import", lambda r: r.image().import_(project=P, body={}), "POST", "projects/p/image:import", {}),
    ("image.importExternal", lambda r: r.image().importExternal(project=P, body={}),
     "POST", "projects/p/image:importExternal", {}),
    ("imageCollection.computeImages", lambda r: r.imageCollection().computeImages(project=P, body={}),
     "POST", "projects/p/imageCollection:computeImages", {}),
    ("table.computeFeatures", lambda r: r.table().computeFeatures(project=P, body={}),
     "POST", "projects/p/table:computeFeatures", {}),
    ("table.export", lambda r: r.table().export(project=P, body={}), "POST", "projects/p/table:export", {}),
    ("table.import", lambda r: r.table().import_(project=P, body={}), "POST", "projects/p/table:import", {}),
    ("video.export", lambda r: r.video().export(project=P, body={}), "POST", "projects/p/video:export", {}),
    ("map.export", lambda r: r.map().export(project=P, body={}), "POST", "projects/p/map:export", {}),
    ("classifier.export", lambda r: r.classifier().export(project=P, body={}),
     "POST", "projects/p/classifier:export", {}),
    ("videoMap.export", lambda r: r.videoMap().export(project=P, body={}),
     "POST", "projects/p/videoMap:export", {}),
    ("maps.create", lambda r: r.maps().create(parent=P, fields="name", body={}, workloadTag="t"),
     "POST", "projects/p/maps", {"fields": ["name"], "workloadTag": ["t"]}),
    ("maps.tiles.get", lambda r: r.maps().tiles().get(parent="projects/p/maps/m1", x=1, y=2, zoom=3),
     "GET", "projects/p/maps/m1/tiles/3/1/2", {}),
    ("thumbnails.create", lambda r: r.thumbnails().create(parent=P, fields="name", body={}, workloadTag="t"),
     "POST", "projects/p/thumbnails", {"fields": ["name"], "workloadTag": ["t"]}),
    ("thumbnails.getPixels", lambda r: r.thumbnails().getPixels(name="projects/p/thumbnails/t1"),
     "GET", "projects/p/thumbnails/t1:getPixels", {}),
    ("videoThumbnails.create", lambda r: r.videoThumbnails().create(parent=P, fields="name", body={},
                                                                    workloadTag="t"),
     "POST", "projects/p/videoThumbnails", {"fields": ["name"], "workloadTag": ["t"]}),
    ("videoThumbnails.getPixels", lambda r: r.videoThumbnails().getPixels(name="projects/p/videoThumbnails/v"),
     "GET", "projects/p/videoThumbnails/v:getPixels", {}),
    ("filmstripThumbnails.create", lambda r: r.filmstripThumbnails().create(parent=P, fields="name", body={},
                                                                            workloadTag="t"),
     "POST", "projects/p/filmstripThumbnails", {"fields": ["name"], "workloadTag": ["t"]}),
    ("filmstripThumbnails.getPixels",
     lambda r: r.filmstripThumbnails().getPixels(name="projects/p/filmstripThumbnails/f"),
     "GET", "projects/p/filmstripThumbnails/f:getPixels", {}),
    ("tables.create", lambda r: r.tables().create(parent=P, fields="name", body={}, workloadTag="t"),
     "POST", "projects/p/tables", {"fields": ["name"], "workloadTag": ["t"]}),
    ("tables.getFeatures", lambda r: r.tables().getFeatures(name="projects/p/tables/t1"),
     "GET", "projects/p/tables/t1:getFeatures", {}),
    ("featureView.create", lambda r: r.featureView().create(parent=P, fields="name", body={}, workloadTag="t"),
     "POST", "projects/p/featureView", {"fields": ["name"], "workloadTag": ["t"]}),
    ("operations.list", lambda r: r.operations().list(pageSize=500, name=P),
     "GET", "projects/p/operations", {"pageSize": ["500"]}),
    ("operations.get", lambda r: r.operations().get(name=OP), "GET", OP, {}),
    ("operations.delete", lambda r: r.operations().delete(name=OP), "DELETE", OP, {}),
    ("operations.cancel", lambda r: r.operations().cancel(name=OP, body={}), "POST", f"{OP}:cancel", {}),
    ("operations.wait", lambda r: r.operations().wait(name=OP, body={}), "POST", f"{OP}:wait", {}),
]

RAW_METHODS = {
    "assets.getPixels", "image.computePixels", "maps.tiles.get", "thumbnails.getPixels",
    "videoThumbnails.getPixels", "filmstripThumbnails.getPixels", "tables.getFeatures",
}
# fmt: on


def _build(version: str, raw: bool = False) -> Any:
    """Build the resource the way ee does: from the document, then override `_baseUrl`."""
    resource = discovery.build_from_document(
        discovery_document(version),
        http=HttpMockSequence([]),
        model=model.RawModel() if raw else None,
    )
    resource._baseUrl = BASE
    return resource


def _documented_methods(node: dict[str, Any], prefix: str = "") -> set[str]:
    names = {f"{prefix}{m}" for m in node.get("methods", {})}
    for child, sub in node.get("resources", {}).items():
        names |= _documented_methods(sub, f"{prefix}{child}.")
    return names


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize(
    ("label", "call", "http_method", "path", "query"), CALLS, ids=[c[0] for c in CALLS]
)
def test_method_builds_request_with_version_prefix(
    version: str, label: str, call: Call, http_method: str, path: str, query: dict[str, list[str]]
) -> None:
    request = call(_build(version, raw=label in RAW_METHODS).projects())
    url = urlsplit(request.uri)
    assert request.method == http_method
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/{version}/{path}"
    params = parse_qs(url.query)
    for key, values in query.items():
        assert params[key] == values, (key, params)
    # The JSON resource must not silently fall back to raw bytes (no `response` in the method).
    expected_model = model.RawModel if label in RAW_METHODS else model.JsonModel
    assert isinstance(request.postproc.__self__, expected_model)
    if label not in RAW_METHODS:
        assert params["alt"] == ["json"]


def test_every_documented_method_is_exercised() -> None:
    doc = discovery_document("v1")
    documented = _documented_methods(doc["resources"]["projects"])
    assert documented == {c[0] for c in CALLS}
    for name in documented:
        node: dict[str, Any] = doc["resources"]["projects"]
        *parents, method = name.split(".")
        for part in parents:
            node = node["resources"][part]
        desc = node["methods"][method]
        assert desc["id"] == f"earthengine.projects.{name}"
        assert desc["path"].startswith("v1/{+")
        assert desc["response"]["$ref"] in doc["schemas"]
        if "request" in desc:
            assert desc["request"]["$ref"] in doc["schemas"]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_json_request_body_is_sent(version: str) -> None:
    body = {"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}}
    request = _build(version).projects().value().compute(project=P, body=body, prettyPrint=False)
    assert json.loads(request.body) == body
    assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_next_methods_are_generated(version: str) -> None:
    projects = _build(version).projects()
    cases = [
        (projects, "listAssets", projects.listAssets(parent=P)),
        (projects.assets(), "listAssets", projects.assets().listAssets(parent=ASSET)),
        (projects.operations(), "list", projects.operations().list(pageSize=500, name=P)),
    ]
    for resource, name, first in cases:
        next_method = getattr(resource, f"{name}_next")
        second = next_method(first, {"nextPageToken": "tok"})
        assert parse_qs(urlsplit(second.uri).query)["pageToken"] == ["tok"]
        assert urlsplit(second.uri).path == urlsplit(first.uri).path
        assert next_method(second, {}) is None


def test_unknown_kwarg_is_rejected() -> None:
    # ee relies on this TypeError to fall back to `project=` for old documents; ours uses `parent`.
    with pytest.raises(TypeError):
        _build("v1").projects().algorithms().list(project=P, prettyPrint=False)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_ee_client_builds_both_resources_from_served_document(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ee's own `build_cloud_resource` (discovery.build, static_discovery=False) over a mock."""
    from ee import _cloud_api_utils

    monkeypatch.setattr(_cloud_api_utils, "VERSION", version)
    served = json.dumps(discovery_document(version))
    http = HttpMockSequence([({"status": "200"}, served), ({"status": "200"}, served)])
    resource = _cloud_api_utils.build_cloud_resource(BASE, None, http_transport=http)
    raw = _cloud_api_utils.build_cloud_resource(BASE, None, http_transport=http, raw=True)

    request = resource.projects().value().compute(project=P, body={}, prettyPrint=False)
    assert request.uri.startswith(f"{BASE}/{version}/projects/p/value:compute?")
    pixels = raw.projects().image().computePixels(project=P, body={})
    assert pixels.uri.startswith(f"{BASE}/{version}/projects/p/image:computePixels")


def test_root_url_and_top_level_fields() -> None:
    doc = discovery_document("v1beta", root_url="http://host:9/")
    assert doc["rootUrl"] == doc["baseUrl"] == "http://host:9/"
    assert doc["name"] == "earthengine"
    assert doc["version"] == "v1beta"
    assert doc["kind"] == "discovery#restDescription"
    assert doc["discoveryVersion"] == "v1"
    assert doc["protocol"] == "rest"
    assert doc["servicePath"] == ""
    assert doc["batchPath"] == "batch"
    for name in ("prettyPrint", "fields", "alt", "key", "$.xgafv"):
        assert doc["parameters"][name]["location"] == "query"
    assert discovery_document("v1", root_url="http://host:9")["rootUrl"] == "http://host:9/"


def test_documents_are_independent() -> None:
    # googleapiclient mutates the method descriptions it is given.
    first = discovery_document("v1")
    discovery.build_from_document(first, http=HttpMockSequence([])).projects()
    assert "trace" in first["resources"]["projects"]["methods"]["listAssets"]["parameters"]
    fresh = discovery_document("v1")["resources"]["projects"]["methods"]["listAssets"]
    assert "trace" not in fresh["parameters"]


@pytest.mark.parametrize("version", ["v2", "", "V1", "v1beta1"])
def test_unknown_version_raises_not_found(version: str) -> None:
    with pytest.raises(NotFoundError):
        discovery_document(version)
