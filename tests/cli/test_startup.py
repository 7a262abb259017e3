"""Commands that do not touch the store start without SQLAlchemy, alembic or the vendor
clients: those load inside the commands that need them (the start-up figure is measured with
`python -X importtime`, not here: no timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "alembic", "jira", "msal", "pyairtable", "matplotlib", "pydantic")
PROBE = """
import sys
from pmosync.cli import main
sys.argv = ["pmo-sync", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def _heavy_modules(args: list[str], heavy: tuple[str, ...] = HEAVY) -> set[str]:
    code = PROBE.format(args=args, heavy=heavy)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in done.stderr.splitlines() if x.startswith("HEAVY="))
    return {m for m in line.removeprefix("HEAVY=").split(",") if m}


def test_help_imports_nothing_heavy() -> None:
    assert _heavy_modules(["--help"]) == set()
    assert _heavy_modules(["sync", "--help"]) == set()


@pytest.mark.parametrize("command", [["config", "validate"], ["config", "schema"]])
def test_config_commands_load_no_store_and_no_vendor_client(
    command: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "pmo-sync.yaml"
    config.write_text(
        "version: 1\nconnections: {j: {kind: jira, url: 'https://x.example', token_env: T}}\n"
    )
    args = [*command, "-c", str(config)] if command[1] == "validate" else command
    # pydantic is what validating the YAML is; the store and the clients are not needed
    assert _heavy_modules(args, tuple(m for m in HEAVY if m != "pydantic")) == set()
