"""Administration pages: users, custom fields, the pipeline and its reasons, keys, the audit log.

Admins manage everything here; managers may read the audit log. Each page calls the services
of the capability it administers (``banso.auth.service``, ``banso.accounts.customfields``,
``banso.deals.service``, ``banso.events.writekeys``, ``banso.audit.service``); every change is
audited there. Forms come back with the errors next to the fields (422), or with what changed
meanwhile when someone else saved first (409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.models import ENTITIES, CustomFieldDefinition
from banso.audit.models import AuditEntry
from banso.audit.service import AuditFilter, entries
from banso.auth import service as auth
from banso.auth.models import ROLES, ApiToken, User
from banso.db import utcnow
from banso.deals import service as deals
from banso.deals.models import Deal, LostReason, PipelineStage
from banso.deals.schemas import ReasonIn, ReasonPatch, StageIn, StagePatch
from banso.errors import BansoError, Conflict, InvalidInput, NotFound
from banso.events import writekeys
from banso.i18n import N_, gettext
from banso.web.deps import AdminUser, DbSession, ManagerUser, actor_of
from banso.web.flash import flash
from banso.web.models import LoginAttempt
from banso.web.security import end_sessions_of, start_session
from banso.web.templating import ROLE_LABELS, render

router = APIRouter()

AUDIT_PAGE_SIZE = 50
FORM_ERROR = "_form"  # the key of an error about the whole form rather than one field

ENTITY_LABELS = {
    "account": N_("Account"),
    "contact": N_("Contact"),
    "contract": N_("Contract"),
    "deal": N_("Deal"),
    "custom_field": N_("Custom field"),
    "user": N_("User"),
    "api_token": N_("API token"),
    "write_key": N_("Write key"),
    "pipeline_stage": N_("Pipeline stage"),
    "lost_reason": N_("Lost or archive reason"),
    "segment": N_("Segment"),
    "metric": N_("Metric"),
    "import_profile": N_("Import profile"),
    "usage_user": N_("Product user"),
    "usage_group": N_("Product group"),
}
ACTION_LABELS = {
    "create": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "merge": N_("Merged"),
    "link": N_("Linked"),
    "revoke": N_("Revoked"),
    "deactivate": N_("Deactivated"),
    "reactivate": N_("Reactivated"),
    "set_password": N_("Password set"),
    "generate": N_("Generated"),
}
FIELD_TYPE_LABELS = {
    "text": N_("Text"),
    "long_text": N_("Long text"),
    "number": N_("Number"),
    "money": N_("Amount of money"),
    "date": N_("Date"),
    "single_choice": N_("Single choice"),
    "multi_choice": N_("Multiple choice"),
    "user": N_("User"),
    "url": N_("URL"),
    "checkbox": N_("Checkbox"),
}
CUSTOM_ENTITY_LABELS = {
    "account": N_("Accounts"),
    "contact": N_("Contacts"),
    "contract": N_("Contracts"),
    "deal": N_("Deals"),
}
OUTCOME_LABELS = {
    "open": N_("Open"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "archived": N_("Archived"),
}
REASON_KIND_LABELS = {"lost": N_("Lost"), "archived": N_("Archived")}
LANGUAGE_LABELS = {"ja": N_("Japanese"), "en": N_("English")}
# Audit entries of these kinds link to the record's own page.
RECORD_PAGES = {
    "account": "/customers/{id}",
    "contact": "/contacts/{id}",
    "user": "/admin/users/{id}",
    "custom_field": "/admin/custom-fields/{id}",
}


def _options(labels: dict[str, str]) -> list[tuple[str, str]]:
    """(value, label in the reader's language) for a select."""
    return [(value, gettext(label)) for value, label in labels.items()]


def _labels() -> dict[str, Any]:
    """The label dictionaries every admin template may use (msgids; templates translate),
    and the choices of the selects, translated."""
    return {
        "options": {
            "roles": _options(ROLE_LABELS),
            "languages": _options(LANGUAGE_LABELS),
            "field_types": _options(FIELD_TYPE_LABELS),
            "custom_entities": _options(CUSTOM_ENTITY_LABELS),
        },
        "entity_labels": ENTITY_LABELS,
        "action_labels": ACTION_LABELS,
        "field_type_labels": FIELD_TYPE_LABELS,
        "custom_entity_labels": CUSTOM_ENTITY_LABELS,
        "language_labels": LANGUAGE_LABELS,
    }


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(request, f"admin/{name}", _labels() | context, status_code=status_code)


def _undo(session: Session) -> None:
    """Forget whatever a refused change did, so that nothing of it is stored."""
    session.rollback()


def _field_errors(exc: ValidationError, messages: dict[str, str]) -> dict[str, str]:
    """Errors by field, in the reader's language where the form knows the field."""
    found: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        field = loc[0] if loc else FORM_ERROR
        found.setdefault(field, messages.get(field) or str(err.get("msg", "")))
    return found


def _service_errors(exc: BansoError, messages: dict[str, str]) -> dict[str, str]:
    if isinstance(exc, InvalidInput):
        found: dict[str, str] = {}
        for e in exc.errors:
            field = e.field.split(".")[0]
            found.setdefault(field, messages.get(field) or e.message)
        return found
    return {FORM_ERROR: str(exc)}


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _stamp(values: dict[str, Any] | list[str]) -> str:
    """A fingerprint of what a form showed: records without a version (pipeline stages and
    reasons) are checked against it, so a change made meanwhile is not overwritten."""
    raw = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


# ====================================================================== index


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, session: DbSession, user: ManagerUser) -> HTMLResponse:
    return _page(request, "index.html", {})


