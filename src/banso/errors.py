"""Errors a user can cause. Each says what was wrong and where, so it can be fixed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (``loc`` is a path such as ``custom.plan_type`` or ``row 12``)."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class BansoError(Exception):
    """Base of the errors a user can act on."""

    status_code = 400

    def as_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": str(self)}


@dataclass
class InvalidInput(BansoError):
    errors: list[FieldError] = field(default_factory=list)
    status_code = 422

    def __str__(self) -> str:
        return "; ".join(f"{e.field}: {e.message}" for e in self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": "invalid_input",
            "message": str(self),
            "errors": [e.as_dict() for e in self.errors],
        }

    @classmethod
    def one(cls, field_name: str, message: str) -> InvalidInput:
        return cls([FieldError(field_name, message)])


class NotFound(BansoError):
    status_code = 404

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} does not exist")
        self.kind = kind
        self.key = key

    def as_dict(self) -> dict[str, Any]:
        return {"error": "not_found", "message": str(self)}


class Conflict(BansoError):
    """The record changed since the caller read it, or a unique value is taken."""

    status_code = 409

    def __init__(self, message: str, current: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.current = current

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": "conflict", "message": str(self)}
        if self.current is not None:
            body["current"] = self.current
        return body


class ConfirmationRequired(BansoError):
    """A destructive action was asked for without confirming what it destroys."""

    status_code = 409

    def __init__(self, message: str, impact: dict[str, Any]) -> None:
        super().__init__(message)
        self.impact = impact

    def as_dict(self) -> dict[str, Any]:
        return {"error": "confirmation_required", "message": str(self), "impact": self.impact}


class PermissionDenied(BansoError):
    status_code = 403

    def as_dict(self) -> dict[str, Any]:
        return {"error": "forbidden", "message": str(self)}
