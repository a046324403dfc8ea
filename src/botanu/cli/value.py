"""`botanu value`: what one unit of an outcome is worth, for value delivered and ROI
(`runs.value_per_unit`). Works on the store file, or through the `botanu serve` that holds
it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from botanu.cli._stores import store_for
from botanu.cli.render import emit
from botanu.engine.store import QueryResult, StoreError
from botanu.engine.store.base import checked_valuation

__all__ = ["value"]

_MAX_FILE_BYTES = 1024 * 1024  # a valuations file holds a few lines


@click.group()
def value() -> None:
    """What one unit of an outcome's value type is worth (value delivered and ROI)."""


@value.command("set")
@click.argument("value_type")
@click.argument("amount")
@click.option("--currency", default="USD", show_default=True, help="Three-letter code.")
@click.pass_obj
def set_value(store_url: str | None, value_type: str, amount: str, currency: str) -> None:
    """Say what one unit of VALUE_TYPE is worth, e.g. `botanu value set ticket 12.50`."""
    with store_for(store_url, writes=True, valuations=True) as store:
        _set(store, value_type, amount, currency)
    click.echo(f"{value_type}: {amount} {currency} a unit")


@value.command("unset")
@click.argument("value_type")
@click.pass_obj
def unset_value(store_url: str | None, value_type: str) -> None:
    """Forget what VALUE_TYPE is worth."""
    with store_for(store_url, writes=True, valuations=True) as store:
        if not store.unset_valuation(value_type):
            raise click.ClickException(f"no value is set for {value_type!r}")
    click.echo(f"{value_type}: no value")


@value.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def list_values(store_url: str | None, as_json: bool, as_csv: bool) -> None:
    """Every value type with what one unit is worth."""
    with store_for(store_url) as store:
        rows = store.valuations()
    result = QueryResult(["value_type", "value_per_unit", "currency"], list(rows))
    if not rows and not (as_json or as_csv):
        click.echo("no values set: botanu value set VALUE_TYPE AMOUNT [--currency USD]")
        return
    emit(result, "json" if as_json else "csv" if as_csv else "table", title="values")


@value.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def load_values(store_url: str | None, file: str) -> None:
    """Set the values of a YAML file's `valuations:` section:

    \b
    valuations:
      ticket_resolved: 12.50
      order_fulfilled: {amount: 40, currency: EUR}
    """
    entries = _valuations_file(file)
    with store_for(store_url, writes=True, valuations=True) as store:
        for value_type, (amount, currency) in entries.items():
            _set(store, value_type, amount, currency)
    click.echo(f"{file}: {len(entries)} values set")


def _set(store: Any, value_type: str, amount: Any, currency: str) -> None:
    try:
        store.set_valuation(value_type, amount, currency)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


def _valuations_file(name: str) -> dict[str, tuple[Decimal, str]]:
    """The `valuations:` section of a YAML file: value type -> (amount, currency)."""
    import yaml

    with open(name, "rb") as handle:
        text = handle.read(_MAX_FILE_BYTES + 1)
    if len(text) > _MAX_FILE_BYTES:
        raise click.ClickException(f"{name}: a valuations file may be at most 1 MiB")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{name}: not YAML: {exc}") from None
    section = document.get("valuations") if isinstance(document, dict) else None
    if not isinstance(section, dict) or not section:
        raise click.ClickException(f"{name}: no `valuations:` section (value type: amount)")
    entries: dict[str, tuple[Decimal, str]] = {}
    for value_type, entry in section.items():
        amount, currency = (
            (entry.get("amount"), entry.get("currency", "USD"))
            if isinstance(entry, dict)
            else (entry, "USD")
        )
        try:  # every entry checked before any is set
            _, checked, code = checked_valuation(str(value_type), amount, str(currency))
        except StoreError as exc:
            raise click.ClickException(f"{name}: {value_type}: {exc}") from None
        entries[str(value_type)] = (checked, code)
    return entries
