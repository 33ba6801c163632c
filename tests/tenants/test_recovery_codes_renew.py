"""Staff and doctors renew their recovery codes themselves, once their second factor is
verified; the old codes stop working and the new ones are shown once."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_tenants.utils import tenant_context

from tenants import two_factor
from tests.conftest import staff_login
from tests.cover.claims_factories import handler_create

pytestmark = pytest.mark.django_db

RENEW = "/compte/double-authentification/codes-de-secours/renouveler/"


def _codes(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def test_a_verified_handler_renews_the_codes_and_the_old_ones_stop_working(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email="codes@tenant-a.localhost")
        staff_login(client, handler)
        old = set(two_factor.recovery_codes_renew(user=handler))
        StaticToken.objects.filter(device__user=handler, token=sorted(old)[0]).delete()
    # the page says how many are left, and the admin menu leads there
    page = client.get(RENEW + "?next=/admin/")
    assert page.status_code == 200
    assert "Il vous reste 9 codes de secours inutilisés." in page.content.decode()
    assert RENEW in client.get("/admin/").content.decode()
    # when the handler asks for new codes
    response = client.post(RENEW, {"next": "/admin/"})
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    with tenant_context(tenant_a.insurer):
        new = _codes(handler)
    # then 10 new codes are shown once, and none of the old ones is left
    assert len(new) == 10 and not (new & old)
    assert all(code in shown for code in new)
    again = client.get(response["Location"])
    assert again.status_code == 302  # shown once only


def test_a_password_only_session_cannot_renew_the_codes(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email="codes-pw@tenant-a.localhost")
        device = staff_login(client, handler)
        old = set(two_factor.recovery_codes_renew(user=handler))
        # a session with the password only (second factor not verified)
        session = client.session
        del session[DEVICE_ID_SESSION_KEY]
        session.save()
    assert device.pk
    response = client.post(RENEW, {"next": "/admin/"})
    assert response.status_code == 302
    assert "codes-de-secours" not in response["Location"]
    # nothing changed
    with tenant_context(tenant_a.insurer):
        assert _codes(handler) == old
