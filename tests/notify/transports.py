"""Transports for tests: one that keeps what it was given, one that fails as told."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Recording:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failures = list(failures or [])

    def send(self, channel: str, payload: Mapping[str, Any]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append({"channel": channel, **payload})
