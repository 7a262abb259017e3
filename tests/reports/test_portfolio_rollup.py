"""The portfolio figure in the pack: a tool's portfolio record, else the run's own roll-up."""

from __future__ import annotations

from sqlalchemy import select

from pmosync.reports.roadmap_build import roadmap_from_data
from pmosync.reports.tables import portfolio_summary
from pmosync.sync import models

from .conftest import STATUS_DATE, Seed


def _portfolio_rag(seed: Seed, programme: str | None = None) -> object:
    data = seed.data(programme)
    rows = dict(portfolio_summary(data, roadmap_from_data(data, STATUS_DATE), STATUS_DATE))
    return rows["Portfolio RAG"]


def test_without_a_portfolio_record_the_runs_rollup_is_shown(seeded: Seed) -> None:
    assert _portfolio_rag(seeded) == "not computed"  # no record, no roll-up in the run
    with seeded.store.session() as session:
        run = session.scalars(select(models.Run).order_by(models.Run.id.desc())).first()
        assert run is not None
        run.report = {
            **(run.report or {}),
            "rollups": {"portfolio": {"rag_computed": "A", "pmo_status": "1 of 2 amber"}},
        }
    assert _portfolio_rag(seeded) == "Amber"
    data = seeded.data()
    assert data.portfolio_values()["pmo_status"] == "1 of 2 amber"
    # a report filtered to one programme has no portfolio figure to show
    programme = next(iter(data.of("programme").values()))
    assert _portfolio_rag(seeded, programme.get("name")) == "not computed"
