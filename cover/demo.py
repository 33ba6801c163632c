"""Demo data of the offer: the seeded site's pages, published plans and the demo doctor's policy.

Run by the ``demo_seed`` management command (through ``saas.demo``), never on a path a user
takes.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Site

from cover.demo_content import (
    DEMO_VARIANT_SECOND,
    SECOND_PLANS,
    SECOND_POLICY_PLAN,
    SECOND_SITE,
    demo_site_copy_apply,
)
from cover.documents import demo_documents_seed
from cover.models import Doctor, HomePage, Plan, Policy
from cover.services.site import (
    insurer_display_name,
    plan_version_current,
    plan_workflow_ensure,
    site_pages_ensure,
)
from tenants.roles import INSURED_DOCTOR

DEMO_PLANS: tuple[dict[str, Any], ...] = (
    {
        "name": "Essentielle",
        "slug": "essentielle",
        "summary": "La veille mensuelle et l'assistance juridique pour les premiers avis.",
        "sort_order": 1,
        "monitoring_frequency": "monthly",
        "max_keywords": 3,
        "max_watched_pages": 2,
        "removal_requests_per_year": 2,
        "positive_content_campaigns_per_year": 0,
        "per_claim_ceiling_cents": 300_000,
        "annual_ceiling_cents": 600_000,
        "cleanup_subceiling_cents": 100_000,
        "deductible_cents": 15_000,
        "intervention_threshold_cents": 30_000,
        "waiting_period_days": 30,
        "price_cents": 990,
        "billing_period": "month",
    },
    {
        "name": "Sérénité",
        "slug": "serenite",
        "summary": "Veille hebdomadaire, nettoyage et prise en charge du constat.",
        "sort_order": 2,
        "monitoring_frequency": "weekly",
        "max_keywords": 10,
        "max_watched_pages": 5,
        "removal_requests_per_year": 6,
        "positive_content_campaigns_per_year": 1,
        "per_claim_ceiling_cents": 800_000,
        "annual_ceiling_cents": 1_500_000,
        "cleanup_subceiling_cents": 300_000,
        "deductible_cents": 0,
        "intervention_threshold_cents": 15_000,
        "waiting_period_days": 0,
        "price_cents": 1990,
        "billing_period": "month",
    },
    {
        "name": "Intégrale",
        "slug": "integrale",
        "summary": "Veille quotidienne, rétroactivité d'un an et plafonds élevés.",
        "sort_order": 3,
        "monitoring_frequency": "daily",
        "max_keywords": 25,
        "max_watched_pages": 15,
        "removal_requests_per_year": 12,
        "positive_content_campaigns_per_year": 2,
        "per_claim_ceiling_cents": 1_500_000,
        "annual_ceiling_cents": 3_000_000,
        "cleanup_subceiling_cents": 600_000,
        "deductible_cents": 0,
        "intervention_threshold_cents": 0,
        "waiting_period_days": 0,
        "anteriority": "retroactive_years",
        "anteriority_years": 1,
        "territory": "Union européenne",
        "price_cents": 34_900,
        "billing_period": "year",
    },
)


def demo_offer_seed(*, doctor_email: str | None = None, variant: str = "standard") -> None:
    """Site pages, published plans and the demo doctor's active policy, where missing.

    ``variant="second"`` gives the second demo insurer its own copy, guides, two other plans and
    prices (cover.demo_content), so the two demo sites are not the same site renamed.
    """
    second = variant == DEMO_VARIANT_SECOND
    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        home = site.root_page.specific
        if isinstance(home, HomePage):
            display_name = insurer_display_name()
            site_pages_ensure(home=home, display_name=display_name)
            if second:
                demo_site_copy_apply(home=home, copy=SECOND_SITE, display_name=display_name)
    plan_workflow_ensure()
    for data in SECOND_PLANS if second else DEMO_PLANS:
        if Plan.objects.filter(slug=data["slug"]).exists():
            continue
        plan = Plan(published=True, **data)
        plan.full_clean()
        plan.save()
        plan.save_revision().publish()
    demo_documents_seed(insurer_name=insurer_display_name())
    user_model = get_user_model()
    users = user_model.objects.filter(groups__name=INSURED_DOCTOR)
    user = (users.filter(username=doctor_email) if doctor_email else users).order_by("pk").first()
    if user is None or Policy.objects.filter(doctor__user=user).exists():
        return
    doctor = Doctor.objects.filter(user=user).first() or Doctor.objects.create(
        user=user,
        rpps=f"1000000{user.pk:04d}"[-11:],
        specialty="Médecine générale",
        practice_name=_("Cabinet du Dr %(name)s") % {"name": user.get_full_name()},
        practice_address="12 rue de la République",
        city="Créteil",
    )
    Policy.objects.create(
        number=f"DEMO-{user.pk:05d}",
        doctor=doctor,
        plan_version=plan_version_current(
            plan=Plan.objects.get(slug=SECOND_POLICY_PLAN if second else "serenite")
        ),
        status=Policy.Status.ACTIVE,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
        source=Policy.Source.PORTFOLIO,
    )
