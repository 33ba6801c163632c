"""Égide bills insurers on its own Stripe account: subscription state, usage meters, admin view.

Everything runs against the local Stripe server (``stripe_server``), with its webhooks delivered
to the live server and applied by a Dramatiq worker thread.
"""

from __future__ import annotations

import datetime

import dramatiq
import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from common.stripe import stripe_client
from common.tasks import tenants_fan_out
from tenants.billing import (
    insurer_stripe_account_ensure,
    insurer_subscription_start,
    platform_meters_ensure,
    usage_report_day,
)
from tenants.models import (
    Insurer,
    InsurerSubscription,
    PlatformPlan,
    StripeAccountStatus,
    UsageReport,
)
from tenants.tasks import BILLING_QUEUE, STRIPE_QUEUE, usage_report_task
from tenants.two_factor import second_factor_reset
from tenants.usage import usage_counter_register, usage_counter_unregister
from tests.conftest import staff_login


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _drain(queue: str) -> None:
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(queue, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def _plan(unique: str, **fields) -> PlatformPlan:
    values = {
        "code": f"test-{unique}",
        "name": f"Formule {unique}",
        "monthly_price_cents": 49_000,
        "included_doctors": 0,
        "doctor_price_cents": 400,
        "included_captures": 0,
        "capture_price_cents": 900,
    }
    values.update(fields)
    return PlatformPlan.objects.create(**values)


def _pay_checkout(url: str, card: str = "4242 4242 4242 4242") -> None:
    response = _http().post(
        url,
        data={"email": "facturation@exemple.fr", "card_number": card},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303


def _operator_remove(operator) -> None:
    from django.contrib.admin.models import LogEntry

    LogEntry.objects.filter(user=operator).delete()
    second_factor_reset(user=operator)  # its authenticator (staff_login)
    # The public schema has no Wagtail profile table for a cascading delete to look at.
    get_user_model().objects.filter(pk=operator.pk)._raw_delete("default")


def _cleanup(insurer: Insurer, plan: PlatformPlan) -> None:
    UsageReport.objects.filter(insurer=insurer).delete()
    InsurerSubscription.objects.filter(insurer=insurer).delete()
    plan.delete()


# ---------------------------------------------------------------------------------------------
# Subscription state from Stripe's events
# ---------------------------------------------------------------------------------------------


def test_events_delivered_in_reverse_order_end_in_stripes_current_state(
    stripe_server, committed_db, tenant_b, unique
):
    plan = _plan(unique)
    try:
        subscription = insurer_subscription_start(insurer=tenant_b.insurer, plan=plan)
        assert subscription.status == InsurerSubscription.Status.INCOMPLETE
        assert stripe_server.webhooks_wait(timeout=10)
        _drain(STRIPE_QUEUE)

        # Given: paid, then a renewal declined, all events held back...
        stripe_server.webhooks_pause()
        _pay_checkout(subscription.checkout_url)
        session = stripe_client().v1.checkout.sessions.retrieve(
            subscription.stripe_checkout_session_id
        )
        advanced = _http().post(
            f"{stripe_server.url}/_test/subscriptions/{session.subscription}/advance",
            data={"fail": "true"},
            headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
            timeout=10,
        )
        assert advanced.json()["status"] == "past_due"
        # ...when: they arrive newest first,
        stripe_server.webhooks_resume(order="reverse")
        assert stripe_server.webhooks_wait(timeout=20)
        _drain(STRIPE_QUEUE)

        # then: the subscription is past due, as Stripe has it, not "active" from an older event.
        subscription.refresh_from_db()
        assert subscription.status == InsurerSubscription.Status.PAST_DUE
        assert subscription.stripe_subscription_id == session.subscription
        assert subscription.checkout_url == ""

        # And paying the open invoice brings it back to active, in order this time.
        open_invoice = (
            stripe_client()
            .v1.invoices.list(
                params={"customer": subscription.stripe_customer_id, "status": "open"}
            )
            .data[0]
        )
        paid = _http().post(
            open_invoice.hosted_invoice_url,
            data={"card_number": "4242 4242 4242 4242"},
            timeout=10,
        )
        assert paid.status_code == 200
        assert stripe_server.webhooks_wait(timeout=20)
        _drain(STRIPE_QUEUE)
        subscription.refresh_from_db()
        assert subscription.status == InsurerSubscription.Status.ACTIVE
    finally:
        _cleanup(tenant_b.insurer, plan)


# ---------------------------------------------------------------------------------------------
# Usage meters
# ---------------------------------------------------------------------------------------------


class DayCounts:
    """A counter per schema and day, registered in place of cover's and evidence's."""

    def __init__(self, counts: dict[tuple[str, datetime.date], int], *, gauge: bool) -> None:
        self.counts = counts
        self.gauge = gauge
        self.schemas: list[str] = []

    def __call__(self, *, since: datetime.datetime, until: datetime.datetime) -> int:
        from django.db import connection

        self.schemas.append(connection.schema_name)
        tz = timezone.get_default_timezone()
        first, end = since.astimezone(tz).date(), until.astimezone(tz).date()
        if self.gauge:
            return self.counts.get((connection.schema_name, end - datetime.timedelta(days=1)), 0)
        return sum(
            n
            for (schema, day), n in self.counts.items()
            if schema == connection.schema_name and first <= day < end
        )


def _meter_events(server, customer: str) -> list[dict]:
    with server._api.state.lock:
        events = server._api.state.collection("platform", "billing.meter_event").values()
        return [e for e in events if e["payload"]["stripe_customer_id"] == customer]


def _summary(meter_id: str, customer: str, start: datetime.date, end: datetime.date) -> float:
    tz = timezone.get_default_timezone()
    summaries = stripe_client().v1.billing.meters.event_summaries.list(
        meter_id,
        params={
            "customer": customer,
            "start_time": int(datetime.datetime.combine(start, datetime.time.min, tz).timestamp()),
            "end_time": int(datetime.datetime.combine(end, datetime.time.min, tz).timestamp()),
        },
    )
    return summaries.data[0].aggregated_value


def test_usage_is_sent_once_per_day_per_meter_and_stripe_sums_it(
    stripe_server, committed_db, tenant_a, tenant_b, unique
):
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(7, 0, -1)]
    captures = DayCounts(
        {("test_a", day): n for day, n in zip(days, [3, 0, 5, 1, 2, 4, 6], strict=True)}
        | {("test_b", day): 100 for day in days},
        gauge=False,
    )
    doctors = DayCounts({("test_a", day): 10 + n for n, day in enumerate(days)}, gauge=True)
    usage_counter_register(resource="captures", counter=captures)
    usage_counter_register(resource="doctors", counter=doctors)
    plan = _plan(unique)
    try:
        subscription = insurer_subscription_start(insurer=tenant_a.insurer, plan=plan)
        InsurerSubscription.objects.filter(pk=subscription.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=30)
        )

        # When the daily job fans out twice (the second run finds every day sent),
        tenants_fan_out(actor=usage_report_task)
        _drain(BILLING_QUEUE)
        tenants_fan_out(actor=usage_report_task)
        _drain(BILLING_QUEUE)

        # then each closed day of the window is reported once per meter, for A only,
        reports = UsageReport.objects.filter(insurer=tenant_a.insurer).order_by("day", "meter")
        assert [(r.day, r.meter, r.quantity) for r in reports] == [
            row
            for n, day in enumerate(days)
            for row in (
                (day, "captures", [3, 0, 5, 1, 2, 4, 6][n]),
                (day, "doctors", 10 + n),
            )
        ]
        assert all(r.sent_at is not None for r in reports)
        assert UsageReport.objects.filter(insurer=tenant_b.insurer).count() == 0
        assert set(captures.schemas) == {"test_a"}
        customer = subscription.stripe_customer_id
        assert len(_meter_events(stripe_server, customer)) == 14

        # and Stripe's summaries add up: captures summed, doctors the last figure.
        meters = platform_meters_ensure()
        assert _summary(meters["captures"], customer, days[0], today) == 21
        assert _summary(meters["doctors"], customer, days[0], today) == 16
    finally:
        usage_counter_unregister(resource="captures")
        usage_counter_unregister(resource="doctors")
        _cleanup(tenant_a.insurer, plan)


