"""From the entry forms to the service's shapes and back: local dates and times in the
workspace timezone, the fields each kind has, and errors in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from banso.errors import FieldError, InvalidInput
from banso.i18n import N_, gettext, ngettext
from banso.timeline.models import TimelineEntry
from banso.timeline.schemas import EntryIn, EntryPatch

TROUBLE_FIELDS = ("severity", "status", "resolution", "resolved_at")
INTERVIEW_FIELDS = ("reason_keys", "hypothesis", "improvement")
COMMON_FIELDS = ("title", "body", "occurred_at", "contact_id")
FORM_ERROR = "_form"
# What the writer sees for a field the form got wrong (the services speak English).
ENTRY_ERRORS = {
    "kind": N_("Choose one of the kinds of entry."),
    "title": N_("Give the entry a title of at most 300 characters."),
    "body": N_("The text is too long (at most 100,000 characters) or holds a NUL character."),
    "occurred_at": N_("Enter the date and time it happened (YYYY-MM-DD HH:MM)."),
    "contact_id": N_("Choose one of this customer's contacts."),
    "severity": N_("A trouble needs a severity: low, medium, high or critical."),
    "status": N_("A trouble needs a status: open, in progress or resolved."),
    "resolution": N_("Say how the trouble was resolved."),
    "resolved_at": N_("Enter when it was resolved (not before it happened)."),
    "reason_keys": N_("Choose at least one of the offered cancellation reasons."),
    "hypothesis": N_("Keep the hypothesis to 100,000 characters, without NUL characters."),
    "improvement": N_("Keep the improvement to 100,000 characters, without NUL characters."),
    "version": N_("Reload the page and edit again."),
}  # fmt: skip
MENTION_ERROR = N_("Check the mentions: %(detail)s")


def parse_local(text: str, timezone: str) -> datetime | None:
    """``2025-04-01T10:30`` (or ``2025-04-01 10:30``, or a date) in the workspace timezone."""
    text = text.strip()
    if not text:
        return None
    if "\x00" in text or len(text) > 40:
        raise ValueError("not a date")
    moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def local_input(moment: datetime | None, timezone: str) -> str:
    """A stored moment as a ``datetime-local`` input's value."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def _raw(form: Mapping[str, Any], kind: str, names: tuple[str, ...]) -> dict[str, Any]:
    wanted = list(names)
    if kind == "trouble":
        wanted += TROUBLE_FIELDS
    if kind == "cancellation_interview":
        wanted += INTERVIEW_FIELDS
    return {n: form.get(n) for n in wanted if n in form}


def _clean(raw: dict[str, Any], timezone: str) -> tuple[dict[str, Any], list[FieldError]]:
    data: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        if name in ("occurred_at", "resolved_at"):
            try:
                data[name] = parse_local(value or "", timezone)
            except ValueError:
                errors.append(FieldError(name, "not a date and time"))
        elif name in ("severity", "status", "contact_id"):
            data[name] = value.strip() if isinstance(value, str) and value.strip() else None
        else:
            data[name] = value
    return data, errors


def _validated(model: Any, data: dict[str, Any], errors: list[FieldError]) -> Any:
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            errors.append(FieldError(loc[0] if loc else FORM_ERROR, str(err.get("msg", ""))))
    if errors:
        raise InvalidInput(errors)
    return result


def entry_in(form: Mapping[str, Any], account_id: int, timezone: str) -> EntryIn:
    """The new entry a form describes (only the fields of the chosen kind count)."""
    kind = str(form.get("kind") or "")
    data, errors = _clean(_raw(form, kind, COMMON_FIELDS), timezone)
    data |= {"account_id": account_id, "kind": kind}
    if data.get("occurred_at") is None and not any(e.field == "occurred_at" for e in errors):
        errors.append(FieldError("occurred_at", "required"))
    return _validated(EntryIn, data, errors)


def entry_patch(form: Mapping[str, Any], entry: TimelineEntry, timezone: str) -> EntryPatch:
    """The change an edit form describes; every field of the entry's kind is sent."""
    data, errors = _clean(_raw(form, entry.kind, COMMON_FIELDS), timezone)
    if entry.kind == "cancellation_interview" and "reason_keys" not in data:
        data["reason_keys"] = []
    data["version"] = form.get("version") or "0"
    return _validated(EntryPatch, data, errors)


def form_values(entry: TimelineEntry, timezone: str) -> dict[str, Any]:
    """The edit form's values for a stored entry."""
    return {
        "kind": entry.kind,
        "title": entry.title,
        "body": entry.body,
        "occurred_at": local_input(entry.occurred_at, timezone),
        "contact_id": str(entry.contact_id or ""),
        "severity": entry.severity or "",
        "status": entry.status or "",
        "resolution": entry.resolution or "",
        "resolved_at": local_input(entry.resolved_at, timezone),
        "reason_keys": list(entry.reason_keys or []),
        "hypothesis": entry.hypothesis or "",
        "improvement": entry.improvement or "",
        "version": entry.version,
    }


def submitted(form: Mapping[str, Any], reason_keys: list[str]) -> dict[str, Any]:
    """What the writer sent, to show again in a refused form."""
    values: dict[str, Any] = {
        k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
    }
    values["reason_keys"] = reason_keys
    return values


def field_errors(exc: InvalidInput) -> dict[str, str]:
    """Errors by field, in the reader's language."""
    found: dict[str, str] = {}
    for e in exc.errors:
        name = e.field.split(".")[0]
        if e.message.startswith("mentions "):
            found.setdefault(name, gettext(MENTION_ERROR) % {"detail": e.message})
        elif name in ENTRY_ERRORS:
            found.setdefault(name, gettext(ENTRY_ERRORS[name]))
        else:
            found.setdefault(FORM_ERROR, e.message)
    return found


def duration_text(value: timedelta | None) -> str:
    """A time to resolve or an age in days and hours: "2 days 3 hours", "5 hours"."""
    if value is None:
        return "—"
    hours = max(0, int(value.total_seconds() // 3600))
    days, hours = divmod(hours, 24)
    day_text = ngettext("%(num)d day", "%(num)d days", days) % {"num": days}
    hour_text = ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    if days and hours:
        return f"{day_text} {hour_text}"
    if days:
        return day_text
    if hours:
        return hour_text
    return gettext("less than an hour")
