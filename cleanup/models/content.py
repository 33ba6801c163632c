"""Positive content within R4127-19-1 (DOMAIN §5.1): the doctor's neutral ``ProfilePage``, the
``ArticlePage`` he approved, the publication plan (``ContentPlanItem`` and its events), and the
wording checks every one of them passes at save and at approval."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from cleanup.blocks import content_blocks, stream_texts
from cleanup.extract import text_fold
from cleanup.models.watch import WatchProfile

# Wording the deontology code forbids on a doctor's public page (R4127-19, R4127-19-1; CNOM 2016
# and 2021 advice, DOMAIN §5.1): patient testimonials, soliciting reviews, comparisons and
# promotional claims. Patterns match folded text (lower case, no accents, straight apostrophes).
PROFILE_FORBIDDEN_PATTERNS: tuple[tuple[str, Any], ...] = (
    (r"\btemoignages?\b", _("témoignages de patients")),
    (r"\bpatients? (?:satisfaits?|ravis?|temoignent|recommandent)\b", _("témoignages de patients")),
    (r"\b(?:avis|commentaires?) (?:de|des|d'un|d'une) (?:nos |mes )?patients?\b",
     _("avis de patients")),
    (r"\b(?:laissez|deposez|donnez|publiez|partagez)[- ](?:nous |moi )?(?:un |votre |vos )?"
     r"(?:avis|note|commentaire|etoiles?)\b", _("sollicitation d'avis")),
    (r"\b(?:notez|evaluez|recommandez)[- ](?:nous|moi|le cabinet)\b", _("sollicitation d'avis")),
    (r"\b(?:le|la|les) meilleure?s?\b", _("allégation comparative")),
    (r"\b(?:numero|n°) ?1\b", _("allégation comparative")),
    (r"\baucune plainte\b", _("allégation promotionnelle")),
    (r"\btaux de (?:reussite|satisfaction|guerison)\b", _("allégation promotionnelle")),
    (r"\b\d+ ?% (?:de )?(?:reussite|satisfaction|patients)\b", _("allégation promotionnelle")),
    (r"\b(?:avant|apres)[ /-](?:apres|avant)\b", _("allégation promotionnelle")),
    (r"[\u2605\u2606\u2b50]", _("notation par étoiles")),
    # CNOM (DOMAIN §5.1): no "commentaires, remerciements ou témoignages élogieux de patients".
    (r"\b(?:remerciements?|commentaires? elogieux|mots?) (?:de|des|d'un|d'une) (?:nos |mes )?"
     r"patients?\b", _("témoignages de patients")),
    (r"\b(?:un|une|nos|mes) patiente?s? (?:nous |m')?(?:a|ont) (?:dit|ecrit)\b",
     _("témoignages de patients")),
    # R4127-19-1 (DOMAIN §5.1): no comparison with other doctors.
    (r"\b(?:plus|mieux) (?:\w+ )?que (?:les |d'autres |ses |nos |tout autre )?(?:confreres|"
     r"medecins|praticiens|cabinets|autres)\b", _("allégation comparative")),
    (r"\b(?:contrairement|par rapport) (?:aux|a d'autres|a nos) (?:confreres|medecins|"
     r"praticiens|cabinets)\b", _("allégation comparative")),
)  # fmt: skip

_PROFILE_FORBIDDEN = tuple((re.compile(p), label) for p, label in PROFILE_FORBIDDEN_PATTERNS)


def profile_text_issues(*, text: str) -> list[tuple[str, str]]:
    """(label, matched words) for each forbidden wording found in ``text``."""
    folded, index = text_fold(text=text)
    issues: list[tuple[str, str]] = []
    for regex, label in _PROFILE_FORBIDDEN:
        for m in regex.finditer(folded):
            start, end = index[m.start()], index[m.end() - 1] + 1
            issues.append((str(label), text[start:end]))
    return issues


BLOCK_LABELS = {
    "heading": _("intertitre"),
    "paragraph": _("paragraphe"),
    "practice_info": _("information pratique"),
    "hours_contact": _("horaires et contact"),
}


def stream_text_issues(*, body: Any) -> list[str]:
    """French reasons, one per forbidden wording, found in any text of a StreamField value
    (or its raw list); an empty list when the body is allowed."""
    raw = body.get_prep_value() if hasattr(body, "get_prep_value") else (body or [])
    messages: list[str] = []
    for n, kind, text in stream_texts(raw):
        for label, words in profile_text_issues(text=text):
            messages.append(
                str(
                    _(
                        "Contenu interdit par le code de déontologie (R4127-19-1), bloc "
                        "%(n)d (%(block)s) : %(label)s (« %(words)s »)."
                    )
                )
                % {"n": n, "block": BLOCK_LABELS.get(kind, kind), "label": label, "words": words}
            )
    return messages


class ProfilePage(Page):
    """The doctor's public professional profile on the insurer's site.

    Positive content ("noyage") may only be neutral information the deontology code allows
    (R4127-19-1: "loyale et honnête", no comparison): identity, specialty, practice details and
    professional background. No patient testimonials, no solicited reviews, no ratings, which
    ``clean`` refuses. schema.org ``Physician`` markup lets search engines show it for the
    doctor's name."""

    doctor = models.ForeignKey(
        "cover.Doctor",
        verbose_name=_("médecin"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    display_name = models.CharField(_("nom affiché"), max_length=200)
    specialty = models.CharField(_("spécialité"), max_length=120)
    practice_name = models.CharField(_("cabinet"), max_length=200, blank=True)
    street_address = models.CharField(_("adresse"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    rpps = models.CharField(_("numéro RPPS"), max_length=11, blank=True)
    languages = models.CharField(_("langues parlées"), max_length=200, blank=True)
    background = models.TextField(_("parcours professionnel"), blank=True)
    practice_info = models.TextField(_("informations pratiques"), blank=True)
    body = StreamField(
        content_blocks(),
        verbose_name=_("contenu approuvé par le médecin"),
        blank=True,
        help_text=_("Rempli par les contenus du plan de publication que le médecin approuve."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("doctor"),
        MultiFieldPanel(
            [FieldPanel("display_name"), FieldPanel("specialty"), FieldPanel("rpps")],
            heading=_("Identité"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("practice_name"),
                FieldPanel("street_address"),
                FieldPanel("postal_code"),
                FieldPanel("city"),
                FieldPanel("phone"),
                FieldPanel("languages"),
            ],
            heading=_("Cabinet"),
        ),
        FieldPanel("background"),
        FieldPanel("practice_info"),
        FieldPanel("body", read_only=True),
    ]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    template = "cleanup/profile_page.html"

    TEXT_FIELDS = ("title", "display_name", "practice_name", "languages", "background",
                   "practice_info")  # fmt: skip

    class Meta:
        verbose_name = _("fiche professionnelle")
        verbose_name_plural = _("fiches professionnelles")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        for name in self.TEXT_FIELDS:
            for label, words in profile_text_issues(text=getattr(self, name) or ""):
                errors.setdefault(name, []).append(
                    str(
                        _(
                            "Contenu interdit par le code de déontologie (R4127-19-1) : "
                            "%(label)s (« %(words)s »)."
                        )
                    )
                    % {"label": label, "words": words}
                )
        body_issues = stream_text_issues(body=self.body)
        if body_issues:
            errors["body"] = body_issues
        if errors:
            raise ValidationError(errors)

    def physician_jsonld(self, *, page_url: str | None = None) -> dict[str, Any]:
        """schema.org Physician: identity and practice only; never aggregateRating or review."""
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "Physician",
            "name": self.display_name,
            "medicalSpecialty": self.specialty,
        }
        if page_url:
            data["url"] = page_url
        if self.practice_name:
            data["alternateName"] = self.practice_name
        if self.street_address or self.city:
            address = {"@type": "PostalAddress", "addressCountry": "FR"}
            if self.street_address:
                address["streetAddress"] = self.street_address
            if self.postal_code:
                address["postalCode"] = self.postal_code
            if self.city:
                address["addressLocality"] = self.city
            data["address"] = address
        if self.phone:
            data["telephone"] = self.phone
        if self.rpps:
            data["identifier"] = {"@type": "PropertyValue", "propertyID": "RPPS",
                                  "value": self.rpps}  # fmt: skip
        if self.languages:
            data["knowsLanguage"] = [s.strip() for s in self.languages.split(",") if s.strip()]
        if self.background:
            data["description"] = self.background
        return data

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        url = self.get_full_url(request)
        context["physician_jsonld"] = json.dumps(
            self.physician_jsonld(page_url=url), ensure_ascii=False
        ).replace("</", "<\\/")
        return context


def content_text_check(item: Any) -> None:
    """R4127-19-1 on a positive-content item's title, summary and body (an article page or a
    content plan item): the French reason per field, raised together."""
    errors: dict[str, list[str]] = {}
    for name in ("title", "summary"):
        for label, words in profile_text_issues(text=getattr(item, name) or ""):
            errors.setdefault(name, []).append(
                str(_("Contenu interdit (R4127-19-1) : %(label)s (« %(words)s »)."))
                % {"label": label, "words": words}
            )
    body_issues = stream_text_issues(body=item.body)
    if body_issues:
        errors["body"] = body_issues
    if errors:
        raise ValidationError(errors)


class ArticlePage(Page):
    """An information article the doctor approved (channel « article »), published on the
    insurer's site by ``cleanup.services.content.content_plan_item_decide``; staff cannot change
    its body in the page editor (it is the approved text)."""

    doctor = models.ForeignKey(
        "cover.Doctor",
        verbose_name=_("médecin"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.TextField(_("résumé"), blank=True)
    body = StreamField(content_blocks(), verbose_name=_("contenu"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("doctor", read_only=True),
        FieldPanel("summary", read_only=True),
        FieldPanel("body", read_only=True),
    ]
    parent_page_types = ["cover.HomePage"]
    subpage_types: list[str] = []
    template = "cleanup/article_page.html"

    class Meta:
        verbose_name = _("article d'information")
        verbose_name_plural = _("articles d'information")

    def clean(self) -> None:
        super().clean()
        content_text_check(self)


class ContentPlanItem(models.Model):
    """One piece of neutral, informational content in the doctor's publication plan (DOMAIN
    §5.1: practice information and professional background, never reviews).

    Staff draft it and propose it to the doctor; **only the doctor** approves or refuses it in
    the portal (``cleanup.services.content``). An approved item is published by the service (a
    page on the insurer's site, or « à publier » on a directory for staff); any edit after approval
    sends it back to the doctor. Approvals count against the plan's yearly number of
    positive-content campaigns. Each step is a ``ContentPlanEvent``."""

    class Channel(models.TextChoices):
        PROFILE_PAGE = "profile_page", _("Fiche professionnelle sur le site de l'assureur")
        ARTICLE = "article", _("Article d'information")
        DIRECTORY = "directory", _("Annuaire professionnel")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        PROPOSED = "proposed", _("Proposé au médecin")
        APPROVED = "approved", _("Approuvé")
        REJECTED = "rejected", _("Refusé")
        TO_PUBLISH = "to_publish", _("À publier")
        PUBLISHED = "published", _("Publié")

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="content"
    )
    title = models.CharField(_("titre"), max_length=200)
    summary = models.TextField(_("résumé"), blank=True)
    body = StreamField(content_blocks(), verbose_name=_("contenu"), blank=True)
    channel = models.CharField(_("support"), max_length=20, choices=Channel.choices)
    planned_for = models.DateField(_("publication prévue le"), null=True, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    proposed_at = models.DateTimeField(_("proposé le"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approuvé le"), null=True, blank=True)
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page publiée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("contenu planifié")
        verbose_name_plural = _("plan de publication")
        ordering = ["planned_for", "pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        content_text_check(self)


class ContentPlanEvent(models.Model):
    """Who did what, when, to a content plan item (drafted, proposed, approved, refused,
    published, sent back to the doctor after an edit)."""

    class Action(models.TextChoices):
        DRAFTED = "drafted", _("Brouillon enregistré")
        EDITED = "edited", _("Modifié")
        PROPOSED = "proposed", _("Proposé au médecin")
        RESUBMITTED = "resubmitted", _("Modifié après approbation : renvoyé au médecin")
        APPROVED = "approved", _("Approuvé par le médecin")
        REJECTED = "rejected", _("Refusé par le médecin")
        PUBLISHED = "published", _("Publié")
        TO_PUBLISH = "to_publish", _("À publier sur l'annuaire")

    item = models.ForeignKey(
        ContentPlanItem, verbose_name=_("contenu"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("étape"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    note = models.TextField(_("remarque"), blank=True)
    data = models.JSONField(_("données"), default=dict, blank=True)

    class Meta:
        verbose_name = _("étape du contenu")
        verbose_name_plural = _("étapes du contenu")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.item} — {self.get_action_display()}"