def test_only_usage_beyond_the_plan_is_billable_month_to_date(
    stripe_server, committed_db, tenant_a, unique
):
    today = timezone.localdate()
    month = today.replace(day=1)
    if today.day < 4:  # three closed days of one month, within Stripe's 35 days
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    days = [month + datetime.timedelta(days=n) for n in range(3)]
    usage_counter_register(
        resource="captures",
        counter=DayCounts(
            {("test_a", d): n for d, n in zip(days, [1, 3, 2], strict=True)}, gauge=False
        ),
    )
    usage_counter_register(
        resource="doctors",
        counter=DayCounts(
            {("test_a", d): n for d, n in zip(days, [4, 6, 5], strict=True)}, gauge=True
        ),
    )
    plan = _plan(unique, included_captures=2, included_doctors=5)
    try:
        subscription = insurer_subscription_start(insurer=tenant_a.insurer, plan=plan)
        with tenant_context(tenant_a.insurer):
            for day in days:
                usage_report_day(insurer=tenant_a.insurer, day=day)

        reports = UsageReport.objects.filter(insurer=tenant_a.insurer).order_by("meter", "day")
        assert [(r.meter, r.quantity, r.billable) for r in reports] == [
            ("captures", 1, 0),
            ("captures", 3, 2),
            ("captures", 2, 2),
            ("doctors", 4, 0),
            ("doctors", 6, 1),
            ("doctors", 5, 0),
        ]
        meters = platform_meters_ensure()
        end = days[-1] + datetime.timedelta(days=1)
        customer = subscription.stripe_customer_id
        assert _summary(meters["captures"], customer, days[0], end) == 4  # 6 made - 2 included
        assert _summary(meters["doctors"], customer, days[0], end) == 0  # 5 insured, 5 included
    finally:
        usage_counter_unregister(resource="captures")
        usage_counter_unregister(resource="doctors")
        _cleanup(tenant_a.insurer, plan)


