"""A handler sends a claim's capture to a commissaire de justice of the insurer's directory as
an expiring link; the custody log and the claim's timeline both record it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.models import Partner, PartnerKind, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids
from cover.claims.services.captures import claim_evidence_send
from cover.claims.services.common import ClaimActionRefused
from evidence.models import Capture, CustodyEvent, ShareLink
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, handler_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim_with_capture(tenant_a, settings):
    # A loopback address, allowed for the test, so that opening the claim records a capture.
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        (capture_id,) = claim_capture_ids(claim=claim)
        # The capture itself is exercised in tests/evidence; here it only needs to be complete.
        Capture.objects.filter(pk=capture_id).update(
            status=Capture.Status.COMPLETE, gen_time=timezone.now(), progress=100
        )
        commissaire = Partner.objects.create(
            kind=PartnerKind.COMMISSAIRE, name="Me Durand", email="etude.durand@exemple.fr"
        )
        avocat = Partner.objects.create(
            kind=PartnerKind.AVOCAT, name="Me Petit", email="cabinet.petit@exemple.fr"
        )
        yield claim, capture_id, commissaire, avocat


def test_handler_sends_the_capture_to_a_commissaire(tenant_a, claim_with_capture):
    claim, capture_id, commissaire, _avocat = claim_with_capture
    with tenant_context(tenant_a.insurer):
        handler = handler_create()
        mail.outbox.clear()

        event = claim_evidence_send(
            claim=claim, capture_id=capture_id, partner=commissaire, expires_in_days=7, by=handler
        )

        link = ShareLink.objects.get(capture_id=capture_id)
        shared = CustodyEvent.objects.filter(capture_id=capture_id, kind="shared").count()
    assert (link.recipient_email, link.shared_by_id) == ("etude.durand@exemple.fr", handler.pk)
    assert shared == 1
    assert event.kind == TimelineKind.EVIDENCE_SENT
    assert event.note == (
        f"Capture n° {capture_id} envoyée à Me Durand (etude.durand@exemple.fr), "
        "lien valable 7 jours"
    )
    assert [m.to for m in mail.outbox] == [["etude.durand@exemple.fr"]]
    assert f"http://{tenant_a.domain}/preuves/partage/" in mail.outbox[0].body


@pytest.mark.parametrize("case", ["avocat", "foreign_capture"])
def test_wrong_recipient_or_capture_is_refused_and_nothing_is_sent(
    tenant_a, claim_with_capture, case
):
    claim, capture_id, commissaire, avocat = claim_with_capture
    with tenant_context(tenant_a.insurer):
        handler = handler_create()
        other = claim_create()
        partner, capture = (avocat, capture_id) if case == "avocat" else (commissaire, 0)
        target = claim if case == "avocat" else other
        mail.outbox.clear()

        with pytest.raises(ClaimActionRefused) as refused:
            claim_evidence_send(
                claim=target, capture_id=capture, partner=partner, expires_in_days=7, by=handler
            )
        links = ShareLink.objects.count()
        sent_events = claim.events.filter(kind=TimelineKind.EVIDENCE_SENT).count()
    expected = {
        "avocat": ["Choisissez un commissaire de justice actif de l'annuaire."],
        "foreign_capture": [
            "Cette capture n'appartient pas à ce sinistre.",
            "Capture introuvable.",
        ],
    }[case]
    assert refused.value.reasons == expected
    assert (links, sent_events, mail.outbox) == (0, 0, [])


def test_the_admin_form_sends_for_a_handler_and_not_for_a_doctor(tenant_a, claim_with_capture):
    claim, capture_id, commissaire, _avocat = claim_with_capture
    with tenant_context(tenant_a.insurer):
        handler = handler_create()
    url = f"/admin/sinistres/{claim.pk}/preuves/envoi/"
    form = {"capture": capture_id, "partner": commissaire.pk, "days": 3}

    doctor_client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor_client.force_login(claim.doctor.user)
    refused = doctor_client.post(url, form)
    with tenant_context(tenant_a.insurer):
        links_after_doctor = ShareLink.objects.count()

    handler_client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(handler_client, handler)
    detail = handler_client.get(f"/admin/sinistres/{claim.pk}/").content.decode()
    sent = handler_client.post(url, form)
    with tenant_context(tenant_a.insurer):
        link = ShareLink.objects.get()

    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]
    assert links_after_doctor == 0
    assert f'data-capture="{capture_id}"' in detail and "Me Durand" in detail
    assert (sent.status_code, sent["Location"]) == (302, f"/admin/sinistres/{claim.pk}/")
    hours_valid = round((link.expires_at - link.created_at).total_seconds() / 3600)
    assert (link.recipient_email, hours_valid) == ("etude.durand@exemple.fr", 72)
