"""« Chiffres clés »: the insurer admin's figures from known data, for admins only, per insurer.

The test schemas are shared by the session, so every figure is asserted as an exact change
from what the schema held before the test's data was added."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup.figures import alerts_figures
from cleanup.models import Alert, Scan
from cleanup.services.watch import watch_profile_save
from cover.claims.models import Claim, Cost
from cover.figures import insurer_figures, period_resolve
from cover.models import Policy, PolicyInvoice
from tests.cleanup.factories import doctor_with_policy
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, doctor_create
from tests.cover.factories import PlanFactory, PolicyFactory
from tests.tenants.factories import ClaimsHandlerFactory, InsurerAdminFactory

NNBSP, NBSP = "\u202f", "\u00a0"
_seq = iter(range(1, 10_000))


def _invoice(policy: Policy, cents: int, *, days_ago: int = 0, status: str = "paid"):
    n = next(_seq)
    return PolicyInvoice.objects.create(
        policy=policy,
        stripe_invoice_id=f"in_fig_{connection.schema_name}_{n}_{policy.pk}",
        status=status,
        amount_due_cents=cents,
        amount_paid_cents=cents if status == "paid" else 0,
        issued_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def _cost(claim, *, amount: int, covered: int, on: datetime.date, by) -> Cost:
    return Cost.objects.create(
        claim=claim,
        kind="avocat",
        label="Honoraires",
        amount_cents=amount,
        covered_cents=covered,
        incurred_on=on,
        recorded_by=by,
    )


def _figures(key: str = "12m"):
    today = timezone.localdate()
    return insurer_figures(period=period_resolve(key=key, today=today), today=today)


def _known_data():
    """Two policies in force (a monthly and a yearly plan), one cancelled; premiums of which
    one is unpaid and one older than 12 months; two claims with covered costs."""
    today = timezone.localdate()
    handler = InsurerAdminFactory(email=f"fig.handler.{next(_seq)}@exemple.fr")
    monthly = PlanFactory(
        billing_period="month", price_cents=1990,
        per_claim_ceiling_cents=100_000, annual_ceiling_cents=120_000,
    )  # fmt: skip
    yearly = PlanFactory(
        billing_period="year", price_cents=19_900,
        per_claim_ceiling_cents=100_000, annual_ceiling_cents=None,
    )  # fmt: skip
    d1, d2, d3 = doctor_create(), doctor_create(), doctor_create()
    start = today - datetime.timedelta(days=500)
    p1 = PolicyFactory(doctor=d1, plan=monthly, start_date=start)
    p2 = PolicyFactory(doctor=d2, plan=yearly, start_date=start)
    p3 = PolicyFactory(doctor=d3, plan=monthly, start_date=start, status=Policy.Status.CANCELLED)
    _invoice(p1, 1990)
    _invoice(p1, 1990, days_ago=62)
    _invoice(p2, 19_900)
    _invoice(p1, 1990, status="open")  # not paid: no premium
    _invoice(p3, 1990, days_ago=430)  # outside the last 12 months
    c1 = claim_create(doctor=d1, today=today, seen_date=today, publication_date=today)
    c2 = claim_create(doctor=d2, today=today, seen_date=today, publication_date=today)
    # as the cover check leaves them: each claim under its doctor's policy
    Claim.objects.filter(pk=c1.pk).update(policy=p1)
    Claim.objects.filter(pk=c2.pk).update(policy=p2)
    # claim 1 reaches its 1 000 € per-claim ceiling; its policy is at 83 % of 1 200 € a year
    _cost(c1, amount=60_000, covered=60_000, on=today, by=handler)
    _cost(c1, amount=50_000, covered=40_000, on=today, by=handler)
    # claim 2 at 85 % of its ceiling; its plan has no annual ceiling
    _cost(c2, amount=90_000, covered=85_000, on=today, by=handler)
    return monthly, yearly


@pytest.mark.django_db
def test_the_figures_follow_known_data(tenant_a):
    with tenant_context(tenant_a.insurer):
        before = _figures()
        before_month = _figures("mois")
        monthly, yearly = _known_data()
        after = _figures()
        after_month = _figures("mois")

    assert after.subscribers - before.subscribers == 2
    by_plan = dict(after.subscribers_by_plan)
    assert (by_plan[monthly.name], by_plan[yearly.name]) == (1, 1)
    assert after.premiums_cents - before.premiums_cents == 1990 + 1990 + 19_900
    assert after.premiums_monthly_cents - before.premiums_monthly_cents == 1990 + 1990
    assert after.premiums_annual_cents - before.premiums_annual_cents == 19_900
    assert after_month.premiums_cents - before_month.premiums_cents == 1990 + 19_900
    this_month = timezone.localdate().replace(day=1)
    assert dict(after.premiums_by_month)[this_month] - dict(before.premiums_by_month)[
        this_month
    ] == (1990 + 19_900)
    assert len(after.premiums_by_month) == 12
    assert after.claims_open - before.claims_open == 2
    assert after.claims_opened - before.claims_opened == 2
    assert after.costs_cents - before.costs_cents == 200_000
    assert after.costs_covered_cents - before.costs_covered_cents == 185_000
    assert after.per_claim.reached - before.per_claim.reached == 1
    assert after.per_claim.over_80 - before.per_claim.over_80 == 1
    assert after.annual.over_80 - before.annual.over_80 == 1
    assert after.annual.reached - before.annual.reached == 0
    assert after.annual.unlimited - before.annual.unlimited == 1
    assert after.loss_ratio == pytest.approx(
        (before.costs_covered_cents + 185_000) / (before.premiums_cents + 23_880)
    )


@pytest.mark.django_db
def test_the_alerts_figure_counts_the_periods_alerts(tenant_a):
    with tenant_context(tenant_a.insurer):
        today = timezone.localdate()
        period = period_resolve(key="mois", today=today)
        before = alerts_figures(period=period)
        doctor = doctor_with_policy()
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="Lyon",
            specialty="", keywords=[],
        )  # fmt: skip
        scan = Scan.objects.create(profile=profile, status="done")
        for negative, dismissed in ((True, None), (False, None), (True, timezone.now())):
            Alert.objects.create(
                profile=profile, scan=scan, kind="new_review", url="http://127.0.0.1:9/a",
                title="Avis", band="unrated", negative=negative, dismissed_at=dismissed,
            )  # fmt: skip
        after = alerts_figures(period=period)

    delta = {key: after[key] - before[key] for key in after}
    assert (delta["raised"], delta["negative"], delta["unread"], delta["open"]) == (3, 2, 2, 2)
    assert delta["kind_new_review"] == 3


@pytest.mark.django_db
def test_the_admin_sees_the_figures_page_with_charts_and_how_each_is_computed(tenant_a):
    with tenant_context(tenant_a.insurer):
        _known_data()
        admin = InsurerAdminFactory(email="fig.admin@exemple.fr")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        expected = _figures("tout")

        home = client.get("/admin/").content.decode()
        response = client.get("/admin/chiffres-cles/?periode=tout")

    page = response.content.decode()
    assert response.status_code == 200
    assert "/admin/chiffres-cles/" in home
    for key in ("subscribers", "premiums", "claims", "costs", "loss_ratio", "alerts"):
        assert f'id="figure-{key}"' in page
    assert page.count('class="figure-chart"') == 5
    assert page.count("Calcul :") == 6
    premiums = expected.premiums_cents
    assert f"{premiums // 100:,}".replace(",", NNBSP) + f",{premiums % 100:02d}{NBSP}€" in page
    assert "Depuis l&#x27;ouverture" in page or "Depuis l'ouverture" in page


@pytest.mark.django_db
def test_a_handler_is_refused_the_figures_and_sees_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        monthly, _yearly = _known_data()
        handler = ClaimsHandlerFactory(email="fig.gestion@exemple.fr")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler)

        home = client.get("/admin/").content.decode()
        response = client.get("/admin/chiffres-cles/")
        refused = client.get("/admin/chiffres-cles/", follow=True)

    # Wagtail turns the refusal into a redirect to the dashboard, with its message
    page = response.content.decode() + refused.content.decode()
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert refused.redirect_chain == [("/admin/", 302)]
    assert "/admin/chiffres-cles/" not in home
    assert "Chiffres clés" not in home
    assert "Primes encaissées" not in page
    assert monthly.name not in page
    assert "€" not in page


@pytest.mark.django_db
def test_another_insurers_premiums_never_reach_the_figures(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        before_a = _figures()
        admin = InsurerAdminFactory(email="fig.cross@exemple.fr")
    with tenant_context(tenant_b.insurer):
        before_b = _figures()
        policy = PolicyFactory(
            doctor=doctor_create(),
            plan=PlanFactory(billing_period="month"),
            start_date=datetime.date(2025, 1, 1),
        )
        _invoice(policy, 77_731)
        after_b = _figures()
    with tenant_context(tenant_a.insurer):
        after_a = _figures()
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        page = client.get("/admin/chiffres-cles/").content.decode()

    assert after_b.premiums_cents - before_b.premiums_cents == 77_731
    assert after_b.subscribers - before_b.subscribers == 1
    assert after_a.premiums_cents == before_a.premiums_cents
    assert after_a.subscribers == before_a.subscribers
    assert "777,31" not in page
    assert policy.plan_version.plan.name not in page


def test_the_bar_chart_is_valid_svg_with_one_bar_per_value_and_escaped_labels():
    from xml.etree import ElementTree

    from cover.figures import bar_chart_svg

    svg = bar_chart_svg(
        title="Primes <par> mois",
        categories=["janv. 26", "févr. 26", "<script>"],
        series=[("Primes", [100, 0, 50]), ("Frais", [20, 30, 0])],
        value_text=lambda v: f"{v:.0f} €",
    )
    root = ElementTree.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    bars = [rect for rect in root.iter(f"{ns}rect") if rect.find(f"{ns}title") is not None]
    assert len(bars) == 6
    assert [bar.find(f"{ns}title").text for bar in bars][:2] == [
        "Primes — janv. 26 : 100 €",
        "Frais — janv. 26 : 20 €",
    ]
    assert "<script>" not in str(svg)
    assert "&lt;script&gt;" in str(svg)
    empty = bar_chart_svg(title="Vide", categories=["a"], series=[("x", [0])], empty_text="Rien")
    assert "Rien</text>" in str(empty)
