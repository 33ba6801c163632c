"""Wrong passwords lock the account and the address for a while, per insurer, on every login
form; the answers never tell which e-mails have an account (login and sign-up)."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD
from tests.tenants.factories import DoctorUserFactory, InsurerAdminFactory

pytestmark = pytest.mark.django_db

LOCKED = "Connexion temporairement bloquée"


def _attempt(client: Client, email: str, password: str, path: str = "/admin/login/"):
    return client.post(path, {"username": email, "password": password})


def _fail(client: Client, email: str, times: int, path: str = "/admin/login/") -> list[int]:
    return [_attempt(client, email, f"mauvais-{n}", path).status_code for n in range(times)]


def test_ten_wrong_passwords_lock_the_account_then_the_right_one_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-verrou@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)

    statuses = _fail(client, admin.username, 10)
    right = _attempt(client, admin.username, PASSWORD)

    assert statuses == [200] * 9 + [429]
    assert right.status_code == 429
    body = right.content.decode()
    assert LOCKED in body and "15 minutes" in body
    assert admin.username not in body
    assert "_auth_user_id" not in client.session
    with tenant_context(tenant_a.insurer):
        assert AccessAttempt.objects.get(username=admin.username).failures_since_start >= 10


def test_nine_wrong_passwords_then_the_right_one_logs_in_and_resets(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-neuf@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)

    statuses = _fail(client, admin.username, 9)
    right = _attempt(client, admin.username, PASSWORD)

    assert statuses == [200] * 9
    assert (right.status_code, right["Location"]) == (302, "/admin/")
    with tenant_context(tenant_a.insurer):
        assert not AccessAttempt.objects.filter(username=admin.username).exists()


def test_the_lock_ends_after_the_cool_off(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-attente@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)
    _fail(client, admin.username, 10)
    assert _attempt(client, admin.username, PASSWORD).status_code == 429

    with tenant_context(tenant_a.insurer):  # 16 minutes later
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    later = _attempt(client, admin.username, PASSWORD)

    assert (later.status_code, later["Location"]) == (302, "/admin/")


def test_unknown_and_known_e_mails_get_the_same_answers(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-reel@tenant-a.localhost")
    known, unknown = Client(HTTP_HOST=tenant_a.domain), Client(HTTP_HOST=tenant_a.domain)
    known_first = _attempt(known, admin.username, "mauvais")
    unknown_first = _attempt(unknown, "personne@tenant-a.localhost", "mauvais")
    _fail(known, admin.username, 9)
    # The address is locked too by now: the unknown e-mail is tried from another address.
    unknown = Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR="127.0.0.2")
    unknown_statuses = _fail(unknown, "personne@tenant-a.localhost", 9)  # 10 for that e-mail

    known_locked = _attempt(known, admin.username, PASSWORD)
    unknown_locked = _attempt(unknown, "personne@tenant-a.localhost", "x")

    def error(response) -> str:
        return response.context["form"].non_field_errors().as_text()

    assert error(known_first) == error(unknown_first) != ""
    assert unknown_statuses == [200] * 8 + [429]
    assert known_locked.status_code == unknown_locked.status_code == 429
    assert known_locked.content == unknown_locked.content


def test_e_mail_case_does_not_give_more_tries(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-casse@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)

    _fail(client, "ADMIN-Casse@Tenant-A.localhost", 5)
    _fail(Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR="127.0.0.3"), admin.username, 5)
    right = _attempt(
        Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR="127.0.0.4"), admin.username, PASSWORD
    )

    assert right.status_code == 429


def test_one_address_trying_many_accounts_is_locked(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-adresse@tenant-a.localhost")
    attacker = Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR="127.0.0.9")
    statuses = [
        _attempt(attacker, f"essai{n}@tenant-a.localhost", "mauvais").status_code for n in range(10)
    ]

    from_attacker = _attempt(attacker, admin.username, PASSWORD)
    from_elsewhere = _attempt(
        Client(HTTP_HOST=tenant_a.domain, REMOTE_ADDR="127.0.0.10"), admin.username, PASSWORD
    )

    assert statuses == [200] * 9 + [429]
    assert from_attacker.status_code == 429
    assert (from_elsewhere.status_code, from_elsewhere["Location"]) == (302, "/admin/")


def test_a_lock_at_one_insurer_does_not_lock_the_same_account_or_address_at_another(
    tenant_a, tenant_b
):
    email = "meme-adresse@exemple.fr"
    with tenant_context(tenant_a.insurer):
        InsurerAdminFactory(email=email)
    with tenant_context(tenant_b.insurer):
        InsurerAdminFactory(email=email)
    client_a, client_b = Client(HTTP_HOST=tenant_a.domain), Client(HTTP_HOST=tenant_b.domain)

    _fail(client_a, email, 10)
    at_a = _attempt(client_a, email, PASSWORD)
    at_b = _attempt(client_b, email, PASSWORD)  # same e-mail, same address 127.0.0.1

    assert at_a.status_code == 429
    assert (at_b.status_code, at_b["Location"]) == (302, "/admin/")
    with tenant_context(tenant_a.insurer):
        assert AccessAttempt.objects.filter(username=email).count() == 1
    with tenant_context(tenant_b.insurer):
        assert AccessAttempt.objects.count() == 0


def test_the_portal_login_locks_too(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="dr.verrou@exemple.fr")
    client = Client(HTTP_HOST=tenant_a.domain)

    statuses = _fail(client, doctor.username, 10, path="/compte/connexion/")
    right = _attempt(client, doctor.username, PASSWORD, path="/compte/connexion/")

    assert statuses == [200] * 9 + [429]
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert 'href="/compte/connexion/"' in right.content.decode()
    assert client.get("/portail/").status_code == 302


def test_the_platform_admin_login_locks_too(tenant_a):
    operator = get_user_model().objects.create_superuser(
        username="operateur-verrou@egide.localhost", email="o@egide.localhost", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")

    statuses = _fail(client, operator.username, 10)
    right = _attempt(client, operator.username, PASSWORD)

    assert statuses == [200] * 9 + [429]
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert AccessAttempt.objects.filter(username=operator.username).count() == 1
    with tenant_context(tenant_a.insurer):
        assert not AccessAttempt.objects.filter(username=operator.username).exists()


# --- sign-up ---------------------------------------------------------------------------------

SIGNUP = {
    "first_name": "Claire",
    "last_name": "Martin",
    "password1": "Un-mot-de-passe-solide-2026",
    "password2": "Un-mot-de-passe-solide-2026",
    "accept_terms": "on",
}


def test_sign_up_does_not_reveal_an_existing_account(tenant_a):
    with tenant_context(tenant_a.insurer):
        DoctorUserFactory(email="dr.existe@exemple.fr")
    existing, new = Client(HTTP_HOST=tenant_a.domain), Client(HTTP_HOST=tenant_a.domain)

    to_existing = existing.post("/compte/inscription/", {**SIGNUP, "email": "dr.existe@exemple.fr"})
    to_new = new.post("/compte/inscription/", {**SIGNUP, "email": "dr.nouveau@exemple.fr"})
    page_existing = existing.get(to_existing["Location"]).content.decode()
    page_new = new.get(to_new["Location"]).content.decode()

    assert (to_existing.status_code, to_existing["Location"]) == (
        to_new.status_code,
        to_new["Location"],
    )
    assert page_existing.replace("dr.existe", "X") == page_new.replace("dr.nouveau", "X")
    assert "Si l'adresse dr.existe@exemple.fr est valide, vous allez recevoir un message" in (
        page_existing.replace("&#x27;", "'")
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["dr.existe@exemple.fr", "dr.nouveau@exemple.fr"]
    with tenant_context(tenant_a.insurer):
        user = get_user_model().objects.get(username="dr.existe@exemple.fr")
        assert (user.first_name, user.check_password(PASSWORD)) == ("Camille", True)
