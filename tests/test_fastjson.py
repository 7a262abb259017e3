"""The hot-path JSON encoder: exact for everything the standard library encodes, stable hashes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from pmosync.canonical_model import content_hash
from pmosync.fastjson import dumps
from pmosync.sync import models
from pmosync.sync.store import Store, utcnow

AWKWARD = {
    "big": 10**30,  # past 64 bits: orjson refuses it, the fallback keeps it exact
    "text": "Zürich – 東京 \u2028",
    "nested": {"b": [1, 2.5, None, True], "a": {"z": "", "y": []}},
    "amount": Decimal("1234.50"),
}


def test_what_json_encodes_comes_back_equal() -> None:
    for value in (AWKWARD, {"n": -(2**63)}, [1, "x", {"k": None}], "plain", 3.25):
        expected = json.loads(json.dumps(value, default=str))
        assert json.loads(dumps(value)) == expected


def test_sorted_output_ignores_insertion_order_and_set_order() -> None:
    one = {"b": 1, "a": {"y": 2, "x": 1}, "tags": {"red", "blue", "green"}}
    two = {"a": {"x": 1, "y": 2}, "tags": {"green", "red", "blue"}, "b": 1}
    assert dumps(one, sort_keys=True) == dumps(two, sort_keys=True)
    assert content_hash(one) == content_hash(two)
    assert content_hash(one) != content_hash({**one, "b": 2})
    assert dumps({"d": date(2026, 12, 2)}) == '{"d":"2026-12-02"}'


def test_the_store_round_trips_values_exactly(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        with store.session() as session:
            session.add(
                models.Entity(
                    id="e1",
                    entity_type="project",
                    values=AWKWARD | {"amount": "1234.50"},
                    updated_at=utcnow(),
                )
            )
        with store.sessions() as session:
            values = session.scalar(select(models.Entity.values).where(models.Entity.id == "e1"))
        assert values == AWKWARD | {"amount": "1234.50"}
        assert values["big"] == 10**30 and isinstance(values["big"], int)
    finally:
        store.close()
