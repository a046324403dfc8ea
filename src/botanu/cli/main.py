"""Commands of the `botanu` CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from botanu.cli._stores import store_for
from botanu.cli.outcome import outcome
from botanu.cli.render import emit, emit_report
from botanu.cli.value import value
from botanu.engine.store import QueryResult, Store, StoreError, is_clickhouse, store_path
from botanu.exceptions import BotanuError

_FORMATS = click.Choice(["table", "json", "csv"])


def _format(as_json: bool, as_csv: bool) -> str:
    return "json" if as_json else "csv" if as_csv else "table"


class _Group(click.Group):
    """Turns botanu's own errors (bad store URL, bad price file...) into one clear line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BotanuError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.option(
    "--store",
    "store_url",
    envvar="BOTANU_STORE",
    default=None,
    help="Store URL or path (default .botanu/botanu.duckdb).",
)
@click.pass_context
def cli(ctx: click.Context, store_url: str | None) -> None:
    """botanu: what did this business outcome cost?"""
    ctx.obj = store_url


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def ingest(store_url: str | None, files: tuple[str, ...]) -> None:
    """Store the spans of OTLP files (JSON lines, JSON or protobuf), priced.

    Read an export (a line) at a time, each checked whole before it is stored. At a bad
    or oversized one, the exports before it are stored and nothing from it on.
    """
    from botanu.engine.service import ingest_file

    with store_for(store_url, writes=True) as store:
        for name in files:
            try:
                with Path(name).open("rb") as source:
                    result = ingest_file(store, source)
            except OSError as exc:
                raise click.ClickException(f"{name}: cannot read: {exc.strerror}") from None
            if (error := result.error) is not None:
                refusal = _ingest_refusal(name, error.line, error.problem, result.stored)
                raise click.ClickException(refusal)
            click.echo(f"{name}: {result.stored} new spans")


def _ingest_refusal(name: str, line: int | None, problem: str, stored: int) -> str:
    """`file:line: rejected...`, saying what of the file was stored before the bad export."""
    where = f"{name}: " if line is None else f"{name}:{line}: the export on line {line} is "
    if not stored:
        return f"{where}rejected, nothing stored: {problem}"
    return (
        f"{where}rejected: {problem}. The exports before it were stored "
        f"({stored} new spans), none from it on; fix it and ingest the file again "
        "(stored spans are skipped)."
    )


