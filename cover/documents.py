"""The insurer's documents and its go-live gate.

- General conditions: the PDF a plan points at is copied, write-once and addressed by its
  SHA-256, whenever a plan version is frozen; the version's terms record the document id and
  hash, so a policy downloads the conditions it was sold with even after the plan changed them.
- IPID / DIPA (document d'information sur le produit d'assurance): generated from a plan
  version's structured guarantees.
- Legal notices and privacy policy: rendered from ``InsurerLegalInfo``.
- Go-live checklist: until it is complete and the insurer opens its site, the public site shows
  « Bientôt disponible » and sign-ups are refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.documents import get_document_model
from wagtail.models import Site

from common.formatting import euros
from cover.models import (
    Anteriority,
    BillingPeriod,
    Branding,
    FrozenDocument,
    InsurerLegalInfo,
    MonitoringFrequency,
    Plan,
    PlanVersion,
    ProviderObligation,
    SiteOpening,
)
from cover.selectors import guarantee_rows, legal_info_current, plan_terms, plans_published
from cover.terms import Terms

# Keys added to a plan version's frozen terms (``cover.terms.Terms`` ignores them).
CONDITIONS_ID = "general_conditions_id"
CONDITIONS_SHA256 = "general_conditions_sha256"


class GoLiveError(Exception):
    """The site cannot open yet; the message is French and safe to show."""


# ---------------------------------------------------------------------------------------------
# General conditions, versioned with the plan version
# ---------------------------------------------------------------------------------------------


def _file_bytes(field_file) -> bytes:
    field_file.open("rb")
    try:
        return field_file.read()
    finally:
        field_file.close()


def general_conditions_freeze(*, plan: Plan) -> dict[str, Any]:
    """The keys to record in the plan version's terms for its general conditions.

    Copies the document's bytes once per content (by SHA-256) so the exact text stays
    downloadable whatever happens to the Wagtail document afterwards. Empty when the plan
    has no general conditions (versions frozen before documents existed compare equal).
    """
    document = plan.general_conditions
    if document is None:
        return {}
    content = _file_bytes(document.file)
    digest = hashlib.sha256(content).hexdigest()
    if not FrozenDocument.objects.filter(sha256=digest).exists():
        frozen = FrozenDocument(sha256=digest, title=document.title, source_document_id=document.pk)
        frozen.file.save(f"{digest}.pdf", ContentFile(content), save=False)
        frozen.save()
    return {CONDITIONS_ID: document.pk, CONDITIONS_SHA256: digest}


def plan_version_conditions(*, version: PlanVersion) -> FrozenDocument | None:
    """The general conditions a plan version was sold with (its own copy), if any."""
    digest = (version.terms or {}).get(CONDITIONS_SHA256)
    if not digest:
        return None
    return FrozenDocument.objects.filter(sha256=digest).first()


def frozen_document_bytes(*, frozen: FrozenDocument) -> bytes:
    """The archived file, checked against the hash it is filed under."""
    content = _file_bytes(frozen.file)
    if hashlib.sha256(content).hexdigest() != frozen.sha256:
        raise ValueError(f"frozen document {frozen.pk} does not match its SHA-256")
    return content


def general_conditions_is_pdf(*, plan: Plan) -> bool:
    document = plan.general_conditions
    if document is None:
        return False
    try:
        head = _file_bytes(document.file)[:5]
    except (OSError, ValueError):
        return False
    return head == b"%PDF-"


# ---------------------------------------------------------------------------------------------
# IPID / DIPA
# ---------------------------------------------------------------------------------------------


def _period_words(period: str) -> str:
    return _("par an") if period == BillingPeriod.YEAR else _("par mois")


def ipid_sections(*, terms: Terms) -> list[tuple[str, list[str]]]:
    """The IPID's headings and lines, from the frozen structured terms (French)."""
    return [
        (_("Qu'est-ce qui est assuré ?"), _ipid_insured(terms)),
        (_("Qu'est-ce qui n'est pas assuré ?"), _ipid_not_insured(terms)),
        (_("Y a-t-il des restrictions de couverture ?"), _ipid_restrictions(terms)),
        *_ipid_obligations_and_term(terms),
    ]