# ---------------------------------------------------------------------------------------------
# Connected accounts and the operator's view
# ---------------------------------------------------------------------------------------------


def test_onboarding_with_stripe_down_keeps_the_insurer_and_says_the_account_is_to_create(
    committed_db, settings, unique
):
    from saas.onboarding import insurer_onboard

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    insurer = insurer_onboard(
        name=f"Assureur hors ligne {unique}",
        domain=f"hors-ligne-{unique}.localhost",
        admin_email=f"admin@{unique}.fr",
        admin_password="mot-de-passe-de-test-42",
    )
    try:
        insurer.refresh_from_db()
        assert insurer.is_ready
        assert (insurer.stripe_account_id, insurer.stripe_account_status) == (
            "",
            StripeAccountStatus.MISSING,
        )
        assert insurer.stripe_account_error == (
            "Stripe est injoignable pour le moment ; réessayez plus tard."
        )
    finally:
        insurer.delete(force_drop=True)


def test_an_insurer_gets_its_connected_account_once(stripe_server, committed_db, unique):
    from saas.onboarding import insurer_onboard

    insurer = insurer_onboard(
        name=f"Assureur connecté {unique}",
        domain=f"connecte-{unique}.localhost",
        admin_email=f"admin@{unique}.fr",
        admin_password="mot-de-passe-de-test-42",
    )
    try:
        insurer.refresh_from_db()
        account = insurer.stripe_account_id

        assert account.startswith("acct_")
        assert insurer.stripe_account_status == StripeAccountStatus.ONBOARDING
        assert insurer_stripe_account_ensure(insurer=insurer) == account
        remote = stripe_client().v1.accounts.retrieve(account)
        assert (remote.business_profile.name, remote.metadata["egide_schema"]) == (
            insurer.name,
            insurer.schema_name,
        )
    finally:
        insurer.delete(force_drop=True)


