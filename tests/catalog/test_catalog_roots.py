"""Asset files are confined to the roots: hostile paths and URIs are refused before any open."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from openee.catalog.roots import Roots
from openee.errors import InvalidArgumentError
from openee.settings import Settings

_OPENED: list[str] = []
_WATCHING: set[int] = set()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and threading.get_ident() in _WATCHING:
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records when asked


@contextmanager
def no_open() -> Iterator[None]:
    """Fails if this thread opens any file inside the block."""
    _OPENED.clear()
    _WATCHING.add(threading.get_ident())
    try:
        yield
    finally:
        _WATCHING.discard(threading.get_ident())
    assert _OPENED == [], f"opened {_OPENED}"


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """root/ with a file, a good link and escaping links; outside/ with a secret."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "imgs").mkdir(parents=True)
    outside.mkdir()
    (root / "imgs" / "a.tif").write_bytes(b"inside")
    (outside / "secret.tif").write_bytes(b"secret")
    (root / "imgs" / "to_secret.tif").symlink_to(outside / "secret.tif")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "imgs" / "alias.tif").symlink_to(root / "imgs" / "a.tif")
    return {"root": root, "outside": outside}


@pytest.fixture
def roots(tree: dict[str, Path]) -> Roots:
    return Roots.of([tree["root"]], url_prefixes=["https://data.example.org/cogs/"])


ATTACKS = [
    "{root}/../outside/secret.tif",  # parent traversal
    "imgs/../../outside/secret.tif",  # relative traversal
    "{root}/imgs/%2e%2e/%2e%2e/outside/secret.tif",  # encoded
    "{root}/imgs/%252e%252e/%252e%252e/outside/secret.tif",  # double-encoded
    "{root}/imgs/..%2f..%2foutside/secret.tif",  # encoded slash
    "{root}/imgs/a.tif\x00.png",  # NUL byte
    "{root}/imgs/a.tif%00",  # encoded NUL
    "{outside}/secret.tif",  # absolute path outside
    "/etc/passwd",  # absolute system file
    "{root}/imgs/to_secret.tif",  # symlinked file out of root
    "{root}/escape/secret.tif",  # symlinked directory out of root
    "/vsicurl/http://127.0.0.1:8080/x.tif",  # GDAL network file system
    "/vsizip/{root}/imgs/a.zip/x.tif",  # GDAL archive file system
    "/VSICURL/http://localhost/x.tif",  # case games
    "{root}/imgs//vsicurl/http://127.0.0.1/x.tif",  # vsi inside a path
    "http://127.0.0.1:8080/admin",  # loopback URL
    "http://localhost/x.tif",  # loopback name
    "http://[::1]/x.tif",  # IPv6 loopback
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://data.example.org.evil.net/cogs/x.tif",  # look-alike of the allowed prefix
    "https://data.example.org/cogs/../private/x.tif",  # traversal after the allowed prefix
    "file:///etc/passwd",  # file URI, not allow-listed
    "file://{root}/imgs/a.tif",  # file URI even inside root
    "gs://bucket/x.tif",  # other schemes
    "HDF5:{root}/imgs/a.h5://data",  # GDAL connection string
    "vrt://{root}/imgs/a.tif?bands=1",  # GDAL vrt:// syntax
    "{root}/imgs/evil.vrt",  # a VRT can point anywhere
    "{root}\\..\\outside\\secret.tif",  # backslashes
    "",  # empty
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_rejected_before_any_open(
    attack: str, roots: Roots, tree: dict[str, Path]
) -> None:
    uri = attack.format(root=tree["root"], outside=tree["outside"])
    with no_open(), pytest.raises(InvalidArgumentError) as err:
        roots.check(uri)
    assert err.value.http_status == 400
    assert err.value.message  # a reason, not a blank


def test_the_hook_sees_opens() -> None:
    """The guard above would notice an open (so its silence means something)."""
    with pytest.raises(AssertionError, match="opened"), no_open():
        Path(__file__).read_bytes()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("{root}/imgs/a.tif", "{root}/imgs/a.tif"),
        ("imgs/a.tif", "{root}/imgs/a.tif"),  # relative to the first root
        ("{root}/imgs/./a.tif", "{root}/imgs/a.tif"),
        ("{root}/imgs/alias.tif", "{root}/imgs/a.tif"),  # a link that stays inside
        ("{root}/imgs/new.tif", "{root}/imgs/new.tif"),  # need not exist yet
    ],
)
def test_paths_inside_roots_pass(
    given: str, expected: str, roots: Roots, tree: dict[str, Path]
) -> None:
    root = Path(os.path.realpath(tree["root"]))
    assert roots.check(given.format(root=tree["root"])) == expected.format(root=root)


def test_allow_listed_url_passes(roots: Roots) -> None:
    url = "https://data.example.org/cogs/scene/B4.tif"
    assert roots.check(url) == url


