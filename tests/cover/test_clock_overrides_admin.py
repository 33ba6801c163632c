"""The insurer's clock overrides are a form in the Wagtail settings: per clock a duration and
its reminders, shown next to DOMAIN's caveat; bad values get a French error and change nothing."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.admin_forms import clock_field_name
from cover.claims.selectors.engine import clock_configuration
from cover.models import ClockSettings
from cover.rules import CLOCKS, AlertAnchor, Duration, DurationUnit
from tenants.services import roles_apply
from tests.conftest import staff_login
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db


def _admin_client(tenant, unique):
    with tenant_context(tenant.insurer):
        roles_apply()
        admin = InsurerAdminFactory(email=f"admin-delais-{unique}@exemple.fr")
        site = Site.objects.get(is_default_site=True)
        client = Client(HTTP_HOST=tenant.domain)
        staff_login(client, admin)
    return client, f"/admin/settings/cover/clocksettings/{site.pk}/"


def _form_as_rendered(**changes) -> dict[str, str]:
    """What the browser posts back when the admin changes only ``changes``."""
    data = {"holiday_calendar": "metropole"}
    for clock_id, rule in CLOCKS.items():
        data[clock_field_name(clock_id, "amount")] = str(rule.duration.amount)
        data[clock_field_name(clock_id, "unit")] = rule.duration.unit.value
        for part, anchor in (("alerts_due", AlertAnchor.DUE), ("alerts_start", AlertAnchor.START)):
            days = [str(a.days) for a in rule.alerts if a.anchor is anchor]
            data[clock_field_name(clock_id, part)] = ", ".join(days)
    data.update(changes)
    return data


def _settings(**fields) -> ClockSettings:
    site = Site.objects.get(is_default_site=True)
    settings, _created = ClockSettings.objects.update_or_create(site=site, defaults=fields)
    return settings


def test_the_form_shows_each_clock_with_its_caveat_and_source(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        _settings(
            clock_overrides={"INSURER_DECLARATION": {"duration": {"amount": 8, "unit": "DAYS"}}}
        )
    client, url = _admin_client(tenant_a, unique)
    with tenant_context(tenant_a.insurer):
        response = client.get(url)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Déclaration du sinistre à l'assureur" in page
    assert "À vérifier : Délai propre à chaque contrat" in page
    assert "Source : Conditions générales du contrat" in page
    assert "Le délai de déclaration saisi sur une formule prime sur cette valeur" in page
    # the stored override is what the form shows, not raw JSON
    amount = clock_field_name("INSURER_DECLARATION", "amount")
    assert f'name="{amount}" value="8"' in page
    assert '"duration"' not in page


def test_saving_the_form_stores_only_what_differs_and_keeps_other_overrides(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        _settings(clock_overrides={"PRESS_3M": {"end_offset_days": 0}})
    client, url = _admin_client(tenant_a, unique)
    data = _form_as_rendered(
        **{
            clock_field_name("INSURER_DECLARATION", "amount"): "10",
            clock_field_name("INSURER_DECLARATION", "alerts_due"): "3",
        }
    )
    with tenant_context(tenant_a.insurer):
        response = client.post(url, data)
        stored = ClockSettings.objects.get(site=Site.objects.get(is_default_site=True))
        configuration = clock_configuration()
    assert response.status_code == 302
    assert stored.clock_overrides == {
        "PRESS_3M": {"end_offset_days": 0},
        "INSURER_DECLARATION": {
            "duration": {"amount": 10, "unit": "WORKING_DAYS"},
            "alerts": [{"days": 3, "anchor": "DUE"}],
        },
    }
    assert configuration.overrides["INSURER_DECLARATION"]["duration"] == Duration(
        10, DurationUnit.WORKING_DAYS
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (
            {clock_field_name("INSURER_DECLARATION", "amount"): "-3"},
            "La durée doit être d'au moins 1.",
        ),
        (
            {
                clock_field_name("GDPR_RESPONSE_1M", "amount"): "400",
                clock_field_name("GDPR_RESPONSE_1M", "unit"): "MONTHS",
            },
            "Durée invraisemblable : au plus 60 mois.",
        ),
        (
            {clock_field_name("INSURER_DECLARATION", "alerts_due"): "30"},
            "Le rappel à 30 jours doit tomber pendant le délai (5 jours ouvrés) : entre 1 et 4 "
            "jours.",
        ),
        (
            {clock_field_name("PRESS_3M", "alerts_start"): "45, soixante"},
            "Indiquez des nombres de jours séparés par des virgules.",
        ),
        (
            {clock_field_name("DSA_DECISION", "unit"): ""},
            "Indiquez la durée et son unité, ou laissez les deux vides.",
        ),
    ],
)
def test_invalid_values_get_a_french_error_and_change_nothing(tenant_a, unique, changes, error):
    with tenant_context(tenant_a.insurer):
        _settings(clock_overrides={"PRESS_3M": {"end_offset_days": 0}})
    client, url = _admin_client(tenant_a, unique)
    data = _form_as_rendered(
        **{clock_field_name("CNIL_SILENCE_3M", "amount"): "4"},
        **changes,
    )
    with tenant_context(tenant_a.insurer):
        response = client.post(url, data)
        stored = ClockSettings.objects.get(site=Site.objects.get(is_default_site=True))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert error in page
    # nothing saved, and what the admin typed is still in the form
    assert stored.clock_overrides == {"PRESS_3M": {"end_offset_days": 0}}
    assert f'name="{clock_field_name("CNIL_SILENCE_3M", "amount")}" value="4"' in page


def test_one_insurer_s_overrides_do_not_reach_another(tenant_a, tenant_b, unique):
    client, url = _admin_client(tenant_a, unique)
    data = _form_as_rendered(**{clock_field_name("INSURER_DECLARATION", "amount"): "12"})
    with tenant_context(tenant_a.insurer):
        assert client.post(url, data).status_code == 302
        assert clock_configuration().overrides["INSURER_DECLARATION"]["duration"] == (
            Duration(12, DurationUnit.WORKING_DAYS)
        )
    with tenant_context(tenant_b.insurer):
        other = clock_configuration().overrides
    assert "INSURER_DECLARATION" not in other
