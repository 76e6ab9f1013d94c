"""Metric definitions: the standard set, YAML in and out, and clear errors for bad ones."""

from __future__ import annotations

import pytest

from banso.errors import InvalidInput
from banso.metrics.definitions import dump_yaml, load_yaml, standard_definitions


def _errors(text: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text)
    return {e.field: e.message for e in caught.value.errors}


def test_it_ships_the_standard_set() -> None:
    keys = [d.key for d in standard_definitions()]
    assert len(keys) == 20
    assert {"licence_activation", "first_login_rate", "key_person_days_inactive_max"} <= set(keys)


def test_it_reads_back_what_it_exports() -> None:
    text = dump_yaml(standard_definitions())
    assert load_yaml(text) == standard_definitions()


def test_it_keeps_japanese_names_and_event_names() -> None:
    text = """
- key: reports_ja
  name: レポート作成数（30日）
  spec: {kind: events, aggregation: count, window_days: 30, filter: {events: [レポート作成]}}
"""
    (metric,) = load_yaml(text)
    assert metric.name == "レポート作成数（30日）"
    assert "レポート作成" in dump_yaml([metric])


def test_it_names_the_field_that_is_wrong() -> None:
    errors = _errors(
        """
- key: Bad-Key
  name: x
  spec: {kind: events, aggregation: count}
- key: weekly
  name: Weekly
  spec: {kind: events, aggregation: median, window_days: 0}
- key: plan
  name: Plan
  spec: {kind: events, aggregation: count, filter: {properties: [{key: plan, op: in, value: pro}]}}
"""
    )
    assert "metrics[Bad-Key].key" in errors
    assert "metrics[weekly].spec.events.aggregation" in errors
    assert "greater than or equal to 1" in errors["metrics[weekly].spec.events.window_days"]
    assert "needs a list" in errors["metrics[plan].spec.events.filter.properties.0"]


def test_it_refuses_references_to_unknown_or_unsuitable_metrics() -> None:
    errors = _errors(
        """
- {key: users, name: Users, spec: {kind: events, aggregation: active_users}}
- {key: ratio, name: R, spec: {kind: ratio, numerator: users, denominator: seatz}}
- {key: trend, name: T, spec: {kind: trend, of: users}}
- {key: users, name: Again, spec: {kind: seats}}
"""
    )
    assert errors["metrics[ratio].spec.denominator"] == "unknown metric 'seatz'"
    assert "must be an event metric with a window" in errors["metrics[trend].spec.of"]
    assert errors["metrics[users].key"] == "appears twice"


def test_it_reports_broken_yaml_with_its_line() -> None:
    errors = _errors("- key: a\n  name: [unclosed\n")
    assert any(field.startswith("line ") for field in errors)


def test_it_refuses_unknown_fields_instead_of_ignoring_them() -> None:
    errors = _errors("- {key: a, name: A, spec: {kind: seats}, formula: 'x * 2'}")
    assert "metrics[a].formula" in errors
