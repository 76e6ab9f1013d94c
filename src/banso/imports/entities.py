"""What is particular to importing accounts, contacts, contracts and deals."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from banso.accounts.identity import normalize_company_name, normalize_email
from banso.accounts.models import Account, AccountDomain, AccountTag, Contact
from banso.auth.models import User
from banso.contracts.models import Contract, ContractMovement
from banso.deals.models import Deal, LostReason, PipelineStage
from banso.imports.bulk import insert_rows
from banso.imports.engine import Context, Importer, Planned, Row, find_external
from banso.money import CURRENCY_DIGITS, parse_amount

_EMAIL = TypeAdapter(EmailStr)


def _users_by_email(session: Session) -> dict[str, int]:
    return {
        normalize_email(email): uid for uid, email in session.execute(select(User.id, User.email))
    }


def _owner(users: dict[str, int], value: str) -> int:
    user_id = users.get(normalize_email(value))
    if user_id is None:
        raise ValueError(
            f"no banso user has the e-mail {value!r}; create one (banso users create) "
            "or leave the cell empty"
        )
    return user_id


def _currency(
    importer: Importer, state: dict[str, Any], before: dict[str, Any] | None, row: Row
) -> str | None:
    code = (state.get("currency") or importer.ctx.currency).upper()
    if code not in CURRENCY_DIGITS:
        row.fail(
            importer.ctx.bound.column_of("currency"),
            f"{code!r} is not one of {sorted(CURRENCY_DIGITS)}",
        )
        return None
    state["currency"] = code
    return code


def _amount(
    importer: Importer, state: dict[str, Any], key: str, currency: str | None, row: Row
) -> None:
    value = state.get(key)
    if not isinstance(value, str):
        return
    if currency is None:
        state[key] = None
        return
    try:
        minor = parse_amount(value, currency)
    except (ValueError, ArithmeticError) as exc:
        row.fail(
            importer.ctx.bound.column_of(key),
            str(exc) if isinstance(exc, ValueError) else f"{value!r} is not an amount",
        )
        return
    if not 0 <= minor < 2**31:
        row.fail(importer.ctx.bound.column_of(key), f"{value!r} is outside 0..{2**31 - 1:,}")
        return
    state[key] = minor


def resolve_accounts(importer: Importer, rows: list[Row]) -> None:
    """Find each row's account by banso id, else external id, else name (one query per kind)."""
    session, ctx = importer.session, importer.ctx
    ids = sorted(
        {
            r.refs["account_id"]
            for r in rows
            if "account_id" in r.refs and r.refs["account_id"] < 2**31
        }
    )
    known = set(session.scalars(select(Account.id).where(Account.id.in_(ids)))) if ids else set()
    system = ctx.bound.system or ""
    pairs = sorted(
        {(system, r.refs["account_external_id"]) for r in rows if "account_external_id" in r.refs}
    )
    by_ext = find_external(session, "account", pairs) if pairs else {}
    keys = sorted(
        {normalize_company_name(r.refs["account_name"]) for r in rows if "account_name" in r.refs}
    )
    by_name: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(keys), 1000):
        stmt = select(Account.name_key, Account.id).where(
            Account.name_key.in_(keys[start : start + 1000])
        )
        for key, account_id in session.execute(stmt):
            by_name[key].append(account_id)
    for row in rows:
        _pick_account(importer, row, known, by_ext, by_name, system)


def _pick_account(
    importer: Importer,
    row: Row,
    known: set[int],
    by_ext: dict[tuple[str, str], int],
    by_name: dict[str, list[int]],
    system: str,
) -> None:
    column = importer.ctx.bound.column_of
    refs = row.refs
    if "account_id" in refs:
        if refs["account_id"] not in known:
            row.fail(column("account_id"), f"no account has id {refs['account_id']}")
        else:
            row.given["account_id"] = refs["account_id"]
    elif "account_external_id" in refs:
        found = by_ext.get((system, refs["account_external_id"]))
        if found is None:
            row.fail(
                column("account_external_id"),
                f"no account has {system} id {refs['account_external_id']!r}; "
                "import the accounts first",
            )
        else:
            row.given["account_id"] = found
    elif "account_name" in refs:
        matches = by_name.get(normalize_company_name(refs["account_name"]), [])
        if len(matches) == 1:
            row.given["account_id"] = matches[0]
        elif not matches:
            row.fail(column("account_name"), f"no account is named {refs['account_name']!r}")
        else:
            row.fail(
                column("account_name"),
                f"{len(matches)} accounts are named {refs['account_name']!r} "
                f"(ids {sorted(matches)[:5]}); use account_id or account_external_id",
            )


