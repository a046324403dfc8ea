"""The page shell every dashboard page shares: head, inline stylesheet, nav bar, tables."""

from __future__ import annotations

from collections.abc import Sequence

from botanu.dashboard._format import esc

__all__ = ["NAV", "card", "page", "table", "with_notice"]

NAV = (
    ("/", "Overview"),
    ("/workflows", "Workflows"),
    ("/customers", "Customers"),
    ("/tenants", "Tenants"),
    ("/runs", "Runs"),
    ("/unpriced", "Unpriced"),
    ("/prices", "Prices"),
)

_CSS = """
:root { --fg: #212529; --muted: #6c757d; --line: #dee2e6; --bg: #f8f9fa; --accent: #4c6ef5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
nav { display: flex; gap: 4px; align-items: center; padding: 0 24px; background: #1b1f3b; }
nav .brand { color: #fff; font-weight: 700; margin-right: 16px; padding: 12px 0; }
nav a { color: #c5cae9; text-decoration: none; padding: 12px 10px; }
nav a:hover { color: #fff; }
nav a.active { color: #fff; box-shadow: inset 0 -3px 0 var(--accent); }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 4px 0 16px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
a { color: var(--accent); }
.muted, .note { color: var(--muted); }
.twin { float: right; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 17px; font-weight: 600; word-break: break-all; }
.card .s { color: var(--muted); font-size: 12px; }
.tablebox { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; font-size: 12px; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.nw { white-space: nowrap; }
a.id { white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
       font-size: 12px; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.unpriced { color: #c92a2a; font-weight: 600; }
.status-success { color: #2b8a3e; } .status-failed, .status-timeout { color: #c92a2a; }
.status-partial { color: #e67700; }
.chartbox { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px;
            overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.chart .tick, svg.chart .legend { fill: var(--muted); font-size: 11px; }
svg.chart .axis { stroke: #adb5bd; stroke-width: 1; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 14px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 8px; }
dl.header { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px;
            background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
dl.header dt { color: var(--muted); } dl.header dd { margin: 0; word-break: break-all; }
.notice { background: #fff5f5; border: 1px solid #ffa8a8; border-radius: 8px;
          padding: 10px 14px; margin: 0 0 16px; word-break: break-word; }
"""


def page(title: str, body: str, *, active: str, twin: str | None = None) -> str:
    """A whole HTML document. `title` is text (escaped here); `body` is HTML already."""
    current = ' class="active"'
    links = "".join(
        f'<a href="{href}"{current if href == active else ""}>{label}</a>' for href, label in NAV
    )
    twin_link = f'<a class="twin" href="{esc(twin)}">JSON</a>' if twin else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)} \u00b7 botanu</title><style>{_CSS}</style></head><body>"
        f'<nav><span class="brand">botanu</span>{links}</nav>'
        f"<main>{twin_link}<h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def with_notice(document: str, notice_html: str) -> str:
    """A whole document from `page` with a notice (HTML already) atop its main part."""
    # the first <main> is the shell's: the nav before it holds no value from the store
    return document.replace("<main>", f"<main>{notice_html}", 1)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    """A table of cells that are HTML already; columns in `numeric` align right."""
    head = "".join(
        f"<th{' class=n' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="muted">nothing yet</td></tr>'
    return (
        f'<div class="tablebox"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def card(key: str, value_html: str, sub_html: str = "", figure: str | None = None) -> str:
    """One headline figure; `figure` names it in a `data-figure` attribute for tests."""
    attr = f' data-figure="{esc(figure)}"' if figure else ""
    sub = f'<div class="s">{sub_html}</div>' if sub_html else ""
    return (
        f'<div class="card"><div class="k">{esc(key)}</div>'
        f'<div class="v"{attr}>{value_html}</div>{sub}</div>'
    )
