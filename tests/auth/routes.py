"""The app's REST routes as (method, path template, callable URL), for tests that walk them all.

FastAPI keeps included routers as nested entries of ``app.routes``; ``iter_route_contexts``
flattens them with their full paths. The OpenAPI document is checked against the result,
so a change in how FastAPI nests routes cannot make the walk silently shorter.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"\{[^}]+\}")
_PREFIX = "/api/v1/"


def api_routes(app: FastAPI, methods: frozenset[str] | None = None) -> list[tuple[str, str, str]]:
    """Every route under /api/v1/ (optionally only ``methods``), path parameters set to 1."""
    public = {app.openapi_url, app.docs_url, app.redoc_url}  # documentation, open to all
    found = set()
    for context in iter_route_contexts(app.routes):
        path, route_methods = context.path, context.methods
        if not path or not path.startswith(_PREFIX) or not route_methods or path in public:
            continue
        found |= {(method, path) for method in route_methods if method != "HEAD"}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(_PREFIX)
        for method in operations
    }
    assert documented <= found, f"routes missed by the walk: {sorted(documented - found)}"
    return [
        (method, path, _PARAM.sub("1", path))
        for method, path in sorted(found)
        if methods is None or method in methods
    ]