def test_an_insurer_finishing_stripe_onboarding_becomes_active_from_the_webhook(
    stripe_server, committed_db, unique
):
    from saas.onboarding import insurer_onboard
    from tenants.billing import insurer_stripe_onboarding_link

    insurer = insurer_onboard(
        name=f"Assureur activé {unique}",
        domain=f"active-{unique}.localhost",
        admin_email=f"admin@{unique}.fr",
        admin_password="mot-de-passe-de-test-42",
    )
    try:
        link = insurer_stripe_onboarding_link(
            insurer=insurer,
            return_url="http://localhost/retour/",
            refresh_url="http://localhost/relance/",
        )
        finished = _http().post(link, allow_redirects=False, timeout=10)
        assert finished.headers["Location"] == "http://localhost/retour/"
        assert stripe_server.webhooks_wait(timeout=10)
        _drain(STRIPE_QUEUE)

        insurer.refresh_from_db()
        assert insurer.stripe_account_status == StripeAccountStatus.ACTIVE
    finally:
        insurer.delete(force_drop=True)


def test_the_operator_sees_plan_usage_and_stripe_invoices_of_an_insurer(
    stripe_server, committed_db, tenant_a, unique
):
    plan = _plan(unique)
    operator = get_user_model().objects.create_superuser(
        username=f"op-{unique}", email=f"op-{unique}@egide.localhost", password="x-Pass-123"
    )
    try:
        subscription = insurer_subscription_start(insurer=tenant_a.insurer, plan=plan)
        _pay_checkout(subscription.checkout_url)
        assert stripe_server.webhooks_wait(timeout=10)
        _drain(STRIPE_QUEUE)
        UsageReport.objects.create(
            insurer=tenant_a.insurer,
            meter="captures",
            day=timezone.localdate(),
            quantity=7,
            billable=3,
            identifier=f"test-{unique}",
        )
        client = Client(HTTP_HOST="localhost")
        staff_login(client, operator)

        listing = client.get("/admin/tenants/insurer/").content.decode()
        detail = client.get(f"/admin/tenants/insurer/{tenant_a.insurer.pk}/change/")

        assert f"Formule {unique}" in listing
        page = detail.content.decode()
        assert detail.status_code == 200
        assert f"Formule {unique}" in page
        assert '<span class="subscription-status">Actif</span>' in page
        assert "<td>Constats du mois</td><td>7</td><td>3</td>" in page
        invoice = (
            stripe_client()
            .v1.invoices.list(params={"customer": subscription.stripe_customer_id})
            .data[0]
        )
        assert f"<td>{invoice.number}</td>" in page
        assert "<td>490,00\u00a0€</td>" in page
        assert "<td>Payée</td>" in page
    finally:
        _operator_remove(operator)
        _cleanup(tenant_a.insurer, plan)


# ---------------------------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_seed_bills_each_demo_insurer_once_starting_stripe_for_the_occasion(
    committed_db, tenant_a, settings, tmp_path
):
    from devtools.stripe_standin.demo import stand_in_answers as _answers
    from saas.demo import platform_billing_demo_seed

    base = f"http://127.0.0.1:{_free_port()}"
    settings.STRIPE_API_BASE = base
    settings.STRIPE_LOCAL_DATA_DIR = str(tmp_path / "stripe")
    settings.STRIPE_LOCAL_WEBHOOK_URL = ""
    saved = Insurer.objects.filter(pk=tenant_a.insurer.pk).values(
        "stripe_account_id", "stripe_account_status", "stripe_account_error"
    )[0]
    existing_plans = set(PlatformPlan.objects.values_list("code", flat=True))
    try:
        first = platform_billing_demo_seed(assignments={"test_a": "essentiel"})
        second = platform_billing_demo_seed(assignments={"test_a": "essentiel"})

        expected = ["Facturation Égide — Assureur test A : formule Essentiel, Actif"]
        assert (first, second) == (expected, expected)
        subscription = InsurerSubscription.objects.get(insurer=tenant_a.insurer)
        assert subscription.stripe_subscription_id.startswith("sub_")
        assert sorted(PlatformPlan.objects.values_list("code", flat=True)) == sorted(
            existing_plans | {"essentiel", "integral"}
        )
        assert not _answers(base)  # stopped again
        assert (tmp_path / "stripe" / "stripe_state.json").exists()
    finally:
        InsurerSubscription.objects.filter(insurer=tenant_a.insurer).delete()
        PlatformPlan.objects.exclude(code__in=existing_plans).delete()
        Insurer.objects.filter(pk=tenant_a.insurer.pk).update(**saved)


