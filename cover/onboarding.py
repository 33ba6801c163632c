"""The doctor's checklist after paying: set up monitoring, read a prevention guide, complete the
profile. Items tick themselves from real state; the doctor can put the list away.

Monitoring belongs to ``cleanup``, above ``cover``: its caller says whether it is set up
(``cleanup.templatetags.portal_onboarding``), so ``cover`` imports nothing from above.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cover.claims.plan_terms import practice_postal_code
from cover.models import Doctor, GuidePage, Policy, PortalOnboarding


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    hint: str
    url: str
    done: bool


def onboarding_profile_complete(*, doctor: Doctor) -> bool:
    """Complete enough for the cover check: identity, specialty, and a practice address with
    its postal code (the territory of the contract is judged on it)."""
    return bool(
        doctor.rpps
        and doctor.specialty
        and doctor.city
        and practice_postal_code(address=doctor.practice_address, city=doctor.city)
    )


def onboarding_checklist(
    *, doctor: Doctor | None, policy: Policy | None, monitoring_set_up: bool
) -> list[ChecklistItem] | None:
    """The items to show, or ``None`` before paying, once put away, or when all are done."""
    if doctor is None or policy is None or policy.status != Policy.Status.ACTIVE:
        return None
    state = PortalOnboarding.objects.filter(doctor=doctor).first()
    if state is not None and state.dismissed_at is not None:
        return None
    guide = GuidePage.objects.live().order_by("path").first()
    items = [
        ChecklistItem(
            "monitoring",
            str(_("Mettre en place ma veille")),
            str(_("Votre nom, votre cabinet et les pages d'avis à surveiller.")),
            "/veille/",
            monitoring_set_up,
        ),
        ChecklistItem(
            "guide",
            str(_("Lire le guide de prévention")),
            str(_("Les bons réflexes face à un avis négatif.")),
            guide.url if guide is not None and guide.url else "/guides/",
            state is not None and state.guide_read_at is not None,
        ),
        ChecklistItem(
            "profile",
            str(_("Compléter mon profil")),
            str(_("Adresse du cabinet avec son code postal, pour la vérification de la garantie.")),
            "/portail/profil/",
            onboarding_profile_complete(doctor=doctor),
        ),
    ]
    return None if all(item.done for item in items) else items


def onboarding_guide_read(*, user: User | AnonymousUser) -> None:
    """Record that the signed-in doctor opened a prevention guide (first time only)."""
    if user.pk is None:
        return
    doctor = Doctor.objects.filter(user_id=user.pk).first()
    if doctor is None:
        return
    state, _created = PortalOnboarding.objects.get_or_create(doctor=doctor)
    if state.guide_read_at is None:
        state.guide_read_at = timezone.now()
        state.save(update_fields=["guide_read_at"])


def onboarding_dismiss(*, doctor: Doctor) -> None:
    state, _created = PortalOnboarding.objects.get_or_create(doctor=doctor)
    if state.dismissed_at is None:
        state.dismissed_at = timezone.now()
        state.save(update_fields=["dismissed_at"])
