"""« Chiffres clés »: the insurer admin's business figures in its Wagtail admin.

Why: an insurer selling the guarantee needs to see what it sells and what it costs —
subscribers, premiums collected, open claims, costs against the ceilings, the loss ratio and the
monitoring activity — without an export. Each figure says how it is computed, and every number
comes from one aggregate query (no loop over policies, claims or invoices).

Other apps add their own figure through the ``insurer_figures`` Wagtail hook: a callable taking
``period`` and ``today`` and returning a ``FigureCard`` (``cleanup`` adds the monitoring alerts;
``cover`` never imports ``cleanup``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from common.formatting import euros, number_fr
from cover.claims.models import Claim, Cost
from cover.deadlines import date_add_months
from cover.ladder import STATE_LABELS, LadderState
from cover.models import BillingPeriod, Policy, PolicyInvoice

# --------------------------------------------------------------------------------------------
# Period
# --------------------------------------------------------------------------------------------

PERIOD_LABELS = {
    "12m": "12 derniers mois",
    "annee": "Année en cours",
    "mois": "Mois en cours",
    "tout": "Depuis l'ouverture",
}
PERIOD_DEFAULT = "12m"
# The monthly charts of « depuis l'ouverture » stop at three years back.
CHART_MONTHS_MAX = 36


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime.date | None  # None: since the first record
    end: datetime.date


def period_resolve(*, key: str | None, today: datetime.date) -> Period:
    """The period a figures page shows; an unknown key falls back to the last 12 months."""
    key = key if key in PERIOD_LABELS else PERIOD_DEFAULT
    month_start = today.replace(day=1)
    start = {
        "12m": date_add_months(start=month_start, months=-11),
        "annee": today.replace(month=1, day=1),
        "mois": month_start,
        "tout": None,
    }[key]
    return Period(key=key, label=_(PERIOD_LABELS[key]), start=start, end=today)


def _months(*, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months: list[datetime.date] = []
    month = first.replace(day=1)
    while month <= last and len(months) < CHART_MONTHS_MAX:
        months.append(month)
        month = date_add_months(start=month, months=1)
    return months


_MONTH_ABBR = ("janv.", "févr.", "mars", "avr.", "mai", "juin",
               "juil.", "août", "sept.", "oct.", "nov.", "déc.")  # fmt: skip


def month_label(month: datetime.date) -> str:
    return f"{_MONTH_ABBR[month.month - 1]} {month:%y}"


# --------------------------------------------------------------------------------------------
# Figures (raw numbers)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CeilingUse:
    """How many claims (or policies) used part of their ceiling."""

    with_costs: int
    reached: int  # covered ≥ ceiling
    over_80: int  # 80 % ≤ covered < ceiling
    unlimited: int  # no ceiling in their terms


@dataclass(frozen=True)
class InsurerFigures:
    period: Period
    subscribers: int
    subscribers_by_plan: list[tuple[str, int]]
    premiums_cents: int
    premiums_monthly_cents: int
    premiums_annual_cents: int
    premiums_by_month: list[tuple[datetime.date, int]]
    claims_open: int
    claims_open_by_state: list[tuple[str, int]]
    claims_opened: int
    costs_cents: int
    costs_covered_cents: int
    costs_by_month: list[tuple[datetime.date, int]]
    per_claim: CeilingUse
    annual: CeilingUse

    @property
    def loss_ratio(self) -> float | None:
        """Covered costs over premiums collected in the period (None without premiums)."""
        if not self.premiums_cents:
            return None
        return self.costs_covered_cents / self.premiums_cents


def _in_period(prefix: str, period: Period, *, is_datetime: bool) -> Q:
    lookup = f"{prefix}__date" if is_datetime else prefix
    q = Q(**{f"{lookup}__lte": period.end})
    if period.start is not None:
        q &= Q(**{f"{lookup}__gte": period.start})
    return q


def _term_cents(path: str, name: str) -> Cast:
    """A ``*_cents`` value of the frozen terms a policy was sold with (NULL: no limit)."""
    return Cast(KeyTextTransform(name, path), IntegerField())


def _ceiling_use(rows, *, used: str, ceiling: str) -> CeilingUse:
    """One aggregate over rows annotated with ``used`` and ``ceiling`` amounts."""
    counts = rows.aggregate(
        with_costs=Count("pk", filter=Q(**{f"{used}__gt": 0})),
        reached=Count("pk", filter=Q(**{f"{used}__gt": 0, f"{used}__gte": F(ceiling)})),
        over_80=Count(
            "pk",
            filter=Q(**{f"{used}__gt": 0, f"{used}__lt": F(ceiling)})
            & Q(**{f"{used}__gte": F(ceiling) * 4 / 5}),
        ),
        unlimited=Count("pk", filter=Q(**{f"{used}__gt": 0, f"{ceiling}__isnull": True})),
    )
    return CeilingUse(**counts)


def insurer_figures(*, period: Period, today: datetime.date) -> InsurerFigures:
    """The current insurer's figures over ``period`` (its schema's data only)."""
    active = Policy.objects.filter(status=Policy.Status.ACTIVE)
    by_plan = (
        active.values(name=F("plan_version__plan__name"))
        .annotate(n=Count("pk"))
        .order_by("-n", "name")
    )
    premiums, premiums_months = _premiums(period=period)
    open_claims = Claim.objects.exclude(state=LadderState.CLOSED.value)
    by_state = open_claims.values("state").annotate(n=Count("pk")).order_by("state")
    opened = Claim.objects.filter(_in_period("created_at", period, is_datetime=True)).count()
    cost_totals, costs_months = _costs(period=period)
    per_claim, annual = _ceilings_use(today=today)

    first = period.start
    if first is None:
        dates = [*premiums_months, *costs_months]
        first = min((_as_date(d) for d in dates), default=today)
        first = max(
            first, date_add_months(start=today.replace(day=1), months=-CHART_MONTHS_MAX + 1)
        )
    months = _months(first=first, last=today)

    return InsurerFigures(
        period=period,
        subscribers=active.count(),
        subscribers_by_plan=[(row["name"], row["n"]) for row in by_plan],
        premiums_cents=premiums["total"],
        premiums_monthly_cents=premiums["monthly"],
        premiums_annual_cents=premiums["annual"],
        premiums_by_month=_per_month(premiums_months, months),
        claims_open=sum(row["n"] for row in by_state),
        claims_open_by_state=[
            (str(STATE_LABELS.get(LadderState(row["state"]), row["state"])), row["n"])
            for row in by_state
        ],
        claims_opened=opened,
        costs_cents=cost_totals["amount"],
        costs_covered_cents=cost_totals["covered"],
        costs_by_month=_per_month(costs_months, months),
        per_claim=per_claim,
        annual=annual,
    )


def _premiums(*, period: Period) -> tuple[dict[str, int], dict]:
    """Paid premiums over the period (total, monthly plans, annual plans) and per month."""
    paid = PolicyInvoice.objects.filter(status="paid").filter(
        _in_period("issued_at", period, is_datetime=True)
    )
    billing = "policy__plan_version__terms__billing_period"
    premiums = paid.aggregate(
        total=Coalesce(Sum("amount_paid_cents"), 0),
        monthly=Coalesce(
            Sum("amount_paid_cents", filter=Q(**{billing: BillingPeriod.MONTH.value})), 0
        ),
        annual=Coalesce(
            Sum("amount_paid_cents", filter=Q(**{billing: BillingPeriod.YEAR.value})), 0
        ),
    )
    per_month = dict(
        paid.annotate(month=TruncMonth("issued_at"))
        .values("month")
        .annotate(cents=Sum("amount_paid_cents"))
        .values_list("month", "cents")
    )
    return premiums, per_month


def _costs(*, period: Period) -> tuple[dict[str, int], dict]:
    """Costs incurred over the period (amount and part covered) and covered cost per month."""
    costs = Cost.objects.filter(_in_period("incurred_on", period, is_datetime=False))
    totals = costs.aggregate(
        amount=Coalesce(Sum("amount_cents"), 0), covered=Coalesce(Sum("covered_cents"), 0)
    )
    per_month = dict(
        costs.annotate(month=TruncMonth("incurred_on"))
        .values("month")
        .annotate(cents=Sum("covered_cents"))
        .values_list("month", "cents")
    )
    return totals, per_month


def _ceilings_use(*, today: datetime.date) -> tuple[CeilingUse, CeilingUse]:
    """How close claims come to the per-claim ceiling, and policies to the annual one."""
    # Per claim: everything the guarantee paid on the claim against its per-claim ceiling.
    claim_covered = (
        Cost.objects.filter(claim=OuterRef("pk"))
        .values("claim")
        .annotate(total=Sum("covered_cents"))
        .values("total")
    )
    per_claim = _ceiling_use(
        Claim.objects.filter(policy__isnull=False).annotate(
            used=Coalesce(Subquery(claim_covered, output_field=IntegerField()), Value(0)),
            ceiling=_term_cents("policy__plan_version__terms", "per_claim_ceiling_cents"),
        ),
        used="used",
        ceiling="ceiling",
    )
    # Annual: what was paid under each policy over the last 12 months against its annual
    # ceiling (the policy year runs from anniversary to anniversary; 12 rolling months is the
    # same length and needs no per-policy computation).
    year_start = date_add_months(start=today, months=-12) + datetime.timedelta(days=1)
    policy_covered = (
        Cost.objects.filter(
            claim__policy=OuterRef("pk"), incurred_on__gte=year_start, incurred_on__lte=today
        )
        .values("claim__policy")
        .annotate(total=Sum("covered_cents"))
        .values("total")
    )
    annual = _ceiling_use(
        Policy.objects.annotate(
            used=Coalesce(Subquery(policy_covered, output_field=IntegerField()), Value(0)),
            ceiling=_term_cents("plan_version__terms", "annual_ceiling_cents"),
        ),
        used="used",
        ceiling="ceiling",
    )
    return per_claim, annual


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _per_month(totals: dict, months: Sequence[datetime.date]) -> list[tuple[datetime.date, int]]:
    by_month = {_as_date(month): cents or 0 for month, cents in totals.items()}
    return [(month, by_month.get(month, 0)) for month in months]


# --------------------------------------------------------------------------------------------
# Cards and charts (what the page shows)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureCard:
    key: str
    title: str
    value: str
    how: str
    chart: SafeString = field(default_factory=lambda: mark_safe(""))  # noqa: S308 - empty
    details: tuple[tuple[str, str], ...] = ()


CHART_COLOURS = ("#0b4f6c", "#e63946", "#2a9d8f", "#f4a261")
CHART_W, CHART_H = 560, 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 12, 28, 40


def bar_chart_svg(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    value_text=str,
    empty_text: str = "",
) -> SafeString:
    """Grouped vertical bars, one group per category, one bar per series; each bar has a
    <title> giving its exact value. Pure: values in, escaped SVG markup out."""
    values = [v for _label, vals in series for v in vals]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="figure-chart" '
        f'viewBox="0 0 {CHART_W} {CHART_H}" width="100%" style="max-width:{CHART_W}px" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="{CHART_W}" height="{CHART_H}" fill="#fff"/>'
    )
    top = max(values, default=0)
    if not categories or top <= 0:
        return mark_safe(  # noqa: S308 - every interpolated text is escaped
            head + f'<text x="{CHART_W / 2}" y="{CHART_H / 2}" text-anchor="middle" '
            f'fill="#555" font-size="14">{escape(empty_text)}</text></svg>'
        )
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    group_w = plot_w / len(categories)
    bar_w = max(2.0, group_w * 0.8 / len(series))
    parts = [head]
    for i in range(5):
        v = top * i / 4
        y = PAD_T + plot_h * (1 - i / 4)
        parts.append(
            f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{CHART_W - PAD_R}" y2="{y:.1f}" '
            f'stroke="#e5e5e5"/><text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="10" fill="#555">{escape(value_text(v))}</text>'
        )
    step = max(1, len(categories) // 12)
    for c, category in enumerate(categories):
        x0 = PAD_L + group_w * c + group_w * 0.1
        if c % step == 0:
            parts.append(
                f'<text x="{PAD_L + group_w * (c + 0.5):.1f}" y="{CHART_H - PAD_B + 14}" '
                f'text-anchor="middle" font-size="10" fill="#555">{escape(category)}</text>'
            )
        for s, (label, vals) in enumerate(series):
            v = vals[c]
            h = plot_h * v / top
            parts.append(
                f'<rect x="{x0 + bar_w * s:.1f}" y="{PAD_T + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{CHART_COLOURS[s % 4]}">'
                f"<title>{escape(f'{label} — {category} : {value_text(v)}')}</title></rect>"
            )
    if len(series) > 1:
        for s, (label, _vals) in enumerate(series):
            x = PAD_L + s * 170
            parts.append(
                f'<rect x="{x}" y="8" width="10" height="10" fill="{CHART_COLOURS[s % 4]}"/>'
                f'<text x="{x + 14}" y="17" font-size="11" fill="#333">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped


def _euros_short(cents: float) -> str:
    return euros(int(round(cents / 100)) * 100).replace(",00", "")


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}".replace(".", ",") + "\u00a0%"


def figures_cards(*, figures: InsurerFigures) -> list[FigureCard]:
    f = figures
    months = [month_label(m) for m, _v in f.premiums_by_month]
    return [
        _card_subscribers(f=f),
        _card_premiums(f=f, months=months),
        _card_claims(f=f),
        _card_costs(f=f, months=months),
        _card_loss_ratio(f=f),
    ]


def _card_subscribers(*, f: InsurerFigures) -> FigureCard:
    """Active policies, by plan."""
    return FigureCard(
        key="subscribers",
        title=_("Assurés"),
        value=str(f.subscribers),
        how=_(
            "Nombre de contrats en vigueur aujourd'hui (statut « En vigueur »), quelle que "
            "soit la période choisie ; le graphique les répartit par formule."
        ),
        chart=bar_chart_svg(
            title=_("Contrats en vigueur par formule"),
            categories=[name for name, _n in f.subscribers_by_plan],
            series=[(_("Contrats"), [n for _name, n in f.subscribers_by_plan])],
            value_text=number_fr,
            empty_text=_("Aucun contrat en vigueur."),
        ),
        details=tuple((name, str(n)) for name, n in f.subscribers_by_plan),
    )


def _card_premiums(*, f: InsurerFigures, months: list[str]) -> FigureCard:
    """Premiums paid over the period, by month and billing period."""
    return FigureCard(
        key="premiums",
        title=_("Primes encaissées"),
        value=euros(f.premiums_cents),
        how=_(
            "Somme des factures payées émises sur la période (montant payé, TTC), réparties "
            "selon la périodicité de la formule souscrite."
        ),
        chart=bar_chart_svg(
            title=_("Primes encaissées par mois"),
            categories=months,
            series=[(_("Primes"), [v for _m, v in f.premiums_by_month])],
            value_text=_euros_short,
            empty_text=_("Aucune prime encaissée sur la période."),
        ),
        details=(
            (_("Formules mensuelles"), euros(f.premiums_monthly_cents)),
            (_("Formules annuelles"), euros(f.premiums_annual_cents)),
        ),
    )


def _card_claims(*, f: InsurerFigures) -> FigureCard:
    """Open claims by ladder step, and claims opened over the period."""
    return FigureCard(
        key="claims",
        title=_("Sinistres en cours"),
        value=str(f.claims_open),
        how=_(
            "Dossiers non clos aujourd'hui, par étape ; « déclarés sur la période » compte "
            "les dossiers ouverts entre les deux dates."
        ),
        chart=bar_chart_svg(
            title=_("Sinistres en cours par étape"),
            categories=[label for label, _n in f.claims_open_by_state],
            series=[(_("Dossiers"), [n for _label, n in f.claims_open_by_state])],
            value_text=number_fr,
            empty_text=_("Aucun sinistre en cours."),
        ),
        details=((_("Déclarés sur la période"), str(f.claims_opened)),),
    )


def _card_costs(*, f: InsurerFigures, months: list[str]) -> FigureCard:
    """Covered costs against premiums, and how close claims and policies come to their ceilings."""
    return FigureCard(
        key="costs",
        title=_("Frais et plafonds"),
        value=euros(f.costs_covered_cents),
        how=_(
            "Frais engagés sur la période (date des frais) et part prise en charge par la "
            "garantie. Par sinistre : total pris en charge sur le dossier comparé au plafond "
            "par sinistre du contrat. Par an : pris en charge sur les 12 derniers mois par "
            "contrat, comparé à son plafond annuel."
        ),
        chart=bar_chart_svg(
            title=_("Frais pris en charge et primes par mois"),
            categories=months,
            series=[
                (_("Primes"), [v for _m, v in f.premiums_by_month]),
                (_("Frais pris en charge"), [v for _m, v in f.costs_by_month]),
            ],
            value_text=_euros_short,
            empty_text=_("Ni prime ni frais sur la période."),
        ),
        details=(
            (_("Frais engagés"), euros(f.costs_cents)),
            (_("Pris en charge"), euros(f.costs_covered_cents)),
            (_("Sinistres ayant atteint leur plafond"), str(f.per_claim.reached)),
            (_("Sinistres à plus de 80\u00a0% du plafond"), str(f.per_claim.over_80)),
            (_("Contrats ayant atteint leur plafond annuel"), str(f.annual.reached)),
            (_("Contrats à plus de 80\u00a0% du plafond annuel"), str(f.annual.over_80)),
        ),
    )


def _card_loss_ratio(*, f: InsurerFigures) -> FigureCard:
    """Covered costs over premiums for the period."""
    ratio = f.loss_ratio
    return FigureCard(
        key="loss_ratio",
        title=_("Rapport sinistres / primes"),
        value=_percent(ratio) if ratio is not None else "—",
        how=_(
            "Frais pris en charge sur la période divisés par les primes encaissées sur la "
            "même période. Sans prime encaissée, le rapport n'est pas calculé."
        ),
        details=(
            (_("Frais pris en charge"), euros(f.costs_covered_cents)),
            (_("Primes encaissées"), euros(f.premiums_cents)),
        ),
    )
