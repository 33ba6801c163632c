"""The doctor's profile: RPPS checked for format (11 digits), unique within the insurer."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.models import Doctor
from tests.cover.factories import DoctorFactory
from tests.tenants.factories import DoctorUserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "rpps": "10003456789",
    "specialty": "Médecine générale",
    "practice_name": "Cabinet Martin",
    "practice_address": "12 rue de la République",
    "city": "Créteil",
    "phone": "01 23 45 67 89",
}


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


@pytest.mark.parametrize("rpps", ["1234567890", "123456789012", "1000345678A"])
def test_a_badly_formed_rpps_is_refused_and_nothing_is_saved(tenant_a, rpps):
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory()
    response = _client(tenant_a, user).post("/portail/profil/", {**PROFILE, "rpps": rpps})

    assert response.status_code == 200
    assert "Le numéro RPPS compte 11 chiffres." in response.content.decode()
    with tenant_context(tenant_a.insurer):
        assert Doctor.objects.filter(user=user).count() == 0


def test_a_valid_profile_is_saved_and_leads_to_the_choice_of_plan(tenant_a):
    with tenant_context(tenant_a.insurer):
        user = DoctorUserFactory()
    response = _client(tenant_a, user).post(
        "/portail/profil/", {**PROFILE, "rpps": "100 0345 6789"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/portail/souscrire/"
    with tenant_context(tenant_a.insurer):
        doctor = Doctor.objects.get(user=user)
        assert (doctor.rpps, doctor.specialty, doctor.city) == (
            "10003456789",
            "Médecine générale",
            "Créteil",
        )


def test_an_rpps_already_used_by_another_doctor_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        DoctorFactory(rpps="10003456789")
        user = DoctorUserFactory()
    response = _client(tenant_a, user).post("/portail/profil/", PROFILE)

    assert response.status_code == 200
    assert "Ce numéro RPPS est déjà associé à un autre compte." in response.content.decode()
    with tenant_context(tenant_a.insurer):
        assert Doctor.objects.filter(user=user).count() == 0
