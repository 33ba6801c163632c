"""The claim form refuses oversized text (a 2 MB description) with a French error; nothing is
stored."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.claims.models import Claim
from tests.cover.claims_factories import DEFAMATORY, REVIEW, doctor_create

pytestmark = pytest.mark.django_db


def _form(**overrides: str) -> dict[str, str]:
    today = datetime.date.today()
    return {
        "urls": "http://127.0.0.1:9/avis/42",
        "source_text": REVIEW,
        "quotes": DEFAMATORY,
        "seen_date": today.isoformat(),
        "publication_date": (today - datetime.timedelta(5)).isoformat(),
        "author_name": "Jean D.",
        "description": "Avis publié après une consultation.",
        **overrides,
    }


@pytest.mark.parametrize(
    ("field", "size", "limit"),
    [("description", 2 * 1024 * 1024, 5000), ("source_text", 300_000, 20_000)],
)
def test_oversized_text_is_refused_with_a_french_error(tenant_a, unique, field, size, limit):
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"long-{unique}@exemple.fr")
        client.force_login(doctor.user)

    response = client.post("/portail/sinistres/nouveau/", _form(**{field: "a" * size}))

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert errors == [
        f"Assurez-vous que cette valeur comporte au plus {limit} caractères (actuellement {size})."
    ]
    with tenant_context(tenant_a.insurer):
        assert not Claim.objects.filter(doctor=doctor).exists()


def test_a_description_within_the_limit_is_accepted(tenant_a, unique):
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"court-{unique}@exemple.fr")
        client.force_login(doctor.user)

    response = client.post("/portail/sinistres/nouveau/", _form(description="b" * 5000))

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert Claim.objects.get(doctor=doctor).description == "b" * 5000
