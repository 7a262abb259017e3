"""When the last --full run was: read out of the run reports by the store (a JSON path)."""

from __future__ import annotations

from datetime import UTC, datetime

from pmosync.sync import models
from pmosync.sync.engine import last_full_run
from pmosync.sync.store import Store


def test_the_newest_finished_full_run_counts(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        assert last_full_run(store) is None

        def run(day: int, status: str, report: dict | None, dry_run: bool = False) -> None:
            with store.session() as session:
                session.add(
                    models.Run(
                        started_at=datetime(2026, 11, day, 9, tzinfo=UTC),
                        finished_at=None,
                        status=status,
                        dry_run=dry_run,
                        report=report,
                    )
                )

        run(1, "ok", {"full": True, "plan": []})
        run(2, "ok", {"full": False})
        run(3, "failed", {"full": True})  # a failed --full run tombstoned nothing
        run(4, "ok", {"full": True}, dry_run=True)
        run(5, "ok", None)
        run(6, "partial", {"plan": []})  # no flag at all
        assert last_full_run(store) == datetime(2026, 11, 1, 9, tzinfo=UTC)
        run(7, "partial", {"full": True})
        assert last_full_run(store) == datetime(2026, 11, 7, 9, tzinfo=UTC)
    finally:
        store.close()
