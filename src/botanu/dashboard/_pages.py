"""The dashboard's HTML pages, built from the values in `engine.reports` (the same ones the JSON
twins print). Every value from the store goes through `esc`, `money_html` or `number`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from botanu.dashboard._charts import Bar, Line, bar_chart, line_chart, waterfall
from botanu.dashboard._format import (
    esc,
    link_id,
    money,
    money_html,
    number,
    percent,
    query_string,
)
from botanu.dashboard._layout import card, page, table
from botanu.engine.costing import OutcomeCost, value_notes

__all__ = [
    "error_page",
    "overview_page",
    "prices_page",
    "report_page",
    "run_page",
    "runs_page",
    "store_notice",
    "unpriced_page",
]

_REPORT_HEADERS = (
    "events",
    "runs",
    "success rate",
    "total",
    "wasted on failures",
    "cost per success",
    "value delivered",
    "ROI",
    "unpriced spans",
    "pending",
    "left out: cost unknown",
)
_NAMES = {"workflow": "Workflow", "customer": "Customer", "tenant": "Tenant"}


def _key(value: str | None) -> str:
    return esc(value) if value is not None else '<span class="muted">(none)</span>'


def _per_success(value: Decimal | None) -> str:
    return money_html(value) if value is not None else '<span class="muted">no success</span>'


def _cost(total: Decimal | None, unpriced_spans: int | None, priced: Decimal | None) -> str:
    """A run's total; when part of its usage could not be priced, the total is unknown:
    what was priced is shown as a lower bound, marked."""
    if unpriced_spans:
        shown = f"&ge; {money_html(priced)}" if priced else ""
        shown += ' <span class="unpriced nw">+ unpriced</span>'
    else:
        shown = money_html(total)
    return f'<span class="nw">{shown}</span>'


def _unpriced_count(count: int) -> str:
    return f'<span class="unpriced">{count:,}</span>' if count else "0"


def _report_table(by: str, rows: Sequence[OutcomeCost]) -> str:
    cells = []
    for r in rows:
        key = _key(r.key)
        if by == "workflow" and r.key is not None:
            key = f'<a href="/runs{esc(query_string({"workflow": r.key}))}">{key}</a>'
        elif by == "customer" and r.key is not None:
            key = f'<a href="/runs{esc(query_string({"customer": r.key}))}">{key}</a>'
        cells.append(
            [
                key,
                number(r.events),
                number(r.runs),
                esc(percent(r.success_rate)),
                money_html(r.total_cost),
                money_html(r.wasted_cost),
                _per_success(r.cost_per_success),
                _value(r.value_delivered),
                esc(percent(r.roi)),
                _unpriced_count(r.unpriced_spans),
                number(r.pending_events),
                _unpriced_count(r.events_unpriced),
            ]
        )
    table_html = table([_NAMES.get(by, by), *_REPORT_HEADERS], cells, numeric=set(range(1, 12)))
    return table_html + _value_notes(value_notes(rows))


def _value(value: Decimal | None) -> str:
    return money_html(value) if value is not None else '<span class="muted">-</span>'


def _value_notes(notes: Sequence[str]) -> str:
    """Under a report table: rows whose value is missing or in another currency, and how
    to add values."""
    return "".join(f'<p class="note">{esc(note)}</p>' for note in notes)


def _report_chart(by: str, rows: Sequence[OutcomeCost]) -> str:
    bars = [
        Bar(
            label=r.key if r.key is not None else "(none)",
            value=r.total_cost,
            text=money(r.total_cost),
            part=r.wasted_cost,
            tip=f"{r.key}: {money(r.total_cost)} total, {money(r.wasted_cost)} wasted",
        )
        for r in rows
    ]
    return bar_chart(f"total cost by {by}", bars, part_label="wasted on failed attempts")


def overview_page(data: dict[str, Any]) -> str:
    cards = "".join(
        [
            card(
                "total spend",
                money_html(data["total_cost"]),
                f"{number(data['events'])} events, {number(data['runs'])} runs; "
                f"{number(data['events_unpriced'])} events of unknown cost left out",
                figure="total_cost",
            ),
            card(
                "cost per successful outcome",
                _per_success(data["cost_per_success"]),
                "all attempts' cost over successes",
                figure="cost_per_success",
            ),
            card(
                "success rate",
                esc(percent(data["success_rate"])),
                f"{number(data['successful_events'])} of {number(data['events'])} events, "
                f"{number(data['pending_events'])} pending (not counted)",
                figure="success_rate",
            ),
            card(
                "wasted on failed attempts",
                money_html(data["wasted_cost"]),
                f"{esc(percent(data['wasted_share']))} of spend",
                figure="wasted_cost",
            ),
            card(
                "value delivered",
                _value(data["value_delivered"]),
                f"ROI {esc(percent(data['roi']))} over the workflows with a value",
                figure="value_delivered",
            ),
            card(
                "unpriced usage",
                _unpriced_count(data["unpriced_spans"]),
                f"spans, {esc(percent(data['unpriced_share']))} of "
                f"{number(data['cost_lines'])} cost lines; not in the totals, never $0",
                figure="unpriced_spans",
            ),
        ]
    )
    lines = []
    for s in data["series"]:
        label = s["workflow"] if s["workflow"] is not None else "(none)"
        points = [(p["bucket"], p["cost_per_success"]) for p in s["points"]]
        tips = [
            f"{label} {p['bucket']:%Y-%m-%d %H:%M} UTC: "
            f"{money(p['cost_per_success']) if p['cost_per_success'] is not None else '-'}"
            f" per success ({p['successful_events']} of {p['events']} events)"
            for p in s["points"]
        ]
        lines.append(Line(label, points, tips))
    chart = line_chart(
        f"cost per successful outcome by workflow, per {data['bucket']}",
        lines,
        data["bucket"],
        "cost per success",
    )
    body = (
        f'<div class="cards">{cards}</div>'
        f"<h2>Cost per successful outcome, per {esc(data['bucket'])} (UTC)</h2>"
        f'<div class="chartbox">{chart}</div>'
        '<h2>Workflows <a class="muted" href="/workflows">(details)</a></h2>'
        + _report_table("workflow", data["workflows"])
    )
    return page("Overview", body, active="/", twin="/api/overview")


def report_page(by: str, rows: Sequence[OutcomeCost]) -> str:
    title = {"workflow": "Workflows", "customer": "Customers", "tenant": "Tenants"}[by]
    body = (
        f'<div class="chartbox">{_report_chart(by, rows)}</div>'
        f"<h2>Cost per outcome by {esc(by)}</h2>"
        '<p class="note">An event counts once with all its attempts; cost per success '
        "includes the failed attempts; unpriced spans are counted, never priced at $0.</p>"
        + _report_table(by, rows)
    )
    return page(title, body, active=f"/{title.lower()}", twin=f"/api/report?by={by}")


def _status(value: str | None) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    return f'<span class="status-{esc(value)}">{esc(value)}</span>'


def _outcome(run: Mapping[str, Any]) -> str:
    """The run's own outcome (marked when automatic), and its event's when a late outcome
    replaced it."""
    shown = _status(run["outcome_status"])
    if run.get("outcome_source") == "auto":
        shown += ' <span class="muted" title="recorded when the run returned or raised">auto</span>'
    if run.get("event_outcome_resolved_at") is not None:
        shown += f' <span class="nw">&rarr; {_event_outcome(run)}</span>'
    return shown


def _event_outcome(run: Mapping[str, Any]) -> str:
    """The event's final outcome and who decided it (a late outcome names its source)."""
    if run.get("event_outcome") is None:
        return '<span class="muted">-</span>'
    shown = _status(run["event_outcome"])
    if run.get("event_outcome_source"):
        when = run.get("event_outcome_resolved_at")
        title = f' title="resolved {esc(when)} UTC"' if when is not None else ""
        shown += f' <span class="muted"{title}>{esc(run["event_outcome_source"])}</span>'
    return shown


