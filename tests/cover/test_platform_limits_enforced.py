"""Égide's platform plan caps what an insurer may create: the real creation paths refuse, in
French, and create nothing (new policies by Checkout or import, new captures)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.models import Policy
from cover.selectors import policies_active_count
from cover.services.policies import PolicyError, policy_checkout_start
from cover.services.portfolio import portfolio_import
from tenants.models import InsurerSubscription, PlatformPlan
from tests.cover.factories import DoctorFactory, PlanFactory
from tests.cover.test_portfolio_import import HEADER, _rows

pytestmark = pytest.mark.django_db


def _subscribe(insurer, **limits) -> None:
    plan = PlatformPlan.objects.create(
        code="plafonnee", name="Plafonnée", monthly_price_cents=10_000, **limits
    )
    InsurerSubscription.objects.create(
        insurer=insurer,
        plan=plan,
        status=InsurerSubscription.Status.ACTIVE,
        stripe_customer_id="cus_plafond",
    )


def test_checkout_beyond_the_doctors_cap_is_refused_before_any_policy(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        insured = policies_active_count(on=timezone.localdate())
    _subscribe(tenant_a.insurer, max_doctors=insured)

    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory()
        plan = PlanFactory(slug=f"cap-{unique}")
        before = Policy.objects.count()
        with pytest.raises(PolicyError) as refused:
            policy_checkout_start(
                doctor=doctor, plan=plan, success_url="/ok/", cancel_url="/annule/"
            )
        assert Policy.objects.count() == before

    assert str(refused.value) == (
        f"Limite de la formule Égide « Plafonnée » atteinte pour Assureur test A : {insured} "
        "médecins assurés au maximum. Contactez Égide pour changer de formule."
    )


def test_an_import_that_would_pass_the_cap_imports_nothing(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        insured = policies_active_count(on=timezone.localdate())
    _subscribe(tenant_a.insurer, max_doctors=insured + 2)

    with tenant_context(tenant_a.insurer):
        PlanFactory(slug=f"serenite-{unique}")
        content = "\n".join([HEADER, *_rows(unique, count=3)]) + "\n"
        report = portfolio_import(content=content, dry_run=False)
        imported = Policy.objects.filter(number__startswith=f"RCP-{unique}").count()

    assert report.imported == 0
    assert report.errors == [
        (
            0,
            f"Limite de la formule Égide « Plafonnée » atteinte pour Assureur test A : "
            f"{insured + 2} médecins assurés au maximum. Contactez Égide pour changer de formule.",
        )
    ]
    assert imported == 0


def test_a_capture_beyond_the_monthly_cap_is_refused_and_not_recorded(tenant_a, settings):
    from django.core.exceptions import ValidationError

    from evidence.models import Capture
    from evidence.selectors import captures_count
    from evidence.services.requests import capture_request

    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with tenant_context(tenant_a.insurer):
        this_month = captures_count(since=month_start, until=now)
    _subscribe(tenant_a.insurer, max_captures_per_month=this_month)

    with tenant_context(tenant_a.insurer):
        before = Capture.objects.count()
        with pytest.raises(ValidationError) as refused:
            capture_request(url="http://127.0.0.1:9/avis", requested_by=None, reason="test")
        assert Capture.objects.count() == before

    assert refused.value.messages == [
        f"Limite de la formule Égide « Plafonnée » atteinte pour Assureur test A : "
        f"{this_month} constats par mois au maximum. Contactez Égide pour changer de formule."
    ]
