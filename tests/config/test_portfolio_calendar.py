"""The portfolio calendar: config keys, their errors (file:line › key), and the WorkCalendar."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import main
from pmosync.config.calendar import portfolio_work_calendar
from pmosync.config.loader import load_config
from pmosync.config.models import PortfolioConfig
from pmosync.errors import ConfigError

CONFIG = """\
version: 1
portfolio:
  name: Contoso
  timezone: Europe/London
  holiday_region: {region}
  working_days: {days}
  working_hours: {hours}
connections:
  pmo:
    kind: airtable
    base_id: appABCDEFGHIJKLMN
    token_env: AIRTABLE_TOKEN
"""


def _write(tmp_path: Path, region: str = "GB-ENG", days: str = "[mon, tue, wed, thu, fri]",
           hours: str = '"09:00-17:00"') -> Path:  # fmt: skip
    path = tmp_path / "pmo-sync.yaml"
    path.write_text(CONFIG.format(region=region, days=days, hours=hours))
    return path


def test_the_portfolio_calendar_loads_and_becomes_a_work_calendar(tmp_path: Path) -> None:
    portfolio = load_config(_write(tmp_path)).config.portfolio
    assert portfolio.working_hours == ("09:00-17:00",)
    calendar = portfolio_work_calendar(portfolio, [2026, 2027])
    assert calendar.minutes_per_day == 480 and calendar.minutes_per_week == 2400
    assert calendar.week[0] == ((540, 1020),) and calendar.week[5] == ()
    # Christmas and Boxing Day 2026 (a Friday and the substitute Monday) are not working days
    assert calendar.exceptions[date(2026, 12, 25)] == ()
    assert calendar.exceptions[date(2026, 12, 28)] == ()
    # five days of work from Thursday 24 December: 24, 29, 30, 31 December and 4 January
    # (25 and 28 December and 1 January are holidays in England)
    assert calendar.add_work(datetime(2026, 12, 24, 9, 0), 5 * 480) == datetime(2027, 1, 4, 17)


def test_custom_week_and_split_hours(tmp_path: Path) -> None:
    path = _write(tmp_path, region="null", days="[Sunday, mon, tue, wed, thu]",
                  hours='["08:00-12:00", "12:30-16:30"]')  # fmt: skip
    portfolio = load_config(path).config.portfolio
    assert portfolio.working_days == ("sun", "mon", "tue", "wed", "thu")
    calendar = portfolio_work_calendar(portfolio, [2026])
    assert calendar.week[6] == ((480, 720), (750, 990)) and calendar.week[4] == ()
    assert calendar.minutes_per_day == 480 and not calendar.exceptions


@pytest.mark.parametrize(
    ("region", "days", "hours", "key", "words"),
    [
        ("XX-YY", "[mon]", '"09:00-17:00"', "portfolio.holiday_region", "list_supported"),
        ("GB-ENG", "[mon, funday]", '"09:00-17:00"', "portfolio.working_days", "mon"),
        ("GB-ENG", "[mon, mon]", '"09:00-17:00"', "portfolio.working_days", "twice"),
        ("GB-ENG", "[mon]", '"17:00-09:00"', "portfolio.working_hours", "start before end"),
        ("GB-ENG", "[mon]", '["09:00-13:00", "12:00-17:00"]', "portfolio.working_hours", "overlap"),
        ("GB-ENG", "[mon]", '"nine to five"', "portfolio.working_hours", "09:00-17:00"),
    ],
)
def test_mistakes_name_the_file_line_and_key(
    tmp_path: Path, region: str, days: str, hours: str, key: str, words: str
) -> None:
    path = _write(tmp_path, region=region, days=days, hours=hours)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    [problem] = err.value.problems
    line = {"portfolio.holiday_region": 5, "portfolio.working_days": 6}.get(key, 7)
    assert problem.startswith(f"{path}:{line} › {key}"), problem
    assert words in problem, problem


def test_defaults_are_ms_projects_standard_week_and_the_schema_shows_the_keys() -> None:
    calendar = portfolio_work_calendar(PortfolioConfig(), [2026])
    assert calendar.week[0] == ((480, 720), (780, 1020)) and calendar.week[6] == ()
    assert calendar.minutes_per_day == 480 and not calendar.exceptions
    schema = json.loads(CliRunner().invoke(main, ["config", "schema"]).output)
    text = json.dumps(schema)
    assert "working_days" in text and "working_hours" in text and "holiday_region" in text
