"""Telemetry is data, never markup: a workflow, customer, span name or price detail that
holds HTML is shown as text on every page, and kept as it was in the JSON twins."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from botanu.dashboard._charts import Bar, Line, bar_chart, line_chart, waterfall
from botanu.dashboard._format import esc, link_id, money, money_html, percent, plain

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def pages(evil):
    run = quote(evil["run_id"], safe="")
    return [
        "/",
        "/workflows",
        "/customers",
        "/tenants",
        "/runs",
        f"/runs?workflow={quote(evil['text'])}",
        f"/runs?customer={quote(evil['text'])}",
        f"/runs/{run}",
        "/unpriced",
        f"/prices?provider={quote(evil['text'])}&model={quote(evil['text'])}",
        f"/runs/{quote(evil['text'], safe='')}",  # the 404 page repeats the id
        f"/runs?limit={quote(evil['text'])}",  # the 400 page repeats the value
    ]


def test_every_page_shows_the_markup_as_text(client, pages):
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 400, 404), path
        assert ESCAPED in response.text, path
        assert "<script" not in response.text.lower(), path
        assert "alert(1)</" not in response.text, path


def test_the_run_page_escapes_every_field(client, evil):
    text = client.get(f"/runs/{quote(evil['run_id'], safe='')}").text
    # workflow, customer, tenant, event, reason, span names (table and waterfall), provider,
    # model, catalog version and detail: each one more occurrence of the escaped text
    assert text.count(ESCAPED) >= 12
    assert f"run-{ESCAPED}/x?y#z" in text


def test_the_run_list_links_quote_the_id(client, evil):
    text = client.get(f"/runs?workflow={quote(evil['text'])}").text
    href = "/runs/" + quote(evil["run_id"], safe="")
    assert f'href="{href}"' in text
    assert client.get(href).status_code == 200


def test_json_twins_keep_the_value_as_it_was(client, evil):
    detail = client.get(f"/api/runs/{quote(evil['run_id'], safe='')}").json()
    assert detail["run"]["workflow"] == evil["text"]
    assert {s["name"] for s in detail["spans"]} >= {evil["text"]}
    report = client.get("/api/report?by=customer").json()
    assert evil["text"] in {r["key"] for r in report["rows"]}


def test_esc_and_money():
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert esc(None) == ""
    assert esc(Decimal("1.500")) == "1.5"
    assert money(Decimal("0.000000000000000001")) == "$0.000000000000000001"
    assert money(Decimal("12.3400")) == "$12.34"
    assert money(Decimal("1E+2")) == "$100"
    assert money(Decimal("0E-18")) == "$0"
    assert money(None) == "unpriced"
    assert money(Decimal("2.5"), "EUR") == "2.5 EUR"
    assert money_html(Decimal("1"), "<b>") == "1 &lt;b&gt;"
    assert "unpriced" in money_html(None)
    assert percent(Decimal(5) / Decimal(6)) == "83.3%"
    assert percent(None) == "-"
    assert link_id("a/b?c#d e") == "a%2Fb%3Fc%23d%20e"
    assert plain({"a": Decimal("1.10"), "b": [Decimal("2E+1")]}) == {"a": "1.1", "b": ["20"]}


def test_charts_escape_labels_and_size_bars_from_the_data():
    svg = bar_chart(
        "<t>",
        [
            Bar("<b>", Decimal(4), "$4", part=Decimal(1)),
            Bar("small", Decimal(1), "$1"),
        ],
    )
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert "&lt;t&gt;" in svg
    assert 'width="380.00"' in svg  # the largest bar fills the plot
    assert 'width="95.00"' in svg  # a quarter of it, and a quarter red for the part
    assert svg.count('<rect class="bar"') == 2
    assert svg.count('<rect class="bar part"') == 1
    line = line_chart(
        "x",
        [Line("<w>", [(datetime(2025, 1, d), Decimal(d)) for d in (1, 2)])],
        "day",
        "y",
    )
    assert '<path class="line" d="M' in line
    assert "&lt;w&gt;" in line
    fall = waterfall(
        "w",
        [
            {
                "span_id": "a",
                "parent_span_id": None,
                "name": "<run>",
                "start_ns": 0,
                "end_ns": 100,
                "category": "other",
                "is_run_span": True,
            },
            {
                "span_id": "b",
                "parent_span_id": "a",
                "name": "child",
                "start_ns": 50,
                "end_ns": 100,
                "category": "llm",
                "is_run_span": False,
            },
        ],
    )
    assert 'x="260.00" y="27" width="520.00"' in fall
    assert 'x="520.00" y="49" width="260.00"' in fall
    assert "&lt;run&gt;" in fall