@cli.command()
@click.option(
    "--by",
    type=click.Choice(["workflow", "customer", "tenant", "value_type"]),
    default="workflow",
    show_default=True,
    help="What to group outcomes by.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def report(store_url: str | None, by: str, as_json: bool, as_csv: bool) -> None:
    """Cost per outcome: events, success rate, cost per success (failed attempts
    included), money spent on failed attempts, and usage that could not be priced."""
    from botanu.engine.costing import cost_per_outcome

    with store_for(store_url) as store:
        rows = cost_per_outcome(store, by)  # type: ignore[arg-type]
    fmt = _format(as_json, as_csv)
    if fmt == "json":
        click.echo(json.dumps({"by": by, "rows": [r.as_json() for r in rows]}, indent=2))
        return
    if fmt == "csv":
        records = [r.as_json() for r in rows]
        columns = list(records[0]) if records else ["key"]
        emit(QueryResult(columns, [tuple(r[c] for c in columns) for r in records]), "csv")
    else:
        emit_report(rows, by)


@cli.command()
@click.argument("model")
@click.option("--provider", required=True, help="Provider, e.g. openai, anthropic, aws.bedrock.")
@click.option(
    "--at",
    "at",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Price in force on this day (UTC). Default: today.",
)
@click.option("--tier", default=None, help="The billed service tier (flex, priority, batch).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prices(model: str, provider: str, at: datetime | None, tier: str | None, as_json: bool) -> None:
    """Look up and explain a model's price per million tokens, with its source: the base
    tier first, then each context tier (long prompts) as its own rows."""
    from botanu.engine.pricing_lookup import PRICE_COLUMNS, TABLE_COLUMNS, explain_llm_price

    when = (at or datetime.now(timezone.utc)).replace(tzinfo=timezone.utc)
    try:
        rows = explain_llm_price(provider, model, when, tier)
    except ArithmeticError as exc:  # decimal.Overflow and kin: a clean error, no traceback
        raise click.ClickException(f"cannot price {provider} {model}: {exc!r}") from None
    columns = list(PRICE_COLUMNS if as_json else TABLE_COLUMNS)
    result = QueryResult(columns, [tuple(row[c] for c in columns) for row in rows])
    emit(result, "json" if as_json else "table", title=f"{provider} {model}")


@cli.command()
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="First day (UTC) of spans to price again.",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day (UTC) to stop before. Default: tomorrow.",
)
@click.pass_obj
def reprice(store_url: str | None, since: datetime, until: datetime | None) -> None:
    """Price the spans of a period again, after a price change or a new rate card."""
    start = since.replace(tzinfo=timezone.utc)
    end = (until or datetime.now(timezone.utc) + timedelta(days=1)).replace(tzinfo=timezone.utc)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    since_ns, until_ns = int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
    with store_for(store_url, writes=True) as store:
        count = store.reprice(since_ns, until_ns)
    click.echo(f"repriced {count} spans from {start.date()} to {end.date()}")


@cli.command()
@click.option(
    "--since",
    default=None,
    help="First UTC day to look at: YYYY-MM-DD, or Nd for N days back. Default: all.",
)
@click.option("--until", default=None, help="UTC day to stop before (YYYY-MM-DD or Nd).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Jobs sharing the work: each takes every K-th day.",
)
@click.option(
    "--worker",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1023),
    help="Which of the --workers jobs this is (0-based).",
)
@click.pass_obj
def price(
    store_url: str | None, since: str | None, until: str | None, workers: int, worker: int
) -> None:
    """Price the spans a Collector wrote to ClickHouse since the last run, a UTC day at a
    time, and rebuild those days' run rollups. Safe to rerun, and to run on a schedule."""
    if worker >= workers:
        raise click.BadParameter(f"must be below --workers ({workers})", param_hint="--worker")
    since_ns = _day_ns(since, "--since") if since else 0
    until_ns = _day_ns(until, "--until") if until else _day_ns("-1d", "--until")
    if until_ns <= since_ns:
        raise click.BadParameter("--until must be after --since")
    from botanu.engine.store.base import DayPriced

    def report_day(day: DayPriced) -> None:
        rollup = "rollup rebuilt" if day.rebuilt else "rollup current"
        click.echo(f"{day.day}: {day.spans} spans priced, {rollup}")

    with store_for(store_url, writes=True) as store:
        days = store.price_new(
            since_ns, until_ns, workers=workers, worker=worker, on_day=report_day
        )
        if days is None:
            click.echo(
                "nothing to do: the DuckDB store prices spans as it stores them "
                "(botanu reprice prices a period again)"
            )
            return
    click.echo(f"priced {sum(d.spans for d in days)} spans over {len(days)} days")


