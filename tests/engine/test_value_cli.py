"""`botanu value`: what a unit of an outcome is worth, set on a store file or through the
`botanu serve` that holds it, read back by the seed's ROI query."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner
from tests.serve.conftest import Server

from botanu.cli import cli

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