def _select(name: str, label: str, options: Sequence[str], chosen: str | None) -> str:
    items = ['<option value="">all</option>'] + [
        f'<option value="{esc(o)}"{" selected" if o == chosen else ""}>{esc(o)}</option>'
        for o in options
    ]
    return f'<label>{esc(label)}<select name="{name}">{"".join(items)}</select></label>'


def runs_page(
    filters: dict[str, Any], runs: Sequence[dict[str, Any]], choices: dict[str, list[str]]
) -> str:
    form = (
        '<form class="filters" method="get" action="/runs">'
        + _select("workflow", "workflow", choices["workflow"], filters["workflow"])
        + _select("customer", "customer", choices["customer"], filters["customer"])
        + _select("outcome", "outcome", choices["outcome"], filters["outcome"])
        + f'<label>limit<input type="number" name="limit" min="1" max="1000" '
        f'value="{esc(filters["limit"])}"></label><button type="submit">filter</button></form>'
    )
    rows = [
        [
            f'<a class="id" href="/runs/{esc(link_id(r["run_id"]))}">{esc(r["run_id"])}</a>',
            f'<span class="nw">{esc(r["started_at"])}</span>',
            _key(r["workflow"]),
            esc(r["event_id"]),
            esc(r["customer_id"]),
            esc(r["tenant_id"]),
            number(r["attempt"]),
            _cost(r["total_cost"], r["unpriced_spans"], r["priced_cost"]),
            _unpriced_count(int(r["unpriced_spans"] or 0)),
            _outcome(r),
            esc(r["outcome_reason"]),
        ]
        for r in runs
    ]
    headers = (
        "run",
        "started (UTC)",
        "workflow",
        "event",
        "customer",
        "tenant",
        "attempt",
        "cost",
        "unpriced",
        "outcome",
        "reason",
    )
    shown = f'<p class="muted">{len(runs):,} runs, newest first.</p>'
    body = form + shown + table(headers, rows, numeric={6, 7, 8})
    return page("Runs", body, active="/runs", twin="/api/runs" + query_string(filters))


