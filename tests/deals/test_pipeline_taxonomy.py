"""Admins shape the pipeline and the lost reasons; stages and reasons in use are protected."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.audit.service import history
from tests.conftest import Person
from tests.deals.factories import make_deal

STAGES = "/api/v1/pipeline-stages"
REASONS = "/api/v1/lost-reasons"
DEFAULT_STAGES = ["inquiry", "first_meeting", "proposal", "negotiation", "won", "lost", "archived"]


def keys(client: TestClient, person: Person, url: str) -> list[str]:
    return [item["key"] for item in client.get(url, headers=person.headers).json()]


def test_everyone_reads_the_default_pipeline_with_counts(
    client: TestClient, charlie: Person, session: Session
) -> None:
    make_deal(session, stage_key="proposal")
    stages = client.get(STAGES, headers=charlie.headers).json()
    assert [s["key"] for s in stages] == DEFAULT_STAGES
    assert {s["key"]: s["deals"] for s in stages}["proposal"] == 1
    assert stages[0]["label_ja"] == "問い合わせ"
    reasons = client.get(REASONS, headers=charlie.headers).json()
    assert {r["kind"] for r in reasons} == {"lost", "archived"}


def test_an_admin_adds_relabels_and_reorders_stages(
    client: TestClient, alice: Person, session: Session
) -> None:
    body = {"key": "trial", "label_ja": "トライアル", "label_en": "Trial", "position": 35}
    created = client.post(STAGES, json=body, headers=alice.headers)
    assert created.status_code == 201, created.text
    assert created.json() == body | {"outcome": "open", "deals": 0}
    assert keys(client, alice, STAGES).index("trial") == 3
    changed = client.patch(f"{STAGES}/trial", json={"label_en": "PoC"}, headers=alice.headers)
    assert changed.json()["label_en"] == "PoC"
    order = ["trial", *DEFAULT_STAGES]
    reordered = client.post(f"{STAGES}/reorder", json={"keys": order}, headers=alice.headers)
    assert reordered.status_code == 200, reordered.text
    assert [s["key"] for s in reordered.json()] == order
    assert [s["position"] for s in reordered.json()][:2] == [10, 20]
    deal = client.post(
        "/api/v1/deals", json={"title": "t", "company_name": "c"}, headers=alice.headers
    ).json()
    assert deal["stage_key"] == "trial"  # new deals start in the first open stage
    assert [e.action for e in history(session, "pipeline_stage", 0)] == [
        "create",
        "update",
        "update",
    ]


def test_a_csm_cannot_change_the_taxonomy(client: TestClient, bob: Person) -> None:
    body = {"key": "trial", "label_ja": "トライアル", "label_en": "Trial"}
    for method, url, payload in [
        ("POST", STAGES, body),
        ("PATCH", f"{STAGES}/inquiry", {"label_en": "x"}),
        ("DELETE", f"{STAGES}/archived", None),
        ("POST", f"{STAGES}/reorder", {"keys": DEFAULT_STAGES}),
        ("POST", REASONS, body | {"kind": "lost"}),
        ("PATCH", f"{REASONS}/price", {"is_active": False}),
        ("DELETE", f"{REASONS}/price", None),
    ]:
        response = client.request(method, url, json=payload, headers=bob.headers)
        assert response.status_code == 403, (method, url, response.text)
    assert keys(client, bob, STAGES) == DEFAULT_STAGES


def test_a_stage_in_use_cannot_be_deleted_or_change_outcome(
    client: TestClient, alice: Person, session: Session
) -> None:
    make_deal(session, stage_key="first_meeting")
    make_deal(session, stage_key="first_meeting")
    refused = client.delete(f"{STAGES}/first_meeting", headers=alice.headers)
    assert refused.status_code == 409
    assert "2 deals" in refused.json()["message"]
    changed = client.patch(
        f"{STAGES}/first_meeting", json={"outcome": "lost"}, headers=alice.headers
    )
    assert changed.status_code == 409 and "2 deals" in changed.json()["message"]
    assert client.delete(f"{STAGES}/negotiation", headers=alice.headers).status_code == 204
    assert "negotiation" not in keys(client, alice, STAGES)


def test_the_pipeline_keeps_a_won_stage(client: TestClient, alice: Person) -> None:
    refused = client.delete(f"{STAGES}/won", headers=alice.headers)
    assert refused.status_code == 409 and "only won stage" in refused.json()["message"]
    demoted = client.patch(f"{STAGES}/won", json={"outcome": "open"}, headers=alice.headers)
    assert demoted.status_code == 422 and demoted.json()["errors"][0]["field"] == "outcome"
    second = {"key": "won_upsell", "label_ja": "受注(追加)", "label_en": "Won (upsell)"}
    assert client.post(STAGES, json=second | {"outcome": "won"}, headers=alice.headers).is_success
    assert client.delete(f"{STAGES}/won", headers=alice.headers).status_code == 204


def test_reasons_in_use_cannot_be_deleted_but_can_be_retired(
    client: TestClient, alice: Person, session: Session
) -> None:
    make_deal(session, stage_key="lost", lost_reason_key="price")
    refused = client.delete(f"{REASONS}/price", headers=alice.headers)
    assert refused.status_code == 409
    assert "1 deals" in refused.json()["message"] and "is_active" in refused.json()["message"]
    kind = client.patch(f"{REASONS}/price", json={"kind": "archived"}, headers=alice.headers)
    assert kind.status_code == 409
    retired = client.patch(f"{REASONS}/price", json={"is_active": False}, headers=alice.headers)
    assert retired.json()["is_active"] is False and retired.json()["deals"] == 1
    active = client.get(REASONS, params={"include_inactive": False}, headers=alice.headers)
    assert "price" not in [r["key"] for r in active.json()]
    assert client.delete(f"{REASONS}/duplicate", headers=alice.headers).status_code == 204


def test_an_admin_adds_and_reorders_reasons(client: TestClient, alice: Person) -> None:
    body = {"key": "security", "label_ja": "セキュリティ要件", "label_en": "Security review"}
    created = client.post(REASONS, json=body, headers=alice.headers)
    assert created.status_code == 201 and created.json()["kind"] == "lost"
    again = client.post(REASONS, json=body, headers=alice.headers)
    assert again.status_code == 409
    order = list(reversed(keys(client, alice, REASONS)))
    response = client.post(f"{REASONS}/reorder", json={"keys": order}, headers=alice.headers)
    assert [r["key"] for r in response.json()] == order


def test_it_refuses_bad_taxonomy_input(client: TestClient, alice: Person) -> None:
    good = {"key": "trial", "label_ja": "トライアル", "label_en": "Trial"}
    cases = [
        (STAGES, good | {"key": "Trial Stage"}, "key"),
        (STAGES, good | {"key": "'; DROP TABLE deals;--"}, "key"),
        (STAGES, good | {"key": "a" * 41}, "key"),
        (STAGES, good | {"outcome": "maybe"}, "outcome"),
        (STAGES, good | {"label_ja": ""}, "label_ja"),
        (STAGES, good | {"label_en": "x" * 101}, "label_en"),
        (STAGES, good | {"label_en": "a\x00b"}, "label_en"),
        (STAGES, good | {"position": -1}, "position"),
        (REASONS, good | {"kind": "won"}, "kind"),
        (f"{STAGES}/reorder", {"keys": ["won", "won"]}, "keys"),
        (f"{STAGES}/reorder", {"keys": [*DEFAULT_STAGES, "nope"]}, "keys"),
        (f"{REASONS}/reorder", {"keys": ["price"]}, "keys"),
    ]
    for url, body, field in cases:
        response = client.post(url, json=body, headers=alice.headers)
        assert response.status_code == 422, (url, body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)
    hostile = good | {"label_ja": "<script>alert(1)</script>", "label_en": "🎉 ' OR 1=1 --"}
    created = client.post(STAGES, json=hostile, headers=alice.headers).json()
    assert (created["label_ja"], created["label_en"]) == (hostile["label_ja"], hostile["label_en"])
    null = client.patch(f"{STAGES}/trial", json={"label_ja": None}, headers=alice.headers)
    assert null.status_code == 422 and null.json()["errors"][0]["field"] == "label_ja"
    missing = client.patch(f"{STAGES}/nope", json={"label_ja": "x"}, headers=alice.headers)
    assert missing.status_code == 404
    assert client.delete(f"{REASONS}/{'x' * 300}", headers=alice.headers).status_code == 404
