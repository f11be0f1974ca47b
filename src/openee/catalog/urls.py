"""Allow-listed URLs: where a URL really leads, checked before GDAL reads it (ADR 0033).

`Roots.check` accepts a URL by its text (an allow-listed prefix, no dot segments, no encoded
characters). GDAL's HTTP client follows redirects wherever they point, so before GDAL sees the
URL, `resolve_url` asks the server for it (a HEAD, redirects not followed) and follows each
redirect itself only while the target passes `Roots.check` too; the URL it returns is the final
one, and GDAL's reads are then limited to that one file name (`raster.gdal.raster_env`).
A file in object storage (`s3://bucket/key`, `gs://bucket/key`) is not an HTTP URL: it is read
from the bucket the prefix names, with the server's credentials and endpoint (docs/decisions/0042,
0056), as given.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from openee.catalog.roots import Roots
from openee.errors import InvalidArgumentError
from openee.raster.remote import is_remote

MAX_REDIRECTS = 5
TIMEOUT_S = 10.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # answered as an HTTPError carrying the 3xx and its Location


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def resolve_url(uri: str, roots: Roots) -> str:
    """`uri` unchanged when it is a path; for a URL, the allow-listed URL it finally leads to.
    Raises InvalidArgumentError when a redirect leaves the allow-list or the server fails."""
    if "://" not in uri or is_remote(uri):
        return uri
    url = uri
    for _ in range(MAX_REDIRECTS + 1):
        request = urllib.request.Request(url, method="HEAD")
        try:
            with _opener.open(request, timeout=TIMEOUT_S):
                return url
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
            if location is None:
                raise InvalidArgumentError(
                    f"'{uri[:200]}': the server answered HTTP {exc.code}."
                ) from None
            target = urllib.parse.urljoin(url, location)
            try:
                url = roots.check(target)
            except InvalidArgumentError:
                raise InvalidArgumentError(
                    f"'{uri[:200]}' redirects outside the allowed URL prefixes."
                ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise InvalidArgumentError(f"'{uri[:200]}' cannot be reached ({exc}).") from None
    raise InvalidArgumentError(f"'{uri[:200]}': more than {MAX_REDIRECTS} redirects.")
