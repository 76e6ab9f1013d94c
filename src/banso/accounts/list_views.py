"""The customer list page (/customers): search, filters, sort, columns, pages, export, chart."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from banso.accounts.models import COMPANY_SIZES, LIFECYCLE_STAGES
from banso.auth.models import User
from banso.errors import InvalidInput
from banso.i18n import N_, gettext, ngettext
from banso.imports.export import csv_chunks, write_xlsx
from banso.segments import bulk
from banso.segments import chart as charts
from banso.segments.export import cell, export_view, owner_names
from banso.segments.service import list_segments
from banso.segments.view import (
    SORT_OF_COLUMN,
    STANDARD_COLUMNS,
    CustomerView,
    count,
    custom_definitions,
    distinct_values,
    page,
    parse_view,
)
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

# Visible names of the list's columns and filters (msgids; translated where shown).
LABELS = {
    "name": N_("Company"),
    "name_kana": N_("Reading"),
    "stage": N_("Lifecycle stage"),
    "owner": N_("Owner"),
    "segment": N_("Segment"),
    "industry": N_("Industry"),
    "company_size": N_("Company size"),
    "source": N_("Source"),
    "mrr": N_("MRR"),
    "tags": N_("Tags"),
    "tag": N_("Tag"),
    "domains": N_("Domains"),
    "created_at": N_("Created"),
    "updated_at": N_("Updated"),
}
FILTER_LABELS = {
    "source": N_("Source"),
    "owner": N_("Owner"),
    "tag": N_("Tag"),
    "mrr_min": N_("MRR"),
    "mrr_max": N_("MRR"),
    "domain": N_("Domain"),
    "created_from": N_("Created"),
    "created_to": N_("Created"),
    "updated_from": N_("Updated"),
    "updated_to": N_("Updated"),
}
STAGE_LABELS = {
    "considering": N_("Considering"),
    "initial_setup": N_("Initial setup"),
    "early_operation": N_("Early operation"),
    "stable": N_("Stable operation"),
    "churned": N_("Churned"),
}


def query_params(request: Request) -> dict[str, list[str]]:
    """The query string as lists; ticked column boxes (``col``) become ``cols``."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if "col" in params:
        params["cols"] = [",".join(params.pop("col"))]
    return params


def column_label(column: str, definitions: dict[str, Any], locale: str) -> str:
    if column.startswith("custom."):
        definition = definitions.get(column.removeprefix("custom."))
        if definition is not None:
            return str(definition.label_ja if locale == "ja" else definition.label_en)
    return gettext(LABELS.get(column, column))


def _filter_options(session: DbSession) -> dict[str, Any]:
    return {
        "stage": list(LIFECYCLE_STAGES),
        "company_size": list(COMPANY_SIZES),
        "segment": distinct_values(session, "segment"),
        "industry": distinct_values(session, "industry"),
        "source": distinct_values(session, "source"),
        "tag": distinct_values(session, "tag"),
    }


def _context(
    request: Request, session: DbSession, user: User, view: CustomerView
) -> dict[str, Any]:
    locale = getattr(request.state, "locale", "ja")
    definitions = {d.key: d for d in custom_definitions(session)}
    all_columns = [*STANDARD_COLUMNS, *(f"custom.{k}" for k in definitions)]
    owners = owner_names(session)
    return {
        "view": view,
        "definitions": definitions,
        "labels": {
            **{f: gettext(LABELS[f]) for f in ("stage", "segment", "industry", "company_size")},
            **{f: gettext(n) for f, n in FILTER_LABELS.items()},
            **{c: column_label(c, definitions, locale) for c in all_columns},
        },
        "all_columns": all_columns,
        "sortable": SORT_OF_COLUMN,
        "stage_labels": STAGE_LABELS,
        "owners": owners,
        "segments": list_segments(session),
        "active_segment": _active_segment(request),
        "cell": cell,
        "filter_value": lambda name, value: _filter_value(name, value, owners),
    }


def _filter_value(name: str, value: str, owners: dict[int, str]) -> str:
    """How a filter value reads on its chip: stage and owner names rather than keys."""
    if name == "stage":
        return gettext(STAGE_LABELS.get(value, value))
    if name == "owner":
        if value == "me":
            return gettext("Me")
        if value == "none":
            return gettext("No owner")
        return owners.get(int(value), value)  # a user deleted since the link was made
    if name in ("mrr_min", "mrr_max", "created_from", "created_to", "updated_from", "updated_to"):
        return ("≥ " if name.endswith(("_min", "_from")) else "≤ ") + value
    return value


