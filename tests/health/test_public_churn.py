"""A real, public churn data set (IBM's Telco sample, tests/data/churn) through banso's path:
imported as accounts and contracts, scored, backtested, and weights fitted, with the AUC of
the fitted weights checked against scikit-learn on the same data."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.audit.service import Actor
from banso.health.backtest import fit_weights, load_history, report
from banso.health.definitions import parse_spec
from banso.health.service import refresh, save_scorecard
from tests.imports.helpers import run_import, write_csv

DATA = Path(__file__).parent.parent / "data" / "churn" / "telco_churn_sample.csv"
AS_OF, CHURN_DAY, TODAY = date(2026, 1, 1), date(2026, 3, 31), date(2026, 11, 1)
SPEC = {
    "key": "telco",
    "name": "Telco",
    "categories": [
        {
            "name": "Contract",
            "measures": [
                {
                    "key": "tenure",
                    "label": "Tenure (months)",
                    "field": "custom.tenure",
                    "linear": {"zero_at": 0, "full_at": 72},
                    "weight": 1,
                },
                {
                    "key": "charges",
                    "label": "Monthly charges",
                    "field": "custom.monthly_charges",
                    "linear": {"zero_at": 120, "full_at": 20},
                    "weight": 1,
                },
            ],
        }
    ],
}


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _import(session: Session, actor: Actor, tmp_path: Path) -> None:
    for key, label in (("tenure", "Tenure"), ("monthly_charges", "Monthly charges")):
        customfields.create_definition(
            session,
            actor,
            customfields.CustomFieldIn(key=key, type="number", label_ja=label, label_en=label),
        )
    accounts = run_import(
        session,
        "accounts",
        DATA,
        pairs={
            "customerID": "name",
            "tenure": "custom.tenure",
            "MonthlyCharges": "custom.monthly_charges",
        },
    )
    assert accounts.counts["created"] == len(_rows()), accounts.rejected
    # The data set says who churned, not when: every churner leaves on CHURN_DAY.
    contracts = [["id", "account", "plan", "mrr", "start", "end", "status"]]
    for r in _rows():
        churned = r["Churn"] == "Yes"
        contracts.append(
            [
                f"T-{r['customerID']}",
                r["customerID"],
                r["Contract"],
                str(round(float(r["MonthlyCharges"]) * 150)),
                "2025-01-01",
                CHURN_DAY.isoformat() if churned else "2026-12-31",
                "churned" if churned else "active",
            ]
        )
    imported = run_import(
        session,
        "contracts",
        write_csv(tmp_path / "contracts.csv", contracts),
        pairs={
            "id": "external_id",
            "account": "account_name",
            "plan": "plan",
            "mrr": "mrr",
            "start": "start_date",
            "end": "end_date",
            "status": "status",
        },
        system="billing",
    )
    assert imported.counts["created"] == len(_rows()), imported.rejected


def _independent_auc(rows: list[dict[str, str]], l2: float) -> float:
    """The same measures, fit and weighting done with scikit-learn alone."""
    tenure = np.clip(np.array([float(r["tenure"]) for r in rows]) / 72, 0, 1) * 100
    charges = np.array([float(r["MonthlyCharges"]) for r in rows])
    charge_points = np.clip((charges - 120) / (20 - 120), 0, 1) * 100
    points = np.column_stack([tenure, charge_points])
    y = np.array([r["Churn"] == "Yes" for r in rows], dtype=int)
    scaler = StandardScaler().fit(points)
    model = LogisticRegression(C=1 / l2, tol=1e-10, max_iter=10_000)
    model.fit(scaler.transform(points), y)
    useful = np.clip(-model.coef_[0] / scaler.scale_, 0, None)
    weights = np.round(100 * useful / useful.sum(), 1)
    score = points @ weights / weights.sum()
    return float(roc_auc_score(y, -score))


def test_fitted_weights_predict_real_churn_as_scikit_learn_says(
    session: Session, actor: Actor, tmp_path: Path
) -> None:
    _import(session, actor, tmp_path)
    card, _ = save_scorecard(session, actor, parse_spec(SPEC))
    [scored] = refresh(session, AS_OF)
    rows = _rows()
    assert scored.scored == len(rows)

    spec = parse_spec(SPEC)
    history = load_history(session, card, spec, AS_OF, AS_OF, 180, "churn", TODAY)
    churners = sum(r["Churn"] == "Yes" for r in rows)
    assert (len(history.dates), int(history.outcome.sum())) == (len(rows), churners)

    everything = np.ones(len(history.dates), dtype=bool)
    fitted = fit_weights(history, "churn", everything, l2=1.0)
    ours = report(history, spec, "churn", 180, fitted.weights)
    assert ours.auc == pytest.approx(_independent_auc(rows, 1.0), abs=1e-9)
    assert ours.auc > 0.7  # tenure and charges do predict churn in this data
    equal = report(history, spec, "churn", 180)
    assert equal.auc is not None and ours.auc >= equal.auc - 1e-9