# ------------------------------------------------------------------ accounts


class AccountImporter(Importer):
    entity = "account"
    table = Account.__table__  # type: ignore[assignment]
    columns = (
        "name",
        "name_kana",
        "industry",
        "company_size",
        "segment",
        "source",
        "owner_id",
        "lifecycle_stage",
        "custom",
    )
    derived = ("name_key",)
    required = (("name", "a new account needs a name; map a column to name"),)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.users = _users_by_email(ctx.session)

    def defaults(self) -> dict[str, Any]:
        return {c: None for c in self.columns} | {"custom": {}, "domains": [], "tags": []}

    def lookup(self, name: str, value: Any) -> Any:
        return _owner(self.users, value)

    def load_extras(self, ids: list[int], states: dict[int, dict[str, Any]]) -> None:
        for state in states.values():
            state["domains"], state["tags"] = [], []
        for model, key in ((AccountDomain, "domain"), (AccountTag, "tag")):
            column = getattr(model, key)
            for start in range(0, len(ids), 1000):
                stmt = select(model.account_id, column).where(
                    model.account_id.in_(ids[start : start + 1000])
                )
                for account_id, value in self.session.execute(stmt):
                    states[account_id][f"{key}s"].append(value)
        for state in states.values():
            state["domains"].sort()
            state["tags"].sort()

    def finalize(self, state: dict[str, Any], before: dict[str, Any] | None, row: Row) -> None:
        if state.get("name"):
            state["name_key"] = normalize_company_name(state["name"])

    def write_extras(self, created: list[tuple[int, Planned]], updated: list[Planned]) -> None:
        items = [(i, p.state) for i, p in created]
        items += [(p.row.target, p.state) for p in updated]  # type: ignore[misc]
        for model, key in ((AccountDomain, "domain"), (AccountTag, "tag")):
            field = f"{key}s"
            changed = [p.row.target for p in updated if field in p.changed]
            if changed:
                self.session.execute(delete(model).where(model.account_id.in_(changed)))
            fresh = {i for i, _ in created} | set(changed)
            rows = [
                {"account_id": i, key: value}
                for i, state in items
                if i in fresh
                for value in state[field]
            ]
            if rows:
                insert_rows(self.session, model.__table__, rows)  # type: ignore[arg-type]


# ------------------------------------------------------------------ contacts


class ContactImporter(Importer):
    entity = "contact"
    table = Contact.__table__  # type: ignore[assignment]
    columns = (
        "account_id",
        "name",
        "name_kana",
        "email",
        "phone",
        "title",
        "role",
        "is_key_person",
        "custom",
    )
    derived = ("email_key",)
    required = (
        (
            "account_id",
            "a new contact needs its account; map account_id, account_external_id or account_name",
        ),
        ("name", "a new contact needs a name; map name (or last_name and first_name)"),
    )

    def defaults(self) -> dict[str, Any]:
        return {c: None for c in self.columns} | {"custom": {}, "is_key_person": False}

    def resolve_refs(self, rows: list[Row]) -> None:
        resolve_accounts(self, rows)

    def finalize(self, state: dict[str, Any], before: dict[str, Any] | None, row: Row) -> None:
        if state.get("is_key_person") is None:
            state["is_key_person"] = False
        email = row.given.get("email")
        if email is not None:
            try:
                state["email"] = str(_EMAIL.validate_python(email))
            except ValidationError as exc:
                message = exc.errors()[0]["msg"].removeprefix(
                    "value is not a valid email address: "
                )
                row.fail(
                    self.ctx.bound.column_of("email"),
                    f"{email!r} is not an e-mail address ({message})",
                )
                return
        state["email_key"] = normalize_email(state["email"]) if state.get("email") else None


# ------------------------------------------------------------------ contracts