def _active_segment(request: Request) -> int | None:
    raw = request.query_params.get("segment", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.get("/customers", response_class=HTMLResponse)
def customer_list(request: Request, session: DbSession, user: SignedInUser) -> HTMLResponse:
    """The list page; an HTMX request for the results gets only the results table."""
    partial = request.headers.get("HX-Target") == "customer-results"
    try:
        view = parse_view(session, query_params(request))
        cursor = request.query_params.get("cursor")
        found = page(session, view, user.id, cursor)
        # A first page that holds every match has counted them already.
        fits = not cursor and found.next_cursor is None
        total = len(found.items) if fits else count(session, view, user.id)
    except InvalidInput as exc:
        context = _context(request, session, user, CustomerView())
        context.update(errors=exc.errors, accounts=[], total=0, next_cursor=None, first_page=True)
        context["options"] = _filter_options(session)
        if partial:  # HTMX swaps only successful answers: the message must still show
            return render(request, "accounts/_list_results.html", context)
        return render(request, "accounts/list.html", context, status_code=422)
    context = _context(request, session, user, view)
    context.update(
        accounts=found.items,
        next_cursor=found.next_cursor,
        total=total,
        errors=[],
        first_page=not request.query_params.get("cursor"),
    )
    if partial:
        return render(request, "accounts/_list_results.html", context)
    context["options"] = _filter_options(session)
    return render(request, "accounts/list.html", context)


def _export(request: Request, session: DbSession, user: User) -> Any:
    locale = getattr(request.state, "locale", "ja")
    view = parse_view(session, query_params(request))
    definitions = {d.key: d for d in custom_definitions(session)}
    return export_view(session, view, user.id, lambda c: column_label(c, definitions, locale))


@router.get("/customers/export.csv")
def export_csv(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """The current view as CSV: UTF-8 with a BOM (Excel reads it) or Shift_JIS (CP932)."""
    encoding = request.query_params.get("encoding", "utf-8")
    try:
        data = _export(request, session, user)
        # Encoded here in full, so that a character CP932 cannot hold is reported as a
        # message instead of a download cut off halfway.
        body = b"".join(csv_chunks(data, encoding))
    except InvalidInput as exc:
        return _export_error(request, exc)
    return Response(
        body,
        media_type=f"text/csv; charset={'shift_jis' if encoding.lower() != 'utf-8' else 'utf-8'}",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )


@router.get("/customers/export.xlsx")
def export_xlsx(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """The current view as an Excel workbook."""
    try:
        data = _export(request, session, user)
        buffer = io.BytesIO()
        write_xlsx(data, buffer, sheet_title=gettext("Customers"))
    except InvalidInput as exc:
        return _export_error(request, exc)
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="customers.xlsx"'},
    )


def _export_error(request: Request, exc: InvalidInput) -> HTMLResponse:
    return render(request, "accounts/list_error.html", {"errors": exc.errors}, status_code=422)


@router.get("/customers/chart", response_class=HTMLResponse)
def customer_chart(request: Request, session: DbSession, user: SignedInUser) -> HTMLResponse:
    """Counts or MRR of the current view grouped by one or two fields, as a chart and a table."""
    params = query_params(request)
    by = request.query_params.get("by") or "segment"
    by2 = request.query_params.get("by2") or None
    measure = request.query_params.get("measure") or "count"
    context: dict[str, Any] = {"by": by, "by2": by2, "measure": measure, "errors": []}
    try:
        view = parse_view(session, params)
        table = charts.chart(session, view, user.id, by=by, by2=by2, measure=measure)
    except InvalidInput as exc:
        view, table = CustomerView(), None
        context["errors"] = exc.errors
    context.update(_context(request, session, user, view))
    context["groupable"] = charts.groupable(session)
    context["table"] = table
    context["category_label"] = lambda value, field: _category(value, field, context)
    if table is not None:
        context["chart_json"] = json.dumps(_chart_data(table, context), ensure_ascii=False)
    return render(
        request, "accounts/list_chart.html", context, status_code=422 if table is None else 200
    )


def _category(value: Any, field: str, context: dict[str, Any]) -> str:
    if value is None:
        return gettext("(not set)")
    if field == "owner":
        return str(context["owners"].get(value, value))
    if field == "stage":
        return gettext(STAGE_LABELS.get(value, value))
    return str(value)


def _chart_data(table: charts.ChartTable, context: dict[str, Any]) -> dict[str, Any]:
    labels = [_category(r, table.by, context) for r in table.rows]
    measure = gettext("Accounts") if table.measure == "count" else gettext("MRR")
    datasets = [
        {
            "label": measure if table.by2 is None else _category(s, table.by2, context),
            "data": [table.value(r, s) for r in table.rows],
        }
        for s in table.series
    ]
    return {
        "type": "bar",
        "stacked": table.by2 is not None,
        "labels": labels,
        "datasets": datasets,
    }


@router.post("/customers/bulk", response_class=HTMLResponse)
async def bulk_change(request: Request, session: DbSession, user: WriterUser) -> Response:
    """Assign an owner, add a tag or change the stage of the selected or all matching accounts.

    The first POST answers with how many accounts would change and a button to confirm;
    the confirmation carries that number, and the change is refused if it no longer holds.
    """
    form = await request.form()
    raw_view = str(form.get("view", ""))
    action = str(form.get("action", ""))
    value = str(form.get(f"value_{action}", form.get("value", "")))
    ids = [str(i) for i in form.getlist("ids")]
    everything = form.get("scope") == "all"
    confirmed = str(form.get("confirm_count", ""))
    try:
        view = parse_view(session, parse_qs(raw_view, keep_blank_values=True))
        change = bulk.check(session, action, value, ids, everything)
        if not confirmed:
            planned = bulk.plan(session, change, view, user.id)
            context = {"change": change, "planned": planned, "raw_view": raw_view, "ids": ids}
            context.update(_context(request, session, user, view))
            return render(request, "accounts/_list_bulk_confirm.html", context)
        if not confirmed.isdigit():
            raise InvalidInput.one("confirm_count", "is not a number; start the change again")
        done = bulk.apply(session, actor_of(user), change, view, int(confirmed))
    except InvalidInput as exc:
        context = {"errors": exc.errors}
        return render(request, "accounts/_list_bulk_error.html", context, status_code=422)
    message = ngettext("{n} account changed.", "{n} accounts changed.", done).format(n=done)
    flash(request, message)
    return Response(status_code=204, headers={"HX-Redirect": f"/customers?{view.query_string()}"})