def _ipid_insured(terms: Terms) -> list[str]:
    insured = [
        _(
            "Veille de votre réputation en ligne : %(frequency)s, jusqu'à %(keywords)d mots-clés "
            "et %(pages)d pages surveillées."
        )
        % {
            "frequency": str(MonitoringFrequency(terms.monitoring_frequency).label).lower(),
            "keywords": terms.max_keywords,
            "pages": terms.max_watched_pages,
        },
        ngettext(
            "%(n)d demande de suppression ou de déréférencement par an.",
            "%(n)d demandes de suppression ou de déréférencement par an.",
            terms.removal_requests_per_year,
        )
        % {"n": terms.removal_requests_per_year},
        _("Constat des contenus litigieux et constitution des preuves."),
    ]
    if terms.positive_content_campaigns_per_year:
        insured.append(
            ngettext(
                "%(n)d campagne de contenus positifs par an.",
                "%(n)d campagnes de contenus positifs par an.",
                terms.positive_content_campaigns_per_year,
            )
            % {"n": terms.positive_content_campaigns_per_year}
        )
    insured.append(
        _("Protection juridique : frais d'avocat et de commissaire de justice pris en charge.")
    )
    if terms.free_choice_of_lawyer:
        insured.append(_("Libre choix de votre avocat."))
    return insured


def _ipid_not_insured(terms: Terms) -> list[str]:
    not_insured = []
    if terms.anteriority == Anteriority.RETROACTIVE_YEARS:
        not_insured.append(
            ngettext(
                "Les publications antérieures de plus d'un an à la souscription.",
                "Les publications antérieures de plus de %(n)d ans à la souscription.",
                terms.anteriority_years,
            )
            % {"n": terms.anteriority_years}
        )
    elif terms.anteriority == Anteriority.KNOWN_FACTS_EXCLUDED:
        not_insured.append(_("Les faits dont vous aviez connaissance à la souscription."))
    else:
        not_insured.append(_("Les publications antérieures à la souscription."))
    if terms.positive_content_campaigns_per_year == 0:
        not_insured.append(_("Les campagnes de contenus positifs."))
    for label, cents in (
        (_("Le nettoyage et le déréférencement"), terms.cleanup_subceiling_cents),
        (_("Les honoraires d'avocat"), terms.lawyer_subceiling_cents),
        (_("Le constat de commissaire de justice"), terms.constat_subceiling_cents),
    ):
        if cents == 0:
            not_insured.append(_("%(service)s (non pris en charge).") % {"service": label})
    not_insured += [line.strip() for line in terms.exclusions.splitlines() if line.strip()]
    return not_insured


def _ipid_restrictions(terms: Terms) -> list[str]:
    restrictions = [
        _("Plafond par sinistre : %(amount)s.")
        % {"amount": euros(terms.per_claim_ceiling_cents) or _("sans plafond")},
        _("Plafond annuel : %(amount)s.")
        % {"amount": euros(terms.annual_ceiling_cents) or _("sans plafond")},
    ]
    for label, cents in (
        (_("Sous-plafond nettoyage et déréférencement"), terms.cleanup_subceiling_cents),
        (_("Sous-plafond honoraires d'avocat"), terms.lawyer_subceiling_cents),
        (_("Sous-plafond constat de commissaire de justice"), terms.constat_subceiling_cents),
    ):
        if cents:
            restrictions.append(
                _("%(label)s : %(amount)s par sinistre.") % {"label": label, "amount": euros(cents)}
            )
    if terms.deductible_cents:
        restrictions.append(
            _("Franchise : %(amount)s par sinistre.") % {"amount": euros(terms.deductible_cents)}
        )
    if terms.intervention_threshold_cents:
        restrictions.append(
            _("Seuil d'intervention : %(amount)s de frais engagés sur le dossier.")
            % {"amount": euros(terms.intervention_threshold_cents)}
        )
    if terms.waiting_period_days:
        restrictions.append(
            ngettext(
                "Délai de carence : %(n)d jour après la date d'effet.",
                "Délai de carence : %(n)d jours après la date d'effet.",
                terms.waiting_period_days,
            )
            % {"n": terms.waiting_period_days}
        )
    if terms.provider_obligation == ProviderObligation.MEANS:
        restrictions.append(
            _(
                "Le prestataire est tenu à une obligation de moyens : la suppression d'un contenu "
                "n'est pas garantie."
            )
        )
    else:
        restrictions.append(str(ProviderObligation(terms.provider_obligation).label) + ".")
    return restrictions


