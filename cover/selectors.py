"""Reads on offers and policies, used by claims and cleanup (never their models directly)."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Site

from common.formatting import euros
from cover.models import (
    Anteriority,
    BillingPeriod,
    Doctor,
    InsurerLegalInfo,
    MonitoringFrequency,
    Plan,
    Policy,
    PolicyInvoice,
    ProviderObligation,
)
from cover.terms import TERM_FIELDS, Terms


def legal_info_current() -> InsurerLegalInfo:
    """The current insurer's legal information (its schema's default site); an unsaved, empty
    record when the schema has no site yet."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return InsurerLegalInfo()
    return InsurerLegalInfo.for_site(site)


def plans_published() -> QuerySet[Plan]:
    """Plans on sale: published through moderation (``live``) and offered for subscription."""
    return Plan.objects.filter(live=True, published=True).order_by("sort_order", "name")


def plan_published_by_slug(*, slug: str) -> Plan | None:
    return plans_published().filter(slug=slug).first()


def policy_terms(*, policy: Policy) -> Terms:
    return Terms.from_json(policy.plan_version.terms)


def policy_current(*, doctor: Doctor, on: datetime.date) -> Policy | None:
    """The doctor's policy in force on a date (active, started, not ended), if any.

    A past-due or cancelled policy is not in force: it does not cover new claims.
    """
    return (
        Policy.objects.filter(doctor=doctor, status=Policy.Status.ACTIVE, start_date__lte=on)
        .exclude(end_date__lt=on)
        .select_related("plan_version")
        .order_by("-start_date")
        .first()
    )


def doctor_for_user(*, user: User | AnonymousUser) -> Doctor | None:
    if not isinstance(user, User):  # an anonymous visitor (a User is always authenticated)
        return None
    return Doctor.objects.filter(user=user).first()


def policies_for_doctor(*, doctor: Doctor) -> QuerySet[Policy]:
    return (
        Policy.objects.filter(doctor=doctor)
        .select_related("plan_version", "plan_version__plan")
        .order_by("-created_at")
    )


def policy_latest(*, doctor: Doctor) -> Policy | None:
    """The doctor's most recent policy, whatever its status (what the portal shows first)."""
    return policies_for_doctor(doctor=doctor).first()


def policy_for_doctor_by_number(*, doctor: Doctor, number: str) -> Policy | None:
    return policies_for_doctor(doctor=doctor).filter(number=number).first()


def policy_invoices(*, policy: Policy) -> QuerySet[PolicyInvoice]:
    return (
        PolicyInvoice.objects.filter(policy=policy).exclude(status="draft").order_by("-issued_at")
    )


def plan_terms(*, plan: Plan) -> Terms:
    """The terms a plan would be sold with now (its published row)."""
    return Terms(plan_name=plan.name, **{name: getattr(plan, name) for name in TERM_FIELDS})


def price_label(*, price_cents: int, period: str) -> str:
    """« 9,90 € par mois », « 349 € par an »."""
    if period == BillingPeriod.YEAR:
        return _("%(amount)s par an") % {"amount": euros(price_cents)}
    return _("%(amount)s par mois") % {"amount": euros(price_cents)}


def _amount(cents: int | None, *, none: str, zero: str | None = None) -> str:
    if cents is None:
        return none
    if cents == 0 and zero is not None:
        return zero
    return euros(cents)


def guarantee_rows(*, terms: Terms) -> list[tuple[str, str]]:
    """The guarantees of a plan version as French (label, value) lines, in reading order.

    One place for the offer comparison, the plan preview, the policy page and the certificate.
    """
    if terms.anteriority == Anteriority.RETROACTIVE_YEARS and terms.anteriority_years == 1:
        anteriority = _("Rétroactivité d'un an")
    elif terms.anteriority == Anteriority.RETROACTIVE_YEARS:
        anteriority = ngettext(
            "Rétroactivité de %(n)d an", "Rétroactivité de %(n)d ans", terms.anteriority_years
        ) % {"n": terms.anteriority_years}
    else:
        anteriority = str(Anteriority(terms.anteriority).label)
    rows = [
        (_("Prix"), price_label(price_cents=terms.price_cents, period=terms.billing_period)),
        (
            _("Veille"),
            _("%(frequency)s, %(keywords)d mots-clés, %(pages)d pages surveillées")
            % {
                "frequency": MonitoringFrequency(terms.monitoring_frequency).label,
                "keywords": terms.max_keywords,
                "pages": terms.max_watched_pages,
            },
        ),
        (
            _("Demandes de suppression ou de déréférencement"),
            _("%(n)d par an") % {"n": terms.removal_requests_per_year},
        ),
        (
            _("Campagnes de contenus positifs"),
            _("%(n)d par an") % {"n": terms.positive_content_campaigns_per_year}
            if terms.positive_content_campaigns_per_year
            else _("Non incluses"),
        ),
        (_("Plafond par sinistre"), _amount(terms.per_claim_ceiling_cents, none=_("Sans plafond"))),
        (_("Plafond annuel"), _amount(terms.annual_ceiling_cents, none=_("Sans plafond"))),
        (
            _("Sous-plafond nettoyage"),
            _amount(terms.cleanup_subceiling_cents, none=_("Sans sous-plafond")),
        ),
        (_("Franchise"), _amount(terms.deductible_cents, none=_("Aucune"), zero=_("Aucune"))),
        (
            _("Seuil d'intervention"),
            _amount(terms.intervention_threshold_cents, none=_("Aucun"), zero=_("Aucun")),
        ),
        (
            _("Délai de carence"),
            ngettext("%(n)d jour", "%(n)d jours", terms.waiting_period_days)
            % {"n": terms.waiting_period_days}
            if terms.waiting_period_days
            else _("Aucun"),
        ),
        (_("Antériorité"), anteriority),
        (_("Délai de déclaration"), terms.declaration_delay),
        (_("Territorialité"), terms.territory),
        (_("Engagement du prestataire"), str(ProviderObligation(terms.provider_obligation).label)),
        (_("Libre choix de l'avocat"), _("Oui") if terms.free_choice_of_lawyer else _("Non")),
    ]
    if terms.exclusions:
        rows.append((_("Exclusions"), terms.exclusions))
    return rows


def plans_comparison(*, plans: list[Plan]) -> list[tuple[str, list[str]]]:
    """Rows of the offer page's comparison table: one label, one value per plan."""
    columns = [guarantee_rows(terms=plan_terms(plan=plan)) for plan in plans]
    if not columns:
        return []
    labels = [label for label, _value in columns[0]]
    if any(len(c) != len(labels) for c in columns):
        labels = list(dict.fromkeys(label for c in columns for label, _value in c))
    values = [dict(c) for c in columns]
    return [(label, [v.get(label, "—") for v in values]) for label in labels]


def policies_active_count(*, on: datetime.date) -> int:
    """Insured doctors with a policy in force on ``on`` (billed to the insurer by Égide)."""
    return (
        Policy.objects.filter(status=Policy.Status.ACTIVE, start_date__lte=on)
        .exclude(end_date__lt=on)
        .values("doctor")
        .distinct()
        .count()
    )
