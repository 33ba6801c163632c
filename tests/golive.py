"""Go-live of a test insurer, done the real way (cover.documents checklist, then site_open).

The session's insurers A and B fill their legal information, publish a plan with its general
conditions (a real PDF), get a connected account on a local Stripe stand-in started for the
occasion, and open their site. The opening plan is removed afterwards and the Stripe account
reset, so each test starts from the same offer-less insurer it always had (only now open).
"""

from __future__ import annotations

import socket
import tempfile

TEST_LEGAL_INFO = {
    "company_name": "Assurances Test SA",
    "legal_form": "Société anonyme",
    "share_capital": "1 000 000 €",
    "rcs_number": "RCS Paris 123 456 789",
    "head_office_address": "10 rue du Test, 75002 Paris",
    "publication_director": "Camille Durand",
    "host_details": "Hébergeur Test, 5 avenue des Serveurs, 69000 Lyon",
    "dpo_contact": "dpo@assurances-test.exemple.fr",
    "complaint_service_contact": "Service réclamations, 10 rue du Test, 75002 Paris",
    "mediator_name": "La Médiation de l'Assurance",
    "mediator_url": "https://www.mediation-assurance.org",
    "mediator_address": "TSA 50110, 75441 Paris Cedex 09",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def general_conditions_document(*, title: str, text: str = ""):
    """A Wagtail document holding a real PDF (WeasyPrint)."""
    import weasyprint
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    pdf = weasyprint.HTML(string=f"<h1>{title}</h1><p>{text}</p>").write_pdf()
    document = get_document_model()(title=title)
    document.file.save("conditions-generales.pdf", ContentFile(pdf), save=False)
    document.save()
    return document


def stripe_account_connect(*, insurer) -> None:
    """A connected account created on a local Stripe stand-in started for the occasion."""
    from django.test.utils import override_settings

    from devtools.stripe_standin.demo import stripe_local_running
    from tenants.billing import insurer_stripe_account_ensure

    with (
        tempfile.TemporaryDirectory() as data_dir,
        override_settings(
            STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
            STRIPE_LOCAL_DATA_DIR=data_dir,
            STRIPE_LOCAL_WEBHOOK_URL="",
        ),
        stripe_local_running(),
    ):
        insurer_stripe_account_ensure(insurer=insurer)


def stripe_account_reset(*, insurer) -> None:
    from tenants.models import Insurer, StripeAccountStatus

    Insurer.objects.filter(pk=insurer.pk).update(
        stripe_account_id="",
        stripe_account_status=StripeAccountStatus.MISSING,
        stripe_account_error="",
    )
    insurer.stripe_account_id = ""


def insurer_go_live(*, insurer) -> None:
    """Complete the checklist of a freshly onboarded test insurer and open its site."""
    from django_tenants.utils import tenant_context

    from cover.documents import legal_info_save, site_open
    from cover.models import Plan

    stripe_account_connect(insurer=insurer)
    with tenant_context(insurer):
        legal_info_save(values=TEST_LEGAL_INFO)
        document = general_conditions_document(title="Conditions générales d'ouverture")
        plan = Plan(
            name="Formule d'ouverture",
            slug="ouverture",
            published=True,
            price_cents=990,
            general_conditions=document,
        )
        plan.full_clean()
        plan.save()
        plan.save_revision().publish()
        site_open()
        plan.delete()
        document.delete()
    stripe_account_reset(insurer=insurer)
