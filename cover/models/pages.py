"""The insurer's public site as Wagtail pages: home, offer, prevention guides, FAQ, legal pages.

Each insurer schema has exactly one Wagtail site whose root is a ``HomePage``; onboarding
replaces Wagtail's "Welcome" page with it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page


def _coming_soon_template(request) -> str | None:
    """« Bientôt disponible » instead of the home and offer pages until the insurer has
    completed its go-live checklist and opened its site (previews in the admin excepted)."""
    from cover.documents import site_is_open  # lazy: models ↔ documents

    if getattr(request, "is_preview", False) or site_is_open():
        return None
    return "cover/coming_soon.html"


class HomePage(Page):
    """Landing page of an insurer's site: what the e-reputation guarantee is and who it is for."""

    headline = models.CharField(_("accroche"), max_length=200, blank=True)
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("headline"), FieldPanel("intro")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("page d'accueil")

    def get_template(self, request, *args, **kwargs):
        return _coming_soon_template(request) or super().get_template(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import plans_published, price_label  # lazy: models ↔ selectors

        context = super().get_context(request, *args, **kwargs)
        context["sections"] = self.get_children().live().in_menu()
        context["offer_page"] = self.get_children().live().type(OfferPage).first()
        # The plans on sale with their price, so the home page sells: « 9,90 € par mois ».
        context["plan_cards"] = [
            (plan, price_label(price_cents=plan.price_cents, period=plan.billing_period))
            for plan in plans_published()
        ]
        return context


class OfferPage(Page):
    """Compares the published plans side by side; each plan links to the online sign-up."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    max_count = 1
    template = "cover/offer_page.html"

    class Meta:
        verbose_name = _("page des formules")

    def get_template(self, request, *args, **kwargs):
        return _coming_soon_template(request) or super().get_template(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import plans_comparison, plans_published  # lazy: models ↔ selectors

        context = super().get_context(request, *args, **kwargs)
        plans = list(plans_published().select_related("general_conditions"))
        context["plans"] = plans
        context["comparison"] = plans_comparison(plans=plans)
        return context


class GuideIndexPage(Page):
    """The list of prevention guides (advice from the Ordre's talk and guide, in French)."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cover.HomePage"]
    subpage_types = ["cover.GuidePage"]
    max_count = 1
    template = "cover/guide_index_page.html"

    class Meta:
        verbose_name = _("index des guides")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["guides"] = self.get_children().live().specific()
        return context


class GuidePage(Page):
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    body = RichTextField(_("contenu"))

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
    parent_page_types = ["cover.GuideIndexPage"]
    subpage_types: list[str] = []
    template = "cover/guide_page.html"

    class Meta:
        verbose_name = _("guide de prévention")


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"))
    answer = blocks.RichTextBlock(label=_("réponse"))

    class Meta:
        icon = "help"
        label = _("question")


class FAQPage(Page):
    intro = RichTextField(_("introduction"), blank=True)
    items = StreamField([("item", FaqItemBlock())], verbose_name=_("questions"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("items")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    max_count = 1
    template = "cover/faq_page.html"

    class Meta:
        verbose_name = _("foire aux questions")


class LegalContent(models.TextChoices):
    LEGAL_NOTICE = "legal_notice", _("Mentions légales")
    PRIVACY = "privacy", _("Politique de confidentialité")


class LegalPage(Page):
    """Mentions légales and similar notices; the insurer's legal team owns the text.

    A page may show text generated from the insurer's legal information (« Informations
    légales » settings) above its own body, so no placeholder is left once those are filled.
    """

    generated_content = models.CharField(
        _("contenu généré"),
        max_length=20,
        blank=True,
        choices=LegalContent.choices,
        help_text=_("Affiché avant le contenu, à partir des informations légales."),
    )
    body = RichTextField(_("contenu"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("generated_content"), FieldPanel("body")]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    template = "cover/legal_page.html"

    def get_context(self, request, *args, **kwargs):
        from cover.selectors import legal_info_current  # lazy: models ↔ selectors

        context = super().get_context(request, *args, **kwargs)
        context["legal"] = legal_info_current()
        return context

    class Meta:
        verbose_name = _("page juridique")
