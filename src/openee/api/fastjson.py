"""A JSON response rendered by orjson, for large bodies that are already plain JSON values.

FastAPI's default path runs `jsonable_encoder` over the returned value and then `json.dumps`;
for a page of 1,000 assets (every footprint's coordinates) that is most of the request's time.
orjson renders the same body about twenty times faster. It refuses integers beyond 64 bits,
which then go through the standard library instead.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi.responses import Response


class FastJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return json.dumps(
                content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode()
