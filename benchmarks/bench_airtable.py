"""Airtable: our pull and sync against the bare pyairtable client, side by side in one run.

Prints ratios, not absolute times: API calls against the minimum the API allows, and our
connector's full pull time against a bare `Table.all()` loop over the same tables.

    python benchmarks/bench_airtable.py [--projects 200]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import date
from pathlib import Path

from pyairtable import Api

from pmosync.config.loader import load_config
from pmosync.connectors import get_connector
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sync.engine import SyncOptions, run_sync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=200)
    args = parser.parse_args()
    [spec] = airtable_pmo.services(projects=args.projects, today=date(2026, 11, 20))
    emulator = spec.emulator
    with tempfile.TemporaryDirectory() as tmp, Sandbox(Scenario([spec]), Path(tmp)) as sandbox:
        loaded = load_config(sandbox.config_path)
        service = sandbox.services["pmo_airtable"]
        base = airtable_pmo.BASE_ID
        tables = [t["id"] for t in emulator.schema(base)["tables"]]  # type: ignore[attr-defined]
        mapping = spec.mapping or {}
        mapped_tables = [e["table"] for e in mapping["entities"].values()]
        sizes = {t: len(emulator.records(base, t)) for t in mapped_tables}  # type: ignore[attr-defined]
        records = sum(sizes.values())

        # bare client: the same tables, same page size, same pacing limit
        api = Api(spec.credentials["token"], endpoint_url=service.url, retry_strategy=None)
        api.session.verify = str(sandbox.directory / "sandbox-ca.pem")
        api.session.trust_env = False  # an ambient REQUESTS_CA_BUNDLE must not replace verify
        # pyairtable does not pace itself; let its burst through so it measures the client alone
        emulator.configure({"rate_limit_enabled": False})  # type: ignore[attr-defined]
        started = time.perf_counter()
        for table in mapped_tables:
            api.table(base, table).all(page_size=100, use_field_ids=True)
        bare = time.perf_counter() - started
        emulator.configure({"rate_limit_enabled": True})  # type: ignore[attr-defined]

        emulator.counters.clear()
        connector = get_connector(
            "pmo_airtable",
            loaded.config.connections["pmo_airtable"],
            loaded.mappings_for("pmo_airtable"),
        )
        started = time.perf_counter()
        pulled = sum(1 for scope in connector.scopes() for _ in connector.pull(scope, None, None))
        ours = time.perf_counter() - started
        connector.close()
        minimum_pages = sum(max(1, math.ceil(n / 100)) for n in sizes.values())

        emulator.counters.clear()
        first = run_sync(loaded, SyncOptions(full=True, today=date(2026, 11, 20)))
        projects = sizes[mapping["entities"]["project"]["table"]]
        min_first = minimum_pages + math.ceil(projects / 10)
        second = run_sync(loaded, SyncOptions(today=date(2026, 11, 20)))

    print(f"records in mapped tables: {records} ({len(tables)} tables in the base)")
    rate = loaded.config.connections["pmo_airtable"].requests_per_second  # type: ignore[union-attr]
    floor = minimum_pages / rate  # what our pacing under Airtable's 5 req/s forces
    print(
        f"full pull: {pulled} records in {minimum_pages} pages + 1 schema read; ours "
        f"{ours:.2f}s, bare pyairtable (unpaced) {bare:.2f}s, pacing floor {floor:.2f}s; "
        f"ours / max(bare, floor) = {ours / max(bare, floor):.2f}"
    )
    print(
        f"first sync: {first.api_calls} API calls vs minimum {min_first} "
        f"({minimum_pages} list pages + {math.ceil(projects / 10)} upserts of 10), "
        f"+1 schema read; {first.writes_applied} writes; {first.duration_seconds:.2f}s"
    )
    print(
        f"no-op sync: {second.api_calls} API calls vs minimum {len(mapped_tables)} "
        f"(one list per table), +1 schema read; {second.writes_applied} writes; "
        f"{second.duration_seconds:.2f}s"
    )


if __name__ == "__main__":
    main()