class ContractImporter(Importer):
    entity = "contract"
    table = Contract.__table__  # type: ignore[assignment]
    columns = (
        "account_id",
        "plan",
        "mrr",
        "currency",
        "seats",
        "start_date",
        "end_date",
        "auto_renew",
        "status",
        "custom",
    )
    required = (
        (
            "account_id",
            "a new contract needs its account; map account_id, account_external_id or account_name",
        ),
        ("plan", "a new contract needs a plan; map a column to plan"),
        ("start_date", "a new contract needs a start_date; map a column to start_date"),
    )
    _fixed = ("account_id", "currency", "start_date")

    def defaults(self) -> dict[str, Any]:
        return {c: None for c in self.columns} | {
            "custom": {},
            "mrr": 0,
            "currency": self.ctx.currency,
            "status": "active",
            "auto_renew": True,
        }

    def resolve_refs(self, rows: list[Row]) -> None:
        resolve_accounts(self, rows)

    def finalize(self, state: dict[str, Any], before: dict[str, Any] | None, row: Row) -> None:
        column = self.ctx.bound.column_of
        currency = _currency(self, state, before, row)
        _amount(self, state, "mrr", currency, row)
        if state.get("mrr") is None:
            state["mrr"] = before["mrr"] if before else 0
        if state.get("auto_renew") is None:
            state["auto_renew"] = True
        if state.get("status") is None:
            state["status"] = before["status"] if before else "active"
        start, end = state.get("start_date"), state.get("end_date")
        if start and end and end < start:
            row.fail(column("end_date"), f"{end} is before the start_date {start}")
        if before is not None:
            for key in self._fixed:
                if state.get(key) != before.get(key):
                    row.fail(
                        column(key),
                        f"cannot change on an existing contract (it is {before.get(key)}); "
                        "create a new contract instead",
                    )
            if before["status"] != "trial" and state["status"] == "trial":
                row.fail(column("status"), f"a {before['status']} contract cannot go back to trial")
        if state["status"] == "churned":
            if before is None and end is None:
                row.fail(
                    column("end_date"), "a churned contract needs its end_date (the day it ended)"
                )
            row.refs["_mrr_before_churn"] = state["mrr"]
            state["mrr"] = 0
        elif (
            before is not None
            and state["status"] == before["status"] == "active"
            and state["mrr"] == 0
            and before["mrr"] > 0
        ):
            row.fail(column("mrr"), "an MRR of 0 is a churn; set status to churned")

    def write_extras(self, created: list[tuple[int, Planned]], updated: list[Planned]) -> None:
        actor = self.ctx.actor.label
        movements = []
        for contract_id, plan in created:
            movements.extend(_opening_movements(contract_id, plan, actor))
        for plan in updated:
            movement = _change_movement(plan, self.ctx.today, actor)
            if movement is not None:
                movements.append(movement)
        if movements:
            insert_rows(self.session, ContractMovement.__table__, movements)  # type: ignore[arg-type]
        accounts = {p.state["account_id"] for _, p in created} | {
            p.state["account_id"] for p in updated
        }
        refresh_account_mrr(self.session, sorted(accounts), self.ctx.currency)


def _movement(contract_id: int, state: dict[str, Any], actor: str, **values: Any) -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "account_id": state["account_id"],
        "seats_before": None,
        "seats_after": state.get("seats"),
        "plan_after": state["plan"],
        "reason": "import",
        "actor": actor,
        **values,
    }


def _opening_movements(contract_id: int, plan: Planned, actor: str) -> list[dict[str, Any]]:
    """A new contract starts with a 'new' movement; a churned one also ends with a churn."""
    state = plan.state
    if state["status"] != "churned":
        return [
            _movement(
                contract_id,
                state,
                actor,
                effective_date=state["start_date"],
                kind="new",
                mrr_before=0,
                mrr_after=state["mrr"],
                status_after=state["status"],
            )
        ]
    last = plan.row.refs.get("_mrr_before_churn", 0)
    return [
        _movement(
            contract_id,
            state,
            actor,
            effective_date=state["start_date"],
            kind="new",
            mrr_before=0,
            mrr_after=last,
            status_after="active",
        ),
        _movement(
            contract_id,
            state,
            actor,
            effective_date=state["end_date"],
            kind="churn",
            mrr_before=last,
            mrr_after=0,
            status_after="churned",
        ),
    ]


