"""`banso notify`: deliver the outbox, list what waits or failed, retry failures."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from banso.cli_support import console, handles_errors, open_session, settings

notify_app = typer.Typer(help="The outbox: mail waiting to be sent.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


@notify_app.command("deliver")
@handles_errors
def deliver_command(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep delivering until interrupted.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=1, help="Seconds between rounds with --loop.")
    ] = 30,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per round.")] = 100,
) -> None:
    """Send the due messages of the outbox by SMTP (BANSO_SMTP_*), retrying failures later."""
    from banso.notify.outbox import Outcome, deliver
    from banso.notify.smtp import SmtpTransport

    transport = SmtpTransport.from_settings(settings())

    def shown(outcome: Outcome) -> None:
        message = outcome.message
        state = "sent"
        if outcome.status != "sent":
            verb = "retry later" if outcome.status == "pending" else "failed"
            state = f"{verb} ({outcome.error})"
        to = message.payload.get("to", "?")
        console.print(f"  #{message.id} → {to}: {state}", highlight=False, markup=False)

    while True:
        with open_session() as session:
            report = deliver(session, transport, limit=limit, progress=shown)
        console.print(
            f"Delivered {report.sent:,} sent, {report.retrying:,} to retry, "
            f"{report.failed:,} failed, {report.skipped:,} taken by another worker."
        )
        if not loop:
            break
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            break


@notify_app.command("list")
@handles_errors
def list_command(
    status: Annotated[str, typer.Option(help="pending, failed or sent.")] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Show messages waiting (or failed, or sent) with their attempts and last error."""
    from banso.i18n import format_datetime
    from banso.notify.outbox import counts, messages

    with open_session() as session:
        totals = counts(session)
        rows = messages(session, status, limit)
    table = Table("id", "to", "subject", "attempts", "next try", "last error", title=status)
    for m in rows:
        table.add_row(
            str(m.id),
            str(m.payload.get("to", "")),
            str(m.payload.get("subject", "")),
            str(m.attempts),
            format_datetime(m.next_attempt_at) if m.status == "pending" else "—",
            m.last_error or "",
        )
    console.print(table)
    console.print(", ".join(f"{k}: {v:,}" for k, v in totals.items()))


@notify_app.command("retry")
@handles_errors
def retry_command() -> None:
    """Queue every failed message again (after fixing the SMTP settings, say)."""
    from banso.notify.outbox import retry_failed

    with open_session() as session:
        n = retry_failed(session)
    console.print(f"{n:,} failed messages queued again.")
