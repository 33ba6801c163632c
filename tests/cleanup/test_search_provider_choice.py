"""Web search: Brave Search API by default; Google's Custom Search JSON API (closed to new
customers, stopped on 1 January 2027) only for a key configured before, with its end date said."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cleanup.models import SearchSettings
from cleanup.models.search import GOOGLE_CSE_END, google_cse_closed
from tests.conftest import staff_login
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db


def _conf() -> SearchSettings:
    return SearchSettings.for_site(Site.objects.get(is_default_site=True))


def test_a_new_insurer_is_offered_brave(tenant_a):
    with tenant_context(tenant_a.insurer):
        SearchSettings.objects.all().delete()
        conf = _conf()
        assert conf.provider == SearchSettings.Provider.BRAVE
        conf.api_key = "BSA-cle"
        conf.full_clean()


def test_google_is_refused_to_a_new_configuration(tenant_a):
    with tenant_context(tenant_a.insurer):
        conf = _conf()
        conf.provider, conf.api_key, conf.cx = "brave", "BSA-cle", ""
        conf.save()
        conf.provider, conf.api_key, conf.cx = "google-cse", "AIza-nouvelle", "cx-1"
        with pytest.raises(ValidationError) as refused:
            conf.full_clean()
        assert refused.value.message_dict["provider"] == [
            "Google Programmable Search n'accepte plus de nouveaux clients (arrêt le 1er janvier "
            "2027) : choisissez Brave Search API."
        ]
        assert SearchSettings.objects.get(pk=conf.pk).provider == "brave"


def test_an_existing_google_key_is_kept_until_the_end_date(tenant_a):
    with tenant_context(tenant_a.insurer):
        conf = _conf()
        conf.provider, conf.api_key, conf.cx = "google-cse", "AIza-ancienne", "cx-1"
        conf.save()  # configured before Google closed the API to new customers
        conf.results_per_query = 10
        if google_cse_closed():
            with pytest.raises(ValidationError):
                conf.full_clean()
        else:
            conf.full_clean()
    assert GOOGLE_CSE_END == datetime.date(2027, 1, 1)
    assert not google_cse_closed(today=datetime.date(2026, 12, 31))
    assert google_cse_closed(today=datetime.date(2027, 1, 1))


def test_the_settings_page_states_googles_end_date(tenant_a, client):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory()
        site = Site.objects.get(is_default_site=True)
        staff_login(client, admin)
    response = client.get(
        f"/admin/settings/cleanup/searchsettings/{site.pk}/", HTTP_HOST=tenant_a.domain
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "s&#x27;arrête le 1er janvier 2027" in page or "s'arrête le 1er janvier 2027" in page
    assert "Brave Search API par défaut" in page
