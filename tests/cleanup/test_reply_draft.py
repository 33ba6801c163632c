"""From a review alert, the doctor gets a reply that keeps medical secrecy, and the advice not
to reply when a passage is flagged as possibly illicit (DOMAIN §5.3–5.4)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.services.scans import scan_request, scan_run
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.conftest import SCAN2_REVIEWS, jsonld_page
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db


def test_reply_draft_for_a_lawful_and_for_a_flagged_review(tenant_a, review_site):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="4e910001")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="Cabinet des Lilas",
            city="", specialty="", keywords=[],
        )  # fmt: skip
        # the first read is a baseline (one summary); the reviews then arrive as new ones
        earlier = {"author": "Yves B.", "date": "2024-01-05", "rating": "4", "text": "Bon suivi."}
        url = review_site.put("/4e910001", jsonld_page(reviews=[earlier], rating="4", count=1))
        watched_page_add(profile=profile, url=url)
        scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
        review_site.put("/4e910001", jsonld_page(reviews=SCAN2_REVIEWS, rating="2", count=3))
        scan_run(scan_id=scan_request(profile=profile, enqueue=False).pk)
        lawful = profile.alerts.get(review__author="Sophie L.")
        flagged = profile.alerts.get(review__author="Karim B.")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    lawful_page = client.get(f"/veille/alertes/{lawful.pk}/reponse/").content.decode()
    flagged_page = client.get(f"/veille/alertes/{flagged.pk}/reponse/").content.decode()

    expected = (
        "Bonjour, nous vous remercions d&#x27;avoir pris le temps de partager votre ressenti. "
        "Dans le respect du secret médical, nous ne pouvons évoquer publiquement aucune "
        "situation individuelle. Si vous le souhaitez, nous vous invitons à contacter "
        "directement le cabinet afin d&#x27;échanger en toute confidentialité. — Cabinet des Lilas"
    )
    assert expected in lawful_page
    assert "Conseil : ne pas répondre." in flagged_page
    assert '<mark title="Injure possible">charlatan</mark>' in flagged_page
