"""Insurer admins type and read amounts in euros; the database keeps cents."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from cover.models import Plan
from cover.money import EuroField, euros_parse
from tests.conftest import staff_login
from tests.cover.factories import PlanFactory
from tests.tenants.factories import InsurerAdminFactory

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("9,90", 990),
        ("9,9", 990),
        ("9.90", 990),
        ("1 500", 150_000),
        (f"1{NNBSP}500,00{NBSP}€", 150_000),
        ("1500,00 €", 150_000),
        ("1.500,00", 150_000),
        ("1500 EUR", 150_000),
        ("0", 0),
        ("12,", 1200),
    ],
)
def test_french_amounts_are_read_as_cents(typed, cents):
    assert euros_parse(typed) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Saisissez un montant en euros, par exemple « 9,90 » ou « 1 500 »."),
        ("9,999", "Un montant en euros a au plus deux décimales (les centimes)."),
        ("1,500", "Un montant en euros a au plus deux décimales (les centimes)."),
        ("-5", "Le montant ne peut pas être négatif."),
        ("9,90 $", "Saisissez un montant en euros, par exemple « 9,90 » ou « 1 500 »."),
    ],
)
def test_bad_amounts_are_refused_with_a_french_message(typed, message):
    with pytest.raises(ValidationError) as error:
        euros_parse(typed)
    assert error.value.messages == [message]


def test_the_field_shows_euros_and_cleans_to_cents():
    field = EuroField(label="Prix", required=False, max_value=100_000)
    assert field.prepare_value(150_000) == f"1{NNBSP}500,00"
    assert field.clean("24,90") == 2490
    assert field.clean("") is None
    with pytest.raises(ValidationError) as error:
        field.clean("1 000,01")
    assert error.value.messages == [f"Le montant ne peut pas dépasser 1{NNBSP}000,00{NBSP}€."]
    html = field.widget.render("price", 990)
    assert 'value="9,90"' in html
    assert 'inputmode="decimal"' in html
    assert "€</span>" in html


def _edit_data(form) -> dict[str, str]:
    """What the browser posts back for an unchanged plan form."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    return data


@pytest.mark.django_db
def test_the_plan_editor_shows_euros_and_stores_cents(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug="euros-edit", price_cents=1990, deductible_cents=15_000)
        plan.save_revision().publish()
        admin = InsurerAdminFactory(email="euros.admin@exemple.fr")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)

        # given the plan editor
        url = f"/admin/snippets/cover/plan/edit/{plan.pk}/"
        page = client.get(url).content.decode()
        # then amounts read in euros, labels without « (centimes) »
        assert 'name="price_cents" value="19,90"' in page
        assert 'name="deductible_cents" value="150,00"' in page
        assert f'name="per_claim_ceiling_cents" value="5{NNBSP}000,00"' in page
        assert "centimes" not in page

        # when the admin types a French amount and saves a draft
        form = Plan.snippet_viewset.get_edit_handler().get_form_class()(instance=plan)
        data = {**_edit_data(form), "price_cents": "24,90 €", "annual_ceiling_cents": "12 000"}
        response = client.post(url, data)
        assert response.status_code == 302
        # then the draft holds cents; the live row is unchanged until moderation
        draft = Plan.objects.get(pk=plan.pk).get_latest_revision_as_object()
        assert (draft.price_cents, draft.annual_ceiling_cents) == (2490, 1_200_000)
        assert Plan.objects.get(pk=plan.pk).price_cents == 1990


@pytest.mark.django_db
def test_a_bad_amount_is_refused_and_nothing_is_saved(tenant_a):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug="euros-bad", price_cents=1990)
        plan.save_revision().publish()
        revisions = plan.revisions.count()
        admin = InsurerAdminFactory(email="euros.bad@exemple.fr")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        form = Plan.snippet_viewset.get_edit_handler().get_form_class()(instance=plan)
        data = {**_edit_data(form), "price_cents": "dix-neuf euros"}

        response = client.post(f"/admin/snippets/cover/plan/edit/{plan.pk}/", data)

        assert response.status_code == 200
        assert "Saisissez un montant en euros, par exemple" in response.content.decode()
        assert plan.revisions.count() == revisions
        assert Plan.objects.get(pk=plan.pk).price_cents == 1990


@pytest.mark.django_db
def test_the_plan_list_shows_euros_and_yes_no(tenant_a):
    with tenant_context(tenant_a.insurer):
        PlanFactory(slug="euros-list", name="Liste en euros", price_cents=150_000)
        admin = InsurerAdminFactory(email="euros.list@exemple.fr")
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)

        page = client.get("/admin/snippets/cover/plan/").content.decode()

    row = page[page.index("Liste en euros") :]
    row = row[: row.index("</tr>")]
    cells = [cell.split(">", 1)[1].split("<", 1)[0].strip() for cell in row.split("<td")[1:]]
    assert f"1{NNBSP}500,00{NBSP}€" in cells
    assert ["Oui", "Non"] == [cell for cell in cells if cell in ("Oui", "Non")]
    assert "True" not in page
    assert "False" not in page
    assert "centimes" not in page


@pytest.mark.django_db
def test_a_handler_records_a_cost_in_euros_and_reads_euros(tenant_a):
    from cover.claims.services.cover_check import cover_check
    from tests.cover.claims_factories import (
        claim_create,
        doctor_create,
        handler_create,
    )
    from tests.cover.factories import PolicyFactory

    with tenant_context(tenant_a.insurer):
        doctor = doctor_create()
        PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(per_claim_ceiling_cents=500_000, annual_ceiling_cents=None),
            start_date=datetime.date(2025, 1, 1),
        )
        claim = claim_create(doctor=doctor)
        cover_check(claim=claim, by=doctor.user, today=claim.seen_date)
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, handler_create())
        url = f"/admin/sinistres/{claim.pk}/frais/"
        fields = {
            "kind": "avocat",
            "service": "",
            "label": "Honoraires",
            "incurred_on": "2025-03-18",
        }

        # a bad amount: refused, nothing recorded
        bad = client.post(url, {**fields, "amount": "mille euros"}, follow=True)
        assert claim.costs.count() == 0
        assert "Frais incomplets." in bad.content.decode()

        # « 1 500,00 € » typed: 150 000 cents stored, euros shown
        page = client.post(url, {**fields, "amount": "1 500,00 €"}, follow=True).content.decode()
        cost = claim.costs.get()

    assert cost.amount_cents == 150_000
    assert f"<td>1{NNBSP}500,00{NBSP}€</td>" in page
    assert " c</td>" not in page
    assert f"5{NNBSP}000,00{NBSP}€" in page