# ====================================================================== users


def _user_messages() -> dict[str, str]:
    return {
        "email": gettext("Enter a valid e-mail address."),
        "name": gettext("Enter a name of 1 to 300 characters."),
        "role": gettext("Choose one of the roles."),
        "locale": gettext("Choose Japanese or English."),
        "password": gettext("The password must be %(min)d to %(max)d characters long.")
        % {"min": auth.PASSWORD_MIN, "max": auth.PASSWORD_MAX},
    }


def _last_sign_ins(session: Session, users: list[User]) -> dict[str, datetime]:
    """The latest successful sign-in of each user in the last 30 days (older ones are purged)."""
    emails = [u.email for u in users]
    if not emails:
        return {}
    stmt = (
        select(LoginAttempt.email, func.max(LoginAttempt.at))
        .where(LoginAttempt.email.in_(emails), LoginAttempt.succeeded.is_(True))
        .group_by(LoginAttempt.email)
    )
    return {email: at for email, at in session.execute(stmt)}


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    users = auth.list_users(session)
    context = {"users": users, "last_sign_in": _last_sign_ins(session, users)}
    return _page(request, "users.html", context)


def _new_user_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {"values": values, "errors": errors}
    return _page(request, "user_new.html", context, status_code)


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    return _new_user_page(request, {"role": "csm", "locale": "ja"}, {})


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: DbSession,
    user: AdminUser,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    values = {"email": email, "name": name, "role": role, "locale": locale}
    messages = _user_messages()
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = messages["role"]
    try:
        data = auth.UserIn(
            email=email.strip(),
            name=name,
            role=role,
            locale=locale or None,
            password=password,
        )
    except ValidationError as exc:
        errors = _field_errors(exc, messages) | errors
    if errors:
        return _new_user_page(request, values, errors, 422)
    try:
        created = auth.create_user(session, actor_of(user), data)
    except Conflict:
        _undo(session)
        errors = {"email": gettext("A user with this e-mail address already exists.")}
        return _new_user_page(request, values, errors, 422)
    except InvalidInput as exc:
        _undo(session)
        return _new_user_page(request, values, _service_errors(exc, messages), 422)
    flash(request, gettext("User %(email)s created.") % {"email": created.email})
    return RedirectResponse(f"/admin/users/{created.id}", status_code=303)


