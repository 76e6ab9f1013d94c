"""Shapes of meetings, their agenda items (論点), reviews, comments and TODOs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from banso.errors import FieldError, InvalidInput
from banso.text import LongText, Name, OptionalLong, OptionalShort

DB_INT_MAX = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
# A meeting's written parts are Markdown; 20,000 characters is several pages per field.
MAX_TEXT = 20_000
MeetingStatus = Literal["planned", "held", "closed", "cancelled"]
ReviewDecision = Literal["approved", "changes_requested"]
OwnerType = Literal["customer", "us", "joint"]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with its timezone (or a local date and time)")
    return value


def _not_too_long(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_TEXT:
        raise ValueError(f"is {len(value):,} characters long; use at most {MAX_TEXT:,}")
    return value


AwareDateTime = Annotated[datetime, AfterValidator(_aware)]
Text = Annotated[LongText, AfterValidator(_not_too_long)]
OptionalText = Annotated[OptionalLong, AfterValidator(_not_too_long)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(_Strict):
    """A new meeting; with ``template_page_id`` its agenda starts from a knowledge template."""

    account_id: RecordId
    title: Name
    scheduled_at: AwareDateTime
    location: OptionalShort = None
    purpose: OptionalText = None
    attendees: OptionalText = None
    owner_id: RecordId | None = None
    template_page_id: RecordId | None = None


class MeetingPatch(_Strict):
    """Only the fields sent change; ``version`` must be the one the writer read."""

    version: int
    title: Name | None = None
    scheduled_at: AwareDateTime | None = None
    location: OptionalShort = None
    purpose: OptionalText = None
    attendees: OptionalText = None
    summary: OptionalText = None


class ItemIn(_Strict):
    topic: Name
    hypothesis: Text = ""


class ItemPatch(_Strict):
    version: int
    topic: Name | None = None
    hypothesis: Text | None = None
    customer_view: Text | None = None
    decision: Text | None = None


class ReviewRequestIn(_Strict):
    reviewer_id: RecordId
    message: OptionalText = None
    due_date: date | None = None


def _written(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty; write the comment")
    return value


class CommentIn(_Strict):
    body: Annotated[Text, AfterValidator(_written)] = Field(description="Markdown")
    item_id: RecordId | None = None


class DecisionIn(_Strict):
    decision: ReviewDecision
    comment: OptionalText = None


class TodoIn(_Strict):
    """A TODO from the meeting, which becomes a task in one step."""

    title: Name
    owner_type: OwnerType = "us"
    assignee_id: RecordId | None = None
    contact_id: RecordId | None = None
    due_date: date | None = None
    description: Text = ""


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate ``data`` as ``model``; problems become InvalidInput naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem.get("loc", ())) or "body"
            message = str(problem.get("ctx", {}).get("error") or problem["msg"])
            errors.append(FieldError(where, message))
        raise InvalidInput(errors) from None
