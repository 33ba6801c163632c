"""Server-side SVG of the handlers' week: how many claims reach their nearest hard deadline on
each day, today marked.

Why SVG drawn here: the admin loads nothing from a CDN and runs no eval (CSP); the picture must
show without JavaScript. Pure: values in, escaped markup out (like ``cleanup.charts``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

WIDTH, HEIGHT = 560, 190
PAD_L, PAD_R, PAD_T, PAD_B = 16, 16, 24, 44
DAY_NAMES = tuple(
    gettext_lazy(name) for name in ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
)


def week_deadlines_svg(
    *, days: Sequence[tuple[datetime.date, int]], today: datetime.date, link: str = ""
) -> str:
    """One bar per day (Monday to Sunday) with its count; past days greyed, today outlined.
    A bar links to ``link`` when given."""
    title = _("Échéances impératives de la semaine")
    top = max([n for _day, n in days] + [1])
    plot_h = HEIGHT - PAD_T - PAD_B
    slot = (WIDTH - PAD_L - PAD_R) / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="week-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (day, count) in enumerate(days):
        x = PAD_L + index * slot + slot * 0.15
        width = slot * 0.7
        height = plot_h * count / top
        y = PAD_T + plot_h - height
        colour = "#b8b8b8" if day < today else ("#c62828" if day == today else "#0b4f6c")
        label = ngettext(
            "%(day)s : %(n)s dossier à échéance",
            "%(day)s : %(n)s dossiers à échéance",
            count,
        ) % {"day": day.strftime("%d/%m/%Y"), "n": count}
        bar = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(height, 1):.1f}" '
            f'fill="{colour}" data-day="{day.isoformat()}" data-count="{count}">'
            f"<title>{escape(label)}</title></rect>"
        )
        if link and count:
            bar = f'<a href="{escape(link)}">{bar}</a>'
        parts.append(bar)
        centre = x + width / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="13" '
            f'font-weight="bold" fill="#222">{count}</text>'
        )
        weight = ' font-weight="bold"' if day == today else ""
        parts.append(
            f'<text x="{centre:.1f}" y="{HEIGHT - PAD_B + 18}" text-anchor="middle" '
            f'font-size="12" fill="#333"{weight}>{DAY_NAMES[day.weekday()]}</text>'
            f'<text x="{centre:.1f}" y="{HEIGHT - PAD_B + 34}" text-anchor="middle" '
            f'font-size="11" fill="#555">{day.strftime("%d/%m")}</text>'
        )
    parts.append(
        f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{WIDTH - PAD_R}" y2="{PAD_T + plot_h}" '
        f'stroke="#888"/></svg>'
    )
    return "".join(parts)