def run_page(detail: dict[str, Any]) -> str:
    run = detail["run"]
    fields = [
        ("run id", esc(run["run_id"])),
        ("event id", esc(run["event_id"])),
        ("workflow", _key(run["workflow"])),
        ("customer", esc(run["customer_id"])),
        ("tenant", esc(run["tenant_id"])),
        ("environment", esc(run["environment"])),
        ("attempt", number(run["attempt"])),
        ("retry of", _run_link(run["retry_of_run_id"])),
        ("parent run", _run_link(run["parent_run_id"])),
        ("started (UTC)", esc(run["started_at"])),
        ("duration", f"{esc(run['duration_s'])} s"),
        ("outcome", _outcome(run)),
        ("event outcome", _event_outcome(run)),
        (
            "value",
            f"{esc(run['outcome_value_amount'])} {esc(run['outcome_value_type'])}"
            if run["outcome_value_type"] or run["outcome_value_amount"] is not None
            else "-",
        ),
        ("reason", esc(run["outcome_reason"]) or "-"),
        ("error type", esc(run["outcome_error_type"]) or "-"),
        ("total cost", _cost(run["total_cost"], run["unpriced_spans"], run["priced_cost"])),
        ("unpriced spans", _unpriced_count(int(run["unpriced_spans"] or 0))),
        ("spans", number(run["spans"])),
    ]
    header = (
        '<dl class="header">'
        + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in fields)
        + "</dl>"
    )
    lines = [
        [
            esc(c["name"]),
            esc(c["category"]),
            esc(" / ".join(str(x) for x in (c["provider"], c["model"]) if x) or "-"),
            money_html(c["amount"], c["currency"]),
            esc(c["currency"]),
            esc(c["source"]),
            esc(c["catalog_version"]) or "-",
            esc(" / ".join(str(x) for x in (c["matched_provider"], c["matched_model"]) if x))
            or "-",
            esc(c["effective_date"]) or "-",
            esc(c["detail"]) or "-",
        ]
        for c in detail["cost_lines"]
    ]
    headers = (
        "span",
        "category",
        "provider / model",
        "amount",
        "currency",
        "source",
        "catalog version",
        "matched model",
        "effective date",
        "detail",
    )
    body = (
        header
        + f"<h2>Spans ({len(detail['spans']):,})</h2>"
        + f'<div class="chartbox">{waterfall("span waterfall", detail["spans"])}</div>'
        + f"<h2>Cost lines ({len(lines):,})</h2>"
        + table(headers, lines, numeric={3})
    )
    return page(
        f"Run {run['run_id']}",
        body,
        active="/runs",
        twin=f"/api/runs/{link_id(run['run_id'])}",
    )


