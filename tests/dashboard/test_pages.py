"""The dashboard in process: every page is HTML, every JSON twin carries the CLI's numbers,
a run page shows its cost lines, and nothing but GET and HEAD is served."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

PAGES = ["/", "/workflows", "/customers", "/tenants", "/runs", "/unpriced", "/prices"]
TWINS = [
    "/api/overview",
    "/api/report",
    "/api/runs",
    "/api/unpriced",
    "/api/prices?provider=openai&model=gpt-4o-mini",
]


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def run_ids(client):
    return [r["run_id"] for r in client.get("/api/runs?limit=1000").json()["runs"]]


def run_url(run_id, api=False):
    return f"{'/api' if api else ''}/runs/{quote(run_id, safe='')}"


@pytest.mark.parametrize("path", [*PAGES, "/prices?provider=openai&model=gpt-4o-mini"])
def test_every_page_is_html_with_the_nav_bar(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!doctype html>")
    for href in PAGES:
        assert f'href="{href}"' in response.text
    assert "<script" not in response.text.lower()  # nothing to run, nothing from outside
    assert "http://" not in response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/workflows", "/customers", "/tenants"])
def test_chart_pages_draw_svg_from_the_data(client, path):
    text = client.get(path).text
    assert '<svg class="chart"' in text
    assert '<rect class="bar"' in text or '<path class="line"' in text


@pytest.mark.parametrize("by", ["workflow", "customer", "tenant", "value_type"])
def test_report_twin_is_exactly_the_cli_report(client, botanu_cli, by):
    expected = botanu_cli("report", "--by", by, "--json")
    assert client.get(f"/api/report?by={by}").json() == expected


def test_report_twin_defaults_to_workflow_and_rejects_unknown_dimensions(client, botanu_cli):
    assert client.get("/api/report").json() == botanu_cli("report", "--json")
    response = client.get("/api/report?by=nope")
    assert response.status_code == 400
    assert "workflow" in response.json()["error"]


def test_report_pages_show_the_report_figures(client, botanu_cli):
    for page, by in (
        ("/workflows", "workflow"),
        ("/customers", "customer"),
        ("/tenants", "tenant"),
    ):
        text = client.get(page).text
        for row in botanu_cli("report", "--by", by, "--json")["rows"]:
            assert f"${row['total_cost']}" in text
            assert f"${row['wasted_cost']}" in text
            if row["cost_per_success"] is not None:
                assert f"${row['cost_per_success']}" in text


def test_overview_twin_adds_up_to_the_cli_report(client, botanu_cli):
    report = botanu_cli("report", "--json")["rows"]
    overview = client.get("/api/overview").json()
    assert overview["workflows"] == report
    total = sum(Decimal(r["total_cost"]) for r in report)
    assert Decimal(overview["total_cost"]) == total
    assert Decimal(overview["wasted_cost"]) == sum(Decimal(r["wasted_cost"]) for r in report)
    assert overview["events"] == sum(r["events"] for r in report)
    successes = sum(r["priced_successes"] for r in report)  # events of known cost only
    assert Decimal(overview["cost_per_success"]) == total / successes
    (unpriced,) = botanu_cli(
        "sql", "SELECT count(*) AS n FROM cost_lines WHERE source = 'unpriced'", "--json"
    )
    assert overview["unpriced_spans"] == unpriced["n"] > 0
    # the series adds up to the same total, bucket by bucket
    series_total = sum(Decimal(p["total_cost"]) for s in overview["series"] for p in s["points"])
    assert series_total == total
    assert overview["bucket"] == "hour"  # the demo spans seconds
    html = client.get("/").text
    assert f'data-figure="total_cost">${overview["total_cost"]}<' in html


HINT = "no values set: botanu value set VALUE_TYPE AMOUNT"


def test_report_twin_gives_value_and_roi_as_computed_by_hand(client, botanu_cli, store):
    per_unit = dict(store.query("SELECT value_type, value_per_unit FROM valuations").rows)
    assert per_unit == {"tickets_resolved": 4, "orders_fulfilled": 12}  # the demo's values
    hand = {}
    events = "SELECT workflow, final_outcome, final_value_type, final_value_amount, total_cost"
    for e in botanu_cli("sql", f"{events} FROM events", "--json"):
        if e["total_cost"] is None:
            continue  # the report covers fully priced events only
        value, cost = hand.get(e["workflow"], (Decimal(0), Decimal(0)))
        if e["final_outcome"] in ("success", "partial"):  # failures deliver nothing
            value += Decimal(str(e["final_value_amount"])) * per_unit[e["final_value_type"]]
        hand[e["workflow"]] = (value, cost + Decimal(str(e["total_cost"])))
    rows = {r["key"]: r for r in client.get("/api/report").json()["rows"]}
    assert Decimal(rows["resolve-ticket"]["value_delivered"]) == hand["resolve-ticket"][0] > 0
    for workflow, (value, cost) in hand.items():
        assert Decimal(rows[workflow]["value_delivered"]) == value
        assert Decimal(rows[workflow]["roi"]) == (value - cost) / cost
    overview = client.get("/api/overview").json()
    value = sum(v for v, _ in hand.values())
    cost = sum(c for _, c in hand.values())
    assert Decimal(overview["value_delivered"]) == value
    assert Decimal(overview["roi"]) == (value - cost) / cost
    assert f'data-figure="value_delivered">${overview["value_delivered"]}<' in client.get("/").text
    text = client.get("/workflows").text
    assert f"${rows['resolve-ticket']['value_delivered']}" in text
    assert "ROI" in text
    assert HINT not in text


def test_pages_say_how_to_add_values_when_none_are_set(client, store):
    kept = store.query("SELECT value_type, value_per_unit, currency FROM valuations").rows
    for value_type, _, _ in kept:
        store._store.unset_valuation(value_type)
    try:
        for page in ("/", "/workflows", "/customers", "/tenants"):
            assert HINT in client.get(page).text
        for by in ("workflow", "customer", "tenant"):
            rows = client.get(f"/api/report?by={by}").json()["rows"]
            assert all(r["value_delivered"] is None and r["roi"] is None for r in rows)
        overview = client.get("/api/overview").json()
        assert (overview["value_delivered"], overview["roi"]) == (None, None)
    finally:
        for row in kept:
            store._store.set_valuation(*row)


def test_runs_twin_carries_the_cli_runs(client, botanu_cli):
    expected = botanu_cli("runs", "--limit", "1000", "--json")
    runs = client.get("/api/runs?limit=1000").json()["runs"]
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in expected]
    for mine, theirs in zip(runs, expected, strict=True):
        assert {k: mine[k] for k in theirs} == theirs


def test_runs_filters(client, botanu_cli):
    runs = client.get("/api/runs?workflow=resolve-ticket&limit=5").json()["runs"]
    assert len(runs) == 5
    assert {r["workflow"] for r in runs} == {"resolve-ticket"}
    expected = botanu_cli("runs", "--workflow", "resolve-ticket", "--limit", "5", "--json")
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in expected]
    failed = client.get("/api/runs?outcome=failed&limit=1000").json()["runs"]
    assert failed
    assert {r["outcome_status"] for r in failed} == {"failed"}
    acme = client.get("/api/runs?customer=acme&outcome=success").json()
    assert acme["filters"] == {
        "workflow": None,
        "customer": "acme",
        "outcome": "success",
        "limit": 50,
    }
    assert {(r["customer_id"], r["outcome_status"]) for r in acme["runs"]} == {("acme", "success")}
    starts = [r["started_at"] for r in client.get("/api/runs?limit=1000").json()["runs"]]
    assert starts == sorted(starts, reverse=True)  # newest first
    page = client.get("/runs?workflow=resolve-ticket&limit=5").text
    for run in runs:
        assert f'href="{run_url(run["run_id"])}"' in page
    assert '<option value="resolve-ticket" selected>' in page
    for bad in ("limit=0", "limit=1001", "limit=ten"):
        assert client.get(f"/api/runs?{bad}").status_code == 400
        assert client.get(f"/runs?{bad}").status_code == 400


def test_run_page_shows_its_cost_lines_and_waterfall(client, botanu_cli, run_ids):
    (run,) = botanu_cli(
        "sql",
        "SELECT run_id, count(*) AS n FROM cost_lines JOIN spans USING (trace_id, span_id) "
        "WHERE run_id NOT LIKE 'run-%' GROUP BY run_id ORDER BY n DESC, run_id LIMIT 1",
        "--json",
    )
    lines = botanu_cli(
        "sql",
        "SELECT c.* FROM cost_lines c JOIN spans s USING (trace_id, span_id) "
        f"WHERE s.run_id = '{run['run_id']}'",
        "--json",
    )
    detail = client.get(run_url(run["run_id"], api=True)).json()
    assert detail["run"]["run_id"] == run["run_id"]
    assert len(detail["cost_lines"]) == run["n"] == len(lines)
    by_span = {line["span_id"]: line for line in lines}
    for line in detail["cost_lines"]:
        theirs = by_span[line["span_id"]]
        for key in ("amount", "currency", "source", "catalog_version", "matched_model", "detail"):
            assert line[key] == theirs[key]
    total = sum(Decimal(line["amount"]) for line in lines if line["amount"] is not None)
    assert Decimal(detail["run"]["total_cost"]) == total
    page = client.get(run_url(run["run_id"]))
    assert page.status_code == 200
    for line in lines:
        shown = "unpriced" if line["amount"] is None else f"${line['amount']}"
        assert shown in page.text
        assert line["source"] in page.text
    assert (
        page.text.count('<rect class="bar span"') == len(detail["spans"]) == detail["run"]["spans"]
    )
    for span in detail["spans"]:
        assert span["name"] in page.text
    assert run["run_id"] in run_ids


def test_unpriced_is_shown_as_unpriced_never_zero(client, evil):
    detail = client.get(run_url(evil["run_id"], api=True)).json()
    amounts = {line["source"]: line["amount"] for line in detail["cost_lines"]}
    assert amounts == {"rate_card": format(evil["amount"], "f"), "unpriced": None}
    page = client.get(run_url(evil["run_id"])).text
    assert '<span class="unpriced">unpriced</span>' in page
    assert f"${evil['amount']}" in page  # every digit, not rounded
    assert "$0<" not in page


def test_unknown_run_is_a_404(client):
    response = client.get("/runs/no-such-run")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no-such-run" in response.text
    api = client.get("/api/runs/no-such-run")
    assert api.status_code == 404
    assert "no-such-run" in api.json()["error"]
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/api/no-such-thing").json() == {"error": "Not Found"}


@pytest.mark.parametrize(
    "path", [*PAGES, *TWINS, "/runs/x", "/api/runs/x", "/api/report?by=tenant"]
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head_are_served(client, path, method):
    response = client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


@pytest.mark.parametrize("path", PAGES)
def test_head_answers_like_get_without_a_body(client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.content == b""


def test_unpriced_twin_is_the_unpriced_view(client, botanu_cli):
    expected = botanu_cli("sql", "SELECT * FROM unpriced", "--json")
    rows = client.get("/api/unpriced").json()["rows"]
    key = lambda r: (r["category"], r["provider"] or "", r["model"] or "", r["detail"] or "")  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key)
    page = client.get("/unpriced").text
    for row in expected:
        if row["model"] and "<" not in row["model"]:
            assert row["model"] in page


def test_prices_twin_is_the_cli_explanation(client, botanu_cli):
    expected = botanu_cli("prices", "gpt-4o-mini", "--provider", "openai", "--json")
    answer = client.get("/api/prices?provider=openai&model=gpt-4o-mini").json()
    assert answer["rows"] == expected
    dated = botanu_cli(
        "prices", "gpt-4o-mini", "--provider", "openai", "--at", "2025-01-15", "--json"
    )
    answer = client.get("/api/prices?provider=openai&model=gpt-4o-mini&at=2025-01-15").json()
    assert answer["rows"] == dated
    page = client.get("/prices?provider=openai&model=gpt-4o-mini").text
    for row in expected:
        assert row["usage"] in page
        if row["per_million_tokens"] is not None:
            assert f"${row['per_million_tokens']}" in page
    assert "per million tokens" in client.get("/prices").text.lower()
    assert client.get("/api/prices?provider=openai").status_code == 400
    assert client.get("/api/prices?provider=openai&model=x&at=yesterday").status_code == 400
    assert client.get("/prices?provider=openai&model=x&at=yesterday").status_code == 400


def test_prices_twin_shows_each_context_tier_as_the_cli_does(client, botanu_cli):
    args = ("claude-sonnet-4-5", "--provider", "anthropic", "--at", "2026-11-02")
    expected = botanu_cli("prices", *args, "--json")
    query = "provider=anthropic&model=claude-sonnet-4-5&at=2026-11-02"
    assert client.get(f"/api/prices?{query}").json()["rows"] == expected
    assert {r["tier"] for r in expected} == {"base", "prompts over 200k tokens"}
    page = client.get(f"/prices?{query}").text
    for row in expected:
        assert row["usage"] in page
    # the base tier first, then the tier over 200k prompt tokens
    assert page.index("$15<") < page.index("input, prompts over 200k tokens")
    assert "$22.5<" in page


def test_prices_of_an_unknown_model_are_unpriced(client):
    rows = client.get("/api/prices?provider=nobody&model=nothing").json()["rows"]
    assert {r["per_million_tokens"] for r in rows} == {None}
    assert "unpriced" in client.get("/prices?provider=nobody&model=nothing").text


def test_import_botanu_loads_no_web_library():
    code = (
        "import sys, botanu, botanu.engine.store, botanu.engine.costing; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'starlette', 'botanu.dashboard', 'uvicorn'} or m.startswith('botanu.dashboard')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
