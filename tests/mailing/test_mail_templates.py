"""The insurer edits its e-mails' wording in Wagtail; the wording runs in a sandbox."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cleanup.models import SearchSettings
from cover.services.signup import doctor_verification_send
from mailing.kinds import MailKind
from mailing.models import MailTemplate
from mailing.services import mail_send
from tests.conftest import staff_login
from tests.cover.claims_factories import doctor_create
from tests.tenants.factories import InsurerAdminFactory

pytestmark = pytest.mark.django_db
SECRET = "cle-api-secrete-0451"  # noqa: S105


def test_an_edited_template_is_used_and_only_by_its_insurer(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        template = MailTemplate(
            kind=MailKind.ACCOUNT_VERIFICATION.value,
            subject="{{ nom_assureur }} : une dernière étape",
            body="Chère consœur, cher confrère,\n\nCliquez ici : {{ lien }}\n",
        )
        template.full_clean()
        template.save()
    mail.outbox.clear()

    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant.insurer):
            doctor = doctor_create()
            doctor_verification_send(user=doctor.user, base_url=f"http://{tenant.domain}")

    a, b = mail.outbox
    assert a.subject == "Assureur test A : une dernière étape"
    assert a.body.startswith("Chère consœur, cher confrère,\n\nCliquez ici : http://tenant-a.")
    assert b.subject == "Confirmez votre adresse e-mail – Assureur test B"
    assert "consœur" not in b.body


def test_an_empty_field_keeps_the_default_and_a_missing_link_is_appended(tenant_a):
    with tenant_context(tenant_a.insurer):
        MailTemplate.objects.create(
            kind=MailKind.CLAIM_UPDATE.value, subject="", body="Du nouveau dans {{ reference }}."
        )
        mail.outbox.clear()
        mail_send(
            to="dr@exemple.fr",
            kind=MailKind.CLAIM_UPDATE,
            context={"reference": "SIN-1", "etape": "Courrier préparé", "note": ""},
            link_path="/portail/sinistres/1/",
            urgent=True,
        )

    (message,) = mail.outbox
    assert message.subject == "Dossier SIN-1 : Courrier préparé"
    assert message.body == (
        "Du nouveau dans SIN-1.\n\nhttp://tenant-a.localhost/portail/sinistres/1/\n"
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ settings.cleanup.SearchSettings.api_key }}",
        "{% if request %}x{% endif %}{{ reference }}",
        "{% load wagtailsettings_tags %}{% get_settings use_default_site=True %}",
        "{% debug %}",
        "{% include 'base.html' %}",
        "{% if reference %}sans fin",
    ],
)
def test_a_template_reaching_outside_its_placeholders_is_refused_at_save(tenant_a, body):
    with tenant_context(tenant_a.insurer):
        template = MailTemplate(kind=MailKind.CLAIM_UPDATE.value, subject="", body=body)

        with pytest.raises(ValidationError) as refused:
            template.full_clean()

        assert refused.value.message_dict["body"][0].startswith(
            ("Modèle d'e-mail invalide", "Champ inconnu pour ce type d'e-mail")
        )
        assert MailTemplate.objects.filter(kind=MailKind.CLAIM_UPDATE.value).count() == 0


def test_a_stored_template_naming_settings_renders_nothing_of_them(tenant_a):
    with tenant_context(tenant_a.insurer):
        search = SearchSettings.for_site(Site.objects.get(is_default_site=True))
        search.api_key = SECRET
        search.save()
        # Stored without the admin's check (an import, an old row): the sandbox still holds.
        MailTemplate.objects.create(
            kind=MailKind.CLAIM_UPDATE.value,
            subject="[{{ settings.cleanup.SearchSettings.api_key }}]",
            body="[{{ settings.cleanup.SearchSettings.api_key }}][{{ request.user }}]"
            "[{{ user.password }}][{{ perms }}]",
        )
        mail.outbox.clear()
        mail_send(
            to="dr@exemple.fr",
            kind=MailKind.CLAIM_UPDATE,
            context={"reference": "SIN-1"},
            link_path="/portail/",
            urgent=True,
        )

    (message,) = mail.outbox
    assert message.subject == "[]"
    assert message.body.startswith("[][][][]")
    assert SECRET not in message.subject + message.body


def test_the_insurer_admin_edits_and_previews_a_template_in_wagtail(tenant_a):
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, InsurerAdminFactory())
    form = {
        "kind": MailKind.CLAIM_UPDATE.value,
        "subject": "{{ reference }} : {{ etape }}",
        "body": "Bonjour,\n{{ note }}\n{{ lien }}",
    }

    preview = client.post("/admin/snippets/mailing/mailtemplate/preview/", form)
    shown = client.get("/admin/snippets/mailing/mailtemplate/preview/")
    refused = client.post(
        "/admin/snippets/mailing/mailtemplate/add/",
        {**form, "body": "{{ settings.cleanup.SearchSettings.api_key }}"},
    )
    with tenant_context(tenant_a.insurer):
        after_refusal = MailTemplate.objects.count()
    created = client.post("/admin/snippets/mailing/mailtemplate/add/", form)

    assert preview.json() == {"is_valid": True, "is_available": True}
    html = shown.content.decode()
    assert "SIN-2026-0042 : Nouvelle étape" in html
    assert "Courrier envoyé à l&#x27;hébergeur." in html
    assert refused.status_code == 200 and "Champ inconnu" in refused.content.decode()
    assert after_refusal == 0
    assert created.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert MailTemplate.objects.get().subject == "{{ reference }} : {{ etape }}"
