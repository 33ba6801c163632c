"""GDPR and de-referencing requests: the letter's required fields, the 1-month (+2) deadline,
the CNIL complaint proposed when it passes, and the plan's yearly allowance."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from cleanup.letters import letter_pdf, letter_text
from cleanup.models import RemovalRequest
from cleanup.services.removals import (
    removal_request_answered,
    removal_request_cancel,
    removal_request_create,
    removal_request_extension_notified,
    removal_request_mark_sent,
    removal_requests_overdue_flag,
)
from cleanup.services.watch import watch_profile_save
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db

LISTING = "https://annuaire-sante.example/dr-claire-martin"


def _profile(tag, **kwargs):
    doctor = doctor_with_policy(tag=tag, **kwargs)
    return watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="Lyon",
        specialty="", keywords=[],
    )  # fmt: skip


def _gdpr(profile, **kwargs):
    return removal_request_create(
        profile=profile,
        kind=RemovalRequest.Kind.GDPR_LISTING,
        recipient_name="Annuaire Santé SAS",
        recipient_address="DPO, 1 place de la Bourse, 75002 Paris",
        urls=[LISTING],
        grounds=["Des annuaires publics existent déjà (CNOM, Ameli)."],
        data_concerned="Nom, spécialité, adresse, avis.",
        **kwargs,
    )


def test_gdpr_letter_has_the_required_statements(tenant_a):
    with tenant_context(tenant_a.insurer):
        request = _gdpr(_profile("2e0e0001"))

        text = letter_text(request=request, on=datetime.date(2026, 3, 2))

        assert (
            "Objet : Opposition au traitement et demande d'effacement (articles 21.1 et 17.1.c du RGPD)"
            in text
        )
        for expected in (
            "Je m'oppose, sur le fondement de l'article 21.1 du RGPD, au traitement de mes données personnelles.",
            "Je demande l'effacement de ces données sur le fondement de l'article 17.1.c du RGPD.",
            "délai d'un mois à compter de la réception de la présente demande",
            "je saisirai la Commission nationale de l'informatique et des libertés (CNIL).",
            f"- {LISTING}",
            "- Des annuaires publics existent déjà (CNOM, Ameli).",
            "Lyon, le 2 mars 2026",
        ):
            assert expected in text
        pdf = letter_pdf(request=request)
        assert pdf.startswith(b"%PDF-")


def test_missing_urls_refuse_the_letter_and_save_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        profile = _profile("2e0e0002")

        with pytest.raises(ValidationError) as exc:
            removal_request_create(
                profile=profile, kind=RemovalRequest.Kind.DEREFERENCING,
                recipient_name="Google LLC", recipient_address="Formulaire en ligne",
                urls=[], grounds=["Propos contestés"],
            )  # fmt: skip

        assert exc.value.messages == [
            "Champs obligatoires manquants pour ce courrier : URL exacte(s) des résultats."
        ]
        assert RemovalRequest.objects.filter(profile=profile).count() == 0


def test_deadline_is_one_month_or_three_with_a_timely_extension(tenant_a):
    with tenant_context(tenant_a.insurer):
        profile = _profile("2e0e0003", removal_requests_per_year=3)
        plain = removal_request_mark_sent(
            request=_gdpr(profile), sent_on=datetime.date(2026, 1, 10),
            received_on=datetime.date(2026, 1, 12),
        )  # fmt: skip
        extended = removal_request_mark_sent(
            request=_gdpr(profile), sent_on=datetime.date(2026, 1, 31)
        )
        extended = removal_request_extension_notified(
            request=extended, on=datetime.date(2026, 2, 20)
        )
        late = removal_request_mark_sent(request=_gdpr(profile), sent_on=datetime.date(2026, 1, 5))

        with pytest.raises(ValidationError) as exc:
            removal_request_extension_notified(request=late, on=datetime.date(2026, 2, 6))

        assert plain.due_on == datetime.date(2026, 2, 12)
        # 31 Jan + 3 months, counted from the start (not 28 Feb + 2 months = 28 Apr)
        assert (extended.status, extended.due_on) == ("extended", datetime.date(2026, 4, 30))
        assert exc.value.messages == [
            "La prolongation doit être notifiée dans le premier mois (avant le 05/02/2026) : "
            "elle est tardive."
        ]
        late.refresh_from_db()
        assert (late.status, late.due_on) == ("sent", datetime.date(2026, 2, 5))


def test_cnil_complaint_is_proposed_once_the_deadline_passes_or_on_refusal(tenant_a):
    with tenant_context(tenant_a.insurer):
        profile = _profile("2e0e0004", removal_requests_per_year=3)
        silent = removal_request_mark_sent(
            request=_gdpr(profile), sent_on=datetime.date(2026, 1, 10)
        )
        answered = removal_request_mark_sent(
            request=_gdpr(profile), sent_on=datetime.date(2026, 1, 10)
        )
        refused = removal_request_mark_sent(
            request=_gdpr(profile), sent_on=datetime.date(2026, 1, 10)
        )
        removal_request_answered(request=answered, granted=True, on=datetime.date(2026, 2, 1))

        assert removal_requests_overdue_flag(today=datetime.date(2026, 2, 10)) == []
        flagged = removal_requests_overdue_flag(today=datetime.date(2026, 2, 11))
        removal_request_answered(request=refused, granted=False, on=datetime.date(2026, 2, 12))

        assert [r.pk for r in flagged] == [refused.pk, silent.pk] or [r.pk for r in flagged] == [
            silent.pk, refused.pk,
        ]  # fmt: skip
        silent.refresh_from_db()
        answered.refresh_from_db()
        refused.refresh_from_db()
        assert (silent.status, silent.cnil_proposed_on) == ("overdue", datetime.date(2026, 2, 11))
        assert (answered.status, answered.cnil_proposed_on) == ("granted", None)
        assert (refused.status, refused.cnil_proposed_on) == ("refused", datetime.date(2026, 2, 11))


def test_requests_count_against_the_yearly_allowance(tenant_a):
    with tenant_context(tenant_a.insurer):
        profile = _profile("2e0e0005", removal_requests_per_year=2)
        first = _gdpr(profile)
        _gdpr(profile)

        with pytest.raises(ValidationError) as exc:
            _gdpr(profile)
        assert exc.value.messages == [
            "Votre formule comprend 2 demandes de suppression ou de déréférencement par an, "
            "toutes utilisées (2). Contactez votre assureur pour une demande supplémentaire."
        ]
        assert RemovalRequest.objects.filter(profile=profile).count() == 2

        # a cancelled draft gives its request back
        removal_request_cancel(request=first)
        third = _gdpr(profile)
        assert third.status == "draft"
        assert (
            RemovalRequest.objects.filter(profile=profile).exclude(status="cancelled").count() == 2
        )


def test_portal_turns_an_alert_into_a_dereferencing_letter_and_its_pdf(tenant_a):
    from django.test import Client

    from cleanup.models import Alert, Mention, Scan

    with tenant_context(tenant_a.insurer):
        profile = _profile("2e0e0006")
        scan = Scan.objects.create(profile=profile, status="done")
        now = scan.created_at
        mention = Mention.objects.create(
            profile=profile, url_key="https://blog.example/x", url="https://blog.example/x",
            title="Dr Martin escroc", first_seen=now, last_seen=now, best_rank=2,
        )  # fmt: skip
        alert = Alert.objects.create(
            profile=profile, scan=scan, kind="new_result", mention=mention,
            url="https://blog.example/x", title="Dr Martin escroc", text="Dr Martin escroc",
            band="unrated",
        )  # fmt: skip
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(profile.doctor.user)

    form = client.get(f"/veille/demandes/nouvelle/?alerte={alert.pk}")
    created = client.post(
        "/veille/demandes/nouvelle/",
        {
            "alerte": alert.pk, "kind": "dereferencing", "recipient_name": "Moteur Exemple",
            "recipient_address": "Formulaire en ligne", "urls": "https://blog.example/x",
            "grounds": "Propos contestés\nSecret médical", "data_concerned": "",
        },
    )  # fmt: skip
    with tenant_context(tenant_a.insurer):
        request = RemovalRequest.objects.get(profile=profile)
    detail = client.get(f"/veille/demandes/{request.pk}/")
    pdf = client.get(f"/veille/demandes/{request.pk}/courrier.pdf")

    assert "Demandes utilisées cette année : 0 sur 2." in form.content.decode()
    assert 'value="dereferencing" selected' in form.content.decode()
    assert (created.status_code, created["Location"]) == (302, f"/veille/demandes/{request.pk}/")
    assert (request.kind, request.alert_id, request.urls, request.grounds) == (
        "dereferencing", alert.pk, ["https://blog.example/x"],
        ["Propos contestés", "Secret médical"],
    )  # fmt: skip
    body = detail.content.decode()
    assert "Objet : Demande de déréférencement (articles 17 et 21 du RGPD)" in body
    assert "- https://blog.example/x" in body
    assert (pdf.status_code, pdf["Content-Type"], pdf.content[:5]) == (
        200, "application/pdf", b"%PDF-",
    )  # fmt: skip