def _day_ns(text: str, option: str) -> int:
    """A UTC day as nanoseconds since the epoch: YYYY-MM-DD, or Nd (N days before today;
    -1d is tomorrow)."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        if text.endswith("d"):
            day = today - timedelta(days=int(text[:-1]))
        else:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a day: use YYYY-MM-DD or Nd (N days back)", param_hint=option
        ) from None
    return int(day.timestamp()) * 10**9


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def demo(store_url: str | None, as_json: bool) -> None:
    """Run a bundled support-desk and order-pipeline workload (real openai client against
    a local model server) into a fresh store, then print its cost per outcome."""
    from botanu.demo import run_demo
    from botanu.engine.costing import cost_per_outcome

    if is_clickhouse(store_url):
        raise click.BadParameter(
            "the demo writes a fresh DuckDB file; give it a path", param_hint="--store"
        )
    path, counts = run_demo(store_url)
    with store_for(path) as store:
        rows = cost_per_outcome(store, "workflow")
        spans = store.span_count()
    if as_json:
        report = {"store": path, "ran": counts, "rows": [r.as_json() for r in rows]}
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(
        f"ran {counts['tickets']} tickets and {counts['orders']} orders "
        f"({counts['retries']} retried after a provider error): {spans} spans in {path}"
    )
    emit_report(rows, "workflow")
    click.echo(f"next: botanu --store {path} report --by customer")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4318, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    envvar="BOTANU_SERVE_TOKEN",
    default=None,
    help="Bearer token every request must carry; required beyond 127.0.0.1. Visible to "
    "other users in the process list: prefer BOTANU_SERVE_TOKEN or --token-file.",
)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Read the bearer token from this file (its first line).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(0, 64),
    help="Processes that decode, normalize and price spans (0: the server's own; "
    "default: one per core, at most 4).",
)
@click.option(
    "--query-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600, min_open=True),
    help="Seconds a query over HTTP (dashboard, CLI, /api/query) may run.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    help="A name requests may be addressed to besides loopback ones (a proxy's); '*': any.",
)
@click.option(
    "--memory-budget",
    default=3072,
    show_default=True,
    type=click.IntRange(512),
    help="Resident memory the server keeps within, in MB.",
)
@click.option(
    "--max-connections",
    default=None,
    type=click.IntRange(1),
    help="Connections at once (default: what the open-file limit leaves room for).",
)
@click.pass_obj
def serve(
    store_url: str | None,
    *,
    host: str,
    port: int,
    token: str | None,
    token_file: str | None,
    workers: int | None,
    query_timeout: float,
    allowed_hosts: tuple[str, ...],
    memory_budget: int,
    max_connections: int | None,
) -> None:
    """Receive OTLP/HTTP traces from every process (default endpoint), price and store
    them, and serve the dashboard. An export is acknowledged once it is on disk."""
    from botanu.serve import ServeConfig, run_server

    if is_clickhouse(store_url):
        raise click.BadParameter(
            "botanu serve keeps spans in a DuckDB file. With ClickHouse, the Collector "
            "receives the spans (deploy/otel-collector.yaml) and botanu price prices them",
            param_hint="--store",
        )
    path = store_path(store_url)
    if path == ":memory:":
        raise click.BadParameter("botanu serve needs a store file", param_hint="--store")
    if token_file is not None:
        token = _read_token(token_file)
    try:
        config = ServeConfig(
            path,
            host=host,
            port=port,
            token=token,
            workers=workers,
            query_timeout_s=query_timeout,
            allowed_hosts=allowed_hosts,
            memory_budget_mb=memory_budget,
            max_connections=max_connections,
        )
        run_server(config, announce=click.echo)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.argument("statement")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def sql(store_url: str | None, statement: str, as_json: bool, as_csv: bool) -> None:
    """Run one SQL statement against the store (views: runs, events, workflows, ...)."""
    with store_for(store_url) as store:
        emit(_query(store, statement), _format(as_json, as_csv))


@cli.command()
@click.option("--workflow", default=None, help="Only this workflow.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def runs(
    store_url: str | None, workflow: str | None, limit: int, as_json: bool, as_csv: bool
) -> None:
    """List runs, newest first, with their cost and outcome."""
    from botanu.engine.reports import CLI_RUN_COLUMNS, RunFilters, run_list

    filters = RunFilters(workflow, limit=limit, max_limit=100_000)
    with store_for(store_url) as store:
        try:
            found = run_list(store, filters)
        except StoreError as exc:
            raise click.ClickException(f"SQL error: {exc}") from None
    rows = [tuple(run[column] for column in CLI_RUN_COLUMNS) for run in found]
    emit(QueryResult(list(CLI_RUN_COLUMNS), rows), _format(as_json, as_csv), title="runs")


def _read_token(name: str) -> str:
    """The first line of a token file (small, never echoed)."""
    with open(name, encoding="utf-8") as handle:
        token = handle.readline(4096).strip()
    if not token:
        raise click.BadParameter(f"{name} holds no token", param_hint="--token-file")
    return token


def _query(store: Store, statement: str, parameters: Sequence[Any] | None = None) -> QueryResult:
    try:
        return store.query(statement, parameters)
    except StoreError as exc:
        raise click.ClickException(f"SQL error: {exc}") from None


def main() -> None:
    cli(prog_name="botanu")


cli.add_command(value)
cli.add_command(outcome)
