"""Every e-mail leaves in the insurer's own name, read in its own schema only."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.services.signup import doctor_verification_send
from mailing.kinds import MailKind
from mailing.models import MailSettings
from mailing.services import mail_send
from tests.cover.claims_factories import doctor_create

pytestmark = pytest.mark.django_db


def _settings_set(**values) -> None:
    mail_settings = MailSettings.for_site(Site.objects.get(is_default_site=True))
    for name, value in values.items():
        setattr(mail_settings, name, value)
    mail_settings.full_clean()
    mail_settings.save()


def test_by_default_each_insurer_sends_under_its_display_name_and_domain(tenant_a, tenant_b):
    mail.outbox.clear()
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant.insurer):
            doctor = doctor_create()
            doctor_verification_send(user=doctor.user, base_url=f"http://{tenant.domain}")

    assert [(m.from_email, m.subject) for m in mail.outbox] == [
        (
            "Assureur test A <no-reply@tenant-a.localhost>",
            "Confirmez votre adresse e-mail – Assureur test A",
        ),
        (
            "Assureur test B <no-reply@tenant-b.localhost>",
            "Confirmez votre adresse e-mail – Assureur test B",
        ),
    ]
    assert all("Égide" not in m.from_email + m.subject + m.body for m in mail.outbox)
    assert mail.outbox[0].body.count("http://tenant-a.localhost/compte/verification/") == 1


def test_b_sender_settings_are_never_used_for_a(tenant_a, tenant_b):
    with tenant_context(tenant_b.insurer):
        _settings_set(
            sender_name="Mutuelle Bêta",
            sender_address="contact@beta-assurances.fr",
            reply_to="sinistres@beta-assurances.fr",
        )
    mail.outbox.clear()

    with tenant_context(tenant_a.insurer):
        sent = mail_send(
            to="dr.a@exemple.fr",
            kind=MailKind.ACCOUNT_EXISTS,
            context={},
            link_path="/compte/connexion/",
        )
    with tenant_context(tenant_b.insurer):
        mail_send(
            to="dr.b@exemple.fr",
            kind=MailKind.ACCOUNT_EXISTS,
            context={},
            link_path="/compte/connexion/",
        )

    a, b = mail.outbox
    assert sent is True
    assert (a.from_email, a.reply_to, a.to) == (
        "Assureur test A <no-reply@tenant-a.localhost>",
        [],
        ["dr.a@exemple.fr"],
    )
    assert "Bêta" not in a.message().as_string() and "beta-assurances" not in a.body
    assert "http://tenant-a.localhost/compte/connexion/" in a.body
    assert (b.from_email, b.reply_to) == (
        "Mutuelle Bêta <contact@beta-assurances.fr>",
        ["sinistres@beta-assurances.fr"],
    )
    assert "http://tenant-b.localhost/compte/connexion/" in b.body


def test_the_settings_page_shows_dns_guidance_for_the_sender_domain(tenant_a):
    from django.test import Client

    from tests.conftest import staff_login
    from tests.tenants.factories import InsurerAdminFactory

    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        _settings_set(sender_address="sinistres@alpha-assurances.fr")
        site = Site.objects.get(is_default_site=True)
        staff_login(client, InsurerAdminFactory())

    page = client.get(f"/admin/settings/mailing/mailsettings/{site.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "_dmarc.alpha-assurances.fr" in html
    assert "._domainkey.alpha-assurances.fr" in html
    assert "ne vérifie pas vos enregistrements DNS" in html
    assert "Égide" not in html.split('id="mail-dns-guidance"')[1].split("</div>")[0]
