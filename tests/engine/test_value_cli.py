"""`botanu value`: what a unit of an outcome is worth, set on a store file or through the
`botanu serve` that holds it, read back by the seed's ROI query."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal, localcontext

import pytest
from click.testing import CliRunner
from tests.serve.conftest import Server

from botanu.cli import cli

pytestmark = pytest.mark.slow  # runs the demo in a process, and botanu serve

ROI = """
SELECT
    workflow,
    SUM(outcome_value_amount * value_per_unit) as total_value,
    SUM(total_cost) as total_cost,
    (SUM(outcome_value_amount * value_per_unit) - SUM(total_cost)) / SUM(total_cost) as roi
FROM runs
GROUP BY workflow;
"""


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo's store: tickets and orders with value amounts (and the demo's values)."""
    folder = tmp_path_factory.mktemp("value")
    subprocess.run(
        [sys.executable, "-m", "botanu.cli", "--store", str(folder / "s.duckdb"), "demo"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / "s.duckdb"


def botanu(store, *args, ok=True):
    result = CliRunner().invoke(cli, ["--store", str(store), *args])
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def values(store):
    return {
        row["value_type"]: (Decimal(str(row["value_per_unit"])), row["currency"])
        for row in json.loads(botanu(store, "value", "list", "--json"))
    }


def roi(store):
    rows = json.loads(botanu(store, "sql", ROI, "--json"))
    return {row["workflow"]: row for row in rows}


def by_hand(store, workflow, per_unit):
    """Value and cost of a workflow's runs, summed here from the runs themselves."""
    sql = f"SELECT outcome_value_amount, total_cost FROM runs WHERE workflow = '{workflow}'"
    rows = json.loads(botanu(store, "sql", sql, "--json"))
    value = sum(Decimal(str(r["outcome_value_amount"] or 0)) * per_unit for r in rows)
    cost = sum(Decimal(str(r["total_cost"] or 0)) for r in rows)
    return value, cost


def test_set_list_unset_on_a_store_file(demo_store):
    assert values(demo_store)["tickets_resolved"] == (Decimal("4"), "USD")
    botanu(demo_store, "value", "set", "tickets_resolved", "9.50", "--currency", "USD")
    assert values(demo_store)["tickets_resolved"] == (Decimal("9.5"), "USD")
    figures = roi(demo_store)["resolve-ticket"]
    value, cost = by_hand(demo_store, "resolve-ticket", Decimal("9.5"))
    assert Decimal(str(figures["total_value"])) == pytest.approx(value)
    assert Decimal(str(figures["roi"])) == pytest.approx((value - cost) / cost)

    botanu(demo_store, "value", "unset", "tickets_resolved")
    assert "tickets_resolved" not in values(demo_store)
    assert roi(demo_store)["resolve-ticket"]["total_value"] is None
    assert "no value is set" in botanu(demo_store, "value", "unset", "tickets_resolved", ok=False)
    botanu(demo_store, "value", "set", "tickets_resolved", "4.00")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["../etc", "1"], "value type"),
        (["tickets_resolved", "lots"], "not a number"),
        (["--", "tickets_resolved", "-1"], "from 0"),
        (["tickets_resolved", "1E+999999999"], "from 0"),
        (["tickets_resolved", "1", "--currency", "dollars"], "three-letter"),
    ],
)
def test_a_bad_value_is_a_clear_error(demo_store, args, problem):
    assert problem in botanu(demo_store, "value", "set", *args, ok=False)
    assert values(demo_store)["tickets_resolved"] == (Decimal("4"), "USD")