def _run_link(run_id: str | None) -> str:
    if run_id is None:
        return "-"
    return f'<a href="/runs/{esc(link_id(run_id))}">{esc(run_id)}</a>'


def unpriced_page(rows: Sequence[dict[str, Any]]) -> str:
    cells = [
        [
            esc(r["category"]),
            esc(r["provider"]),
            esc(r["model"]),
            esc(r["detail"]),
            number(r["spans"]),
            number(r["input_tokens"]),
            number(r["output_tokens"]),
            esc(r["first_seen"]),
            esc(r["last_seen"]),
        ]
        for r in rows
    ]
    headers = (
        "category",
        "provider",
        "model",
        "why",
        "spans",
        "input tokens",
        "output tokens",
        "first seen (UTC)",
        "last seen (UTC)",
    )
    body = (
        '<p class="note">Usage botanu could not price: counted here and in every report, '
        "never added as $0. Add a rate card (BOTANU_RATE_CARD) or report the cost on the span, "
        "then reprice.</p>" + table(headers, cells, numeric={4, 5, 6})
    )
    return page("Unpriced usage", body, active="/unpriced", twin="/api/unpriced")


def prices_page(
    query: dict[str, str],
    rows: Sequence[dict[str, Any]] | None,
    error: str | None = None,
    *,
    day: date | None = None,
) -> str:
    form = (
        '<form class="filters" method="get" action="/prices">'
        f'<label>provider<input name="provider" value="{esc(query.get("provider", ""))}" '
        'placeholder="openai"></label>'
        f'<label>model<input name="model" value="{esc(query.get("model", ""))}" '
        'placeholder="gpt-4o-mini"></label>'
        f'<label>day (UTC)<input type="date" name="at" value="{esc(query.get("at", ""))}">'
        "</label>"
        f'<label>service tier<input name="tier" value="{esc(query.get("tier", ""))}" '
        'placeholder="(default)"></label><button type="submit">explain</button></form>'
    )
    if error:
        body = form + f'<p class="unpriced">{esc(error)}</p>'
    elif rows is None:
        body = form + (
            '<p class="note">Look up what a model costs per million tokens of each kind '
            "(input, cached input, cache write, output) on a day, through the same pricer as "
            "your spans: your rate card first, then genai-prices. Each price shows its source, "
            "the model it matched and the date it took effect. A model that charges more "
            "for long prompts shows each context tier as its own rows, base tier first.</p>"
        )
    else:
        cells = [
            [
                esc(r["usage"]),
                money_html(r["per_million_tokens"]),
                esc(r["source"]),
                esc(r["matched_model"]) or "-",
                esc(r["effective_date"]) or "-",
                esc(r["detail"]) or "-",
            ]
            for r in rows
        ]
        headers = ("usage", "per million tokens", "source", "matched model", "effective", "detail")
        when = f'<p class="muted">In force on {esc(day)} (UTC).</p>' if day else ""
        body = form + when + table(headers, cells, numeric={1})
    twin = "/api/prices" + query_string(query) if rows is not None else None
    return page("Prices", body, active="/prices", twin=twin)


def error_page(status: int, message: str) -> str:
    body = f'<p>{esc(message)}</p><p><a href="/">Back to the overview</a></p>'
    return page(f"{status}", body, active="")


def store_notice(problem: str) -> str:
    """What every page says while the store cannot be written (`problem`: why)."""
    shown = " ".join(problem.split())[:300].rstrip(".")
    return (
        '<div class="notice" role="alert"><strong>The store cannot be written</strong>: '
        f"{esc(shown)}. New spans are refused (503) until it can; the ones already "
        "accepted are kept in the journal and stored then, so the figures here may be "
        "behind.</div>"
    )
