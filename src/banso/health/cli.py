"""`banso health`: scorecards as YAML, scoring, ratings, the backtest and suggested weights."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from banso.cli_support import console, handles_errors, open_session, today
from banso.errors import InvalidInput

health_app = typer.Typer(
    help="Health scores: scorecards, scoring, backtest, suggested weights.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="health")


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    if not path.is_file():
        raise InvalidInput.one("path", f"{path} is not a file")
    return path.read_text("utf-8")


@health_app.command("list")
@handles_errors
def list_scorecards() -> None:
    """List the scorecards, their version in force and their latest scored date."""
    from banso.health.service import scorecards, scored_dates, spec_of

    with open_session() as session:
        table = Table("key", "name", "primary", "version", "measures", "latest")
        for card in scorecards(session):
            dates = scored_dates(session, card)
            table.add_row(
                card.key,
                card.name,
                "yes" if card.is_primary else "",
                str(card.current_version),
                str(len(spec_of(session, card).measures)),
                str(dates[-1]) if dates else "-",
            )
        console.print(table)


@health_app.command("import")
@handles_errors
def import_scorecards(
    path: Annotated[Path, typer.Argument(help="YAML file ('-' for standard input).")],
    note: Annotated[str, typer.Option(help="Why this version (kept with it).")] = "",
) -> None:
    """Add scorecards or new versions of them from YAML (all or nothing)."""
    from banso.audit.service import CLI
    from banso.health.definitions import load_yaml
    from banso.health.service import save_scorecard

    specs = load_yaml(_read(path), str(path))
    with open_session() as session:
        for spec in specs:
            card, changed = save_scorecard(session, CLI, spec, note)
            state = f"version {card.current_version}" if changed else "unchanged"
            console.print(f"{spec.key}: {state}")


@health_app.command("export")
@handles_errors
def export_scorecards(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
) -> None:
    """Write the scorecards in force as YAML (the format `health import` reads)."""
    from banso.health.definitions import dump_yaml
    from banso.health.service import scorecards, spec_of

    with open_session() as session:
        text = dump_yaml([spec_of(session, c) for c in scorecards(session)])
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        console.print(f"Wrote {output}.")


@health_app.command("score")
@handles_errors
def score(
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"])] = None,
    start: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"])] = None,
    every: Annotated[str, typer.Option(help="Step of a backfill: 1d, 7d, 2w.")] = "1d",
) -> None:
    """Score every account from the stored metric snapshots (no metric refresh).

    `banso refresh` computes metrics and scores together; this re-scores after a scorecard
    changed. Each date's snapshots are replaced; other dates are untouched."""
    from banso.health.service import refresh
    from banso.metrics.cli import _dates

    days = _dates(as_of, start, end, every)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("Scoring", total=len(days))
        for day in days:
            with open_session() as session:
                results = refresh(session, day)
            progress.advance(task)
            for r in results:
                progress.console.print(
                    f"{day} {r.scorecard}: {r.scored:,} of {r.accounts:,} accounts scored, "
                    f"{r.band_changes:,} band changes, {r.seconds:.2f} s"
                )


def _parse_days(text: str) -> int:
    from banso.metrics.refresh import parse_every

    try:
        return parse_every(text)
    except InvalidInput:
        raise InvalidInput.one("--horizon", f"{text!r} is not a period; use e.g. 90d") from None


def _history(
    session: Any,
    scorecard: str | None,
    start: datetime | None,
    end: datetime | None,
    horizon: str,
    outcome: str,
) -> tuple[Any, Any, Any, int]:
    """The scorecard, its rules in force and its snapshots with outcomes."""
    from banso.health.backtest import load_history
    from banso.health.service import get_scorecard, primary_scorecard, spec_of

    days = _parse_days(horizon)
    card = get_scorecard(session, scorecard) if scorecard else primary_scorecard(session)
    if card is None:
        raise InvalidInput.one("--scorecard", "there is no scorecard; `banso health import` one")
    spec = spec_of(session, card)
    now = today()
    first = start.date() if start else date(now.year - 1, now.month, 1)
    last = end.date() if end else now
    return card, spec, load_history(session, card, spec, first, last, days, outcome, now), days


