"""The map page: `GET /map` and its static files (`src/openee/web/`), plus `/map/config.json`.

The page is plain HTML and JavaScript with a vendored Leaflet (no build step). It is public, like
any static page: it holds no data and no credential. Everything it shows comes from the API, which
it calls with a token it obtains from a service-account key the user loads (signed in the
browser), or with an API key; only a server started with `--no-auth` (loopback only) lets it skip
that step, which `config.json` tells it.

Every URL the page uses is relative to it (`map/map.js`, `map/config.json`, `token`, `v1/...`),
so the page works at the origin's root and behind a reverse proxy that serves the server under
a path prefix (`https://host/openee/map`, the proxy removing `/openee`), with no setting.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse

from openee.api.deps import get_state
from openee.api.state import AppState
from openee.errors import NotFoundError

router = APIRouter()

WEB_ROOT = Path(str(resources.files("openee") / "web"))
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# The page and its scripts change with the package; vendored files carry their version in the path.
_REVALIDATE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("/map", include_in_schema=False)
def map_page() -> FileResponse:
    return FileResponse(
        WEB_ROOT / "index.html", media_type=MEDIA_TYPES[".html"], headers=_REVALIDATE
    )


@router.get("/map/", include_in_schema=False)
def map_page_slash() -> RedirectResponse:
    # Relative, so that it stays under a reverse proxy's path prefix: /{prefix}/map/ -> ../map.
    return RedirectResponse("../map")


@router.get("/map/config.json", include_in_schema=False)
def map_config(state: Annotated[AppState, Depends(get_state)]) -> dict[str, Any]:
    """What the page needs before it can call the API: whether it must authenticate first."""
    settings = state.settings
    return {"authRequired": settings.auth_enabled, "defaultProject": settings.default_project}


@router.get("/map/{path:path}", include_in_schema=False)
def map_file(path: str) -> FileResponse:
    """A static file of the page; only files under the web folder with a known type."""
    file = (WEB_ROOT / path).resolve()
    media_type = MEDIA_TYPES.get(file.suffix)
    if media_type is None or not file.is_relative_to(WEB_ROOT.resolve()) or not file.is_file():
        raise NotFoundError(f"Requested entity was not found: map/{path[:200]}")
    return FileResponse(file, media_type=media_type, headers=_REVALIDATE)
