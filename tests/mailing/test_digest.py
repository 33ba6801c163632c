"""Non-urgent notices wait and leave grouped: one e-mail per recipient per period, each notice
in exactly one digest; hard deadlines and account e-mails leave at once."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.models import ClaimEvent, TimelineKind
from cover.claims.services.notifications import claim_doctor_email_send
from mailing.kinds import MailKind
from mailing.models import MailDigest, MailNotice
from mailing.services import mail_digests_send, mail_send
from tests.cover.claims_factories import claim_create

HOUR = datetime.timedelta(hours=1)
STEPS = ["Capture demandée", "Courrier préparé", "Nouvelle étape"]


def _claim_events(claim, count: int) -> list[ClaimEvent]:
    kinds = [
        TimelineKind.CAPTURE_REQUESTED,
        TimelineKind.LETTER_GENERATED,
        TimelineKind.STEP_CHANGED,
    ]
    return [
        ClaimEvent.objects.create(
            claim=claim,
            kind=kinds[i % 3],
            date=datetime.date(2025, 3, 12),
            note=f"Étape {i + 1}",
            visible_to_doctor=True,
        )
        for i in range(count)
    ]


@pytest.mark.django_db
def test_seven_claim_events_make_one_e_mail_with_seven_links(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        doctor_email = claim.doctor.user.email
        mail.outbox.clear()
        start = timezone.now()

        # when the claim moves seven times (the actor body, as the worker runs it)
        for event in _claim_events(claim, 7):
            claim_doctor_email_send(claim_id=claim.pk, event_id=event.pk)
        queued_now = len(mail.outbox)
        early = mail_digests_send(now=start + HOUR - datetime.timedelta(minutes=1))
        on_time = mail_digests_send(now=start + HOUR + datetime.timedelta(minutes=1))
        again = mail_digests_send(now=start + 3 * HOUR)
        digests = list(MailDigest.objects.filter(recipient=doctor_email))
        notices = list(MailNotice.objects.filter(recipient=doctor_email))

    # then nothing left at once, one e-mail after the period, none after
    assert (queued_now, early, on_time, again) == (0, 0, 1, 0)
    (message,) = mail.outbox
    assert message.to == [doctor_email]
    assert message.from_email == "Assureur test A <no-reply@tenant-a.localhost>"
    assert message.subject == "Assureur test A : 7 nouvelles de vos dossiers"
    link = f"http://tenant-a.localhost/portail/sinistres/{claim.pk}/"
    assert message.body.count(link) == 7
    items = re.findall(r"^\* (.+)$", message.body, flags=re.MULTILINE)
    assert items == [f"Dossier {claim.reference} : {STEPS[i % 3]}" for i in range(7)]
    assert len(digests) == 1 and len(notices) == 7
    assert {n.digest_id for n in notices} == {digests[0].pk}


@pytest.mark.django_db
def test_a_notice_after_a_digest_goes_in_the_next_one_alone(tenant_a):
    with tenant_context(tenant_a.insurer):
        start = timezone.now()
        context = {"reference": "SIN-9", "etape": "Nouvelle étape", "note": ""}
        mail_send(to="dr.x@exemple.fr", kind="claim_update", context=context, link_path="/a/")
        mail_send(to="dr.y@exemple.fr", kind="claim_update", context=context, link_path="/b/")
        mail.outbox.clear()
        first = mail_digests_send(now=start + 2 * HOUR)
        mail_send(to="dr.x@exemple.fr", kind="claim_update", context=context, link_path="/c/")
        too_soon = mail_digests_send(now=timezone.now() + HOUR / 2)
        later = mail_digests_send(now=timezone.now() + 2 * HOUR)

    assert (first, too_soon, later) == (2, 0, 1)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["dr.x@exemple.fr"], "Dossier SIN-9 : Nouvelle étape"),
        (["dr.y@exemple.fr"], "Dossier SIN-9 : Nouvelle étape"),
        (["dr.x@exemple.fr"], "Dossier SIN-9 : Nouvelle étape"),
    ]
    assert "http://tenant-a.localhost/a/" in mail.outbox[0].body
    assert "http://tenant-a.localhost/c/" in mail.outbox[2].body
    assert "/a/" not in mail.outbox[2].body


@pytest.mark.django_db
def test_a_hard_deadline_within_the_urgent_days_leaves_at_once(tenant_a):
    today = datetime.date(2026, 3, 2)
    context = {"reference": "SIN-7", "etape": "Nouvelle étape", "note": ""}
    with tenant_context(tenant_a.insurer):
        mail.outbox.clear()
        soon = mail_send(
            to="dr@exemple.fr",
            kind=MailKind.CLAIM_UPDATE,
            context=context,
            link_path="/p/",
            deadline=today + datetime.timedelta(days=3),
            today=today,
        )
        sent_at_once = len(mail.outbox)
        later = mail_send(
            to="dr@exemple.fr",
            kind=MailKind.CLAIM_UPDATE,
            context=context,
            link_path="/p/",
            deadline=today + datetime.timedelta(days=4),
            today=today,
        )
        waiting = MailNotice.objects.filter(recipient="dr@exemple.fr", digest=None).count()

    assert (soon, sent_at_once, later, waiting) == (True, 1, False, 1)


@pytest.mark.django_db
def test_account_e_mails_never_wait(tenant_a):
    with tenant_context(tenant_a.insurer):
        mail.outbox.clear()
        sent = mail_send(
            to="dr@exemple.fr", kind=MailKind.ACCOUNT_VERIFICATION, context={}, link_path="/v/"
        )
        waiting = MailNotice.objects.filter(recipient="dr@exemple.fr").count()

    assert (sent, len(mail.outbox), waiting) == (True, 1, 0)


@pytest.mark.django_db
def test_a_failed_send_loses_no_notice(tenant_a, settings):
    with tenant_context(tenant_a.insurer):
        start = timezone.now()
        for path in ("/1/", "/2/"):
            mail_send(
                to="dr.perdu@exemple.fr",
                kind=MailKind.CLAIM_UPDATE,
                context={"reference": "SIN-3", "etape": "Nouvelle étape"},
                link_path=path,
            )
        # the mail server is down: nothing listens on the discard port of loopback
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
        with pytest.raises(OSError):
            mail_digests_send(now=start + 2 * HOUR)
        pending_after_failure = MailNotice.objects.filter(digest=None).count()
        digests_after_failure = MailDigest.objects.count()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        mail.outbox.clear()
        resent = mail_digests_send(now=start + 2 * HOUR)

    assert (pending_after_failure, digests_after_failure, resent) == (2, 0, 1)
    assert mail.outbox[0].body.count("http://tenant-a.localhost/") == 2


def test_two_workers_at_once_send_each_notice_in_exactly_one_digest(committed_db, tenant_a, unique):
    recipient = f"dr.concurrent-{unique}@exemple.fr"
    created = timezone.now() - 2 * HOUR
    with tenant_context(tenant_a.insurer):
        MailNotice.objects.bulk_create(
            MailNotice(
                recipient=recipient,
                kind=MailKind.CLAIM_UPDATE.value,
                subject=f"Nouvelle {i}",
                body="…",
                link=f"http://tenant-a.localhost/n/{i}/",
                created_at=created,
            )
            for i in range(5)
        )
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with tenant_context(tenant_a.insurer):
                barrier.wait()
                results.append(mail_digests_send())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        with tenant_context(tenant_a.insurer):
            notices = list(MailNotice.objects.filter(recipient=recipient))
            digests = list(MailDigest.objects.filter(recipient=recipient))
        sent = [m for m in mail.outbox if m.to == [recipient]]

        assert errors == []
        assert len(digests) == 1 and len(sent) == 1
        assert {n.digest_id for n in notices} == {digests[0].pk}
        assert sorted(results) == [0, 1]
        assert sent[0].body.count("http://tenant-a.localhost/n/") == 5
    finally:
        with tenant_context(tenant_a.insurer):
            MailNotice.objects.filter(recipient=recipient).delete()
            MailDigest.objects.filter(recipient=recipient).delete()
    assert settings.EMAIL_BACKEND.endswith("locmem.EmailBackend")


@pytest.mark.django_db
def test_a_digest_run_in_b_never_sends_a_notices(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        start = timezone.now()
        mail_send(
            to="dr.a-seulement@exemple.fr",
            kind=MailKind.CLAIM_UPDATE,
            context={"reference": "SIN-A", "etape": "Nouvelle étape"},
            link_path="/portail/",
        )
    mail.outbox.clear()

    with tenant_context(tenant_b.insurer):
        in_b = mail_digests_send(now=start + 2 * HOUR)
        b_notices = MailNotice.objects.count()
    with tenant_context(tenant_a.insurer):
        in_a = mail_digests_send(now=start + 2 * HOUR)

    assert (in_b, b_notices, in_a) == (0, 0, 1)
    (message,) = mail.outbox
    assert message.from_email == "Assureur test A <no-reply@tenant-a.localhost>"
    assert "http://tenant-a.localhost/portail/" in message.body
