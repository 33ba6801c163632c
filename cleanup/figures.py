"""The monitoring figure of the insurer admin's « Chiffres clés » page (``cover.figures``).

Why here: ``cover`` never imports ``cleanup``; the page collects other apps' figures through the
``insurer_figures`` Wagtail hook, and this module answers it with one aggregate query.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from wagtail import hooks

from cleanup.models import Alert
from cover.figures import FigureCard, Period, bar_chart_svg


def alerts_figures(*, period: Period) -> dict[str, int]:
    """Alerts raised in the period (all, negative, still to review) and those open today."""
    in_period = Q(created_at__date__lte=period.end)
    if period.start is not None:
        in_period &= Q(created_at__date__gte=period.start)
    undismissed = Q(dismissed_at__isnull=True)
    counts = Alert.objects.aggregate(
        raised=Count("pk", filter=in_period),
        negative=Count("pk", filter=in_period & Q(negative=True)),
        unread=Count("pk", filter=in_period & Q(read_at__isnull=True) & undismissed),
        open=Count("pk", filter=undismissed),
        **{
            f"kind_{kind.value}": Count("pk", filter=in_period & Q(kind=kind.value))
            for kind in Alert.Kind
        },
    )
    return counts


@hooks.register("insurer_figures")
def alerts_figure_card(*, period: Period, today: datetime.date) -> FigureCard:
    counts = alerts_figures(period=period)
    kinds = [(str(kind.label), counts[f"kind_{kind.value}"]) for kind in Alert.Kind]
    return FigureCard(
        key="alerts",
        title=_("Alertes de veille"),
        value=str(counts["raised"]),
        how=_(
            "Alertes créées par la veille sur la période (nouvel avis, avis modifié ou disparu, "
            "nouveau résultat), dont les négatives et celles ni lues ni écartées ; « ouvertes » "
            "compte aujourd'hui toutes les alertes non écartées."
        ),
        chart=bar_chart_svg(
            title=_("Alertes de la période par type"),
            categories=[label for label, _n in kinds],
            series=[(_("Alertes"), [n for _label, n in kinds])],
            value_text=lambda v: f"{v:.0f}" if v % 1 == 0 else f"{v:.1f}".replace(".", ","),
            empty_text=_("Aucune alerte sur la période."),
        ),
        details=(
            (_("Négatives"), str(counts["negative"])),
            (_("Ni lues ni écartées"), str(counts["unread"])),
            (_("Ouvertes aujourd'hui"), str(counts["open"])),
        ),
    )
