"""The insurer's search API key is only ever sent to a public address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cleanup.models import SearchSettings
from cleanup.services.scans import search_provider_for_site

pytestmark = pytest.mark.django_db


def _settings(base_url: str) -> SearchSettings:
    conf = SearchSettings.for_site(Site.objects.get(is_default_site=True))
    conf.provider, conf.api_key = "brave", "BSA-secret"
    conf.base_url = base_url
    return conf


@override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=[])
@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/customsearch",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/",
        "http://localhost:9/",
        "http://10.0.0.5/",
        "ftp://exemple.fr/",
    ],
)
def test_an_admin_cannot_point_the_search_api_at_a_private_address(tenant_a, base_url):
    with tenant_context(tenant_a.insurer):
        conf = _settings(base_url)
        with pytest.raises(ValidationError) as refused:
            conf.full_clean()
        assert list(refused.value.message_dict) == ["base_url"]
        assert refused.value.message_dict["base_url"][0].startswith("Adresse de l'API refusée")


@override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=[])
def test_a_stored_private_address_is_never_called(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given an address saved before the check (or re-pointed by DNS)
        _settings("http://127.0.0.1:8080/customsearch").save()
        # when the worker builds the provider
        provider, per_query = search_provider_for_site()
    # then search is off: no request carries the key there
    assert (provider, per_query) == (None, 0)
