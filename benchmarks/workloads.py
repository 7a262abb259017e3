"""The two workloads that are not a sync: CPM at portfolio scale and a paced Airtable push."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from bench_cpm import START, network

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.cpm import compute_schedule

AIRTABLE_BATCH = 10  # records per create/update request: https://airtable.com/developers/web/api/update-multiple-records
AIRTABLE_RATE = (
    5.0  # requests per second per base: https://airtable.com/developers/web/api/rate-limits
)


def cpm(tasks: int, links: int, projects: int = 50, seed: int = 7) -> dict[str, Any]:
    """compute_schedule over bench_cpm's seeded network: wall and CPU seconds."""
    network_tasks, network_links = network(tasks, links, projects, seed)
    started, started_cpu = time.perf_counter(), time.process_time()
    compute_schedule(
        network_tasks, network_links, default_calendar=standard_calendar(), project_start=START
    )
    return {
        "tasks": tasks,
        "links": links,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - started_cpu,
    }


def airtable_push(config: Path, name: str, updates: int) -> dict[str, Any]:
    """``updates`` name edits pushed through our Airtable connector at the real limits (the
    emulator's 5 requests/s per base with its 30 s lock-out, the connection's pacing as the
    benchmark configured it): wall, 429s, requests, against the floor updates / 10 / 5 s."""
    from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite, PulledRecord
    from pmosync.config.loader import load_config
    from pmosync.connectors import get_connector

    loaded = load_config(config)
    connector: Any = get_connector(name, loaded.config.connections[name], loaded.mappings_for(name))
    try:
        targets: list[PulledRecord] = []
        for scope in connector.scopes():
            if scope.entity_type not in (EntityType.MILESTONE, EntityType.RAID_ITEM):
                continue
            targets += [r for r in connector.pull(scope, None, None) if isinstance(r, PulledRecord)]
        if not targets:
            raise RuntimeError("the Airtable base has no milestones or risks to update")
        writes = []
        for index in range(updates):
            record = targets[index % len(targets)]
            name_now = str(record.values.get("name") or "")
            writes.append(
                PlannedWrite(
                    connection=name,
                    entity_type=record.ref.entity_type,
                    canonical_id=record.pmo_id or f"bench-push-{index % len(targets)}",
                    op="update",
                    changes=[FieldChange("name", name_now, f"{name_now} #{index}", "benchmark")],
                    external_id=record.ref.external_id,
                )
            )
        before = connector.adapter.stats.requests
        before_429 = connector.adapter.stats.by_status[429]
        started = time.perf_counter()
        results = connector.push(writes)
        seconds = time.perf_counter() - started
        stats = connector.adapter.stats
    finally:
        connector.close()
    floor = math.ceil(updates / AIRTABLE_BATCH) / AIRTABLE_RATE
    return {
        "updates": updates,
        "written": sum(1 for r in results if r.ok),
        "requests": stats.requests - before,
        "http_429": stats.by_status[429] - before_429,
        "seconds": seconds,
        "floor_seconds": floor,
    }