def _change_movement(plan: Planned, today: Any, actor: str) -> dict[str, Any] | None:
    """An imported change of MRR or status is kept as a dated movement (dated today)."""
    before, after = plan.before or {}, plan.state
    if before.get("mrr") == after["mrr"] and before.get("status") == after["status"]:
        return None
    old, new = before["status"], after["status"]
    if new == "churned":
        kind = "churn"
    elif old in ("churned", "paused") and new == "active":
        kind = "reactivation"
    elif old == "trial" and new == "active":
        kind = "new"
    elif new == "paused" or after["mrr"] < before["mrr"]:
        kind = "contraction"
    else:
        kind = "expansion"
    assert plan.row.target is not None
    return _movement(
        plan.row.target,
        after,
        actor,
        effective_date=today,
        kind=kind,
        mrr_before=before["mrr"] if old == "active" else 0,
        mrr_after=after["mrr"],
        seats_before=before.get("seats"),
        status_after=new,
    )


def refresh_account_mrr(session: Session, account_ids: list[int], currency: str) -> None:
    """Account.mrr = the sum of its active contracts, for many accounts in one statement each."""
    total = (
        select(func.coalesce(func.sum(Contract.mrr), 0))
        .where(
            Contract.account_id == Account.id,
            Contract.status == "active",
            Contract.currency == currency,
        )
        .scalar_subquery()
    )
    for start in range(0, len(account_ids), 1000):
        chunk = account_ids[start : start + 1000]
        session.execute(
            update(Account)
            .where(Account.id.in_(chunk))
            .values(mrr=total)
            .execution_options(synchronize_session=False)
        )


# ------------------------------------------------------------------ deals


