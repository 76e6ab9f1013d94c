from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.contracts.models import Contract, ContractMovement
from banso.deals.models import Deal, LostReason, PipelineStage
from banso.demo import vocabulary as v
from banso.demo.generator import DemoResult
from banso.demo.story import DEFAULT_TODAY

from .conftest import ACCOUNTS


def _deals(session: Session) -> list[tuple[Deal, str, str | None]]:
    rows = session.execute(
        select(Deal, PipelineStage.outcome, LostReason.kind)
        .join(PipelineStage, PipelineStage.key == Deal.stage_key)
        .outerjoin(LostReason, LostReason.key == Deal.lost_reason_key)
    ).all()
    return [(deal, outcome, kind) for deal, outcome, kind in rows]


def test_lost_and_archived_deals_have_a_reason_of_that_kind(
    session: Session, demo: DemoResult
) -> None:
    deals = _deals(session)
    assert {outcome for _, outcome, _ in deals} == {"open", "won", "lost", "archived"}
    for deal, outcome, kind in deals:
        if outcome in ("lost", "archived"):
            assert kind == outcome and deal.lost_reason_text
            assert deal.lost_reason_text in v.LOST_NOTES[deal.lost_reason_key or ""]
        else:
            assert kind is None and deal.lost_reason_text is None


def test_closed_deals_have_a_closed_date_and_open_ones_none(
    session: Session, demo: DemoResult
) -> None:
    for deal, outcome, _ in _deals(session):
        assert deal.inquiry_date is not None and deal.inquiry_date <= DEFAULT_TODAY
        if outcome == "open":
            assert deal.closed_date is None
            assert deal.expected_close_date and deal.expected_close_date > DEFAULT_TODAY
        else:
            assert deal.closed_date is not None
            assert deal.inquiry_date <= deal.closed_date <= DEFAULT_TODAY


def test_open_deals_are_spread_over_the_pipeline(session: Session, demo: DemoResult) -> None:
    open_stages = {deal.stage_key for deal, outcome, _ in _deals(session) if outcome == "open"}
    assert len(open_stages) >= 3


def test_every_customer_was_won_by_one_deal_linked_to_its_first_contract(
    session: Session, demo: DemoResult
) -> None:
    won = session.execute(
        select(Deal, Contract, Contact.account_id)
        .join(Contract, Contract.id == Deal.contract_id)
        .join(Contact, Contact.id == Deal.contact_id)
        .where(Deal.stage_key == "won")
    ).all()
    assert len(won) == ACCOUNTS
    assert len({deal.account_id for deal, _, _ in won}) == ACCOUNTS
    for deal, contract, contact_account in won:
        assert deal.account_id == contract.account_id == contact_account
        assert deal.closed_date == contract.start_date
        first = session.scalar(
            select(func.min(ContractMovement.effective_date)).where(
                ContractMovement.account_id == deal.account_id
            )
        )
        assert first == contract.start_date
        account = session.get(Account, deal.account_id)
        assert account is not None and deal.source_channel == account.source
        assert deal.problem and deal.story and deal.budget


def test_deals_on_existing_customers_name_one_of_their_contacts(
    session: Session, demo: DemoResult
) -> None:
    linked = session.execute(
        select(Deal.account_id, Contact.account_id).join(Contact, Contact.id == Deal.contact_id)
    ).all()
    assert linked and all(deal == contact for deal, contact in linked)
    orphans = session.scalars(select(Deal).where(Deal.account_id.is_(None))).all()
    assert orphans and all(d.company_name and d.contact_id is None for d in orphans)