def test_file_uri_when_allowed(tree: dict[str, Path]) -> None:
    roots = Roots.of([tree["root"]], allow_file_uri=True)
    real = os.path.realpath(tree["root"] / "imgs" / "a.tif")
    assert roots.check(f"file://{tree['root']}/imgs/a.tif") == real
    with pytest.raises(InvalidArgumentError):
        roots.check(f"file://{tree['outside']}/secret.tif")


def test_root_of_the_data_dir_includes_the_demo(tmp_path: Path) -> None:
    from openee.demo import S2_L2A_CATALOG

    roots = Roots.for_data_dir(tmp_path)
    assert roots.check(str(S2_L2A_CATALOG)) == os.path.realpath(S2_L2A_CATALOG)
    with pytest.raises(InvalidArgumentError):
        roots.check("/etc/hostname")


def test_extra_roots_and_url_prefixes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra, other = tmp_path / "extra", tmp_path / "other"
    extra.mkdir()
    other.mkdir()
    monkeypatch.setenv("OPENEE_ALLOWED_ROOTS", f"{extra}{os.pathsep}{other}")
    monkeypatch.setenv("OPENEE_ALLOWED_URL_PREFIXES", "https://a.example/cogs/ s3://imagery/x/")
    settings = Settings.from_env(data_dir=tmp_path / "data")
    assert settings.allowed_roots == (extra, other)
    assert settings.allowed_url_prefixes == ("https://a.example/cogs/", "s3://imagery/x/")
    roots = Roots.for_data_dir(
        settings.data_dir, settings.allowed_roots, settings.allowed_url_prefixes
    )
    assert roots.check(str(other / "x.tif")) == os.path.realpath(other / "x.tif")
    assert roots.check("https://a.example/cogs/x.tif") == "https://a.example/cogs/x.tif"
    with pytest.raises(InvalidArgumentError):
        roots.check("https://a.example/other/x.tif")


@pytest.mark.parametrize(
    "url",
    [
        "https://data.example.org/cogs-evil/x.tif",  # the prefix matched mid-segment
        "https://data.example.org/cogs/x.tif?/../../y.tif",  # GDAL collapses these
        "https://data.example.org/cogs/./x.tif",
        "https://data.example.org/cogs//x.tif",
        "https://data.example.org/cogs/x.tif#/../../y.tif",
        "https://data.example.org/cogs@evil.example.com/x.tif",
        "https://data.example.org/cogs/x%2Etif",
    ],
)
def test_a_url_must_stay_under_its_prefix_in_normal_form(url: str) -> None:
    roots = Roots.of([Path("/")], url_prefixes=["https://data.example.org/cogs"])
    with pytest.raises(InvalidArgumentError):
        roots.check(url)
    assert roots.check("https://data.example.org/cogs/x.tif?version=2")


@pytest.mark.parametrize("scheme", ["s3", "gs"])
@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("{s}://imagery/cogs/scene/b4.tif", True),
        ("{s}://imagery/cogs-private/b4.tif", False),  # the prefix ends at its slash
        ("{s}://imagery-private/cogs/b4.tif", False),
        ("{s}://imagery/other/b4.tif", False),
        ("{s}://imagery/cogs/../secret/b4.tif", False),
        ("{s}://imagery/cogs/%2e%2e/b4.tif", False),
        ("/vsi{s}/imagery/cogs/b4.tif", False),  # only the s3:// (gs://) spelling is taken
    ],
)
def test_bucket_prefixes_are_allow_listed_by_bucket_and_prefix(
    tmp_path: Path, scheme: str, uri: str, allowed: bool
) -> None:
    roots = Roots.of([tmp_path], url_prefixes=[f"{scheme}://imagery/cogs/"])
    uri = uri.format(s=scheme)
    if allowed:
        assert roots.check(uri) == uri
    else:
        with pytest.raises(InvalidArgumentError, match="not allowed"):
            roots.check(uri)
    # A prefix of one kind of store allows nothing in the other, whatever the bucket's name.
    other = uri.replace(f"{scheme}://", "gs://" if scheme == "s3" else "s3://")
    with pytest.raises(InvalidArgumentError, match="not allowed"):
        roots.check(other)


def test_cloud_storage_bucket_names_may_hold_underscores(tmp_path: Path) -> None:
    roots = Roots.of([tmp_path], url_prefixes=["gs://my_imagery/cogs/"])
    assert roots.check("gs://my_imagery/cogs/b4.tif") == "gs://my_imagery/cogs/b4.tif"


@pytest.mark.parametrize(
    "prefix",
    ["s3://imagery", "s3://Im_agery/cogs/", "s3:///cogs/", "gs://b/", "gs://imagery", "gs:///x/"],
)
def test_malformed_bucket_prefixes_are_refused(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(ValueError, match="URL prefix"):
        Roots.of([tmp_path], url_prefixes=[prefix])
