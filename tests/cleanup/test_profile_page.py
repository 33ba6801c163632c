"""The doctor's public profile page: schema.org Physician markup, listed in the sitemap, and
only what the deontology code allows (no testimonials, no solicited reviews)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import ContentPlanItem, ProfilePage
from cleanup.services.content import (
    content_plan_item_decide,
    content_plan_item_propose,
    content_plan_item_save,
    profile_page_publish,
)
from cleanup.services.watch import watch_profile_save
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db


def test_profile_page_has_physician_jsonld_and_is_in_the_sitemap(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="9a0e0001")
        page = profile_page_publish(
            doctor=doctor,
            background="Diplômée de la faculté de médecine de Lyon.",
            practice_info="Consultations sur rendez-vous, accès PMR.",
        )
        path = page.url
    client = Client(HTTP_HOST=tenant_a.domain)

    response = client.get(path)
    sitemap = client.get("/sitemap.xml")

    assert response.status_code == 200
    html = response.content.decode()
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    )
    assert data == {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": "Dr Claire Martin",
        "medicalSpecialty": "Médecine générale",
        "url": f"http://{tenant_a.domain}/dr-claire-martin/",
        "alternateName": "Cabinet du Dr Martin",
        "address": {
            "@type": "PostalAddress",
            "addressCountry": "FR",
            "streetAddress": "12 rue des Lilas, 69003 Lyon",
            "addressLocality": "Lyon",
        },
        "telephone": "04 78 00 00 00",
        "identifier": {"@type": "PropertyValue", "propertyID": "RPPS", "value": doctor.rpps},
        "description": "Diplômée de la faculté de médecine de Lyon.",
    }
    assert "aggregateRating" not in html and '"review"' not in html
    assert sitemap.status_code == 200
    assert f"<loc>http://{tenant_a.domain}/dr-claire-martin/</loc>" in sitemap.content.decode()


@pytest.mark.parametrize(
    ("background", "expected"),
    [
        (
            "Mes patients témoignent : « une médecin formidable ».",
            "Contenu interdit par le code de déontologie (R4127-19-1) : témoignages de patients "
            "(« patients témoignent »).",
        ),
        (
            "Laissez un avis sur notre fiche !",
            "Contenu interdit par le code de déontologie (R4127-19-1) : sollicitation d'avis "
            "(« Laissez un avis »).",
        ),
        (
            "Le meilleur généraliste de Lyon.",
            "Contenu interdit par le code de déontologie (R4127-19-1) : allégation comparative "
            "(« Le meilleur »).",
        ),
    ],
)
def test_forbidden_content_is_refused_and_not_published(tenant_a, background, expected):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="9a0e0002")

        with pytest.raises(ValidationError) as exc:
            profile_page_publish(doctor=doctor, background=background)

        assert exc.value.message_dict == {"background": [expected]}
        assert ProfilePage.objects.filter(doctor=doctor).count() == 0


def test_content_plan_needs_approval_within_the_yearly_campaigns(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(positive_content_campaigns_per_year=1, tag="9a0e0003")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        staff = None  # actor of the staff steps; only the doctor may decide
        first = content_plan_item_save(
            actor=staff, profile=profile, title="Horaires d'été du cabinet",
            summary="Informations pratiques.", channel=ContentPlanItem.Channel.ARTICLE,
        )  # fmt: skip
        second = content_plan_item_save(
            actor=staff, profile=profile, title="Parcours professionnel",
            summary="Formation et diplômes.", channel=ContentPlanItem.Channel.PROFILE_PAGE,
        )  # fmt: skip
        with pytest.raises(ValidationError) as forbidden:
            content_plan_item_save(
                actor=staff, profile=profile, title="Témoignages de patients", summary="",
                channel=ContentPlanItem.Channel.ARTICLE,
            )  # fmt: skip
        first = content_plan_item_propose(item=first, actor=staff)
        second = content_plan_item_propose(item=second, actor=staff)

        content_plan_item_decide(item=first, actor=doctor.user, approve=True)
        with pytest.raises(ValidationError) as exhausted:
            content_plan_item_decide(item=second, actor=doctor.user, approve=True)

        assert forbidden.value.message_dict == {
            "title": ["Contenu interdit (R4127-19-1) : témoignages de patients (« Témoignages »)."]
        }
        assert exhausted.value.messages == [
            "Votre formule comprend 1 campagne de contenu positif par an, déjà utilisée."
        ]
        assert list(profile.content.order_by("pk").values_list("title", "status")) == [
            ("Horaires d'été du cabinet", "published"),
            ("Parcours professionnel", "proposed"),
        ]


def test_doctor_publishes_the_profile_from_the_portal_and_forbidden_text_is_explained(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="9a0e0004")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    refused = client.post(
        "/veille/contenus/",
        {"decision": "profile", "background": "Laissez un avis !", "practice_info": ""},
        follow=True,
    )
    with tenant_context(tenant_a.insurer):
        assert ProfilePage.objects.filter(doctor=doctor).count() == 0
    published = client.post(
        "/veille/contenus/",
        {"decision": "profile", "background": "Ancienne interne des Hospices civils de Lyon."},
        follow=True,
    )

    assert (
        "Contenu interdit par le code de déontologie (R4127-19-1) : sollicitation d&#x27;avis "
        "(« Laissez un avis »)." in refused.content.decode()
    )
    assert "Votre fiche professionnelle est publiée." in published.content.decode()
    with tenant_context(tenant_a.insurer):
        page = ProfilePage.objects.get(doctor=doctor)
        assert (page.live, page.background) == (
            True,
            "Ancienne interne des Hospices civils de Lyon.",
        )


def test_insurer_admin_sees_the_approved_body_read_only_in_the_page_editor(tenant_a):
    from django.contrib.auth.models import User

    from tests.conftest import staff_login

    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="9a0e0005")
        page = profile_page_publish(
            doctor=doctor, body=[{"type": "heading", "value": "Accès au cabinet"}]
        )
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, User.objects.get(email=tenant_a.admin_email))

    editor = staff.get(f"/admin/pages/{page.pk}/edit/")

    html = editor.content.decode()
    assert editor.status_code == 200
    assert "Accès au cabinet" in html
    assert 'name="body-count"' not in html  # no StreamField input: staff cannot change it
