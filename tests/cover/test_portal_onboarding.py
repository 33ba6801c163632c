"""After paying, the portal shows the doctor's first steps (monitoring, prevention guide, profile);
each item ticks itself from real state, and the doctor can put the list away."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import WatchProfile
from cover.models import GuidePage, Policy, PortalOnboarding
from tests.conftest import PASSWORD
from tests.cover.claims_factories import doctor_create
from tests.cover.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def _client(tenant, email: str) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    response = client.post("/compte/connexion/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _items(client: Client) -> dict[str, str]:
    page = client.get("/portail/").content.decode()
    return dict(re.findall(r'id="onboarding-(\w+)" class="(done|todo)"', page))


def test_the_checklist_ticks_itself_from_real_state_and_can_be_put_away(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        doctor.practice_address = "12 rue des Lilas"  # no postal code yet
        doctor.save(update_fields=["practice_address"])
        email = doctor.user.email
        guide_url = GuidePage.objects.live().order_by("path").first().url
    client = _client(tenant_a, email)
    before_paying = _items(client)
    with tenant_context(tenant_a.insurer):
        PolicyFactory(doctor=doctor, status=Policy.Status.ACTIVE)

    fresh = _items(client)
    with tenant_context(tenant_a.insurer):
        WatchProfile.objects.create(doctor=doctor, name_variants=["Dr Claire Martin"])
    assert client.get(guide_url).status_code == 200
    two_done = _items(client)
    with tenant_context(tenant_a.insurer):
        doctor.practice_address = "12 rue des Lilas, 75011 Paris"
        doctor.save(update_fields=["practice_address"])
    all_done = client.get("/portail/").content.decode()

    assert before_paying == {}
    assert fresh == {"monitoring": "todo", "guide": "todo", "profile": "todo"}
    assert two_done == {"monitoring": "done", "guide": "done", "profile": "todo"}
    assert 'id="onboarding"' not in all_done
    with tenant_context(tenant_a.insurer):
        state = PortalOnboarding.objects.get(doctor=doctor)
        assert (state.guide_read_at is not None, state.dismissed_at) == (True, None)


def test_the_doctor_puts_the_list_away_and_only_their_own(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        other = doctor_create(last_name="Bernard")
        for who in (doctor, other):
            PolicyFactory(doctor=who, status=Policy.Status.ACTIVE)
        email, other_email = doctor.user.email, other.user.email
    client = _client(tenant_a, email)
    shown = client.get("/portail/").content.decode()

    hidden = client.post("/portail/premiers-pas/masquer/")

    assert 'id="onboarding"' in shown
    assert (hidden.status_code, hidden["Location"]) == (302, "/portail/")
    assert 'id="onboarding"' not in client.get("/portail/").content.decode()
    assert _items(_client(tenant_a, other_email)) == {
        "monitoring": "todo",
        "guide": "todo",
        "profile": "done",
    }
    with tenant_context(tenant_a.insurer):
        assert PortalOnboarding.objects.get(doctor=doctor).dismissed_at is not None
        assert not PortalOnboarding.objects.filter(doctor=other).exists()


def test_the_monitoring_item_links_to_veille_and_goes_when_all_is_done(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        PolicyFactory(doctor=doctor, status=Policy.Status.ACTIVE)
        email = doctor.user.email
    client = _client(tenant_a, email)
    page = client.get("/portail/").content.decode()
    with tenant_context(tenant_a.insurer):
        WatchProfile.objects.create(doctor=doctor, name_variants=["Dr Claire Martin"])
        PortalOnboarding.objects.create(doctor=doctor, guide_read_at="2026-01-01T10:00:00Z")

    assert '<a href="/veille/">Mettre en place ma veille</a>' in page
    assert 'id="onboarding"' not in client.get("/portail/").content.decode()


def test_a_doctor_of_insurer_b_keeps_an_untouched_checklist(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        doctor_a = doctor_create()
        PolicyFactory(doctor=doctor_a, status=Policy.Status.ACTIVE)
        PortalOnboarding.objects.create(doctor=doctor_a, guide_read_at="2026-01-01T10:00:00Z")
        WatchProfile.objects.create(doctor=doctor_a, name_variants=["Dr A"])
    with tenant_context(tenant_b.insurer):
        doctor_b = doctor_create(last_name="Bernard")
        PolicyFactory(doctor=doctor_b, status=Policy.Status.ACTIVE)
        email_b = doctor_b.user.email
        assert PortalOnboarding.objects.count() == 0

    items = _items(_client(tenant_b, email_b))

    assert items == {"monitoring": "todo", "guide": "todo", "profile": "done"}
