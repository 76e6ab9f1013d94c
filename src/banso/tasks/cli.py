"""`banso tasks`: reminder mail for tasks overdue or due soon."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from banso.cli_support import console, handles_errors, open_session, settings, today

tasks_app = typer.Typer(help="Tasks: reminder mail to assignees.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")


@tasks_app.command("remind")
@handles_errors
def remind_command(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="The day to remind for [default: today]."
        ),
    ] = None,
    days_ahead: Annotated[
        int, typer.Option(min=0, max=60, help="Also remind tasks due within this many days.")
    ] = 1,
    base_url: Annotated[
        str | None,
        typer.Option(help="Address of banso in the links [default: http://BANSO_HOST:BANSO_PORT]."),
    ] = None,
) -> None:
    """Queue one mail per assignee listing their tasks overdue or due soon (once per due date).

    `banso notify deliver` sends them."""
    from banso.tasks.reminders import remind

    config = settings()
    day = as_of.date() if as_of else today()
    url = base_url or f"http://{config.host}:{config.port}"
    with open_session() as session:
        report = remind(session, day, days_ahead, base_url=url)
    console.print(
        f"{day}: queued {report.assignees:,} reminder mails covering {report.tasks:,} tasks."
    )
