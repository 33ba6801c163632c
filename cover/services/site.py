"""The insurer's site and offer: provisioning at onboarding, seeded pages, plan versions.

Onboarding calls ``site_provision``; a sale calls ``plan_version_current`` so that a policy
keeps the terms it was sold with.
"""

from __future__ import annotations

import io

from django.contrib.contenttypes.models import ContentType
from django.core.files.images import ImageFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from wagtail.images import get_image_model
from wagtail.models import Page, Site, Workflow, WorkflowContentType

from cover.documents import general_conditions_freeze
from cover.models import (
    Branding,
    FAQPage,
    GuideIndexPage,
    GuidePage,
    HomePage,
    LegalContent,
    LegalPage,
    OfferPage,
    Plan,
    PlanVersion,
)
from cover.terms import TERM_FIELDS, Terms
from tenants.db import connection


@transaction.atomic
def site_provision(
    *,
    site_name: str,
    hostname: str,
    port: int,
    display_name: str,
    primary_colour: str,
    accent_colour: str,
    logo_png: bytes | None = None,
) -> Site:
    """Turn Wagtail's per-schema defaults into the insurer's own site.

    Wagtail's first migration leaves a ``localhost`` site whose root is a "Welcome" page; the
    cloned schema inherits both. We give the site the insurer's domain and a real home page.
    """
    root = Page.get_first_root_node()
    home = HomePage(
        title=site_name,
        slug="accueil",
        headline=_("Votre e-réputation, protégée par %(name)s") % {"name": display_name},
        intro=_(
            "<p>Avis injurieux, propos diffamatoires, atteinte à la vie privée : "
            "%(name)s surveille ce qui se dit de vous en ligne, fixe les preuves et "
            "vous accompagne jusqu'au retrait des contenus illicites.</p>"
        )
        % {"name": display_name},
    )
    root.add_child(instance=home)
    home.save_revision().publish()

    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    stock_root = site.root_page if site.pk else None
    site.hostname = hostname
    site.port = port
    site.site_name = site_name
    site.root_page = home
    site.save()
    if stock_root is not None and stock_root.pk != home.pk:
        stock_root.specific.delete()

    branding = Branding.for_site(site)
    branding.display_name = display_name
    branding.primary_colour = primary_colour
    branding.accent_colour = accent_colour
    if logo_png:
        image = get_image_model()(
            title=_("Logo %(name)s") % {"name": display_name},
            file=ImageFile(io.BytesIO(logo_png), name="logo.png"),
        )
        image.save()
        branding.logo = image
    branding.full_clean()
    branding.save()
    Site.clear_site_root_paths_cache()
    site_pages_ensure(home=home, display_name=display_name)
    plan_workflow_ensure()
    return site


# Prevention guides seeded at onboarding, from the 2019 talk's advice as corrected by
# DOMAIN.md §1 and §5 (commissaire de justice, GDPR articles, no solicited reviews).
SEED_GUIDES: tuple[tuple[str, str, str, str], ...] = (
    (
        "veille",
        "Surveiller sa réputation numérique",
        "Une veille mensuelle par mots-clés et des comptes sur les sites d'avis.",
        "cover/seed_guide_veille.html",
    ),
    (
        "repondre-aux-avis",
        "Répondre à un avis sans rompre le secret médical",
        "Répondre ou non, et comment le faire sans rien révéler.",
        "cover/seed_guide_avis.html",
    ),
    (
        "avis-illicites-et-fiches",
        "Avis illicites et fiches professionnelles : les recours",
        "Injure, diffamation, dénigrement, fiche non désirée : de l'amiable au judiciaire.",
        "cover/seed_guide_recours.html",
    ),
)

SEED_FAQ: tuple[tuple[str, str], ...] = (
    (
        "Qu'est-ce que la garantie e-réputation ?",
        "<p>Elle surveille ce qui est publié sur vous en ligne, fixe les preuves des contenus "
        "litigieux et prend en charge les démarches (signalements, mises en demeure, "
        "déréférencement) et, selon votre formule, les frais d'avocat et de commissaire de "
        "justice, dans la limite des plafonds de votre contrat.</p>",
    ),
    (
        "Un avis publié avant ma souscription est-il couvert ?",
        "<p>En général non : la plupart des garanties ne couvrent que les publications "
        "postérieures à la souscription. Les conditions de votre formule (antériorité, délai "
        "de carence) figurent sur la page des formules et sur votre attestation.</p>",
    ),
    (
        "Puis-je choisir mon avocat ?",
        "<p>Oui : le libre choix de l'avocat est prévu par le Code des assurances "
        "(article L127-2-3).</p>",
    ),
    (
        "Le retrait d'un contenu est-il garanti ?",
        "<p>Non. Le prestataire est tenu à une obligation de moyens : il met tout en œuvre "
        "pour obtenir la suppression ou le déréférencement, sans pouvoir le garantir.</p>",
    ),
    (
        "Comment déclarer un sinistre ?",
        "<p>Depuis votre espace, dans le délai de déclaration indiqué par votre formule. "
        "Conservez le lien de la publication : nous en fixons la preuve.</p>",
    ),
)


