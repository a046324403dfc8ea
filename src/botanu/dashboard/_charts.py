"""Charts drawn on the server as inline SVG: no JavaScript, nothing fetched from anywhere.

Each chart is one `<svg class="chart">` whose bars and lines are sized from the data.
Geometry uses floats (a pixel needs no more); every figure shown as text or tooltip is
exact, formatted by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from botanu.dashboard._format import esc

__all__ = ["PALETTE", "Bar", "Line", "bar_chart", "line_chart", "waterfall"]

PALETTE = ("#4c6ef5", "#f59f00", "#12b886", "#e64980", "#7950f2", "#15aabf", "#fa5252", "#82c91e")
CATEGORY_COLORS = {
    "llm": "#7950f2",
    "db": "#228be6",
    "storage": "#12b886",
    "messaging": "#f59f00",
    "other": "#adb5bd",
}
_WASTED = "#fa5252"
_LABEL_CHARS = 28


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal  # the bar's length
    text: str  # the exact figure shown beside it
    part: Decimal = Decimal(0)  # a part of the bar drawn in red (money wasted)
    tip: str = ""


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[datetime, Decimal | None]]  # None: a gap
    tips: Sequence[str] = ()


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "\u2026"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title)}"><title>{esc(title)}</title>{"".join(body)}</svg>'
    )


def bar_chart(title: str, bars: Sequence[Bar], *, part_label: str = "wasted") -> str:
    """Horizontal bars, one per row, scaled to the largest value."""
    label_w, bar_w, text_w, row_h, top = 200, 380, 220, 26, 8
    width = label_w + bar_w + text_w
    height = top * 2 + row_h * max(len(bars), 1) + 18
    peak = max((float(b.value) for b in bars), default=0.0)
    body = []
    for i, bar in enumerate(bars):
        y = top + i * row_h
        length = bar_w * float(bar.value) / peak if peak > 0 else 0.0
        part = min(length, bar_w * float(bar.part) / peak) if peak > 0 and bar.part > 0 else 0.0
        tip = f"<title>{esc(bar.tip or f'{bar.label}: {bar.text}')}</title>"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="label">'
            f"{esc(_short(bar.label))}<title>{esc(bar.label)}</title></text>"
        )
        body.append(
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{length:.2f}" height="18" '
            f'fill="{PALETTE[0]}">{tip}</rect>'
        )
        if part > 0:
            body.append(
                f'<rect class="bar part" x="{label_w + length - part:.2f}" y="{y + 4}" '
                f'width="{part:.2f}" height="18" fill="{_WASTED}">{tip}</rect>'
            )
        body.append(
            f'<text x="{label_w + length + 6:.2f}" y="{y + 17}" class="value">'
            f"{esc(bar.text)}</text>"
        )
    if not bars:
        body.append(f'<text x="{label_w}" y="{top + 17}" class="label">no data</text>')
    legend_y = height - 6
    body.append(
        f'<rect x="{label_w}" y="{legend_y - 9}" width="10" height="10" fill="{PALETTE[0]}"/>'
        f'<text x="{label_w + 14}" y="{legend_y}" class="legend">total</text>'
        f'<rect x="{label_w + 60}" y="{legend_y - 9}" width="10" height="10" fill="{_WASTED}"/>'
        f'<text x="{label_w + 74}" y="{legend_y}" class="legend">{esc(part_label)}</text>'
    )
    return _svg(width, height, title, body)


def _bucket_label(when: datetime, bucket: str) -> str:
    return when.strftime("%Y-%m-%d") if bucket == "day" else when.strftime("%m-%d %H:00")


def line_chart(title: str, lines: Sequence[Line], bucket: str, y_label: str) -> str:
    """One line per series over time buckets (UTC); with a single bucket, grouped bars."""
    left, right, top, plot_h, legend_h = 90, 20, 16, 220, 22
    plot_w = 620
    width = left + plot_w + right
    times = sorted({t for line in lines for t, _ in line.points})
    per_row = 3
    height = top + plot_h + 40 + legend_h * ((len(lines) + per_row - 1) // per_row)
    values = [float(v) for line in lines for _, v in line.points if v is not None]
    peak = max(values, default=0.0)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" class="axis"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" class="tick">'
        f"{esc(_tick(peak))}</text>",
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="tick">0</text>',
        f'<text x="12" y="{top + plot_h / 2:.0f}" class="tick" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})" text-anchor="middle">'
        f"{esc(y_label)}</text>",
    ]

    def y_of(value: float) -> float:
        return top + plot_h - (plot_h * value / peak if peak > 0 else 0.0)

    if len(times) <= 1:
        body += _grouped_bars(lines, left=left, plot_w=plot_w, bottom=top + plot_h, y_of=y_of)
    else:
        span = (times[-1] - times[0]).total_seconds()

        def x_of(when: datetime) -> float:
            return left + plot_w * (when - times[0]).total_seconds() / span

        for i, line in enumerate(lines):
            color = PALETTE[i % len(PALETTE)]
            d, pen_down = [], False
            for t, v in line.points:
                if v is None:
                    pen_down = False
                    continue
                d.append(f"{'L' if pen_down else 'M'}{x_of(t):.2f},{y_of(float(v)):.2f}")
                pen_down = True
            if d:
                body.append(
                    f'<path class="line" d="{" ".join(d)}" fill="none" stroke="{color}" '
                    f'stroke-width="2"><title>{esc(line.label)}</title></path>'
                )
            for j, (t, v) in enumerate(line.points):
                if v is not None:
                    tip = line.tips[j] if j < len(line.tips) else f"{line.label}: {v}"
                    body.append(
                        f'<circle cx="{x_of(t):.2f}" cy="{y_of(float(v)):.2f}" r="3.5" '
                        f'fill="{color}"><title>{esc(tip)}</title></circle>'
                    )
        for t in (times[0], times[-1]):
            anchor = "start" if t == times[0] else "end"
            body.append(
                f'<text x="{x_of(t):.2f}" y="{top + plot_h + 16}" text-anchor="{anchor}" '
                f'class="tick">{esc(_bucket_label(t, bucket))}</text>'
            )
    if len(times) == 1:
        body.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'class="tick">{esc(_bucket_label(times[0], bucket))} (one {esc(bucket)})</text>'
        )
    legend_top = top + plot_h + 34
    for i, line in enumerate(lines):
        x = left + (i % per_row) * (plot_w // per_row)
        y = legend_top + (i // per_row) * legend_h
        body.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y}" class="legend">{esc(_short(line.label))}'
            f"<title>{esc(line.label)}</title></text>"
        )
    if not lines:
        body.append(f'<text x="{left + 10}" y="{top + 20}" class="label">no data</text>')
    return _svg(width, height, title, body)


def _grouped_bars(
    lines: Sequence[Line], *, left: int, plot_w: int, bottom: int, y_of: Callable[[float], float]
) -> list[str]:
    """The one-bucket case: a bar per series."""
    out = []
    slot = plot_w / max(len(lines), 1)
    bar_w = min(60.0, slot * 0.6)
    for i, line in enumerate(lines):
        values = [(j, v) for j, (_, v) in enumerate(line.points) if v is not None]
        if not values:
            continue
        j, value = values[0]
        y = y_of(float(value))
        tip = line.tips[j] if j < len(line.tips) else f"{line.label}: {value}"
        out.append(
            f'<rect class="bar" x="{left + slot * i + (slot - bar_w) / 2:.2f}" y="{y:.2f}" '
            f'width="{bar_w:.2f}" height="{bottom - y:.2f}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{esc(tip)}</title></rect>'
        )
    return out


def _tick(value: float) -> str:
    """An axis label (approximate by nature; the tables hold the exact figures)."""
    if value == 0:
        return "0"
    return f"${value:.2g}" if value < 1 else f"${value:,.2f}"


def waterfall(title: str, spans: Sequence[dict[str, Any]]) -> str:
    """Each span as a bar placed by its start and end relative to the run's first span,
    indented by its depth in the span tree and colored by what it cost money for."""
    label_w, bar_w, row_h, top = 260, 520, 22, 24
    width = label_w + bar_w + 20
    height = top + row_h * max(len(spans), 1) + 10
    start = min((int(s["start_ns"]) for s in spans), default=0)
    end = max((int(s["end_ns"]) for s in spans), default=0)
    total_ns = max(end - start, 1)
    depth: dict[str, int] = {}
    for s in spans:  # parents start before their children: start order fills depth in time
        depth[str(s["span_id"])] = depth.get(str(s["parent_span_id"]), -1) + 1
    body = [
        f'<text x="{label_w}" y="14" class="tick">0 ms</text>',
        f'<text x="{label_w + bar_w}" y="14" text-anchor="end" class="tick">'
        f"{total_ns / 1e6:,.3f} ms</text>",
    ]
    for i, s in enumerate(spans):
        y = top + i * row_h
        x = label_w + bar_w * (int(s["start_ns"]) - start) / total_ns
        w = max(bar_w * (int(s["end_ns"]) - int(s["start_ns"])) / total_ns, 1.0)
        indent = min(depth[str(s["span_id"])], 8) * 10
        name = str(s["name"])
        color = "#495057" if s.get("is_run_span") else CATEGORY_COLORS.get(s["category"], "#adb5bd")
        duration = (int(s["end_ns"]) - int(s["start_ns"])) / 1e6
        body.append(
            f'<text x="{indent + 4}" y="{y + 15}" class="label">'
            f"{esc(_short(name))}<title>{esc(name)}</title></text>"
            f'<rect class="bar span" x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="16" '
            f'fill="{color}"><title>{esc(name)}: {duration:,.3f} ms '
            f"({esc(s['category'])})</title></rect>"
        )
    return _svg(width, height, title, body)