class DealImporter(Importer):
    entity = "deal"
    table = Deal.__table__  # type: ignore[assignment]
    columns = (
        "title",
        "account_id",
        "contact_id",
        "company_name",
        "source_channel",
        "company_size",
        "problem",
        "budget",
        "currency",
        "expected_mrr",
        "story",
        "stage_key",
        "lost_reason_key",
        "lost_reason_text",
        "owner_id",
        "inquiry_date",
        "expected_close_date",
        "closed_date",
        "custom",
    )
    # Read to keep a deal won into a contract as deals.service does; never set by an import.
    derived = ("contract_id",)
    required = (
        ("title", "a new deal needs a title; map a column to title"),
        ("stage_key", "a deal needs a pipeline stage; map a column to stage"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.users = _users_by_email(ctx.session)
        stages = list(ctx.session.scalars(select(PipelineStage).order_by(PipelineStage.position)))
        self.outcomes = {s.key: s.outcome for s in stages}
        self.first_stage = next((s.key for s in stages if s.outcome == "open"), None)
        self.stages = _names({s.key: (s.label_ja, s.label_en) for s in stages})
        reasons = list(ctx.session.scalars(select(LostReason).order_by(LostReason.position)))
        self.reasons = _names({r.key: (r.label_ja, r.label_en) for r in reasons})
        self.reason_kind = {r.key: r.kind for r in reasons}
        self.reason_active = {r.key: r.is_active for r in reasons}

    def defaults(self) -> dict[str, Any]:
        return {c: None for c in self.columns} | {
            "custom": {},
            "currency": self.ctx.currency,
            "stage_key": self.first_stage,
        }

    def lookup(self, name: str, value: Any) -> Any:
        if name == "owner":
            return _owner(self.users, value)
        table = self.stages if name == "stage" else self.reasons
        found = table.get(value.strip().casefold())
        if found is None:
            choices = sorted(set(table.values()))
            raise ValueError(
                f"{value!r} is not a {name.replace('_', ' ')}; use one of {', '.join(choices)}"
            )
        return found

    def resolve_refs(self, rows: list[Row]) -> None:
        resolve_accounts(
            self,
            [
                r
                for r in rows
                if set(r.refs) & {"account_id", "account_external_id", "account_name"}
            ],
        )
        emails = sorted(
            {normalize_email(r.refs["contact_email"]) for r in rows if "contact_email" in r.refs}
        )
        found: dict[str, list[int]] = defaultdict(list)
        for start in range(0, len(emails), 1000):
            stmt = select(Contact.email_key, Contact.id).where(
                Contact.email_key.in_(emails[start : start + 1000])
            )
            for key, contact_id in self.session.execute(stmt):
                found[key or ""].append(contact_id)
        for row in rows:
            if "contact_email" not in row.refs:
                continue
            matches = found.get(normalize_email(row.refs["contact_email"]), [])
            if len(matches) == 1:
                row.given["contact_id"] = matches[0]
            else:
                what = "no contact has" if not matches else f"{len(matches)} contacts have"
                row.fail(
                    self.ctx.bound.column_of("contact_email"),
                    f"{what} the e-mail {row.refs['contact_email']!r}",
                )

    def finalize(self, state: dict[str, Any], before: dict[str, Any] | None, row: Row) -> None:
        currency = _currency(self, state, before, row)
        _amount(self, state, "budget", currency, row)
        _amount(self, state, "expected_mrr", currency, row)
        self._pipeline_rules(state, before, row)

    def _reasons_of(self, kind: str) -> str:
        keys = [k for k, v in self.reason_kind.items() if v == kind and self.reason_active[k]]
        return ", ".join(keys)

    def _pipeline_rules(
        self, state: dict[str, Any], before: dict[str, Any] | None, row: Row
    ) -> None:
        """The rules deals.service applies: a lost or archived deal needs a reason of that
        kind, an open one has neither reason nor closed date, a closing deal gets today as its
        closed date unless the file gives one, a deal won into a contract stays won."""
        column, sent = self.ctx.bound.column_of, set(row.given)
        stage = state.get("stage_key") or ""
        outcome = self.outcomes.get(stage, "open")
        reason = state.get("lost_reason_key")
        prior_reason = (before or {}).get("lost_reason_key")
        retired = reason is not None and not self.reason_active.get(reason, True)
        if "lost_reason_key" in sent and retired and reason != prior_reason:
            row.fail(column("lost_reason"), f"reason {reason!r} is no longer in use")
        if outcome in ("lost", "archived"):
            if reason is None:
                row.fail(
                    column("lost_reason"),
                    f"stage {stage!r} is {outcome}: give a lost reason of kind {outcome} "
                    f"({self._reasons_of(outcome)})",
                )
            elif self.reason_kind.get(reason) != outcome:
                row.fail(
                    column("lost_reason"),
                    f"{reason!r} is a reason of kind {self.reason_kind.get(reason)}; stage "
                    f"{stage!r} needs one of kind {outcome} ({self._reasons_of(outcome)})",
                )
        else:
            for name in ("lost_reason_key", "lost_reason_text"):
                if name in sent and state.get(name) is not None:
                    row.fail(
                        column(name),
                        f"only a lost or archived deal has a lost reason; stage {stage!r} is "
                        f"{outcome}",
                    )
            state["lost_reason_key"] = state["lost_reason_text"] = None
        self._closed_date(state, before, row, outcome)
        contract = (before or {}).get("contract_id")
        moved = outcome != "won" or state.get("account_id") != (before or {}).get("account_id")
        if contract is not None and moved:
            row.fail(
                column("stage"),
                f"this deal was won with contract {contract}; it stays won on that account "
                "(delete the contract first if the win was a mistake)",
            )

    def _closed_date(
        self, state: dict[str, Any], before: dict[str, Any] | None, row: Row, outcome: str
    ) -> None:
        prior = self.outcomes.get((before or {}).get("stage_key") or "", "open")
        if outcome == "open":
            if "closed_date" in row.given and state.get("closed_date") is not None:
                row.fail(
                    self.ctx.bound.column_of("closed_date"),
                    "an open deal has no closed date",
                )
            state["closed_date"] = None
        elif "closed_date" not in row.given and (
            state.get("closed_date") is None or prior == "open"
        ):
            state["closed_date"] = self.ctx.today


def _names(labels: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Keys and both labels, folded, pointing at the key ('Won', '受注', 'won' → 'won')."""
    table: dict[str, str] = {}
    for key, (ja, en) in labels.items():
        for name in (ja, en, key):
            table[name.strip().casefold()] = key
    return table


IMPORTERS: dict[str, type[Importer]] = {
    "account": AccountImporter,
    "contact": ContactImporter,
    "contract": ContractImporter,
    "deal": DealImporter,
}
