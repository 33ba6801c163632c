"""Online sign-up: an inactive account, a one-use e-mail link that activates it, a profile."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db

SIGNUP = {
    "first_name": "Claire",
    "last_name": "Martin",
    "email": "Claire.Martin@Exemple.fr",
    "password1": "Un-mot-de-passe-solide-2026",
    "password2": "Un-mot-de-passe-solide-2026",
    "accept_terms": "on",
}


def _link() -> str:
    return re.search(r"http://\S+", mail.outbox[-1].body).group(0)


def test_signup_sends_a_link_that_activates_the_account_once(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain)

    response = client.post("/compte/inscription/", SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == "/compte/inscription/envoyee/"
    with tenant_context(tenant_a.insurer):
        user = get_user_model().objects.get(username="claire.martin@exemple.fr")
        assert (
            user.is_active,
            user.first_name,
            list(user.groups.values_list("name", flat=True)),
        ) == (
            False,
            "Claire",
            ["Médecin assuré"],
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["claire.martin@exemple.fr"]
    assert mail.outbox[0].subject == "Confirmez votre adresse e-mail – Assureur test A"
    link = _link()
    assert link.startswith(f"http://{tenant_a.domain}/compte/verification/")

    path = link.split(tenant_a.domain, 1)[1]
    verified = client.get(path)
    again = Client(HTTP_HOST=tenant_a.domain).get(path)

    assert verified.status_code == 302
    assert verified["Location"] == "/portail/profil/"
    assert client.get("/portail/profil/").status_code == 200
    assert again.status_code == 400
    with tenant_context(tenant_a.insurer):
        assert get_user_model().objects.get(username="claire.martin@exemple.fr").is_active is True


def test_a_link_made_for_insurer_a_does_not_work_at_insurer_b(tenant_a, tenant_b):
    Client(HTTP_HOST=tenant_a.domain).post("/compte/inscription/", SIGNUP)
    path = _link().split(tenant_a.domain, 1)[1]

    response = Client(HTTP_HOST=tenant_b.domain).get(path)

    assert response.status_code == 400
    with tenant_context(tenant_b.insurer):
        assert not get_user_model().objects.filter(username="claire.martin@exemple.fr").exists()


def test_an_address_already_active_gets_the_same_answer_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        user = get_user_model().objects.create_user(
            username="claire.martin@exemple.fr",
            email="claire.martin@exemple.fr",
            first_name="Ancien",
            password="autre-mot-de-passe-2026",
        )

    response = Client(HTTP_HOST=tenant_a.domain).post("/compte/inscription/", SIGNUP)

    # The visitor sees what a new sign-up sees; only the owner's mailbox learns more.
    assert (response.status_code, response["Location"]) == (302, "/compte/inscription/envoyee/")
    assert [m.to for m in mail.outbox] == [["claire.martin@exemple.fr"]]
    assert "existe déjà" in mail.outbox[0].subject
    assert "/compte/verification/" not in mail.outbox[0].body
    with tenant_context(tenant_a.insurer):
        user.refresh_from_db()
        assert (user.first_name, user.check_password("autre-mot-de-passe-2026")) == ("Ancien", True)


def test_mismatched_passwords_are_refused_in_french(tenant_a):
    response = Client(HTTP_HOST=tenant_a.domain).post(
        "/compte/inscription/", {**SIGNUP, "password2": "autre-chose-2026"}
    )

    assert response.status_code == 200
    assert "Les deux mots de passe ne correspondent pas." in response.content.decode()
    assert mail.outbox == []
