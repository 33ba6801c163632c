"""The demo claim gives the handlers' queue a live deadline, once, without network traffic."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.demo import claims_demo_seed
from cover.claims.models import Claim, TimelineKind
from tests.cover.claims_factories import doctor_create

pytestmark = pytest.mark.django_db


def test_the_demo_claim_is_opened_once_and_its_refused_capture_is_on_the_timeline(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email="dr.demo-sinistre@exemple.fr", last_name="Martin")

        first = claims_demo_seed(doctor_email="dr.demo-sinistre@exemple.fr")
        second = claims_demo_seed(doctor_email="dr.demo-sinistre@exemple.fr")

        claims = Claim.objects.filter(doctor=doctor).count()
        notes = list(
            first.events.filter(kind=TimelineKind.CAPTURE_REQUESTED).values_list("note", flat=True)
        )
        quotes = list(first.passages.order_by("start").values_list("quote", flat=True))
    today = timezone.localdate()
    assert (claims, second) == (1, None)
    assert first.publication_date == today - datetime.timedelta(days=20)
    assert quotes == ["Le Dr Martin est un escroc.", "Il m'a facturé des actes jamais réalisés."]
    assert len(notes) == 1 and notes[0].startswith(
        "https://192.0.2.10/avis/medecin — capture impossible"
    )