def test_a_valuations_file_is_set_whole_or_not_at_all(demo_store, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("valuations:\n  orders_fulfilled: 30\n  tickets_resolved: lots\n")
    assert "tickets_resolved" in botanu(demo_store, "value", "load", str(bad), ok=False)
    assert values(demo_store)["orders_fulfilled"] == (Decimal("12"), "USD")

    good = tmp_path / "good.yaml"
    good.write_text(
        "valuations:\n  orders_fulfilled: 30\n  tickets_resolved: {amount: 5.25, currency: EUR}\n"
    )
    assert "2 values set" in botanu(demo_store, "value", "load", str(good))
    assert values(demo_store)["orders_fulfilled"] == (Decimal("30"), "USD")
    assert values(demo_store)["tickets_resolved"] == (Decimal("5.25"), "EUR")
    botanu(demo_store, "value", "set", "tickets_resolved", "4.00")
    botanu(demo_store, "value", "set", "orders_fulfilled", "12.00")


def test_values_are_set_through_a_running_server(demo_store):
    server = Server(demo_store).start()
    try:
        botanu(demo_store, "value", "set", "orders_fulfilled", "20")
        assert values(demo_store)["orders_fulfilled"] == (Decimal("20"), "USD")
        figures = roi(demo_store)["fulfill-order"]
        value, _ = by_hand(demo_store, "fulfill-order", Decimal("20"))
        assert Decimal(str(figures["total_value"])) == pytest.approx(value)
        refused = botanu(demo_store, "value", "set", "--", "orders_fulfilled", "-3", ok=False)
        assert "from 0" in refused
        botanu(demo_store, "value", "unset", "orders_fulfilled")
        assert "orders_fulfilled" not in values(demo_store)
        # spans and other writes still belong to the server
        assert "owns this store" in botanu(demo_store, "reprice", "--since", "2026-01-01", ok=False)
    finally:
        server.stop()
    botanu(demo_store, "value", "set", "orders_fulfilled", "12.00")


HINT = "no values set: botanu value set VALUE_TYPE AMOUNT"
EVENTS = (
    "SELECT workflow, final_outcome, final_value_type, final_value_amount, total_cost FROM events"
)


def report(store, *args):
    return {r["key"]: r for r in json.loads(botanu(store, "report", "--json", *args))["rows"]}


def value_and_cost_by_hand(store, per_unit):
    """Per workflow: the value of the events' final outcomes (successes and partials) and
    the cost, both over the events whose cost is fully known, summed here event by event."""
    figures = {}
    for event in json.loads(botanu(store, "sql", EVENTS, "--json")):
        if event["total_cost"] is None:
            continue  # left out of the report's figures: some usage unpriced
        value, cost = figures.get(event["workflow"], (Decimal(0), Decimal(0)))
        if event["final_outcome"] in ("success", "partial"):
            amount = Decimal(str(event["final_value_amount"] or 0))
            value += amount * per_unit[event["final_value_type"]]
        figures[event["workflow"]] = (value, cost + Decimal(str(event["total_cost"])))
    return figures


def test_report_shows_value_and_roi_after_value_set(demo_store):
    botanu(demo_store, "value", "set", "tickets_resolved", "9.50")
    try:
        rows = report(demo_store)
        per_unit = {"tickets_resolved": Decimal("9.5"), "orders_fulfilled": Decimal("12")}
        hand = value_and_cost_by_hand(demo_store, per_unit)
        # 20 tickets resolved and 2 of 4 partials' units, every ticket priced
        assert hand["resolve-ticket"][0] == Decimal("209")
        for workflow, (value, cost) in hand.items():
            assert Decimal(rows[workflow]["total_cost"]) == cost
            assert Decimal(rows[workflow]["value_delivered"]) == value
            assert Decimal(rows[workflow]["roi"]) == (value - cost) / cost
        # every ticket is priced and failures carry no value: the seed's query agrees
        seed = roi(demo_store)["resolve-ticket"]
        assert Decimal(str(seed["total_value"])) == Decimal("209")
        assert Decimal(str(seed["roi"])) == pytest.approx(Decimal(rows["resolve-ticket"]["roi"]))
        table = botanu(demo_store, "report")
        assert "ROI" in table
        assert "$209" in table
        assert HINT not in table
        csv_header = botanu(demo_store, "report", "--csv").splitlines()[0]
        assert "value_delivered" in csv_header
        assert "roi" in csv_header
    finally:
        botanu(demo_store, "value", "set", "tickets_resolved", "4.00")


def test_report_without_values_says_how_to_add_them(demo_store):
    botanu(demo_store, "value", "unset", "tickets_resolved")
    botanu(demo_store, "value", "unset", "orders_fulfilled")
    try:
        for by in ("workflow", "customer", "tenant"):
            rows = report(demo_store, "--by", by)
            assert all(r["value_delivered"] is None and r["roi"] is None for r in rows.values())
            assert HINT in botanu(demo_store, "report", "--by", by)
    finally:
        botanu(demo_store, "value", "set", "tickets_resolved", "4.00")
        botanu(demo_store, "value", "set", "orders_fulfilled", "12.00")


def test_a_value_in_another_currency_is_not_added_to_usd_cost(demo_store):
    botanu(demo_store, "value", "set", "tickets_resolved", "9.50", "--currency", "EUR")
    try:
        rows = report(demo_store)
        tickets = rows["resolve-ticket"]
        assert (tickets["value_delivered"], tickets["roi"]) == (None, None)
        assert "EUR" in tickets["value_note"]
        assert rows["fulfill-order"]["value_delivered"] is not None  # USD values still add
        assert "EUR" in botanu(demo_store, "report")
    finally:
        botanu(demo_store, "value", "set", "tickets_resolved", "4.00")


def test_value_and_roi_by_hand_on_every_kind_of_event():
    """Value: each fully priced event's final outcome, successes and partials; a failure,
    a replaced attempt, a left-out event and a pending one deliver nothing. Exact sums."""
    from tests.engine.test_true_numbers import run

    from botanu.engine.costing import cost_per_outcome
    from botanu.engine.store import open_store

    big = "12345678901.123456789012345678"  # 29 digits: exact, never rounded to 28
    runs = [
        run("E-big", "b1", 0, [big], "success", value=2),
        run("E-partial", "pa1", 10, ["1.00"], "partial", value=0.5),
        run("E-retry", "r1", 20, ["4.00"], "failed"),
        run("E-retry", "r2", 21, ["1.00"], "success", retry_of="r1", value=1),
        run("E-failed", "f1", 30, ["6.00"], "failed", value=5),  # failures deliver nothing
        run("E-unpriced", "u1", 40, [None], "success", value=7),  # left out: cost unknown
        run("E-pending", "pe1", 50, ["3.00"], None),
    ]
    with open_store(":memory:") as store:
        store.write([s for spans, _ in runs for s in spans], [x for _, ls in runs for x in ls])
        store.set_valuation("tickets", Decimal("0.333333333333333333"))
        (row,) = cost_per_outcome(store, "workflow")
    with localcontext(prec=100):  # by hand, exactly
        cost = Decimal(big) + Decimal("15.00")  # every priced event: 1 + 4 + 1 + 6 + 3
        value = Decimal("3.5") * Decimal("0.333333333333333333")  # 2 + 0.5 + 1 tickets
    assert row.total_cost == cost
    assert row.value_delivered == value
    assert row.roi == (value - cost) / cost
    assert row.value_note is None
