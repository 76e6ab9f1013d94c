"""Posting a form of the admin pages as a browser does: with the token the page gave it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import form_token


def post_form(client: TestClient, url: str, page: str, data: dict[str, Any]) -> Any:
    """Open ``page``, then post ``data`` to ``url`` with the page's form token."""
    token = form_token(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
