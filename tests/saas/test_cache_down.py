"""Redis down (the cache): pages are still served, without cache, and the outage is logged."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from tests.cover.factories import DoctorFactory
from tests.saas.production_env import closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(settings):
    """The cache is a real Redis client pointed at a port where nothing listens."""
    location = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": location}}
    return location


def test_pages_are_served_while_the_cache_is_down(cache_down, tenant_a, caplog):
    visitor = Client(HTTP_HOST=tenant_a.domain)
    member = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor = DoctorFactory()
        member.force_login(doctor.user)

    with caplog.at_level(logging.ERROR, logger="saas.cache"):
        home = visitor.get("/")
        offer = visitor.get("/formules/")
        portal = member.get("/portail/")
        platform = Client(HTTP_HOST="localhost").get("/")

    assert home.status_code == 200
    assert offer.status_code == 200
    assert portal.status_code == 200
    assert doctor.user.last_name in portal.content.decode()
    assert platform.status_code == 200
    assert any(record.name == "saas.cache" for record in caplog.records)


def test_cache_calls_degrade_to_no_cache(cache_down):
    cache.set("clé", "valeur", 30)

    assert cache.get("clé") is None
    assert cache.get("clé", "défaut") == "défaut"


def test_the_cache_works_when_redis_is_up():
    cache.set("clé-saine", "valeur", 30)
    try:
        assert cache.get("clé-saine") == "valeur"
    finally:
        cache.delete("clé-saine")