def _user_page(
    request: Request,
    session: Session,
    target: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    me = getattr(request.state, "user", None)
    context = {
        "target": target,
        "is_self": me is not None and me.id == target.id,
        "values": values
        or {"name": target.name, "role": target.role, "locale": target.locale or ""},
        "errors": errors or {},
        "password_errors": password_errors or {},
        "conflict": conflict,
        "last_sign_in": _last_sign_ins(session, [target]).get(target.email),
        "live_tokens": _live_tokens(session, target),
    }
    return _page(request, "user.html", context, status_code)


@router.get("/admin/users/{user_id:int}", response_class=HTMLResponse)
def user_page(request: Request, user_id: int, session: DbSession, user: AdminUser) -> HTMLResponse:
    return _user_page(request, session, auth.get_user(session, user_id))


def _live_tokens(session: Session, target: User) -> int:
    """How many API tokens act as ``target`` and are not revoked."""
    stmt = select(func.count()).where(ApiToken.user_id == target.id, ApiToken.revoked_at.is_(None))
    return session.scalar(stmt) or 0


def _renew_own_session(request: Request, session: Session, me: User) -> None:
    """After ending every session of the signed-in admin, keep this browser signed in."""
    _row, cookie = start_session(
        session, request.app.state.settings, me, request.headers.get("user-agent", "")
    )
    request.state.session_cookie = cookie


@router.post("/admin/users/{user_id:int}", response_class=HTMLResponse)
def update_user(
    request: Request,
    user_id: int,
    session: DbSession,
    user: AdminUser,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    target = auth.get_user(session, user_id)
    values = {"name": name, "role": role, "locale": locale}
    messages = _user_messages()
    old_role = target.role
    if role not in ROLES:
        errors = {"role": messages["role"]}
        return _user_page(request, session, target, values=values, errors=errors, status_code=422)
    if target.id == user.id:
        messages["role"] = gettext(
            "You cannot change your own role. Ask another admin to change it."
        )
    else:
        messages["role"] = gettext(
            "%(email)s is the only active admin; make someone else an admin first."
        ) % {"email": target.email}
    try:
        patch = auth.UserPatch(name=name, role=role, locale=locale or None, version=version)
        auth.update_user(session, actor_of(user), user_id, patch)
    except ValidationError as exc:
        errors = _field_errors(exc, messages)
        return _user_page(request, session, target, values=values, errors=errors, status_code=422)
    except Conflict:
        _undo(session)
        return _user_page(request, session, target, values=values, conflict=True, status_code=409)
    except InvalidInput as exc:
        _undo(session)
        errors = _service_errors(exc, messages)
        return _user_page(request, session, target, values=values, errors=errors, status_code=422)
    if target.role != old_role:
        end_sessions_of(session, target.id)
    flash(request, gettext("Saved."))
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/admin/users/{user_id:int}/password", response_class=HTMLResponse)
def set_password(
    request: Request,
    user_id: int,
    session: DbSession,
    user: AdminUser,
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    target = auth.get_user(session, user_id)
    messages = _user_messages()
    if password != password_again:
        errors = {"password_again": gettext("The two passwords differ; type the same twice.")}
        return _user_page(request, session, target, password_errors=errors, status_code=422)
    try:
        auth.set_password(session, actor_of(user), user_id, password, version)
    except Conflict:
        _undo(session)
        return _user_page(request, session, target, conflict=True, status_code=409)
    except InvalidInput as exc:
        _undo(session)
        errors = _service_errors(exc, messages)
        return _user_page(request, session, target, password_errors=errors, status_code=422)
    end_sessions_of(session, target.id)
    if target.id == user.id:
        _renew_own_session(request, session, user)
        flash(request, gettext("Your password was changed; your other sessions were signed out."))
    else:
        flash(
            request,
            gettext("New password set for %(email)s; they were signed out everywhere.")
            % {"email": target.email},
        )
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.get("/admin/users/{user_id:int}/deactivate", response_class=HTMLResponse)
def confirm_deactivate(
    request: Request, user_id: int, session: DbSession, user: AdminUser
) -> HTMLResponse:
    target = auth.get_user(session, user_id)
    live_tokens = _live_tokens(session, target)
    context = {"target": target, "is_self": target.id == user.id, "live_tokens": live_tokens}
    return _page(request, "user_deactivate.html", context)


@router.post("/admin/users/{user_id:int}/deactivate", response_class=HTMLResponse)
def deactivate_user(
    request: Request,
    user_id: int,
    session: DbSession,
    user: AdminUser,
    version: Annotated[int, Form()] = 0,
) -> Response:
    return _set_active(request, session, user, user_id, False, version)


@router.post("/admin/users/{user_id:int}/reactivate", response_class=HTMLResponse)
def reactivate_user(
    request: Request,
    user_id: int,
    session: DbSession,
    user: AdminUser,
    version: Annotated[int, Form()] = 0,
) -> Response:
    return _set_active(request, session, user, user_id, True, version)


def _set_active(
    request: Request, session: Session, me: User, user_id: int, active: bool, version: int
) -> Response:
    target = auth.get_user(session, user_id)
    try:
        auth.set_user_active(session, actor_of(me), user_id, active, version)
    except Conflict:
        _undo(session)
        return _user_page(request, session, target, conflict=True, status_code=409)
    except InvalidInput:
        _undo(session)
        if target.id == me.id:
            message = gettext("You cannot deactivate yourself. Ask another admin to do it.")
        else:
            message = gettext(
                "%(email)s is the only active admin; make someone else an admin first."
            ) % {"email": target.email}
        return _user_page(request, session, target, errors={FORM_ERROR: message}, status_code=422)
    if active:
        flash(request, gettext("%(email)s can sign in again.") % {"email": target.email})
    else:
        end_sessions_of(session, target.id)
        flash(
            request,
            gettext("%(email)s was deactivated and signed out everywhere.")
            % {"email": target.email},
        )
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


# ====================================================================== custom fields


def _field_messages() -> dict[str, str]:
    return {
        "entity": gettext("Choose what the field belongs to."),
        "key": gettext(
            "Use lower-case letters, digits and _, starting with a letter (up to 64 characters)."
        ),
        "type": gettext("Choose a type."),
        "label_ja": gettext("Enter a label of 1 to 100 characters."),
        "label_en": gettext("Enter a label of 1 to 100 characters."),
        "choices": gettext(
            "Choice fields need at least one choice (one per line, each different, up to 100 "
            "characters); other types take none."
        ),
        "position": gettext("Enter a whole number from 0 to 100000."),
        "help_text": gettext("The help text is too long."),
    }


def _choices(text: str) -> list[str] | None:
    lines = [line.strip() for line in text.splitlines()]
    found = [line for line in lines if line]
    return found or None


@router.get("/admin/custom-fields", response_class=HTMLResponse)
def custom_fields_page(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    return _custom_fields_page(request, session, {"entity": "account", "type": "text"}, {})


def _custom_fields_page(
    request: Request,
    session: Session,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    by_entity = {entity: customfields.definitions(session, entity) for entity in ENTITIES}
    context = {
        "by_entity": by_entity,
        "entities": ENTITIES,
        "values": values,
        "errors": errors,
    }
    return _page(request, "custom_fields.html", context, status_code)


@router.post("/admin/custom-fields", response_class=HTMLResponse)
def create_custom_field(
    request: Request,
    session: DbSession,
    user: AdminUser,
    entity: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "",
    label_ja: Annotated[str, Form()] = "",
    label_en: Annotated[str, Form()] = "",
    choices: Annotated[str, Form()] = "",
    required: Annotated[str, Form()] = "",
    position: Annotated[str, Form()] = "",
    help_text: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "entity": entity,
        "key": key,
        "type": type,
        "label_ja": label_ja,
        "label_en": label_en,
        "choices": choices,
        "required": bool(required),
        "position": position,
        "help_text": help_text,
    }
    messages = _field_messages()
    try:
        data = customfields.CustomFieldIn(
            entity=entity,
            key=key.strip(),
            type=type,
            label_ja=label_ja,
            label_en=label_en,
            choices=_choices(choices),
            required=bool(required),
            position=position.strip() or 0,
            help_text=help_text,
        )
        definition = customfields.create_definition(session, actor_of(user), data)
    except ValidationError as exc:
        errors = _field_errors(exc, messages)
        if FORM_ERROR in errors:  # the model's only whole-form rule: choices match the type
            errors.setdefault("choices", messages["choices"])
            del errors[FORM_ERROR]
        return _custom_fields_page(request, session, values, errors, 422)
    except Conflict:
        _undo(session)
        errors = {"key": gettext("This entity already has a field with this key.")}
        return _custom_fields_page(request, session, values, errors, 422)
    except InvalidInput as exc:
        _undo(session)
        errors = _service_errors(exc, messages)
        return _custom_fields_page(request, session, values, errors, 422)
    flash(request, gettext("Custom field “%(key)s” created.") % {"key": definition.key})
    return RedirectResponse("/admin/custom-fields", status_code=303)


def _definition_values(definition: CustomFieldDefinition) -> dict[str, Any]:
    return {
        "label_ja": definition.label_ja,
        "label_en": definition.label_en,
        "choices": "\n".join(definition.choices or []),
        "required": definition.required,
        "position": str(definition.position),
        "help_text": definition.help_text or "",
    }


def _custom_field_page(
    request: Request,
    definition: CustomFieldDefinition,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "definition": definition,
        "values": values or _definition_values(definition),
        "errors": errors or {},
        "conflict": conflict,
        "is_choice": definition.type in ("single_choice", "multi_choice"),
    }
    return _page(request, "custom_field.html", context, status_code)


@router.get("/admin/custom-fields/{field_id:int}", response_class=HTMLResponse)
def custom_field_page(
    request: Request, field_id: int, session: DbSession, user: AdminUser
) -> HTMLResponse:
    return _custom_field_page(request, customfields.get_definition(session, field_id))


@router.post("/admin/custom-fields/{field_id:int}", response_class=HTMLResponse)
def update_custom_field(
    request: Request,
    field_id: int,
    session: DbSession,
    user: AdminUser,
    label_ja: Annotated[str, Form()] = "",
    label_en: Annotated[str, Form()] = "",
    choices: Annotated[str, Form()] = "",
    required: Annotated[str, Form()] = "",
    position: Annotated[str, Form()] = "",
    help_text: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    definition = customfields.get_definition(session, field_id)
    values = {
        "label_ja": label_ja,
        "label_en": label_en,
        "choices": choices,
        "required": bool(required),
        "position": position,
        "help_text": help_text,
    }
    changes: dict[str, Any] = {
        "label_ja": label_ja,
        "label_en": label_en,
        "required": bool(required),
        "position": position.strip() or 0,
        "help_text": help_text,
        "version": version,
    }
    if definition.type in ("single_choice", "multi_choice"):
        changes["choices"] = _choices(choices) or []
    messages = _field_messages()
    try:
        data = customfields.CustomFieldUpdate(**changes)
        customfields.update_definition(session, actor_of(user), field_id, data)
    except ValidationError as exc:
        errors = _field_errors(exc, messages)
        return _custom_field_page(request, definition, values, errors, status_code=422)
    except Conflict:
        _undo(session)
        return _custom_field_page(request, definition, values, conflict=True, status_code=409)
    except InvalidInput as exc:
        _undo(session)
        errors = _service_errors(exc, messages)
        return _custom_field_page(request, definition, values, errors, status_code=422)
    flash(request, gettext("Saved."))
    return RedirectResponse("/admin/custom-fields", status_code=303)


@router.get("/admin/custom-fields/{field_id:int}/delete", response_class=HTMLResponse)
def confirm_delete_custom_field(
    request: Request, field_id: int, session: DbSession, user: AdminUser
) -> HTMLResponse:
    definition = customfields.get_definition(session, field_id)
    context = {
        "definition": definition,
        "stored": customfields.stored_values(session, definition),
    }
    return _page(request, "custom_field_delete.html", context)


@router.post("/admin/custom-fields/{field_id:int}/delete", response_class=HTMLResponse)
def delete_custom_field(
    request: Request,
    field_id: int,
    session: DbSession,
    user: AdminUser,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    definition = customfields.get_definition(session, field_id)
    if confirm != "yes":
        context = {
            "definition": definition,
            "stored": customfields.stored_values(session, definition),
            "unconfirmed": True,
        }
        return _page(request, "custom_field_delete.html", context, 409)
    key = definition.key
    customfields.delete_definition(session, actor_of(user), field_id)
    flash(request, gettext("Custom field “%(key)s” deleted.") % {"key": key})
    return RedirectResponse("/admin/custom-fields", status_code=303)


# ====================================================================== pipeline taxonomies


@dataclass(frozen=True)
class Taxonomy:
    """Pipeline stages and lost/archive reasons are administered alike: keyed by text, with
    labels in both languages, an order, and one choice (a stage's outcome, a reason's kind)."""

    kind: str  # in the URL: "stages" or "reasons"
    model: Any
    columns: tuple[str, ...]
    choice: str
    choice_labels: dict[str, str]
    deal_column: Any
    new: Any  # the create schema
    patch: Any  # the update schema
    listing: Callable[[Session], list[dict[str, Any]]]
    get: Callable[[Session, str], Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    reorder: Callable[..., Any]
    texts: dict[str, str]  # msgids


STAGES = Taxonomy(
    kind="stages",
    model=PipelineStage,
    columns=("key", "label_ja", "label_en", "position", "outcome"),
    choice="outcome",
    choice_labels=OUTCOME_LABELS,
    deal_column=Deal.stage_key,
    new=StageIn,
    patch=StagePatch,
    listing=deals.list_stages,
    get=deals.get_stage,
    create=deals.create_stage,
    update=deals.update_stage,
    delete=deals.delete_stage,
    reorder=deals.reorder_stages,
    texts={
        "exists": N_("A stage with this key already exists."),
        "added": N_("Stage “%(key)s” added."),
        "deleted": N_("Stage “%(key)s” deleted."),
        "moved_meanwhile": N_("The pipeline was changed by someone else; check the order."),
        "in_use": N_(
            "Deals are in this stage; move them to another stage before changing its outcome."
        ),
        "rule": N_("This is the only won stage; the pipeline needs at least one."),
        "choose": N_("Choose an outcome."),
    },
)
REASONS = Taxonomy(
    kind="reasons",
    model=LostReason,
    columns=("key", "label_ja", "label_en", "kind", "position", "is_active"),
    choice="kind",
    choice_labels=REASON_KIND_LABELS,
    deal_column=Deal.lost_reason_key,
    new=ReasonIn,
    patch=ReasonPatch,
    listing=deals.list_reasons,
    get=deals.get_reason,
    create=deals.create_reason,
    update=deals.update_reason,
    delete=deals.delete_reason,
    reorder=deals.reorder_reasons,
    texts={
        "exists": N_("A reason with this key already exists."),
        "added": N_("Reason “%(key)s” added."),
        "deleted": N_("Reason “%(key)s” deleted."),
        "moved_meanwhile": N_("The reasons were changed by someone else; check the order."),
        "in_use": N_(
            "Deals give this reason, so its kind cannot change; add a new reason instead."
        ),
        "rule": N_("Deals give this reason, so its kind cannot change; add a new reason instead."),
        "choose": N_("Choose a kind."),
    },
)
TAXONOMIES = {t.kind: t for t in (STAGES, REASONS)}
TAXONOMY_PAGE = "/admin/taxonomies"


def _taxonomy(kind: str) -> Taxonomy:
    if kind not in TAXONOMIES:
        raise NotFound("list", kind)
    return TAXONOMIES[kind]


def _say(tax: Taxonomy, what: str) -> str:
    """One of the taxonomy's texts, in the reader's language."""
    message = tax.texts[what]
    return gettext(message)


def _back_to(tax: Taxonomy) -> str:
    return f"{TAXONOMY_PAGE}#{tax.kind}"


def _row_stamp(tax: Taxonomy, row: Any) -> str:
    return _stamp({name: getattr(row, name) for name in tax.columns})


def _order_stamp(rows: list[dict[str, Any]]) -> str:
    return _stamp([r["key"] for r in rows])


def _taxonomy_messages(tax: Taxonomy) -> dict[str, str]:
    return {
        "key": gettext(
            "Use lower-case letters, digits and _, starting with a letter (up to 40 characters)."
        ),
        "label_ja": gettext("Enter a label of 1 to 100 characters."),
        "label_en": gettext("Enter a label of 1 to 100 characters."),
        "position": gettext("Enter a whole number from 0 to 100000."),
        tax.choice: _say(tax, "choose"),
    }


def _choice_errors(tax: Taxonomy, errors: dict[str, str]) -> dict[str, str]:
    """The outcome or kind is the form's ``choice`` field."""
    if tax.choice in errors:
        errors["choice"] = errors.pop(tax.choice)
    return errors


def _deals_giving(session: Session, tax: Taxonomy, key: str) -> int:
    return session.scalar(select(func.count()).where(tax.deal_column == key)) or 0


def _taxonomy_section(
    session: Session,
    tax: Taxonomy,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    rows = tax.listing(session)
    models = {m.key: m for m in session.scalars(select(tax.model))}
    return {
        "kind": tax.kind,
        "choice": tax.choice,
        "choice_labels": tax.choice_labels,
        "options": _options(tax.choice_labels),
        "rows": rows,
        "stamps": {key: _row_stamp(tax, m) for key, m in models.items()},
        "order": _order_stamp(rows),
        "values": values or {"choice": next(iter(tax.choice_labels))},
        "errors": errors or {},
    }


def _taxonomies_page(
    request: Request,
    session: Session,
    failed: tuple[Taxonomy, dict[str, str], dict[str, str]] | None = None,
) -> HTMLResponse:
    """Both lists; ``failed`` is the taxonomy whose new entry was refused, what was typed and
    the errors."""
    sections = []
    for tax in (STAGES, REASONS):
        if failed and failed[0] is tax:
            sections.append(_taxonomy_section(session, tax, failed[1], failed[2]))
        else:
            sections.append(_taxonomy_section(session, tax))
    return _page(request, "taxonomies.html", {"sections": sections}, 422 if failed else 200)


@router.get(TAXONOMY_PAGE, response_class=HTMLResponse)
def taxonomies_page(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    return _taxonomies_page(request, session)


@router.post(TAXONOMY_PAGE + "/{kind}", response_class=HTMLResponse)
def create_taxonomy_entry(
    request: Request,
    kind: str,
    session: DbSession,
    user: AdminUser,
    key: Annotated[str, Form()] = "",
    label_ja: Annotated[str, Form()] = "",
    label_en: Annotated[str, Form()] = "",
    choice: Annotated[str, Form()] = "",
) -> Response:
    """Add a stage or a reason at the end of its list."""
    tax = _taxonomy(kind)
    values = {"key": key, "label_ja": label_ja, "label_en": label_en, "choice": choice}
    highest = session.scalar(select(func.max(tax.model.position)))
    try:
        data = tax.new(
            key=key.strip(),
            label_ja=label_ja,
            label_en=label_en,
            position=min(int(highest or 0) + 10, 100_000),
            **{tax.choice: choice},
        )
        tax.create(session, actor_of(user), data)
    except ValidationError as exc:
        errors = _choice_errors(tax, _field_errors(exc, _taxonomy_messages(tax)))
        return _taxonomies_page(request, session, (tax, values, errors))
    except Conflict:
        _undo(session)
        errors = {"key": _say(tax, "exists")}
        return _taxonomies_page(request, session, (tax, values, errors))
    flash(request, _say(tax, "added") % {"key": data.key})
    return RedirectResponse(_back_to(tax), status_code=303)


def _entry_page(
    request: Request,
    session: Session,
    tax: Taxonomy,
    row: Any,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    conflict: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "tax": _taxonomy_section(session, tax),
        "row": row,
        "stamp": _row_stamp(tax, row),
        "deals": _deals_giving(session, tax, row.key),
        "values": values
        or {"label_ja": row.label_ja, "label_en": row.label_en, "choice": getattr(row, tax.choice)},
        "errors": errors or {},
        "conflict": conflict,
    }
    return _page(request, "taxonomy_entry.html", context, status_code)


@router.get(TAXONOMY_PAGE + "/{kind}/{key}", response_class=HTMLResponse)
def taxonomy_entry_page(
    request: Request, kind: str, key: str, session: DbSession, user: AdminUser
) -> HTMLResponse:
    tax = _taxonomy(kind)
    return _entry_page(request, session, tax, tax.get(session, key))


@router.post(TAXONOMY_PAGE + "/{kind}/{key}", response_class=HTMLResponse)
def update_taxonomy_entry(
    request: Request,
    kind: str,
    key: str,
    session: DbSession,
    user: AdminUser,
    label_ja: Annotated[str, Form()] = "",
    label_en: Annotated[str, Form()] = "",
    choice: Annotated[str, Form()] = "",
    stamp: Annotated[str, Form()] = "",
) -> Response:
    """Relabel a stage or a reason, or change its outcome or kind. These records carry no
    version; the form's stamp of what it showed stands in for one."""
    tax = _taxonomy(kind)
    row = tax.get(session, key)
    values = {"label_ja": label_ja, "label_en": label_en, "choice": choice}
    if stamp != _row_stamp(tax, row):
        return _entry_page(request, session, tax, row, values, conflict=True, status_code=409)
    try:
        patch = tax.patch(label_ja=label_ja, label_en=label_en, **{tax.choice: choice})
        tax.update(session, actor_of(user), key, patch)
    except ValidationError as exc:
        errors = _choice_errors(tax, _field_errors(exc, _taxonomy_messages(tax)))
        return _entry_page(request, session, tax, row, values, errors, status_code=422)
    except (Conflict, InvalidInput) as exc:
        _undo(session)
        row = tax.get(session, key)
        errors = {"choice": _say(tax, "in_use" if isinstance(exc, Conflict) else "rule")}
        return _entry_page(request, session, tax, row, values, errors, status_code=422)
    flash(request, gettext("Saved."))
    return RedirectResponse(_back_to(tax), status_code=303)


@router.post(TAXONOMY_PAGE + "/{kind}/{key}/move", response_class=HTMLResponse)
def move_taxonomy_entry(
    request: Request,
    kind: str,
    key: str,
    session: DbSession,
    user: AdminUser,
    direction: Annotated[str, Form()] = "",
    order: Annotated[str, Form()] = "",
) -> Response:
    """Swap an entry with the one above or below it; refused when the list changed meanwhile."""
    tax = _taxonomy(kind)
    tax.get(session, key)
    rows = tax.listing(session)
    if direction not in ("up", "down"):
        raise InvalidInput.one("direction", gettext("Move it up or down."))
    if order != _order_stamp(rows):
        flash(request, _say(tax, "moved_meanwhile"), "error")
        return RedirectResponse(_back_to(tax), status_code=303)
    keys = [r["key"] for r in rows]
    at = keys.index(key)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(keys):
        keys[at], keys[to] = keys[to], keys[at]
        tax.reorder(session, actor_of(user), keys)
    return RedirectResponse(_back_to(tax), status_code=303)


def _delete_context(session: Session, tax: Taxonomy, row: Any) -> dict[str, Any]:
    only_won = (
        tax is STAGES
        and row.outcome == "won"
        and not session.scalar(
            select(func.count()).where(PipelineStage.outcome == "won", PipelineStage.key != row.key)
        )
    )
    return {
        "tax": _taxonomy_section(session, tax),
        "row": row,
        "deals": _deals_giving(session, tax, row.key),
        "only_won": only_won,
    }


@router.get(TAXONOMY_PAGE + "/{kind}/{key}/delete", response_class=HTMLResponse)
def confirm_delete_taxonomy_entry(
    request: Request, kind: str, key: str, session: DbSession, user: AdminUser
) -> HTMLResponse:
    tax = _taxonomy(kind)
    context = _delete_context(session, tax, tax.get(session, key))
    return _page(request, "taxonomy_delete.html", context)


@router.post(TAXONOMY_PAGE + "/{kind}/{key}/delete", response_class=HTMLResponse)
def delete_taxonomy_entry(
    request: Request,
    kind: str,
    key: str,
    session: DbSession,
    user: AdminUser,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Delete a stage or reason no deal uses, once confirmed (the page shows what it would do)."""
    tax = _taxonomy(kind)
    row = tax.get(session, key)
    if confirm != "yes":
        context = _delete_context(session, tax, row) | {"unconfirmed": True}
        return _page(request, "taxonomy_delete.html", context, 409)
    try:
        tax.delete(session, actor_of(user), key)
    except Conflict:
        _undo(session)
        context = _delete_context(session, tax, tax.get(session, key))
        return _page(request, "taxonomy_delete.html", context, 409)
    flash(request, _say(tax, "deleted") % {"key": key})
    return RedirectResponse(_back_to(tax), status_code=303)


@router.post(TAXONOMY_PAGE + "/reasons/{key}/active", response_class=HTMLResponse)
def retire_reason(
    request: Request,
    key: str,
    session: DbSession,
    user: AdminUser,
    active: Annotated[str, Form()] = "",
    stamp: Annotated[str, Form()] = "",
) -> Response:
    """Retire a reason (no longer offered; deals that give it keep it) or offer it again."""
    reason = deals.get_reason(session, key)
    if active not in ("0", "1"):
        raise InvalidInput.one("active", gettext("Retire the reason or offer it again."))
    if stamp != _row_stamp(REASONS, reason):
        flash(request, gettext("The reason was changed by someone else; check it."), "error")
        return RedirectResponse(_back_to(REASONS), status_code=303)
    deals.update_reason(session, actor_of(user), key, ReasonPatch(is_active=active == "1"))
    if active == "1":
        flash(request, gettext("Reason “%(key)s” is offered again.") % {"key": key})
    else:
        flash(request, gettext("Reason “%(key)s” retired.") % {"key": key})
    return RedirectResponse(_back_to(REASONS), status_code=303)


# ====================================================================== keys


def _keys_page(
    request: Request,
    session: Session,
    *,
    token_values: dict[str, str] | None = None,
    token_errors: dict[str, str] | None = None,
    write_key_values: dict[str, str] | None = None,
    write_key_errors: dict[str, str] | None = None,
    new_secret: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    me = request.state.user
    users = auth.list_users(session)
    context = {
        "tokens": auth.list_tokens(session),
        "write_keys": writekeys.list_write_keys(session),
        "users_by_id": {u.id: u for u in users},
        "user_options": [
            (str(u.id), f"{u.email} ({gettext(ROLE_LABELS.get(u.role, u.role))})")
            for u in users
            if u.is_active
        ],
        "token_values": token_values or {"user_id": str(me.id)},
        "token_errors": token_errors or {},
        "write_key_values": write_key_values or {},
        "write_key_errors": write_key_errors or {},
        "new_secret": new_secret,
        "now": utcnow(),
    }
    return _page(request, "keys.html", context, status_code)


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(request: Request, session: DbSession, user: AdminUser) -> HTMLResponse:
    return _keys_page(request, session)


@router.post("/admin/keys/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: DbSession,
    user: AdminUser,
    name: Annotated[str, Form()] = "",
    user_id: Annotated[str, Form()] = "",
    expires_in_days: Annotated[str, Form()] = "",
) -> Response:
    """Create an API token and show it on this response only: never in a URL or a redirect."""
    values = {"name": name, "user_id": user_id, "expires_in_days": expires_in_days}
    errors: dict[str, str] = {}
    owner_id = _int_or_none(user_id)
    owner = session.get(User, owner_id) if owner_id else None
    if owner is None or not owner.is_active:
        errors["user_id"] = gettext("Choose an active user for the token to act as.")
    days = _int_or_none(expires_in_days) if expires_in_days.strip() else None
    if expires_in_days.strip() and (days is None or not 1 <= days <= auth.TOKEN_DAYS_MAX):
        errors["expires_in_days"] = gettext(
            "Enter a number of days from 1 to %(max)d, or leave it empty for a token that "
            "does not expire."
        ) % {"max": auth.TOKEN_DAYS_MAX}
    if not errors and owner is not None:
        try:
            token, plain = auth.create_token(session, actor_of(user), owner, name, days)
        except InvalidInput:
            _undo(session)
            errors["name"] = gettext("Enter a name of 1 to %(max)d characters.") % {
                "max": auth.TOKEN_NAME_MAX
            }
        else:
            secret = {"kind": "token", "name": token.name, "plain": plain, "owner": owner}
            return _keys_page(request, session, new_secret=secret)
    return _keys_page(request, session, token_values=values, token_errors=errors, status_code=422)


@router.post("/admin/keys/tokens/{token_id:int}/revoke", response_class=HTMLResponse)
def revoke_token(request: Request, token_id: int, session: DbSession, user: AdminUser) -> Response:
    token = auth.revoke_token(session, actor_of(user), token_id)
    flash(request, gettext("API token “%(name)s” revoked.") % {"name": token.name})
    return RedirectResponse("/admin/keys", status_code=303)


@router.post("/admin/keys/write-keys", response_class=HTMLResponse)
def create_write_key(
    request: Request,
    session: DbSession,
    user: AdminUser,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a write key and show it on this response only."""
    try:
        key, plain = writekeys.create_write_key(session, actor_of(user), name)
    except InvalidInput:
        _undo(session)
        errors = {"name": gettext("Enter a name of 1 to 100 characters, such as “web”.")}
        return _keys_page(
            request,
            session,
            write_key_values={"name": name},
            write_key_errors=errors,
            status_code=422,
        )
    secret = {"kind": "write_key", "name": key.name, "plain": plain, "owner": None}
    return _keys_page(request, session, new_secret=secret)


@router.post("/admin/keys/write-keys/{key_id:int}/revoke", response_class=HTMLResponse)
def revoke_write_key(
    request: Request, key_id: int, session: DbSession, user: AdminUser
) -> Response:
    key = writekeys.revoke_write_key(session, actor_of(user), key_id)
    flash(request, gettext("Write key “%(name)s” revoked.") % {"name": key.name})
    return RedirectResponse("/admin/keys", status_code=303)


# ====================================================================== audit log

_EMPTY = object()


def _flatten(data: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """``{"custom": {"plan": "Gold"}}`` as ``{"custom.plan": "Gold"}``, so a diff names the key
    that changed inside a nested value."""
    flat: dict[str, Any] = {}
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _shown(value: Any) -> str | None:
    if value is _EMPTY or value is None or value == {} or value == []:
        return None
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The keys whose value differs between ``before`` and ``after``, with both values shown
    as text (None where there was no value). A creation lists every value it set, a deletion
    every value it removed."""
    old, new = _flatten(before), _flatten(after)
    rows = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = _shown(old.get(key, _EMPTY)), _shown(new.get(key, _EMPTY))
        if was != now:
            rows.append({"key": key, "before": was, "after": now})
    return rows


def _record_name(entry: AuditEntry) -> str | None:
    """The key of a record the log names by key (pipeline stages, reasons: entity_id 0)."""
    for side in (entry.after, entry.before):
        if isinstance(side, dict):
            for name in ("key", "email", "name"):
                if isinstance(side.get(name), str):
                    return str(side[name])
    return None


def _filter_options(labels: dict[str, str], chosen: str) -> list[tuple[str, str]]:
    """The known values, and the one asked for if the log has others (imports, the demo)."""
    options = _options(labels)
    if chosen and chosen not in labels:
        options.append((chosen, chosen))
    return options


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _midnight(day: date, tz: ZoneInfo) -> datetime | None:
    """The start of ``day`` in the workspace timezone, in UTC; None at the ends of the calendar
    (year 1, year 9999), where no bound is needed."""
    try:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    except OverflowError:
        return None


def _audit_filter(request: Request, values: dict[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    tz = ZoneInfo(request.app.state.settings.timezone)
    f = AuditFilter()
    if values["entity"]:
        f.entity = values["entity"][:40]
    if values["action"]:
        f.action = values["action"][:20]
    if values["entity_id"]:
        f.entity_id = _int_or_none(values["entity_id"])
        if f.entity_id is None or f.entity_id >= 2**31:
            errors["entity_id"] = gettext("Enter a record number (digits only).")
    if values["actor"]:
        f.actor_user_id = _int_or_none(values["actor"])
        if f.actor_user_id is None or f.actor_user_id >= 2**31:
            errors["actor"] = gettext("Choose a user from the list.")
    since = _parse_day(values["since"]) if values["since"] else None
    until = _parse_day(values["until"]) if values["until"] else None
    if values["since"] and since is None:
        errors["since"] = gettext("Enter a date as YYYY-MM-DD.")
    if values["until"] and until is None:
        errors["until"] = gettext("Enter a date as YYYY-MM-DD.")
    if since and until and until < since:
        errors["until"] = gettext("The end date must not be before the start date.")
    if since:
        f.since = _midnight(since, tz)
    if until and until < date.max:
        # The end date is inclusive: everything before the next day's midnight.
        f.until = _midnight(until + timedelta(days=1), tz)
    for name, value in values.items():
        if "\x00" in value:
            errors[name] = gettext("Remove the NUL character.")
    return f, errors


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    entity: str = "",
    entity_id: str = "",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """The audit log, newest first, 50 entries a page with a keyset cursor (no OFFSET)."""
    values = {
        "entity": entity.strip(),
        "entity_id": entity_id.strip(),
        "actor": actor.strip(),
        "action": action.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    f, errors = _audit_filter(request, values)
    items: list[AuditEntry] = []
    next_cursor = None
    if not errors:
        try:
            page = entries(session, f, cursor=cursor or None, limit=AUDIT_PAGE_SIZE)
        except InvalidInput as exc:
            errors = {e.field: e.message for e in exc.errors}
            if "cursor" in errors:
                errors["cursor"] = gettext(
                    "This page link is no longer valid; start again from the newest entries."
                )
        else:
            items, next_cursor = page.items, page.next_cursor
    filters = [(k, v) for k, v in values.items() if v]
    rows = [
        {
            "entry": e,
            "changes": changes(e.before, e.after),
            "name": _record_name(e),
            "page": RECORD_PAGES[e.entity].format(id=e.entity_id)
            if e.entity in RECORD_PAGES and e.entity_id
            else None,
            "history": "/admin/audit?" + urlencode({"entity": e.entity, "entity_id": e.entity_id})
            if e.entity_id
            else None,
        }
        for e in items
    ]
    users = auth.list_users(session)
    context = {
        "values": values,
        "errors": errors,
        "rows": rows,
        "users_by_id": {u.id: u for u in users},
        "entity_options": _filter_options(ENTITY_LABELS, values["entity"]),
        "action_options": _filter_options(ACTION_LABELS, values["action"]),
        "actor_options": [(str(u.id), f"{u.name} ({u.email})") for u in users],
        "filtered": bool(filters),
        "first_url": "/admin/audit" + ("?" + urlencode(filters) if filters else ""),
        "next_url": "/admin/audit?" + urlencode([*filters, ("cursor", next_cursor)])
        if next_cursor
        else None,
        "paged": bool(cursor),
        "admin_viewer": user.role == "admin",
    }
    return _page(request, "audit.html", context, 422 if errors else 200)