def _print_report(title: str, report: Any) -> None:
    auc = "-" if report.auc is None else f"{report.auc:.3f}"
    console.print(
        f"[bold]{title}[/bold]: AUC {auc} on {report.snapshots:,} snapshots "
        f"({report.accounts:,} accounts, {report.dates} dates); "
        f"{report.positives:,} {report.outcome} within {report.horizon_days} days "
        f"(base rate {report.base_rate:.1%})"
    )
    table = Table("decile", "snapshots", report.outcome, "rate", "lift", "captured")
    for d in report.deciles:
        table.add_row(
            str(d.decile),
            f"{d.count:,}",
            f"{d.positives:,}",
            f"{d.rate:.1%}",
            "-" if d.lift is None else f"{d.lift:.2f}",
            "-" if d.cumulative_capture is None else f"{d.cumulative_capture:.0%}",
        )
    console.print(table)
    bands = Table("band", "snapshots", report.outcome, "rate")
    for name, g in report.bands.items():
        bands.add_row(name, f"{g.count:,}", f"{g.positives:,}", f"{g.rate:.1%}")
    console.print(bands)
    measures = Table("measure", "AUC", "snapshots with a value")
    for m in report.measures:
        measures.add_row(m.label, "-" if m.auc is None else f"{m.auc:.3f}", f"{m.rows:,}")
    console.print(measures)


Horizon = Annotated[str, typer.Option(help="What happened within this period: 90d, 26w.")]
OutcomeOption = Annotated[
    str,
    typer.Option(help="churn, downsell (churn or contraction), contraction, renewal, expansion."),
]
ScorecardOption = Annotated[str | None, typer.Option(help="Scorecard key (default: primary).")]
FromOption = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])]
ToOption = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"])]


@health_app.command("backtest")
@handles_errors
def backtest(
    scorecard: ScorecardOption = None,
    start: FromOption = None,
    end: ToOption = None,
    horizon: Horizon = "90d",
    outcome: OutcomeOption = "churn",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """How well past scores predicted what happened next (snapshots from --from to --to)."""
    from banso.health.backtest import report

    with open_session() as session:
        card, spec, history, days = _history(session, scorecard, start, end, horizon, outcome)
        result = report(history, spec, outcome, days)
    if as_json:
        sys.stdout.write(json.dumps(asdict(result), default=str, ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
        return
    _print_report(f"{card.key} (version {card.current_version})", result)


@health_app.command("suggest")
@handles_errors
def suggest(
    scorecard: ScorecardOption = None,
    start: FromOption = None,
    end: ToOption = None,
    horizon: Horizon = "90d",
    outcome: OutcomeOption = "churn",
    l2: Annotated[float, typer.Option(min=0.0, help="Regularisation strength.")] = 1.0,
    apply: Annotated[bool, typer.Option(help="Save the weights as a new version.")] = False,
) -> None:
    """Fit weights on the earlier snapshots; compare them with the current ones on the later."""
    from banso.audit.service import CLI
    from banso.health.backtest import suggest_weights
    from banso.health.service import save_scorecard

    with open_session() as session:
        _card, spec, history, days = _history(session, scorecard, start, end, horizon, outcome)
        s = suggest_weights(history, spec, outcome, days, l2=l2)
        table = Table("measure", "current weight", "proposed weight", "coefficient per point")
        for m in spec.measures:
            table.add_row(
                m.label,
                f"{s.current[m.key]:g}",
                f"{s.proposed[m.key]:g}",
                f"{s.coefficients[m.key]:+.4f}" if m.key in s.coefficients else "no values: kept",
            )
        console.print(table)
        console.print(
            f"Fitted on {s.train_dates[0]}..{s.train_dates[1]}, judged on "
            f"{s.test_dates[0]}..{s.test_dates[1]}:"
        )
        for title, r in (("current", s.current_report), ("proposed", s.proposed_report)):
            auc = "-" if r.auc is None else f"{r.auc:.3f}"
            console.print(f"  {title}: AUC {auc} on {r.snapshots:,} snapshots")
        if apply:
            note = f"suggested weights (AUC {s.proposed_report.auc:.3f} on {s.test_dates[0]}..)"
            updated, _ = save_scorecard(session, CLI, spec.with_weights(s.proposed), note)
            console.print(
                f"Saved as version {updated.current_version}; run `banso health score` "
                "to re-score past dates."
            )


@health_app.command("rate")
@handles_errors
def rate(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    measure: Annotated[str, typer.Argument(help="Key of a rating measure.")],
    value: Annotated[float, typer.Argument(min=0, max=100, help="0-100.")],
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    expires: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
) -> None:
    """Record a CSM's rating of an account for a scorecard's rating measure."""
    from banso.audit.service import CLI
    from banso.health.service import add_rating

    with open_session() as session:
        rating = add_rating(
            session,
            CLI,
            account_id,
            measure,
            value,
            comment,
            today(),
            expires.date() if expires else None,
        )
        console.print(f"Rated account {account_id} {measure} {value:g} until {rating.expires_on}.")
