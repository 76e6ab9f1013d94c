"""One item of a customer's timeline, whichever capability it comes from.

The timeline service gathers its own entries and asks other capabilities for theirs through
their services (meetings: ``banso.meetings.service.stream_items``; contract movements and
score changes likewise), each returning ``StreamItem``s for one account and period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StreamItem:
    kind: str  # "hearing", "trouble", ..., "meeting", "contract_movement", "health_change"
    occurred_at: datetime  # aware UTC
    title: str
    url: str  # where the item is opened or edited
    body: str = ""  # Markdown (rendered safely by the template)
    author_id: int | None = None
    ref_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific facts for the template