def site_pages_ensure(*, home: HomePage, display_name: str) -> None:
    """Give the insurer's site its offer, guides, FAQ and legal notices, where missing.

    Idempotent (by slug under the home page) so the demo seed can run it on older sites; the
    insurer edits and republishes these pages through the usual moderation afterwards.
    """
    existing = set(home.get_children().values_list("slug", flat=True))
    context = {"name": display_name}

    def add(page: Page) -> Page:
        page.show_in_menus = True
        home.add_child(instance=page)
        page.save_revision().publish()
        return page

    if "formules" not in existing:
        add(
            OfferPage(
                title=_("Nos formules"),
                slug="formules",
                intro=_(
                    "<p>Comparez les garanties e-réputation de %(name)s et souscrivez en "
                    "ligne en quelques minutes.</p>"
                )
                % context,
            )
        )
    if "guides" not in existing:
        index = add(
            GuideIndexPage(
                title=_("Guides de prévention"),
                slug="guides",
                intro=_(
                    "<p>Les bons réflexes pour préserver votre réputation numérique, "
                    "d'après les recommandations de l'Ordre des médecins.</p>"
                ),
            )
        )
        for slug, title, summary, template in SEED_GUIDES:
            guide = GuidePage(
                title=title, slug=slug, summary=summary, body=render_to_string(template, context)
            )
            index.add_child(instance=guide)
            guide.save_revision().publish()
    if "faq" not in existing:
        add(
            FAQPage(
                title=_("Questions fréquentes"),
                slug="faq",
                items=[
                    ("item", {"question": question, "answer": answer})
                    for question, answer in SEED_FAQ
                ],
            )
        )
    # Legal notices and privacy policy are generated from the « Informations légales »
    # settings (cover.documents); pages seeded before that with « à compléter » are upgraded.
    for slug, title, kind in (
        ("mentions-legales", _("Mentions légales"), LegalContent.LEGAL_NOTICE),
        ("confidentialite", _("Politique de confidentialité"), LegalContent.PRIVACY),
    ):
        if slug not in existing:
            legal = LegalPage(title=title, slug=slug, generated_content=kind, body="")
            home.add_child(instance=legal)
            legal.save_revision().publish()
            continue
        page = LegalPage.objects.child_of(home).filter(slug=slug).first()
        if page is not None and not page.generated_content and "à compléter" in page.body:
            page.generated_content, page.body = kind, ""
            page.save_revision().publish()


def plan_workflow_ensure() -> None:
    """Send plan changes through the same moderation workflow as the site's pages."""
    content_type = ContentType.objects.get_for_model(Plan)
    if WorkflowContentType.objects.filter(content_type=content_type).exists():
        return
    workflow = Workflow.objects.filter(active=True).order_by("pk").first()
    if workflow is not None:
        WorkflowContentType.objects.create(content_type=content_type, workflow=workflow)


def plan_terms_snapshot(*, plan: Plan) -> Terms:
    return Terms(plan_name=plan.name, **{name: getattr(plan, name) for name in TERM_FIELDS})


@transaction.atomic
def plan_version_current(*, plan: Plan) -> PlanVersion:
    """The version matching the plan's terms now; a new one when the terms changed.

    Sales always go through here, so a policy keeps the terms it was sold with.
    """
    terms = plan_terms_snapshot(plan=plan).as_json()
    # The general conditions' id and SHA-256 (and a write-once copy): part of the version.
    terms.update(general_conditions_freeze(plan=plan))
    latest = PlanVersion.objects.select_for_update().filter(plan=plan).order_by("-number").first()
    if latest is not None and latest.terms == terms:
        return latest
    return PlanVersion.objects.create(
        plan=plan, number=(latest.number + 1) if latest else 1, terms=terms
    )


def insurer_display_name() -> str:
    """The name the insurer shows on its site (its branding), else its tenant name."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        branding = Branding.for_site(site)
        if branding.display_name:
            return branding.display_name
    tenant = getattr(connection, "tenant", None)
    return str(getattr(tenant, "name", "")) or "Égide"
