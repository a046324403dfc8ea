"""The dashboard as a person sees it: a real uvicorn server on 127.0.0.1 and Debian's
Chromium driven by Playwright. Every page loads without a console error, every chart is
drawn, the overview's total equals the CLI's report, and telemetry holding `<script>` is
shown as text. One screenshot per page goes to $BOTANU_ARTIFACTS (else a temporary folder).

Needs /usr/bin/chromium (`apt-get install chromium`) and the `playwright` package; CI
installs both, so a missing one fails here rather than skipping.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART_PAGES = {
    "overview": "/",
    "workflows": "/workflows",
    "customers": "/customers",
    "tenants": "/tenants",
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app):
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="dashboard-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=20)
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    folder = Path(os.environ.get("BOTANU_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def pages(evil):
    run = quote(evil["run_id"], safe="")
    return {
        **CHART_PAGES,
        "runs": "/runs",
        "run": f"/runs/{run}",
        "unpriced": "/unpriced",
        "prices": "/prices?provider=openai&model=gpt-4o-mini",
    }


def _visit(browser, url, screenshot=None):
    """Load a page; returns (page, context, console errors and page errors seen)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url, wait_until="load")
    assert response is not None
    assert response.status == 200, (url, response.status)
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=True)
    return page, context, errors


def _chart_boxes(page):
    """The size of every drawn bar and line in `svg.chart` elements."""
    return page.eval_on_selector_all(
        "svg.chart rect.bar, svg.chart path.line",
        "els => els.map(e => { const b = e.getBBox(); return [b.width, b.height]; })",
    )


def test_every_page_loads_clean_and_draws_its_charts(browser, server, pages, artifacts):
    for name, path in pages.items():
        page, context, errors = _visit(browser, server + path, artifacts / f"{name}.png")
        try:
            assert errors == [], (path, errors)
            requests = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
            assert [u for u in requests if not u.startswith(server)] == [], path
            assert page.locator("nav a").count() == 7
            if name in CHART_PAGES or name == "run":
                assert page.locator("svg.chart").count() >= 1, path
                boxes = _chart_boxes(page)
                assert any(w > 0 and h > 0 for w, h in boxes), (path, boxes)
                assert any(w > 1 for w, _ in boxes), (path, boxes)
        finally:
            context.close()
        assert (artifacts / f"{name}.png").stat().st_size > 1000


def test_overview_total_is_the_cli_report_total(browser, server, botanu_cli):
    report = botanu_cli("report", "--by", "workflow", "--json")
    expected = sum((Decimal(r["total_cost"]) for r in report["rows"]), Decimal(0))
    page, context, errors = _visit(browser, server + "/")
    try:
        shown = page.inner_text('[data-figure="total_cost"]').strip()
        assert shown.startswith("$")
        assert Decimal(shown[1:]) == expected
        assert shown == f"${format(expected.normalize(), 'f')}"  # every digit
        assert errors == []
    finally:
        context.close()


def test_telemetry_markup_is_shown_as_text(browser, server, pages, evil):
    for path in (pages["run"], "/workflows", "/customers", "/runs", "/"):
        page, context, errors = _visit(browser, server + path)
        try:
            assert evil["text"] in page.inner_text("body"), path
            scripts = page.eval_on_selector_all("script", "els => els.map(e => e.outerHTML)")
            assert scripts == [], path
            assert errors == [], (path, errors)
        finally:
            context.close()


def test_a_dialog_never_opens(browser, server, pages):
    page, context, _ = _visit(browser, server + pages["run"])
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.reload(wait_until="load")
        page.wait_for_timeout(200)
        assert dialogs == []
    finally:
        context.close()


def test_the_runs_filter_form_and_links_work(browser, server):
    page, context, errors = _visit(browser, server + "/runs")
    try:
        page.select_option('select[name="workflow"]', "fulfill-order")
        page.fill('input[name="limit"]', "3")
        page.click('button[type="submit"]')
        page.wait_for_load_state("load")
        assert "workflow=fulfill-order" in page.url
        rows = page.locator("tbody tr")
        assert rows.count() == 3
        page.locator("tbody tr a").first.click()
        page.wait_for_load_state("load")
        assert "/runs/" in page.url
        assert page.locator("h2", has_text="Cost lines").count() == 1
        assert "fulfill-order" in page.inner_text("dl.header")
        assert errors == []
    finally:
        context.close()
