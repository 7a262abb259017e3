"""The HTML roadmap used as a director would: hover a bar, a diamond and an arrow for
details, untick a RAG, pick a programme, pick a tool. Driven through Playwright on Debian's
chromium (no browser download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pmosync.reports.outputs import write_roadmap

from .conftest import STATUS_DATE, Seed, chromium_binary


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_binary(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def roadmap_page(
    seeded: Seed, tmp_path: Path, browser: Browser
) -> Iterator[tuple[Page, list[str]]]:
    [html] = write_roadmap(seeded.data(), STATUS_DATE, tmp_path, {"html"})
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(html.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    yield page, problems
    page.close()


def _hover_bar(page: Page, project_id: str) -> None:
    """Move onto the bar just right of its RAG letter (its middle may hold a diamond)."""
    box = page.locator(f"g.proj[data-project='{project_id}'] rect.bar").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 25, box["y"] + box["height"] / 2)


def _shown(page: Page) -> set[str]:
    labels = page.eval_on_selector_all("g.proj text.bar-label", "ts => ts.map(t => t.textContent)")
    return set(labels)


def test_hover_shows_the_details(roadmap_page: tuple[Page, list[str]], seeded: Seed) -> None:
    page, problems = roadmap_page
    _hover_bar(page, seeded.ids["alpha"])
    tip = page.locator("#tip")
    assert tip.is_visible()
    text = tip.inner_text()
    assert text.startswith("ALP · Alpha Platform")
    assert "RAG Amber (computed Amber, entered Green)" in text
    assert "Forecast 1 Sep 2026 – 9 Apr 2027" in text
    assert "Baseline 1 Sep 2026 – 19 Mar 2027, finish +15 working days" in text
    assert "From delivery_jira, plans_pwa" in text
    page.hover(".diamond >> nth=1")
    assert "Baseline 19 Mar 2027 (+8 working days)" in tip.inner_text()
    page.mouse.move(5, 5)
    assert not tip.is_visible()
    _hover_bar(page, seeded.ids["hostile"])
    assert "<script>alert('x')</script>" in tip.inner_text()  # shown as text, not run
    assert problems == []


def test_filters_hide_and_compact(roadmap_page: tuple[Page, list[str]]) -> None:
    page, problems = roadmap_page
    everything = _shown(page)
    assert len(everything) == 4
    page.uncheck(".f-rag[value='G']")
    shown = _shown(page)
    assert {s.split(" · ")[0] for s in shown} == {"ALP", "BET"}
    assert page.inner_text("#count") == "2 of 4 projects shown"
    page.check(".f-rag[value='G']")
    page.select_option("#f-programme", label="Operations")
    assert {s.split(" · ")[0] for s in _shown(page)} == {"GAM"}
    page.select_option("#f-programme", label="All programmes")
    page.select_option("#f-tool", "plans_pwa")
    assert {s.split(" · ")[0] for s in _shown(page)} == {"ALP", "BET"}
    page.select_option("#f-arrows", "none")
    assert page.locator("path.arrow").count() == 0
    page.select_option("#f-arrows", "all")
    assert page.locator("path.arrow").count() == 1  # ALP → BET (GAM is filtered out)
    assert problems == []
