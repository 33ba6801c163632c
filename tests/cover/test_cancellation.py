"""Online cancellation (« résiliation en trois clics »): the effective date shown before the
doctor confirms, the subscription set to cancel at the local Stripe server, one confirmation
e-mail with the date, idempotent, and the policy ending on that day from Stripe's events.

Also the policy's dates (start, renewal, end) as Stripe's subscription events maintain them.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from wagtail.models import Site

from common.stripe import stripe_client
from cover.models import CancellationSettings, Doctor, Plan, Policy, PolicyInvoice
from cover.services.policies import policy_stripe_event_apply
from tenants.services import roles_apply
from tenants.tasks import STRIPE_QUEUE
from tests.conftest import staff_login
from tests.cover.conftest import queue_drain
from tests.cover.factories import DoctorFactory, PlanFactory, PolicyFactory
from tests.tenants.factories import InsurerAdminFactory

GOOD_CARD = "4242 4242 4242 4242"


@dataclass
class Insured:
    client: Client
    doctor: Doctor
    plan: Plan
    policy: Policy


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _events_applied(stripe_server) -> None:
    assert stripe_server.webhooks_wait(timeout=15)
    queue_drain(STRIPE_QUEUE)


def _local_date(timestamp: int) -> datetime.date:
    return timezone.localtime(datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)).date()


def _subscription(tenant, policy: Policy):
    return stripe_client().v1.subscriptions.retrieve(
        policy.stripe_subscription_id,
        options={"stripe_account": tenant.insurer.stripe_account_id},
    )


def _subscribe(tenant, stripe_server, unique: str, prefix: str) -> Insured:
    with tenant_context(tenant.insurer):
        doctor = DoctorFactory(user__email=f"{prefix}.{unique}@exemple.fr")
        plan = PlanFactory(slug=f"{prefix}-{unique}", name=f"Résil {unique}", price_cents=1990)
        client = Client(HTTP_HOST=tenant.domain)
        client.force_login(doctor.user)
    started = client.post("/portail/souscrire/", {"plan": plan.pk, "accept_conditions": "on"})
    assert re.search(r"/pay/cs_test_", started["Location"])
    paid = _http().post(
        started["Location"], data={"card_number": GOOD_CARD}, allow_redirects=False, timeout=10
    )
    assert paid.status_code == 303
    _events_applied(stripe_server)
    with tenant_context(tenant.insurer):
        policy = Policy.objects.get(doctor=doctor)
    assert policy.status == "active"
    return Insured(client=client, doctor=doctor, plan=plan, policy=policy)


def _remove(tenant, insured: Insured) -> None:
    with tenant_context(tenant.insurer):
        PolicyInvoice.objects.filter(policy__doctor=insured.doctor).delete()
        Policy.objects.filter(doctor=insured.doctor).delete()
        user = insured.doctor.user
        insured.doctor.delete()
        get_user_model().objects.filter(pk=user.pk).delete()
        insured.plan.versions.all().delete()
        insured.plan.delete()
        CancellationSettings.objects.all().delete()


@pytest.fixture
def insured(stripe_server, committed_db, tenant_a, unique) -> Iterator[Insured]:
    made = _subscribe(tenant_a, stripe_server, unique, "resil")
    yield made
    _remove(tenant_a, made)


def _refresh(tenant, policy: Policy) -> Policy:
    with tenant_context(tenant.insurer):
        return Policy.objects.get(pk=policy.pk)


def _cancel_events(tenant, policy: Policy) -> list:
    events = stripe_client().v1.events.list(
        params={"type": "customer.subscription.updated", "limit": 100},
        options={"stripe_account": tenant.insurer.stripe_account_id},
    )
    return [
        e
        for e in events.data
        if e.data.object.id == policy.stripe_subscription_id and e.data.object.cancel_at
    ]


def _mails_to(email: str) -> list:
    return [m for m in mail.outbox if m.to == [email]]


def test_a_paid_subscription_gives_the_policy_its_start_and_renewal_dates(insured, tenant_a):
    subscription = _subscription(tenant_a, insured.policy)
    period_end = subscription["items"].data[0].current_period_end

    policy = _refresh(tenant_a, insured.policy)
    page = insured.client.get("/portail/contrat/").content.decode()

    assert policy.start_date == timezone.localdate()
    assert policy.renewal_date == _local_date(period_end)
    assert (policy.end_date, policy.cancel_requested_at) == (None, None)
    assert f'<dd data-date="renewal">{policy.renewal_date:%d/%m/%Y}</dd>' in page
    assert f'<dd data-date="start">{policy.start_date:%d/%m/%Y}</dd>' in page
    assert 'data-date="end"' not in page
    assert f'href="/portail/contrat/{policy.number}/resilier/"' in page


def test_the_form_shows_the_end_of_the_paid_period_and_confirming_cancels_there(
    insured, tenant_a, stripe_server
):
    policy = insured.policy
    period_end = _subscription(tenant_a, policy)["items"].data[0].current_period_end
    end = _local_date(period_end)
    mail.outbox.clear()

    form = insured.client.get(f"/portail/contrat/{policy.number}/resilier/").content.decode()
    confirmed = insured.client.post(f"/portail/contrat/{policy.number}/resilier/")
    done = insured.client.get(confirmed["Location"]).content.decode()
    subscription = _subscription(tenant_a, policy)

    assert f"la résiliation prendra effet le {end:%d/%m/%Y}." in form
    assert "Confirmer la résiliation" in form
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/portail/contrat/{policy.number}/resiliation/"
    assert f"Elle prend effet le {end:%d/%m/%Y}" in done
    assert (subscription.status, subscription.cancel_at_period_end, subscription.cancel_at) == (
        "active",
        True,
        period_end,
    )
    policy = _refresh(tenant_a, policy)
    assert (policy.status, policy.end_date, policy.renewal_date) == ("active", end, None)
    assert policy.cancel_requested_at is not None
    [message] = _mails_to(insured.doctor.user.email)
    assert message.subject == f"Résiliation de votre contrat n° {policy.number}"
    today = timezone.localdate()
    assert (
        f"a bien reçu la résiliation de votre contrat n° {policy.number}, le "
        f"{today:%d/%m/%Y}. Elle prend effet le {end:%d/%m/%Y}." in message.body
    )
    assert "/portail/contrat/" in message.body

    # Stripe's customer.subscription.updated (cancel_at set) keeps the end and no renewal.
    _events_applied(stripe_server)
    policy = _refresh(tenant_a, policy)
    assert (policy.status, policy.end_date, policy.renewal_date) == ("active", end, None)
    page = insured.client.get("/portail/contrat/").content.decode()
    assert f'<dd data-date="end">{end:%d/%m/%Y}</dd>' in page
    assert "Résilier mon contrat" not in page


def test_confirming_twice_cancels_once_and_sends_one_email(insured, tenant_a, stripe_server):
    policy = insured.policy
    mail.outbox.clear()

    first = insured.client.post(f"/portail/contrat/{policy.number}/resilier/")
    second = insured.client.post(f"/portail/contrat/{policy.number}/resilier/")
    _events_applied(stripe_server)

    assert first["Location"] == second["Location"]
    assert second["Location"] == f"/portail/contrat/{policy.number}/resiliation/"
    assert len(_mails_to(insured.doctor.user.email)) == 1
    assert len(_cancel_events(tenant_a, policy)) == 1


def test_at_the_end_of_the_period_stripe_ends_the_subscription_and_the_policy(
    insured, tenant_a, stripe_server
):
    policy = insured.policy
    end = _local_date(_subscription(tenant_a, policy)["items"].data[0].current_period_end)
    insured.client.post(f"/portail/contrat/{policy.number}/resilier/")

    advanced = _http().post(
        f"{stripe_server.url}/_test/subscriptions/{policy.stripe_subscription_id}/advance",
        headers={
            "Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}",
            "Stripe-Account": tenant_a.insurer.stripe_account_id,
        },
        timeout=10,
    )
    _events_applied(stripe_server)

    assert advanced.json()["status"] == "canceled"
    policy = _refresh(tenant_a, policy)
    assert (policy.status, policy.end_date, policy.renewal_date) == ("cancelled", end, None)
    invoices = stripe_client().v1.invoices.list(
        params={"subscription": policy.stripe_subscription_id},
        options={"stripe_account": tenant_a.insurer.stripe_account_id},
    )
    assert len(invoices.data) == 1  # no renewal was billed
    page = insured.client.get("/portail/contrat/").content.decode()
    assert f'<dd data-date="end">{end:%d/%m/%Y}</dd>' in page
    assert "Fin du contrat" in page


def test_with_a_notice_rule_the_cover_ends_after_the_notice(insured, tenant_a, stripe_server):
    policy = insured.policy
    with tenant_context(tenant_a.insurer):
        CancellationSettings.objects.update_or_create(
            site=Site.objects.get(is_default_site=True),
            defaults={"effective_rule": "notice", "notice_days": 10},
        )
    end = timezone.localdate() + datetime.timedelta(days=10)

    form = insured.client.get(f"/portail/contrat/{policy.number}/resilier/").content.decode()
    insured.client.post(f"/portail/contrat/{policy.number}/resilier/")
    subscription = _subscription(tenant_a, policy)
    _events_applied(stripe_server)

    assert f"la résiliation prendra effet le {end:%d/%m/%Y}." in form
    assert "fin du préavis" in form
    assert subscription.cancel_at_period_end is False
    assert _local_date(subscription.cancel_at) == end
    assert _refresh(tenant_a, policy).end_date == end


@pytest.mark.django_db
def test_a_past_due_policy_is_not_cancelled_online_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PAST_DUE, stripe_subscription_id="sub_x")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(policy.doctor.user)

    response = client.post(f"/portail/contrat/{policy.number}/resilier/", follow=True)

    assert response.redirect_chain == [("/portail/contrat/", 302)]
    assert "Seul un contrat en vigueur peut être résilié en ligne." in response.content.decode()
    with tenant_context(tenant_a.insurer):
        policy.refresh_from_db()
    assert (policy.cancel_requested_at, policy.end_date) == (None, None)


@pytest.mark.django_db
def test_an_imported_policy_without_subscription_is_sent_to_the_insurer(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(source=Policy.Source.PORTFOLIO, stripe_subscription_id="")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(policy.doctor.user)

    page = client.get("/portail/contrat/").content.decode()
    response = client.get(f"/portail/contrat/{policy.number}/resilier/", follow=True)

    assert "Résilier mon contrat" not in page
    assert "adressez votre demande à votre assureur" in response.content.decode()
    with tenant_context(tenant_a.insurer):
        policy.refresh_from_db()
    assert policy.cancel_requested_at is None


def test_another_doctor_of_the_same_insurer_cannot_cancel_or_see_it(
    insured, tenant_a, stripe_server
):
    policy = insured.policy
    with tenant_context(tenant_a.insurer):
        other = DoctorFactory()
        intruder = Client(HTTP_HOST=tenant_a.domain)
        intruder.force_login(other.user)
    try:
        seen = intruder.get(f"/portail/contrat/{policy.number}/resilier/")
        posted = intruder.post(f"/portail/contrat/{policy.number}/resilier/")
        confirmation = intruder.get(f"/portail/contrat/{policy.number}/resiliation/")
    finally:
        with tenant_context(tenant_a.insurer):
            user = other.user
            other.delete()
            get_user_model().objects.filter(pk=user.pk).delete()

    assert (seen.status_code, posted.status_code, confirmation.status_code) == (404, 404, 404)
    assert _refresh(tenant_a, policy).cancel_requested_at is None
    assert _subscription(tenant_a, policy).cancel_at_period_end is False
    assert _cancel_events(tenant_a, policy) == []


def test_a_doctor_of_insurer_a_cannot_cancel_a_policy_of_insurer_b(
    insured, tenant_a, tenant_b, stripe_server, unique
):
    other = _subscribe(tenant_b, stripe_server, unique, "autre")
    try:
        seen = insured.client.get(f"/portail/contrat/{other.policy.number}/resilier/")
        posted = insured.client.post(f"/portail/contrat/{other.policy.number}/resilier/")
        foreign = Client(HTTP_HOST=tenant_b.domain)
        with tenant_context(tenant_a.insurer):
            foreign.force_login(insured.doctor.user)
        on_b = foreign.post(f"/portail/contrat/{other.policy.number}/resilier/")
        subscription = _subscription(tenant_b, other.policy)
        cancelled = _refresh(tenant_b, other.policy)
    finally:
        _remove(tenant_b, other)

    assert (seen.status_code, posted.status_code) == (404, 404)
    # A's session means nothing on B's site: the request is sent to B's login page.
    assert on_b.status_code == 302
    assert on_b["Location"].startswith("/compte/connexion/")
    assert cancelled.cancel_requested_at is None
    assert subscription.cancel_at_period_end is False


@pytest.mark.django_db
def test_the_insurer_admin_sets_the_rule_and_reads_that_it_is_to_be_checked(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        roles_apply()
        admin = InsurerAdminFactory(email=f"admin-resil-{unique}@exemple.fr")
        site = Site.objects.get(is_default_site=True)
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
    url = f"/admin/settings/cover/cancellationsettings/{site.pk}/"

    with tenant_context(tenant_a.insurer):
        page = html.unescape(client.get(url).content.decode())
        refused = client.post(url, {"effective_rule": "notice", "notice_days": ""})
        saved = client.post(url, {"effective_rule": "notice", "notice_days": "30"})
        stored = CancellationSettings.for_site(site)

    assert "À la fin de la période de cotisation payée" in page
    assert "À vérifier : la documentation du produit ne fixe pas cette règle" in page
    assert refused.status_code == 200
    assert "Indiquez le préavis en jours pour cette règle." in html.unescape(
        refused.content.decode()
    )
    assert saved.status_code == 302
    assert (stored.effective_rule, stored.notice_days) == ("notice", 30)


# ---------------------------------------------------------------------------------------------
# Dates from Stripe's subscription events, whatever order they arrive in
# ---------------------------------------------------------------------------------------------

T0 = 1_780_000_000  # 2026-05-28
PERIOD_END = T0 + 31 * 86400


def _subscription_event(number: str, at: int, *, cancel_at: int | None = None) -> dict:
    return {
        "id": f"evt_{at}_{cancel_at}",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": at,
        "data": {
            "object": {
                "id": "sub_dates",
                "object": "subscription",
                "status": "active",
                "customer": "cus_dates",
                "metadata": {"policy_number": number},
                "start_date": T0,
                "created": T0,
                "cancel_at": cancel_at,
                "canceled_at": at if cancel_at else None,
                "items": {"data": [{"current_period_end": PERIOD_END}]},
            }
        },
    }


@pytest.mark.django_db
def test_subscription_events_set_the_renewal_then_the_end_date(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PENDING, start_date=None)
        policy_stripe_event_apply(event=_subscription_event(policy.number, T0))
        policy.refresh_from_db()
        renewing = (policy.status, policy.start_date, policy.renewal_date, policy.end_date)

        policy_stripe_event_apply(
            event=_subscription_event(policy.number, T0 + 60, cancel_at=PERIOD_END)
        )
        policy.refresh_from_db()

    end = _local_date(PERIOD_END)
    assert renewing == ("active", _local_date(T0), end, None)
    assert (policy.status, policy.renewal_date, policy.end_date) == ("active", None, end)
    assert policy.cancel_requested_at == datetime.datetime.fromtimestamp(T0 + 60, tz=datetime.UTC)


@pytest.mark.django_db
def test_an_older_event_delivered_late_does_not_undo_a_cancellation_a_newer_one_does(tenant_a):
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(status=Policy.Status.PENDING, start_date=None)
        for event in (
            _subscription_event(policy.number, T0 + 60, cancel_at=PERIOD_END),
            _subscription_event(policy.number, T0),  # older, without cancel_at
        ):
            policy_stripe_event_apply(event=event)
        policy.refresh_from_db()
        kept = (policy.end_date, policy.renewal_date)

        policy_stripe_event_apply(event=_subscription_event(policy.number, T0 + 120))
        policy.refresh_from_db()

    end = _local_date(PERIOD_END)
    assert kept == (end, None)
    assert (policy.end_date, policy.renewal_date, policy.cancel_requested_at) == (None, end, None)