# ---------------------------------------------------------------------------------------------
# The operator subscribes an insurer from the platform admin
# ---------------------------------------------------------------------------------------------


def _operator(unique: str):
    return get_user_model().objects.create_superuser(
        username=f"op-{unique}", email=f"op-{unique}@egide.localhost", password="x-Pass-123"
    )


def test_the_operator_subscribes_an_insurer_and_gets_a_payment_link(
    stripe_server, committed_db, tenant_b, unique
):
    plan = _plan(unique)
    operator = _operator(unique)
    try:
        client = Client(HTTP_HOST="localhost")
        staff_login(client, operator)

        response = client.post(
            "/admin/tenants/insurersubscription/add/",
            {"insurer": tenant_b.insurer.pk, "plan": plan.pk},
        )

        subscription = InsurerSubscription.objects.get(insurer=tenant_b.insurer)
        assert response.status_code == 302
        assert subscription.status == InsurerSubscription.Status.INCOMPLETE
        assert subscription.checkout_url.startswith(f"{stripe_server.url}/pay/cs_test_")
        assert subscription.stripe_customer_id.startswith("cus_")
    finally:
        _operator_remove(operator)
        _cleanup(tenant_b.insurer, plan)


@pytest.mark.django_db
def test_with_stripe_down_the_operator_reads_why_and_nothing_is_created(tenant_b, settings, unique):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    plan = _plan(unique)
    client = Client(HTTP_HOST="localhost")
    staff_login(client, _operator(unique))

    response = client.post(
        "/admin/tenants/insurersubscription/add/",
        {"insurer": tenant_b.insurer.pk, "plan": plan.pk},
        follow=True,
    )

    assert "Stripe est injoignable pour le moment ; réessayez plus tard." in (
        response.content.decode()
    )
    assert InsurerSubscription.objects.filter(insurer=tenant_b.insurer).count() == 0
    plan.refresh_from_db()
    assert plan.stripe_price_base_id == ""


@pytest.mark.django_db
def test_every_billing_page_of_the_platform_admin_opens(tenant_a, settings, unique):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    plan = _plan(unique)
    subscription = InsurerSubscription.objects.create(
        insurer=tenant_a.insurer, plan=plan, stripe_customer_id="cus_pages"
    )
    client = Client(HTTP_HOST="localhost")
    staff_login(client, _operator(unique))

    pages = [
        "/admin/tenants/platformplan/",
        f"/admin/tenants/platformplan/{plan.pk}/change/",
        "/admin/tenants/insurersubscription/",
        "/admin/tenants/insurersubscription/add/",
        f"/admin/tenants/insurersubscription/{subscription.pk}/change/",
        "/admin/tenants/usagereport/",
        "/admin/tenants/stripeevent/",
        f"/admin/tenants/insurer/{tenant_a.insurer.pk}/change/",
    ]

    assert [client.get(page).status_code for page in pages] == [200] * len(pages)
    detail = client.get(f"/admin/tenants/insurer/{tenant_a.insurer.pk}/change/").content.decode()
    assert "Factures indisponibles : Stripe est injoignable" in detail
