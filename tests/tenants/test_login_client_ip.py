"""Behind a reverse proxy, failed logins count against the client's address, not the proxy's.

Without the setting, ``REMOTE_ADDR`` of a proxied request is the proxy: ten wrong passwords from
one person would lock every user of the insurer out. And without a proxy, a client must not be
able to pick its address with a forged ``X-Forwarded-For``.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings
from django_tenants.utils import tenant_context

from tenants.login_throttle import client_ip
from tests.conftest import PASSWORD
from tests.tenants.factories import InsurerAdminFactory

PROXY = "127.0.0.9"


def _request(forwarded: str | None, remote: str = PROXY):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/admin/login/", **meta)


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "198.51.100.7", PROXY),  # no proxy configured: the header is the client's word
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "10.9.9.9, 198.51.100.7", "198.51.100.7"),  # a forged first entry is ignored
        (2, "10.9.9.9, 198.51.100.7, 192.0.2.1", "198.51.100.7"),
        (2, "198.51.100.7", PROXY),  # fewer entries than proxies: not trusted
        (1, "not-an-address", PROXY),
        (1, None, PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_from_the_trusted_proxies(hops, forwarded, expected):
    with override_settings(EGIDE_TRUSTED_PROXY_COUNT=hops):
        assert client_ip(_request(forwarded)) == expected


@pytest.mark.django_db
@override_settings(EGIDE_TRUSTED_PROXY_COUNT=1)
def test_one_locked_address_behind_the_proxy_does_not_lock_the_others(tenant_a):
    with tenant_context(tenant_a.insurer):
        victim = InsurerAdminFactory(email="admin-proxy@tenant-a.localhost")
    attacker = Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR=PROXY)
    for n in range(10):
        attacker.post(
            "/admin/login/",
            {"username": f"inconnu-{n}@exemple.fr", "password": "mauvais"},
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    locked = attacker.post(
        "/admin/login/",
        {"username": victim.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    colleague = Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR=PROXY)
    fine = colleague.post(
        "/admin/login/",
        {"username": victim.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )

    assert locked.status_code == 429
    assert "_auth_user_id" not in attacker.session
    assert fine.status_code == 302
    assert "_auth_user_id" in colleague.session