def _ipid_obligations_and_term(terms: Terms) -> list[tuple[str, list[str]]]:
    """Where the cover applies, the insured's obligations, payment, start, end, cancellation."""
    where = [
        _("%(territory)s, selon le lieu d'exercice du médecin (code postal du cabinet).")
        % {"territory": terms.territory}
    ]
    obligations = [
        _("Répondre exactement aux questions posées à la souscription."),
        _("Payer la cotisation à chaque échéance."),
        _("Déclarer le sinistre dans le délai de %(delay)s, depuis votre espace assuré.")
        % {"delay": terms.declaration_delay},
        _("Conserver l'adresse de la publication litigieuse et les échanges avec son auteur."),
    ]
    payment = [
        _("Cotisation de %(amount)s %(period)s, payable d'avance par carte bancaire en ligne.")
        % {"amount": euros(terms.price_cents), "period": _period_words(terms.billing_period)},
    ]
    period = _("chaque année") if terms.billing_period == BillingPeriod.YEAR else _("chaque mois")
    start_end = [
        _("La garantie prend effet à la date d'effet indiquée sur votre attestation.")
        if not terms.waiting_period_days
        else _(
            "La garantie prend effet à la date d'effet indiquée sur votre attestation, "
            "après le délai de carence."
        ),
        _(
            "Le contrat se renouvelle %(period)s à l'échéance tant qu'il n'est pas résilié ; "
            "il prend fin à la date d'effet de la résiliation."
        )
        % {"period": period},
    ]
    cancel = [
        _("En ligne depuis votre espace assuré, rubrique « Mon contrat »."),
        _(
            "Les modalités et la date d'effet de la résiliation figurent dans les conditions "
            "générales."
        ),
    ]
    return [
        (_("Où la garantie s'applique-t-elle ?"), where),
        (_("Quelles sont mes obligations ?"), obligations),
        (_("Quand et comment effectuer les paiements ?"), payment),
        (_("Quand commence la couverture et quand prend-elle fin ?"), start_end),
        (_("Comment puis-je résilier le contrat ?"), cancel),
    ]


def _site():
    return Site.objects.filter(is_default_site=True).first()


def ipid_html(*, terms: Terms, version_number: int | None) -> str:
    site = _site()
    branding = Branding.for_site(site) if site else None
    return render_to_string(
        "cover/ipid.html",
        {
            "terms": terms,
            "version_number": version_number,
            "sections": ipid_sections(terms=terms),
            "legal": legal_info_current(),
            "branding": branding,
            "on": timezone.localdate(),
        },
    )


def ipid_render(*, terms: Terms, version_number: int | None = None) -> bytes:
    """The IPID as a PDF (WeasyPrint)."""
    import weasyprint  # lazy: heavy (Pango, fonts), only where a PDF is rendered

    html = ipid_html(terms=terms, version_number=version_number)
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


# ---------------------------------------------------------------------------------------------
# Go-live checklist
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    detail: str
    url: str


def _settings_url(model: str) -> str:
    site = _site()
    if site is None:
        return ""
    return reverse("wagtailsettings:edit", args=["cover", model, site.pk])


def golive_checklist() -> list[ChecklistItem]:
    """What the current insurer must complete before opening its public site."""
    site = _site()
    legal = legal_info_current()
    missing = legal.missing_fields()
    plans = list(plans_published().select_related("general_conditions"))
    without = [plan.name for plan in plans if not general_conditions_is_pdf(plan=plan)]
    tenant = getattr(connection, "tenant", None)
    stripe_ok = bool(getattr(tenant, "stripe_account_id", ""))
    branding = Branding.for_site(site) if site else None
    default_colour = Branding._meta.get_field("primary_colour").default
    branding_ok = bool(
        branding
        and branding.display_name.strip()
        and (branding.logo_id or branding.primary_colour.lower() != default_colour)
    )
    plans_url = reverse("wagtailsnippets_cover_plan:list")
    return [
        ChecklistItem(
            "legal",
            _("Informations légales complètes"),
            not missing,
            _("À renseigner : %(fields)s.") % {"fields": ", ".join(missing)} if missing else "",
            _settings_url("insurerlegalinfo"),
        ),
        ChecklistItem(
            "plans",
            _("Au moins une formule publiée"),
            bool(plans),
            "" if plans else _("Publiez une formule proposée à la souscription."),
            plans_url,
        ),
        ChecklistItem(
            "conditions",
            _("Conditions générales (PDF) sur chaque formule publiée"),
            bool(plans) and not without,
            _("Sans conditions générales en PDF : %(plans)s.") % {"plans": ", ".join(without)}
            if without
            else "",
            plans_url,
        ),
        ChecklistItem(
            "stripe",
            _("Compte Stripe connecté"),
            stripe_ok,
            ""
            if stripe_ok
            else _(
                "Le compte de paiement n'est pas encore créé : contactez l'opérateur de la plateforme."
            ),
            "",
        ),
        ChecklistItem(
            "branding",
            _("Identité visuelle (nom affiché, logo ou couleurs)"),
            branding_ok,
            ""
            if branding_ok
            else _("Indiquez votre nom affiché et ajoutez votre logo ou vos couleurs."),
            _settings_url("branding"),
        ),
    ]


