"""The SIGKILL campaign (issue #11; tests/reliability/campaign.py says how a trial runs).

CI kills `pmo-sync sync` three times in a row in one Airtable sandbox; set
PMOSYNC_RELIABILITY_KILLS=50 (or more) for a campaign over every emulator's sandbox. Every
trial's final state of every tool must equal an uninterrupted run's, field by field, and no
sandbox secret may appear in the logs, the reports or the store.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.reliability.campaign import TARGETS, campaign, trial, uninterrupted

KILLS = int(os.environ.get("PMOSYNC_RELIABILITY_KILLS", "3"))


def test_runs_killed_anywhere_converge_to_the_uninterrupted_state(tmp_path: Path) -> None:
    if KILLS > 3:
        trials = campaign(tmp_path, kills=KILLS)
    else:
        target = TARGETS["airtable"]
        reference = uninterrupted(target, tmp_path / "reference")
        trials = [trial(target, reference, tmp_path / "trial", seed=11, kills=KILLS)]
    assert sum(t.kills for t in trials) >= KILLS
    for result in trials:
        assert result.differences == [], (result.target, result.seed, result.differences[:20])
        assert result.leaked == [], (result.target, result.leaked)
