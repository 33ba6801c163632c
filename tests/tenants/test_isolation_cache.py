"""Cache keys carry the schema: one insurer never reads another's cached values."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db


def test_a_value_cached_in_one_insurer_is_invisible_in_another(tenant_a, tenant_b, unique):
    key = f"offre-{unique}"
    with tenant_context(tenant_a.insurer):
        cache.set(key, "valeur de A", 60)

    with tenant_context(tenant_b.insurer):
        seen_by_b = cache.get(key)
        cache.set(key, "valeur de B", 60)
    with tenant_context(tenant_a.insurer):
        seen_by_a = cache.get(key)
        cache.delete(key)
    with tenant_context(tenant_b.insurer):
        cache.delete(key)

    assert seen_by_b is None
    assert seen_by_a == "valeur de A"


def test_wagtail_site_root_paths_are_cached_per_insurer(tenant_a, tenant_b):
    from wagtail.models import Site

    with tenant_context(tenant_a.insurer):
        Site.clear_site_root_paths_cache()
        paths_a = Site.get_site_root_paths()
    with tenant_context(tenant_b.insurer):
        paths_b = Site.get_site_root_paths()
    with tenant_context(tenant_a.insurer):
        paths_a_again = Site.get_site_root_paths()

    assert [p.root_url for p in paths_a] == ["http://tenant-a.localhost"]
    assert [p.root_url for p in paths_b] == ["http://tenant-b.localhost"]
    assert [p.root_url for p in paths_a_again] == ["http://tenant-a.localhost"]
