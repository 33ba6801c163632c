"""Stripe webhooks: a timestamp from the future and a body that is not a JSON object get 400."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from devtools.stripe_standin import webhook_signature
from tenants.models import StripeEvent

WEBHOOK = "/stripe/webhook/"
SECRET = "whsec_egide_tests"  # noqa: S105 - the test settings' secret


def _event(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_X", "object": "customer"}},
        }
    ).encode()


def _post(body: bytes, *, at: int):
    signature = webhook_signature(payload=body, secret=SECRET, timestamp=at)
    return Client(HTTP_HOST="localhost").post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ahead_s", [330, 600, 86_400])
def test_a_timestamp_from_the_future_is_refused(ahead_s):
    body = _event(f"evt_1Futur{ahead_s:012d}")

    response = _post(body, at=int(time.time()) + ahead_s)

    assert response.status_code == 400
    assert response.content.decode() == "Requête refusée : signature ou contenu invalide."
    assert not StripeEvent.objects.filter(id=f"evt_1Futur{ahead_s:012d}").exists()


@pytest.mark.django_db
def test_a_small_clock_skew_ahead_is_accepted(django_capture_on_commit_callbacks):
    body = _event("evt_1DecalageHorloge00001")

    with django_capture_on_commit_callbacks():
        response = _post(body, at=int(time.time()) + 60)

    assert response.status_code == 200
    assert StripeEvent.objects.filter(id="evt_1DecalageHorloge00001").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [b"[]", b'[{"id": "evt_1Tableau", "type": "x"}]', b'"evt_1"', b"42", b"null"]
)
def test_a_signed_body_that_is_not_a_json_object_gets_400(body):
    before = StripeEvent.objects.count()

    response = _post(body, at=int(time.time()))

    assert response.status_code == 400
    assert StripeEvent.objects.count() == before
