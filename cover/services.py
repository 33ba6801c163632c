"""Writes for the insurer's site and offer."""

from __future__ import annotations

import io

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from cover.models import Branding, HomePage, Plan, PlanVersion
from cover.terms import TERM_FIELDS, Terms


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
    return site


def plan_terms_snapshot(*, plan: Plan) -> Terms:
    return Terms(plan_name=plan.name, **{name: getattr(plan, name) for name in TERM_FIELDS})


@transaction.atomic
def plan_version_current(*, plan: Plan) -> PlanVersion:
    """The version matching the plan's terms now; a new one when the terms changed.

    Sales always go through here, so a policy keeps the terms it was sold with.
    """
    terms = plan_terms_snapshot(plan=plan).as_json()
    latest = PlanVersion.objects.select_for_update().filter(plan=plan).order_by("-number").first()
    if latest is not None and latest.terms == terms:
        return latest
    return PlanVersion.objects.create(
        plan=plan, number=(latest.number + 1) if latest else 1, terms=terms
    )
