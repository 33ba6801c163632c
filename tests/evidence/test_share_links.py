"""Expiring share links: sent on the tenant's own domain, opened and downloaded by the
recipient as custody events, refused once expired, tampered with or used on another host."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from evidence.models import Capture, CustodyEvent, ShareLink
from evidence.services.sharing import SHARE_SALT, capture_share
from tests.evidence.conftest_django import CompleteCapture
from tests.tenants.factories import ClaimsHandlerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]

RECIPIENT = "etude@commissaire-justice.example"


def _share(tenant, capture_id: int, *, days: int = 7) -> tuple[ShareLink, str]:
    with tenant_context(tenant.insurer):
        handler = ClaimsHandlerFactory()
        link = capture_share(
            capture=Capture.objects.get(pk=capture_id),
            recipient_email=RECIPIENT,
            expires_in=dt.timedelta(days=days),
            shared_by=handler,
        )
    path = re.search(r"http://tenant-a\.localhost(/preuves/partage/[^/\s]+/)", mail.outbox[-1].body)
    assert path is not None, mail.outbox[-1].body
    return link, path.group(1)


def _kinds(tenant, capture_id: int) -> list[tuple[str, str]]:
    with tenant_context(tenant.insurer):
        return list(
            CustodyEvent.objects.filter(capture_id=capture_id)
            .order_by("seq")
            .values_list("kind", "actor_label")
        )


def test_share_mails_a_link_on_the_insurers_domain(tenant_a, complete_capture: CompleteCapture):
    link, path = _share(tenant_a, complete_capture.capture_id)
    message = mail.outbox[0]
    assert message.to == [RECIPIENT]
    assert message.subject == f"Lot de preuve n° {complete_capture.capture_id} à télécharger"
    # the token signs this link (it carries its signing time: compare what it holds, not bytes)
    token = path.removeprefix("/preuves/partage/").rstrip("/")
    assert signing.loads(token, salt=SHARE_SALT) == {"l": link.pk, "n": link.nonce}
    assert _kinds(tenant_a, complete_capture.capture_id)[-1][0] == "shared"


def test_recipient_opens_and_downloads_and_both_are_custody_events(tenant_a, complete_capture):
    # given
    link, path = _share(tenant_a, complete_capture.capture_id)
    before = _kinds(tenant_a, complete_capture.capture_id)
    client = Client(HTTP_HOST=tenant_a.domain)
    # when
    page = client.get(path)
    download = client.get(path + "telecharger/")
    # then
    assert page.status_code == 200
    assert f"Lien personnel destiné à {RECIPIENT}." in page.content.decode()
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    assert _kinds(tenant_a, complete_capture.capture_id) == [
        *before,
        ("link-opened", RECIPIENT),
        ("downloaded", RECIPIENT),
    ]
    with tenant_context(tenant_a.insurer):
        link.refresh_from_db()
    assert link.downloads == 1
    assert link.opened_at is not None


def test_an_expired_link_is_refused_and_nothing_is_recorded(tenant_a, complete_capture):
    link, path = _share(tenant_a, complete_capture.capture_id)
    with tenant_context(tenant_a.insurer):
        ShareLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    before = _kinds(tenant_a, complete_capture.capture_id)
    client = Client(HTTP_HOST=tenant_a.domain)
    for url in (path, path + "telecharger/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Lien invalide ou expiré" in response.content.decode()
    assert _kinds(tenant_a, complete_capture.capture_id) == before


def test_a_tampered_token_is_refused(tenant_a, complete_capture):
    _link, path = _share(tenant_a, complete_capture.capture_id)
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert Client(HTTP_HOST=tenant_a.domain).get(tampered).status_code == 404


def test_a_link_of_insurer_a_does_not_open_on_insurer_b(tenant_a, tenant_b, complete_capture):
    _link, path = _share(tenant_a, complete_capture.capture_id)
    assert Client(HTTP_HOST=tenant_b.domain).get(path).status_code == 404
    assert Client(HTTP_HOST=tenant_b.domain).get(path + "telecharger/").status_code == 404


@pytest.mark.parametrize(
    ("email", "days", "message"),
    [
        ("pas-une-adresse", 7, "Adresse e-mail du destinataire invalide : pas-une-adresse"),
        (
            RECIPIENT,
            31,
            "La durée de validité du lien doit être comprise entre une heure et 30 jours.",
        ),
    ],
)
def test_bad_share_requests_are_refused_in_french_and_nothing_is_sent(
    tenant_a, complete_capture, email, days, message
):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
        with pytest.raises(ValidationError) as raised:
            capture_share(
                capture=Capture.objects.get(pk=complete_capture.capture_id),
                recipient_email=email,
                expires_in=dt.timedelta(days=days),
                shared_by=handler,
            )
        assert raised.value.messages == [message]
        assert ShareLink.objects.count() == 0
    assert mail.outbox == []


def test_an_unfinished_capture_cannot_be_shared(tenant_a):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
        capture = Capture.objects.create(url="http://127.0.0.1:1/", requested_by=handler)
        with pytest.raises(ValidationError) as raised:
            capture_share(
                capture=capture,
                recipient_email=RECIPIENT,
                expires_in=dt.timedelta(days=1),
                shared_by=handler,
            )
        assert raised.value.messages == ["Seule une capture terminée peut être envoyée."]
    assert mail.outbox == []
