"""Server-side SVG line charts for the doctor's dashboard (rating trend, review count, ranks
on the doctor's name with the publication dates of positive content as markers).

Why: the portal must not load anything from a CDN and the charts must be visible without
JavaScript (and in a screenshot or a printed page), so they are drawn here as inline SVG.
Pure: values in, markup out (escaped).
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Sequence
from html import escape

from django.utils import timezone

PALETTE = ("#0b4f6c", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93")
WIDTH, HEIGHT = 560, 220
PAD_L, PAD_R, PAD_T, PAD_B = 44, 16, 16, 36


def _fmt(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") if value % 1 else f"{int(value)}"


def line_chart_svg(
    *,
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[datetime.datetime, float | None]]]],
    y_min: float | None = None,
    y_max: float | None = None,
    empty_text: str = "",
    markers: Sequence[tuple[datetime.datetime, str]] = (),
    invert: bool = False,
) -> str:
    """One polyline per series over a shared time axis; points are drawn as dots with a
    <title> tooltip. Missing values break nothing: they are skipped. ``markers`` are dated
    events (a publication) drawn as dashed vertical lines between the points around them;
    ``invert`` puts low values on top (ranks: 1 is the best)."""
    values = [v for _label, pts in series for _at, v in pts if v is not None]
    times = sorted({at for _label, pts in series for at, _v in pts})
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
    )
    if not values:
        return (
            head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#666" '
            f'font-size="14">{escape(empty_text)}</text></svg>'
        )
    lo = min(values) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    index = {at: i for i, at in enumerate(times)}

    def x(at: datetime.datetime) -> float:
        return PAD_L + (plot_w * index[at] / (len(times) - 1) if len(times) > 1 else plot_w / 2)

    def y(v: float) -> float:
        share = (v - lo) / (hi - lo)
        return PAD_T + plot_h * (share if invert else 1 - share)

    def x_between(at: datetime.datetime) -> float:
        """A date that is not a point: placed between its neighbours (or at an edge)."""
        if len(times) < 2:
            return PAD_L + plot_w / 2
        i = bisect.bisect_left(times, at)
        if i <= 0:
            return PAD_L
        if i >= len(times):
            return PAD_L + plot_w
        before, after = times[i - 1], times[i]
        span = (after - before).total_seconds() or 1.0
        frac = (at - before).total_seconds() / span
        return PAD_L + plot_w * (i - 1 + frac) / (len(times) - 1)

    parts = [head]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        yy = y(v)
        parts.append(
            f'<line x1="{PAD_L}" y1="{yy:.1f}" x2="{WIDTH - PAD_R}" y2="{yy:.1f}" '
            f'stroke="#e5e5e5"/><text x="{PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#555">{_fmt(round(v, 1))}</text>'
        )
    step = max(1, len(times) // 6)
    for at in times[::step]:
        label = timezone.localtime(at).strftime("%d/%m") if timezone.is_aware(at) else ""
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - PAD_B + 16}" text-anchor="middle" '
            f'font-size="11" fill="#555">{label}</text>'
        )
    for at, text in markers:
        mx = x_between(at)
        when = timezone.localtime(at).strftime("%d/%m/%Y") if timezone.is_aware(at) else ""
        parts.append(
            f'<g class="chart-marker" data-marker="{escape(when)}">'
            f'<line x1="{mx:.1f}" y1="{PAD_T}" x2="{mx:.1f}" y2="{HEIGHT - PAD_B}" '
            f'stroke="#6a4c93" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{mx + 3:.1f}" y="{PAD_T + 10}" font-size="10" fill="#6a4c93">'
            f"{escape(text[:28])}</text>"
            f"<title>{escape(text)} — {escape(when)}</title></g>"
        )
    for n, (label, pts) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        coords = [(x(at), y(v), v, at) for at, v in pts if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _v, _at in coords)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{path}"/>'
            )
        for cx, cy, v, at in coords:
            when = timezone.localtime(at).strftime("%d/%m/%Y") if timezone.is_aware(at) else ""
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(label)} — {when} : {_fmt(v)}</title></circle>"
            )
    legend_y = HEIGHT - 6
    for n, (label, _pts) in enumerate(series):
        lx = PAD_L + n * 170
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{PALETTE[n % len(PALETTE)]}"/><text x="{lx + 14}" y="{legend_y}" '
            f'font-size="11" fill="#333">{escape(label[:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
