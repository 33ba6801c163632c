"""Notifications through Apprise next to the e-mail: a doctor's or the insurer's channels get
the kinds they subscribe to, with the digest rules; URLs are checked (Apprise, schemes, outbound
guard) at save and at send, stored encrypted, and only their owner sees them.

Endpoints are local HTTP servers on loopback that speak what Apprise's json:// plugin posts;
the trap server on 127.0.0.2 must record nothing when the allow-list is 127.0.0.1 only."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dramatiq
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from mailing.channels import (
    ChannelInvalid,
    ChannelSendFailed,
    channel_create,
    notification_deliver_run,
)
from mailing.kinds import MailKind
from mailing.models import MailNotice, NotificationChannel
from mailing.services import mail_digests_send, mail_send
from tenants.services import roles_apply
from tests.conftest import staff_login
from tests.tenants.factories import InsurerAdminFactory

LOOPBACK_ONLY = ["127.0.0.1/32"]


class Endpoint:
    """A webhook receiver: records every request; answers ``status``."""

    def __init__(self, host: str = "127.0.0.1", status: int = 200) -> None:
        self.requests: list[dict] = []
        self.status = status
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                endpoint.requests.append({"path": self.path, "body": body})
                self.send_response(endpoint.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"json://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def trap():
    server = Endpoint(host="127.0.0.2")
    yield server
    server.close()


def _user(unique: str, tag: str = "a"):
    email = f"dr-notif-{tag}-{unique}@exemple.test"
    return get_user_model().objects.create_user(username=email, email=email)


def _drain() -> None:
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("default", timeout=60_000)
        worker.join()
    finally:
        worker.stop()


def test_an_immediate_kind_reaches_the_doctor_webhook_once_after_the_e_mail(
    committed_db, tenant_a, endpoint, unique
):
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        channel = channel_create(
            owner=user,
            label="Mon webhook",
            url=endpoint.url(f"/hook/{unique}"),
            kinds=[MailKind.MONITORING_ALERTS.value],
        )
        other = channel_create(
            owner=user,
            label="Sinistres seulement",
            url=endpoint.url(f"/other/{unique}"),
            kinds=[MailKind.CLAIM_UPDATE.value],
        )
    try:
        mail.outbox.clear()
        with tenant_context(tenant_a.insurer):
            sent = mail_send(
                to=user.email,
                kind=MailKind.MONITORING_ALERTS,
                context={"sujet": f"Veille {unique} : 1 changement", "detail": "Un nouvel avis."},
                link_path="/veille/",
            )
        _drain()

        assert sent is True
        assert [m.to for m in mail.outbox] == [[user.email]]
        assert [r["path"] for r in endpoint.requests] == [f"/hook/{unique}"]
        message = endpoint.requests[0]["body"]
        assert message["title"] == f"Veille {unique} : 1 changement"
        assert "/veille/" in message["message"]
        with tenant_context(tenant_a.insurer):
            channel.refresh_from_db()
            assert channel.last_sent_at is not None
            assert channel.last_error == ""
    finally:
        with tenant_context(tenant_a.insurer):
            NotificationChannel.objects.filter(pk__in=[channel.pk, other.pk]).delete()
            user.delete()


def test_a_digest_kind_arrives_once_per_digest_not_once_per_notice(
    committed_db, tenant_a, endpoint, unique
):
    with tenant_context(tenant_a.insurer):
        user = _user(unique, "d")
        channel = channel_create(
            owner=user,
            label="Slack perso",
            url=endpoint.url(f"/digest/{unique}"),
            kinds=[MailKind.CAPTURE_DONE.value],
        )
    try:
        start = timezone.now()
        with tenant_context(tenant_a.insurer):
            for i in range(3):
                assert (
                    mail_send(
                        to=user.email,
                        kind=MailKind.CAPTURE_DONE,
                        context={"adresse": f"https://avis.exemple/{unique}/{i}"},
                        link_path=f"/preuves/{i}/",
                    )
                    is False
                )
        _drain()
        assert endpoint.requests == []  # nothing before the digest

        with tenant_context(tenant_a.insurer):
            mail_digests_send(now=start + datetime.timedelta(hours=2))
            again = mail_digests_send(now=start + datetime.timedelta(hours=4))
        _drain()

        assert again == 0
        assert len(endpoint.requests) == 1
        text = endpoint.requests[0]["body"]["message"]
        assert [f"/preuves/{i}/" in text for i in range(3)] == [True, True, True]
        assert len([m for m in mail.outbox if m.to == [user.email]]) == 1
    finally:
        with tenant_context(tenant_a.insurer):
            MailNotice.objects.filter(recipient=user.email).update(digest=None)
            MailNotice.objects.filter(recipient=user.email).delete()
            channel.delete()
            user.delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.2:{port}/hook",
        "json://169.254.169.254/latest/meta-data",
        "json://[::1]:{port}/hook",
        "xml://10.0.0.1/hook",
    ],
)
def test_a_non_public_address_is_refused_at_save_and_nothing_is_sent(tenant_a, trap, unique, url):
    with (
        tenant_context(tenant_a.insurer),
        override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=LOOPBACK_ONLY),
    ):
        user = _user(unique)
        with pytest.raises(ChannelInvalid) as refused:
            channel_create(
                owner=user, label="Piège", url=url.format(port=trap.port), kinds=["claim_update"]
            )
        assert "Destination refusée" in str(refused.value)
        assert "Adresse non publique refusée" in str(refused.value)
        assert NotificationChannel.objects.filter(owner=user).count() == 0
    assert trap.requests == []


@pytest.mark.django_db
def test_an_address_allowed_at_save_but_not_at_send_is_refused_at_send(tenant_a, trap, unique):
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        # Saved while 127.0.0.0/8 was allowed (the test settings)…
        channel = channel_create(owner=user, label="Piège", url=trap.url(), kinds=["claim_update"])
        # …sent once the allow-list is loopback 127.0.0.1 only.
        with override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=LOOPBACK_ONLY):
            notification_deliver_run(channel_id=channel.pk, title="Essai", body="Texte")
        channel.refresh_from_db()
        assert channel.last_error.startswith("Destination refusée")
        assert "127.0.0.2" in channel.last_error
        assert channel.last_sent_at is None
    assert trap.requests == []


@pytest.mark.django_db
def test_a_redirect_to_a_refused_address_is_not_followed(tenant_a, trap, unique):
    class Redirector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.2:{trap.port}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            tenant_context(tenant_a.insurer),
            override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=LOOPBACK_ONLY),
        ):
            user = _user(unique)
            channel = channel_create(
                owner=user,
                label="Redirection",
                url=f"json://127.0.0.1:{server.server_address[1]}/hook",
                kinds=["claim_update"],
            )
            notification_deliver_run(channel_id=channel.pk, title="Essai", body="Texte")
            channel.refresh_from_db()
            assert channel.last_error.startswith("Destination refusée")
    finally:
        server.shutdown()
        server.server_close()
    assert trap.requests == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ceci n'est pas une adresse", "non autorisé"),
        ("file:///etc/passwd", "non autorisé"),
        ("windows://", "non autorisé"),
        ("slack://", "Adresse non reconnue par Apprise"),
        ("json://", "Adresse non reconnue par Apprise"),
    ],
)
def test_an_invalid_url_gets_a_french_error_and_saves_nothing(tenant_a, unique, url, expected):
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        with pytest.raises(ChannelInvalid) as refused:
            channel_create(owner=user, label="Essai", url=url, kinds=["claim_update"])
        assert expected in str(refused.value)
        assert NotificationChannel.objects.count() == 0


@pytest.mark.django_db
def test_the_url_is_encrypted_at_rest_and_shown_masked(tenant_a, endpoint, unique):
    secret = f"/hook/secret-{unique}"
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        channel = channel_create(
            owner=user, label="Webhook", url=endpoint.url(secret), kinds=["claim_update"]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t::text FROM mailing_notificationchannel t WHERE id = %s", [channel.pk]
            )
            (row,) = cursor.fetchone()
            cursor.execute(
                "SELECT url_ciphertext FROM mailing_notificationchannel WHERE id = %s",
                [channel.pk],
            )
            (cipher,) = cursor.fetchone()
        assert f"secret-{unique}" not in row
        assert f"secret-{unique}".encode() not in bytes(cipher)
        assert channel.url_masked == f"json://127.0.0.1:{endpoint.port}/…"

        # and it still works: the test message reaches the endpoint
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(user)
        page = client.get("/portail/notifications/")
        assert page.status_code == 200
        assert f"secret-{unique}" not in page.content.decode()
        response = client.post(f"/portail/notifications/{channel.public_id}/test/")
        assert response.status_code == 302
    assert [r["path"] for r in endpoint.requests] == [secret]


@pytest.mark.django_db
def test_a_doctor_adds_a_channel_in_the_portal_with_french_errors(tenant_a, endpoint, unique):
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(user)
        home = client.get("/portail/")
        assert "/portail/notifications/" in home.content.decode()

        bad = client.post(
            "/portail/notifications/",
            {"label": "Mauvais", "url": "json://", "kinds": ["claim_update"]},
        )
        assert bad.status_code == 400
        assert "Adresse non reconnue par Apprise" in bad.content.decode()
        assert NotificationChannel.objects.filter(owner=user).count() == 0

        secret_kind = client.post(
            "/portail/notifications/",
            {"label": "Lien", "url": endpoint.url(), "kinds": ["account_verification"]},
        )
        assert secret_kind.status_code == 400
        assert NotificationChannel.objects.filter(owner=user).count() == 0

        good = client.post(
            "/portail/notifications/",
            {"label": "Mon SMS", "url": endpoint.url(), "kinds": ["claim_update"]},
        )
        assert good.status_code == 302
        assert list(
            NotificationChannel.objects.filter(owner=user).values_list("label", "kinds")
        ) == [("Mon SMS", ["claim_update"])]
        assert "Mon SMS" in client.get("/portail/notifications/").content.decode()


@pytest.mark.django_db
def test_a_doctor_cannot_see_test_or_delete_another_doctors_channel(tenant_a, endpoint, unique):
    with tenant_context(tenant_a.insurer):
        alice, bruno = _user(unique, "alice"), _user(unique, "bruno")
        channel_b = channel_create(
            owner=bruno,
            label=f"Canal de Bruno {unique}",
            url=endpoint.url(),
            kinds=["claim_update"],
        )
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(alice)

        page = client.get("/portail/notifications/").content.decode()
        tested = client.post(f"/portail/notifications/{channel_b.public_id}/test/")
        deleted = client.post(f"/portail/notifications/{channel_b.public_id}/delete/")

        assert f"Canal de Bruno {unique}" not in page
        assert (tested.status_code, deleted.status_code) == (404, 404)
        assert NotificationChannel.objects.filter(pk=channel_b.pk).exists()
    assert endpoint.requests == []


@pytest.mark.django_db
def test_insurer_b_cannot_see_or_delete_insurer_a_channels(tenant_a, tenant_b, endpoint, unique):
    with tenant_context(tenant_a.insurer):
        roles_apply()
        admin_a = InsurerAdminFactory(email=f"admin-notif-a-{unique}@exemple.fr")
        client_a = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client_a, admin_a)
    created = client_a.post(
        "/admin/notifications/",
        {"label": f"Teams gestion {unique}", "url": endpoint.url(), "kinds": ["claim_assigned"]},
    )
    assert created.status_code == 302
    with tenant_context(tenant_a.insurer):
        channel_a = NotificationChannel.objects.get(label=f"Teams gestion {unique}")
        assert channel_a.owner is None
    assert f"Teams gestion {unique}" in client_a.get("/admin/notifications/").content.decode()

    with tenant_context(tenant_b.insurer):
        roles_apply()
        admin_b = InsurerAdminFactory(email=f"admin-notif-b-{unique}@exemple.fr")
        client_b = Client(HTTP_HOST=tenant_b.domain)
        staff_login(client_b, admin_b)
    page_b = client_b.get("/admin/notifications/")
    deleted = client_b.post(f"/admin/notifications/{channel_a.public_id}/delete/")
    tested = client_b.post(f"/admin/notifications/{channel_a.public_id}/test/")

    assert page_b.status_code == 200
    assert f"Teams gestion {unique}" not in page_b.content.decode()
    assert (deleted.status_code, tested.status_code) == (404, 404)
    with tenant_context(tenant_a.insurer):
        assert NotificationChannel.objects.filter(pk=channel_a.pk).exists()
    assert endpoint.requests == []


@pytest.mark.django_db
def test_a_doctor_cannot_open_the_insurer_channels_admin(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        user = _user(unique)
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(user)
        response = client.post(
            "/admin/notifications/",
            {"label": "Intrus", "url": "json://127.0.0.1:9/x", "kinds": ["claim_assigned"]},
        )
        assert response.status_code in (302, 403)
        assert NotificationChannel.objects.count() == 0


@pytest.mark.django_db
def test_a_failing_endpoint_is_recorded_and_the_e_mail_still_goes(tenant_a, unique):
    failing = Endpoint(status=500)
    try:
        with tenant_context(tenant_a.insurer):
            user = _user(unique)
            channel = channel_create(
                owner=user, label="En panne", url=failing.url(), kinds=["cover_decision"]
            )
            mail.outbox.clear()
            sent = mail_send(
                to=user.email,
                kind=MailKind.COVER_DECISION,
                context={"sujet": "Dossier SIN-1 : décision", "detail": "Garantie acquise."},
                link_path="/portail/sinistres/",
            )
            assert sent is True
            assert [m.subject for m in mail.outbox] == ["Dossier SIN-1 : décision"]

            # the task's body, as the worker runs it: recorded, then raised for a retry
            with pytest.raises(ChannelSendFailed):
                notification_deliver_run(channel_id=channel.pk, title="Dossier SIN-1", body="…")
            channel.refresh_from_db()
            assert channel.last_error.startswith("Échec de l'envoi (json)")
            assert channel.last_error_at is not None and channel.last_sent_at is None
    finally:
        failing.close()
    assert len(failing.requests) == 1
