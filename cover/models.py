"""The insurer's public site (Wagtail pages) and its branding.

Each insurer schema has exactly one Wagtail site whose root is a ``HomePage``; onboarding
replaces Wagtail's "Welcome" page with it. Branding is a per-site setting so templates read it
the same way whatever the tenant.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Saisissez une couleur au format #RRVVBB.")
)


class HomePage(Page):
    """Landing page of an insurer's site: what the e-reputation guarantee is and who it is for."""

    headline = models.CharField(_("accroche"), max_length=200, blank=True)
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("headline"), FieldPanel("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("page d'accueil")


@register_setting(icon="pick")
class Branding(BaseSiteSetting):
    """The insurer's name, logo and colours as shown on its site, portal and letters."""

    display_name = models.CharField(_("nom affiché"), max_length=200)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    primary_colour = models.CharField(
        _("couleur principale"), max_length=7, default="#1d3557", validators=[colour_validator]
    )
    accent_colour = models.CharField(
        _("couleur d'accent"), max_length=7, default="#e63946", validators=[colour_validator]
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)

    panels = [
        FieldPanel("display_name"),
        FieldPanel("logo"),
        MultiFieldPanel(
            [FieldPanel("primary_colour"), FieldPanel("accent_colour")], heading=_("Couleurs")
        ),
        FieldPanel("contact_email"),
    ]

    class Meta:
        verbose_name = _("identité visuelle")