def golive_checklist_complete() -> bool:
    return all(item.done for item in golive_checklist())


def site_is_open() -> bool:
    """True once the insurer has opened its public site (after completing the checklist)."""
    site = _site()
    if site is None:
        return False
    return SiteOpening.objects.filter(site=site, opened_at__isnull=False).exists()


def site_open_message() -> str:
    return _("Votre site est ouvert : vos formules sont proposées à la souscription.")


def site_opened_at():
    site = _site()
    opening = SiteOpening.objects.filter(site=site).first() if site else None
    return opening.opened_at if opening else None


@transaction.atomic
def site_open() -> SiteOpening:
    """Open the public site: refused (nothing written) while an item of the checklist is open."""
    site = _site()
    if site is None:
        raise GoLiveError(_("Le site de l'assureur n'existe pas encore."))
    pending = [item.label for item in golive_checklist() if not item.done]
    if pending:
        raise GoLiveError(
            _("Le site ne peut pas encore ouvrir. Reste à faire : %(items)s.")
            % {"items": ", ".join(pending)}
        )
    opening = SiteOpening.for_site(site)
    if opening.opened_at is None:
        opening.opened_at = timezone.now()
        opening.save(update_fields=["opened_at"])
    return opening


# ---------------------------------------------------------------------------------------------
# Demo: the legal information and general conditions of a fictitious insurer
# ---------------------------------------------------------------------------------------------


def conditions_pdf_render(*, insurer_name: str, plan_name: str, terms: Terms) -> bytes:
    """A demonstration set of general conditions (clearly marked as such) as a PDF."""
    import weasyprint  # lazy: heavy (Pango, fonts), only where a PDF is rendered

    html = render_to_string(
        "cover/legal_demo_conditions.html",
        {"insurer_name": insurer_name, "plan_name": plan_name, "rows": guarantee_rows(terms=terms)},
    )
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def legal_info_save(*, values: dict[str, str]) -> InsurerLegalInfo:
    """Fill the current insurer's legal information (validated like the admin form)."""
    site = _site()
    if site is None:
        raise GoLiveError(_("Le site de l'assureur n'existe pas encore."))
    legal = InsurerLegalInfo.for_site(site)
    for name, value in values.items():
        setattr(legal, name, value)
    legal.full_clean()
    legal.save()
    return legal


def demo_documents_seed(*, insurer_name: str) -> None:
    """Legal information and general conditions for a demo insurer, where missing."""
    if _site() is None:
        return
    if not legal_info_current().is_complete:
        slug = "".join(ch for ch in insurer_name.lower() if ch.isalnum())[:20] or "assureur"
        legal_info_save(
            values={
                "company_name": insurer_name,
                "legal_form": "Société d'assurance mutuelle (données de démonstration)",
                "share_capital": "10 000 000 €",
                "rcs_number": "RCS Paris 000 000 000 (démonstration)",
                "head_office_address": "1 rue de la Démonstration, 75001 Paris",
                "publication_director": "Directeur général de " + insurer_name,
                "host_details": "Hébergeur de démonstration, 2 rue des Serveurs, 59000 Lille",
                "dpo_contact": f"dpo@{slug}.exemple.fr",
                "complaint_service_contact": (
                    f"Service réclamations {insurer_name}, 1 rue de la Démonstration, "
                    f"75001 Paris — reclamations@{slug}.exemple.fr"
                ),
                "mediator_name": "La Médiation de l'Assurance",
                "mediator_url": "https://www.mediation-assurance.org",
                "mediator_address": "TSA 50110, 75441 Paris Cedex 09",
            }
        )
    document_model = get_document_model()
    for plan in Plan.objects.filter(general_conditions__isnull=True):
        pdf = conditions_pdf_render(
            insurer_name=insurer_name, plan_name=plan.name, terms=plan_terms(plan=plan)
        )
        document = document_model(title=f"Conditions générales {plan.name}")
        document.file.save(f"conditions-generales-{plan.slug}.pdf", ContentFile(pdf), save=False)
        document.save()
        plan.general_conditions = document
        plan.save(update_fields=["general_conditions"])
        if plan.live:
            plan.save_revision().publish()
