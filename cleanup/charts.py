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
from dataclasses import dataclass, field
from html import escape

from django.utils import timezone

from common.formatting import number_fr

PALETTE = ("#0b4f6c", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93")
WIDTH, HEIGHT = 560, 220
PAD_L, PAD_R, PAD_T, PAD_B = 44, 16, 16, 36


Series = Sequence[tuple[str, Sequence[tuple[datetime.datetime, float | None]]]]


def _when(at: datetime.datetime, fmt: str) -> str:
    """A local date for a label or a tooltip; empty for a naive datetime."""
    return timezone.localtime(at).strftime(fmt) if timezone.is_aware(at) else ""


@dataclass(frozen=True)
class _Frame:
    """The plot area of one chart: the shared time axis, the value range, and where a date or a
    value is drawn."""

    times: list[datetime.datetime]
    lo: float
    hi: float
    invert: bool
    index: dict[datetime.datetime, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {at: i for i, at in enumerate(self.times)})

    @property
    def plot_w(self) -> int:
        return WIDTH - PAD_L - PAD_R

    @property
    def plot_h(self) -> int:
        return HEIGHT - PAD_T - PAD_B

    def x(self, at: datetime.datetime) -> float:
        times, plot_w = self.times, self.plot_w
        return PAD_L + (
            plot_w * self.index[at] / (len(times) - 1) if len(times) > 1 else plot_w / 2
        )

    def y(self, v: float) -> float:
        share = (v - self.lo) / (self.hi - self.lo)
        return PAD_T + self.plot_h * (share if self.invert else 1 - share)

    def x_between(self, at: datetime.datetime) -> float:
        """A date that is not a point: placed between its neighbours (or at an edge)."""
        times, plot_w = self.times, self.plot_w
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


def _svg_head(*, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
    )


def _grid_svg(*, frame: _Frame) -> list[str]:
    """Five horizontal grid lines with their values, then the dates under the axis."""
    parts = []
    lo, hi = frame.lo, frame.hi
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        yy = frame.y(v)
        parts.append(
            f'<line x1="{PAD_L}" y1="{yy:.1f}" x2="{WIDTH - PAD_R}" y2="{yy:.1f}" '
            f'stroke="#e5e5e5"/><text x="{PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#555">{number_fr(round(v, 1))}</text>'
        )
    step = max(1, len(frame.times) // 6)
    for at in frame.times[::step]:
        parts.append(
            f'<text x="{frame.x(at):.1f}" y="{HEIGHT - PAD_B + 16}" text-anchor="middle" '
            f'font-size="11" fill="#555">{_when(at, "%d/%m")}</text>'
        )
    return parts


def _markers_svg(*, frame: _Frame, markers: Sequence[tuple[datetime.datetime, str]]) -> list[str]:
    """Dated events as dashed vertical lines with a short label and a tooltip."""
    parts = []
    for at, text in markers:
        mx = frame.x_between(at)
        when = _when(at, "%d/%m/%Y")
        parts.append(
            f'<g class="chart-marker" data-marker="{escape(when)}">'
            f'<line x1="{mx:.1f}" y1="{PAD_T}" x2="{mx:.1f}" y2="{HEIGHT - PAD_B}" '
            f'stroke="#6a4c93" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{mx + 3:.1f}" y="{PAD_T + 10}" font-size="10" fill="#6a4c93">'
            f"{escape(text[:28])}</text>"
            f"<title>{escape(text)} — {escape(when)}</title></g>"
        )
    return parts


def _series_svg(*, frame: _Frame, series: Series) -> list[str]:
    """One polyline per series, a dot with a tooltip per known value."""
    parts = []
    for n, (label, pts) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        coords = [(frame.x(at), frame.y(v), v, at) for at, v in pts if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _v, _at in coords)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{path}"/>'
            )
        for cx, cy, v, at in coords:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(label)} — {_when(at, '%d/%m/%Y')} : {number_fr(v)}</title></circle>"
            )
    return parts


def _legend_svg(*, series: Series) -> list[str]:
    legend_y = HEIGHT - 6
    parts = []
    for n, (label, _pts) in enumerate(series):
        lx = PAD_L + n * 170
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{PALETTE[n % len(PALETTE)]}"/><text x="{lx + 14}" y="{legend_y}" '
            f'font-size="11" fill="#333">{escape(label[:24])}</text>'
        )
    return parts


def line_chart_svg(
    *,
    title: str,
    series: Series,
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
    head = _svg_head(title=title)
    if not values:
        return (
            head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#666" '
            f'font-size="14">{escape(empty_text)}</text></svg>'
        )
    lo = min(values) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    if hi <= lo:
        hi = lo + 1
    times = sorted({at for _label, pts in series for at, _v in pts})
    frame = _Frame(times=times, lo=lo, hi=hi, invert=invert)
    parts = [
        head,
        *_grid_svg(frame=frame),
        *_markers_svg(frame=frame, markers=markers),
        *_series_svg(frame=frame, series=series),
        *_legend_svg(series=series),
        "</svg>",
    ]
    return "".join(parts)
