"""Duplicate actions are guarded on the server, not only by a disabled button: an alert opens one
claim, a letter is sent once, a capture still queued or running is not queued again. Each guard
is tried with a double POST and with two requests at once (threads with their own database
connections, on committed data)."""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup.models import Alert, Scan, WatchProfile
from cleanup.services import alerts as cleanup_alerts
from cover.claims.models import Claim, ClaimEvent, Letter, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids
from cover.claims.services.captures import claim_capture_request
from cover.claims.services.letters import letter_generate, letter_mark_sent
from cover.letter_fields import LetterKind
from cover.rules import ClaimEventKind
from evidence.models import Capture
from tests.conftest import PASSWORD, staff_login
from tests.cover.claims_factories import (
    DEFAMATORY,
    REVIEW,
    claim_create,
    claim_with_proof,
    doctor_create,
    handler_create,
)

DAY = datetime.timedelta(days=1)


def _at_once(tenant, calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each call in its own thread and database connection, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            with tenant_context(tenant.insurer):
                barrier.wait(timeout=10)
                results.append(call())
        except BaseException as exc:  # noqa: BLE001 — reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _alert(doctor, unique: str) -> Alert:
    profile, _created = WatchProfile.objects.get_or_create(doctor=doctor)
    scan = Scan.objects.create(profile=profile, status=Scan.Status.DONE)
    return Alert.objects.create(
        profile=profile,
        scan=scan,
        kind=Alert.Kind.NEW_REVIEW,
        url=f"http://127.0.0.1:9/avis/{unique}",
        title=f"Avis {unique}",
        text=REVIEW,
        band="negative",
        negative=True,
        flags=[{"passage": DEFAMATORY, "label": "Diffamation possible"}],
    )


def _doctor_client(tenant, email: str) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    response = client.post("/compte/connexion/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _cleanup(doctor) -> None:
    """Committed rows: claims may refuse deletion (evidence); names are unique per test."""
    with contextlib.suppress(ProtectedError):
        Claim.objects.filter(doctor=doctor).delete()
        WatchProfile.objects.filter(doctor=doctor).delete()
        user = doctor.user
        doctor.delete()
        user.delete()


# --- Alert → claim ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_post_on_an_alert_leads_to_the_claim_already_opened(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        alert = _alert(doctor, unique)
        email = doctor.user.email
    client = _doctor_client(tenant_a, email)
    path = f"/veille/alertes/{alert.pk}/sinistre/"

    first = client.post(path)
    second = client.post(path)

    with tenant_context(tenant_a.insurer):
        claims = list(Claim.objects.filter(doctor=doctor))
        alert.refresh_from_db()
    assert len(claims) == 1
    assert alert.claim_ref == claims[0].reference
    assert first.status_code == 302 and first["Location"].startswith("/veille/")
    assert (second.status_code, second["Location"]) == (
        302,
        f"/portail/sinistres/{claims[0].pk}/",
    )
    page = client.get(second["Location"]).content.decode()
    assert f"Un sinistre est déjà ouvert pour cette alerte (réf. {claims[0].reference})." in page


def test_two_posts_at_once_on_an_alert_open_one_claim(tenant_a, committed_db, unique):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_create(email=f"double-{unique}@exemple.fr")
        alert = _alert(doctor, unique)
        user = doctor.user
    try:
        results, errors = _at_once(
            tenant_a,
            [
                lambda: cleanup_alerts.alert_claim_open(
                    alert=Alert.objects.get(pk=alert.pk), user=user
                )
            ]
            * 2,
        )
        with tenant_context(tenant_a.insurer):
            references = list(
                Claim.objects.filter(doctor=doctor).values_list("reference", flat=True)
            )
        assert errors == []
        assert len(references) == 1
        assert results == references * 2
    finally:
        with tenant_context(tenant_a.insurer):
            _cleanup(doctor)


# --- Letter marked sent -------------------------------------------------------------------------


def _letter_ready(*, today: datetime.date) -> tuple[Letter, Any]:
    handler = handler_create()
    claim = claim_with_proof(
        handler=handler,
        publication_date=today - 10 * DAY,
        seen_date=today - 5 * DAY,
        today=today,
    )
    letter = letter_generate(claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler, today=today)
    return letter, handler


def _sent_events(letter: Letter) -> int:
    return ClaimEvent.objects.filter(
        claim_id=letter.claim_id, kind=ClaimEventKind.MISE_EN_DEMEURE_SENT.value
    ).count()


@pytest.mark.django_db
def test_a_letter_marked_sent_twice_records_one_sending(tenant_a):
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        letter, handler = _letter_ready(today=today)
        transitions_before = letter.claim.transitions.count()
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    path = f"/admin/sinistres/{letter.claim_id}/courriers/{letter.pk}/envoi/"
    data = {"sent_on": today.isoformat(), "capture_ref": "AR 1A 234 567 8901 2"}

    first = client.post(path, data)
    second = client.post(path, {**data, "sent_on": (today - DAY).isoformat()})

    assert (first.status_code, second.status_code) == (302, 302)
    with tenant_context(tenant_a.insurer):
        letter.refresh_from_db()
        assert _sent_events(letter) == 1
        assert letter.claim.transitions.count() == transitions_before + 1
    assert (letter.sent_at, letter.capture_ref) == (today, "AR 1A 234 567 8901 2")


def test_a_letter_marked_sent_twice_at_once_records_one_sending(tenant_a, committed_db, unique):
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        letter, handler = _letter_ready(today=today)
        doctor = letter.claim.doctor
    try:

        def send() -> int:
            letter_mark_sent(
                letter=Letter.objects.get(pk=letter.pk),
                sent_on=today,
                by=handler,
                capture_ref=f"AR {unique}",
            )
            return letter.pk

        results, errors = _at_once(tenant_a, [send, send])
        with tenant_context(tenant_a.insurer):
            events = _sent_events(letter)
            steps = list(
                letter.claim.transitions.filter(reason__startswith="Courrier envoyé").values_list(
                    "to_state", flat=True
                )
            )
        assert (errors, results) == ([], [letter.pk, letter.pk])
        assert events == 1
        assert len(steps) == 1
    finally:
        with tenant_context(tenant_a.insurer):
            _cleanup(doctor)


# --- Capture requested --------------------------------------------------------------------------


@pytest.fixture
def _loopback_allowed(settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def _captures(claim: Claim, url: str) -> tuple[int, int]:
    return (
        Capture.objects.filter(url=url).count(),
        ClaimEvent.objects.filter(
            claim=claim, kind=TimelineKind.CAPTURE_REQUESTED, ref__startswith="capture-"
        ).count(),
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("_loopback_allowed")
def test_a_capture_requested_twice_while_queued_is_one_capture(tenant_a, unique):
    url = f"http://127.0.0.1:9/autre-page/{unique}"
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        handler = handler_create()
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
        before = _captures(claim, url)
    path = f"/admin/sinistres/{claim.pk}/"
    data = {"action": "capture_request", "url": url, "reason": "Nouvelle page"}

    first = client.post(path, data)
    second = client.post(path, data)

    assert (first.status_code, second.status_code) == (302, 302)
    with tenant_context(tenant_a.insurer):
        after = _captures(claim, url)
        ids = claim_capture_ids(claim=claim)
        capture = Capture.objects.get(url=url)
        # once the capture is finished, a new request queues a new one
        Capture.objects.filter(pk=capture.pk).update(status=Capture.Status.FAILED)
        again = claim_capture_request(claim=claim, by=handler, url=url)
    assert before == (0, 1)
    assert after == (1, 2)
    assert ids[-1] == capture.pk
    assert again != capture.pk


@pytest.mark.usefixtures("_loopback_allowed")
def test_two_capture_requests_at_once_make_one_capture(tenant_a, committed_db, unique):
    url = f"http://127.0.0.1:9/simultane/{unique}"
    with tenant_context(tenant_a.insurer):
        claim = claim_create(urls=[f"http://127.0.0.1:9/ouverture/{unique}"])
        handler = handler_create()
        doctor = claim.doctor
    try:

        def request() -> int:
            return claim_capture_request(claim=Claim.objects.get(pk=claim.pk), by=handler, url=url)

        results, errors = _at_once(tenant_a, [request, request])
        with tenant_context(tenant_a.insurer):
            captures = list(Capture.objects.filter(url=url).values_list("pk", flat=True))
            events = ClaimEvent.objects.filter(claim=claim, note=url).count()
        assert errors == []
        assert len(captures) == 1
        assert results == captures * 2
        assert events == 1
    finally:
        with tenant_context(tenant_a.insurer):
            _cleanup(doctor)
