"""Scorecards as data: validated with errors that say where, read from and written to YAML."""

from __future__ import annotations

import pytest

from banso.errors import InvalidInput
from banso.health.definitions import dump_yaml, load_yaml, standard_scorecard

GOOD = """
key: adoption
name: 利用定着
bands:
  - {key: red, label: 要注意, min: 0, colour: red}
  - {key: green, label: 良好, min: 60, colour: green}
categories:
  - name: 利用状況
    measures:
      - key: days
        label: 利用日数
        metric: active_days_30d
        linear: {zero_at: 0, full_at: 20}
        weight: 3
      - {key: rating, label: CSMの評価, rating: {valid_days: 30}, weight: 1}
"""


def test_it_reads_a_scorecard_and_writes_it_back() -> None:
    [spec] = load_yaml(GOOD)
    assert spec.name == "利用定着"
    assert [m.key for m in spec.measures] == ["days", "rating"]
    assert spec.band_of(59.9).key == "red" and spec.band_of(60).key == "green"
    assert load_yaml(dump_yaml([spec])) == [spec]
    assert "利用定着" in dump_yaml([spec])  # Japanese kept readable


def test_the_standard_scorecard_is_valid() -> None:
    spec = standard_scorecard()
    assert spec.primary and len(spec.measures) >= 5


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("key: [", "YAML", "not valid YAML (line 1"),
        ("- 1\n- 2", "scorecards.0", "valid dictionary"),
        (GOOD.replace("weight: 3", "weight: -3"), "weight", "greater than or equal to 0"),
        (
            GOOD.replace("        metric: active_days_30d\n", ""),
            "measures.0",
            "exactly one of metric",
        ),
        (GOOD.replace("min: 60", "min: 0"), "scorecards.0", "each min different"),
        (GOOD.replace("min: 0, colour: red", "min: 10, colour: red"), "", "start at min 0"),
        (GOOD.replace("key: rating", "key: days"), "", "unique: days"),
        (GOOD.replace("key: adoption", "key: Adoption!"), "key", "should match pattern"),
        (GOOD.replace("metric: active_days_30d", "field: password"), "field", "unknown field"),
        (GOOD.replace("weight: 3", "weight: 0").replace("weight: 1", "weight: 0"), "", "above 0"),
        (GOOD.replace("full_at: 20", "full_at: 0"), "linear", "must differ"),
        (GOOD + "\nextra: 1", "extra", "Extra inputs"),
    ],
)
def test_it_refuses_a_bad_scorecard_and_says_where(text: str, where: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text, "YAML")
    message = str(caught.value)
    assert where in message and says in message, message


def test_it_changes_weights_only_where_asked() -> None:
    [spec] = load_yaml(GOOD)
    changed = spec.with_weights({"days": 7})
    assert [m.weight for m in changed.measures] == [7, 1]
    assert [m.weight for m in spec.measures] == [3, 1]
