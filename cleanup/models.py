"""Monitoring (veille), removal requests and positive content of the e-reputation guarantee.

Why: the CNOM's first advice is to watch one's name every month, know what is said and react
fast (DOMAIN §5.2). A doctor's ``WatchProfile`` says what to look for; each ``Scan`` fetches the
watched pages and the search results on the doctor's name, keeps what it saw (snapshots, ranks)
so the next scan can say what changed, and turns each change into an ``Alert``. From an alert the
doctor can send a GDPR or de-referencing request (``RemovalRequest``, DOMAIN §4.3–4.4), whose
1-month (+2) deadline is tracked. Positive content stays within R4127-19-1 (DOMAIN §5.1): a
neutral ``ProfilePage`` on the insurer's site and a publication plan the doctor approves.

All of it lives in the insurer's schema: tenants never see each other's monitoring.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page

from cleanup.blocks import content_blocks, stream_texts
from cleanup.extract import text_fold
from cleanup.fetch import FetchError, url_check
from cleanup.platforms import PLATFORM_PROFILES


class WatchProfile(models.Model):
    """What to look for about one doctor: the names people type, the practice, the keywords.

    The number of keywords and watched pages is bounded by the doctor's plan (checked in
    ``cleanup.services.watch``, where the policy in force is known)."""

    doctor = models.OneToOneField(
        "cover.Doctor",
        verbose_name=_("médecin"),
        on_delete=models.CASCADE,
        related_name="watch_profile",
    )
    name_variants = models.JSONField(_("variantes du nom"), default=list, blank=True)
    practice_name = models.CharField(_("nom du cabinet"), max_length=200, blank=True)
    city = models.CharField(_("ville"), max_length=120, blank=True)
    specialty = models.CharField(_("spécialité"), max_length=120, blank=True)
    keywords = models.JSONField(_("mots-clés"), default=list, blank=True)
    last_scan_at = models.DateTimeField(_("dernière veille"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("profil de veille")
        verbose_name_plural = _("profils de veille")

    def __str__(self) -> str:
        return str(self.doctor)


def platform_choices() -> list[tuple[str, str]]:
    """One per profile file of ``cleanup/platforms/profiles``: a callable, so that a new
    platform file needs no migration."""
    return [("", str(_("Détection automatique")))] + [
        (key, profile.name) for key, profile in PLATFORM_PROFILES.items()
    ]


PLATFORM_CHOICES = platform_choices()


class WatchedPage(models.Model):
    """A page about the doctor that is fetched at each scan: a listing on a review platform, a
    directory entry, a business page. ``needs_js`` sends it straight to a browser."""

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="pages"
    )
    url = models.URLField(_("adresse de la page"), max_length=1000)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    platform = models.CharField(
        _("plateforme"), max_length=40, choices=platform_choices, blank=True
    )
    needs_js = models.BooleanField(_("nécessite JavaScript"), default=False)
    last_fetched_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("page surveillée")
        verbose_name_plural = _("pages surveillées")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "url"], name="watched_page_unique_url")
        ]

    def __str__(self) -> str:
        return self.label or self.url


class SearchQuery(models.Model):
    """One query typed on the doctor's name; its result ranks are recorded at each scan."""

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="queries"
    )
    text = models.CharField(_("requête"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("requête surveillée")
        verbose_name_plural = _("requêtes surveillées")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "text"], name="search_query_unique_text")
        ]

    def __str__(self) -> str:
        return self.text


class Scan(models.Model):
    """One monitoring run for one profile: progress for the "scan now" button, counts for the
    digest, the error when it failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminée")
        FAILED = "failed", _("Échec")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("À la demande")
        SCHEDULED = "scheduled", _("Planifiée")

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="scans"
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(
        _("déclenchement"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    pages_total = models.PositiveIntegerField(_("pages"), default=0)
    pages_failed = models.PositiveIntegerField(_("pages en erreur"), default=0)
    queries_total = models.PositiveIntegerField(_("requêtes"), default=0)
    new_reviews = models.PositiveIntegerField(_("nouveaux avis"), default=0)
    baseline_reviews = models.PositiveIntegerField(_("avis du relevé initial"), default=0)
    edited_reviews = models.PositiveIntegerField(_("avis modifiés"), default=0)
    removed_reviews = models.PositiveIntegerField(_("avis disparus"), default=0)
    new_results = models.PositiveIntegerField(_("nouveaux résultats"), default=0)
    alerts_count = models.PositiveIntegerField(_("alertes"), default=0)
    notes = models.TextField(_("remarques"), blank=True)
    error = models.TextField(_("erreur"), blank=True)
    digest_sent_at = models.DateTimeField(_("synthèse envoyée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("veille")
        verbose_name_plural = _("veilles")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.profile} — {self.created_at:%d/%m/%Y %H:%M}"


class ReviewSnapshot(models.Model):
    """What one scan read on one page, kept whole so the next scan can diff against it."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="snapshots")
    page = models.ForeignKey(WatchedPage, on_delete=models.CASCADE, related_name="snapshots")
    fetched_at = models.DateTimeField(_("lue le"))
    final_url = models.URLField(_("adresse finale"), max_length=1000)
    source = models.CharField(_("source des données"), max_length=20)
    rendered = models.BooleanField(_("rendue par navigateur"), default=False)
    extract = models.JSONField(_("extraction"))

    class Meta:
        verbose_name = _("relevé de page")
        verbose_name_plural = _("relevés de page")
        ordering = ["-fetched_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.page} — {self.fetched_at:%d/%m/%Y %H:%M}"


class Review(models.Model):
    """A review as tracked across scans: when it was first and last seen, when it disappeared,
    and each edit (an edit may be a republication, DOMAIN §3)."""

    page = models.ForeignKey(
        WatchedPage, verbose_name=_("page"), on_delete=models.CASCADE, related_name="reviews"
    )
    review_id = models.CharField(_("identifiant stable"), max_length=500)
    author = models.CharField(_("auteur"), max_length=300, blank=True)
    published_on = models.DateField(_("publié le"), null=True, blank=True)
    experience_on = models.DateField(_("date de l'expérience"), null=True, blank=True)
    rating = models.FloatField(_("note (sur 5)"), null=True, blank=True)
    text = models.TextField(_("texte"), blank=True)
    first_seen = models.DateTimeField(_("vu pour la première fois"))
    last_seen = models.DateTimeField(_("vu pour la dernière fois"))
    removed_at = models.DateTimeField(_("disparu le"), null=True, blank=True)
    edits = models.JSONField(_("historique des modifications"), default=list, blank=True)

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        ordering = ["-first_seen", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["page", "review_id"], name="review_unique_per_page")
        ]

    def __str__(self) -> str:
        return f"{self.author or _('Anonyme')} — {self.text[:60]}"


class RatingPoint(models.Model):
    """Aggregate rating and review count of a page at one scan (the trend charts)."""

    page = models.ForeignKey(WatchedPage, on_delete=models.CASCADE, related_name="rating_points")
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="rating_points")
    at = models.DateTimeField(_("relevé le"))
    rating = models.FloatField(_("note moyenne"), null=True, blank=True)
    count = models.PositiveIntegerField(_("nombre d'avis"), null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.page} — {self.rating} ({self.count})"


class SearchResultRank(models.Model):
    """Rank of one result for one query at one scan: shows whether negative results move down
    the doctor's name results over time (the point of positive content)."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="ranks")
    query = models.ForeignKey(SearchQuery, on_delete=models.CASCADE, related_name="ranks")
    url = models.URLField(_("adresse"), max_length=2000)
    title = models.CharField(_("titre"), max_length=500, blank=True)
    snippet = models.TextField(_("extrait"), blank=True)
    rank = models.PositiveSmallIntegerField(_("rang"))

    class Meta:
        ordering = ["query", "rank"]
        indexes = [models.Index(fields=["query", "url"])]

    def __str__(self) -> str:
        return f"{self.query} — {self.rank}. {self.url}"


class Mention(models.Model):
    """A page that appears in the results on the doctor's name, tracked across scans."""

    profile = models.ForeignKey(WatchProfile, on_delete=models.CASCADE, related_name="mentions")
    url_key = models.CharField(max_length=2000)
    url = models.URLField(_("adresse"), max_length=2000)
    title = models.CharField(_("titre"), max_length=500, blank=True)
    snippet = models.TextField(_("extrait"), blank=True)
    first_seen = models.DateTimeField(_("vu pour la première fois"))
    last_seen = models.DateTimeField(_("vu pour la dernière fois"))
    best_rank = models.PositiveSmallIntegerField(_("meilleur rang"))
    last_rank = models.PositiveSmallIntegerField(_("dernier rang"), null=True, blank=True)
    flagged = models.BooleanField(_("passage signalé"), default=False)

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        ordering = ["-first_seen", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "url_key"], name="mention_unique_url")
        ]

    def __str__(self) -> str:
        return self.title or self.url


class Alert(models.Model):
    """One change a person should look at, with its score and the flagged passages.

    Flags are prompts for a human, never a verdict (``cleanup.scoring.FLAG_NOTICE``)."""

    class Kind(models.TextChoices):
        NEW_REVIEW = "new_review", _("Nouvel avis")
        EDITED_REVIEW = "edited_review", _("Avis modifié")
        REMOVED_REVIEW = "removed_review", _("Avis disparu")
        NEW_RESULT = "new_result", _("Nouveau résultat sur votre nom")
        RESULT_UP = "result_up", _("Résultat signalé en progression")
        BASELINE = "baseline", _("Relevé initial")
        PAGE_EMPTY = "page_empty", _("Plus aucun avis lu sur cette page")
        EXISTING_REVIEW = "existing_review", _("Avis existant à examiner")

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="alerts"
    )
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    mention = models.ForeignKey(
        Mention, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    url = models.URLField(_("adresse"), max_length=2000)
    title = models.CharField(_("titre"), max_length=500)
    text = models.TextField(_("texte"), blank=True)
    rating = models.FloatField(_("note"), null=True, blank=True)
    negativity = models.FloatField(_("score de négativité"), null=True, blank=True)
    band = models.CharField(_("tonalité"), max_length=20)
    negative = models.BooleanField(_("négatif"), default=False)
    flags = models.JSONField(_("passages signalés"), default=list, blank=True)
    detail = models.JSONField(_("détail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("écartée le"), null=True, blank=True)
    evidence_ref = models.CharField(_("référence de la preuve"), max_length=100, blank=True)
    claim_ref = models.CharField(_("référence du sinistre"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.title}"

    @property
    def band_label(self) -> str:
        from cleanup.scoring import RATING_BANDS, UNRATED

        labels = {band: label for _upper, band, label, _neg in RATING_BANDS}
        return labels.get(self.band, UNRATED[1] if self.band == UNRATED[0] else "")

    @property
    def priority(self) -> float:
        """Flagged first, then the most negative."""
        return (1.0 if self.flags else 0.0) + (self.negativity or 0.0)

    @property
    def severity(self) -> int:
        """Same scale as ``cleanup.selectors.ALERT_SEVERITY`` (used to order the dashboard):
        illicit-looking flags 4, negative 3, removed / edited / page gone silent 2, else 1."""
        if self.flags or (self.kind == self.Kind.BASELINE and self.detail.get("flagged")):
            return 4
        if self.negative:
            return 3
        if self.kind in ALERT_CHANGE_KINDS:
            return 2
        return 1


ALERT_CHANGE_KINDS = (
    Alert.Kind.REMOVED_REVIEW,
    Alert.Kind.EDITED_REVIEW,
    Alert.Kind.PAGE_EMPTY,
)


class RemovalRequest(models.Model):
    """A GDPR objection/erasure to a listing site (DOMAIN §4.3) or a de-referencing request to
    a search engine (§4.4), with the controller's 1-month (+2) answer window (GDPR art. 12(3))
    and the CNIL complaint proposed once it has passed without a satisfying answer."""

    class Kind(models.TextChoices):
        GDPR_LISTING = "gdpr_listing", _("Opposition et effacement (RGPD) auprès du site")
        DEREFERENCING = "dereferencing", _("Déréférencement auprès du moteur de recherche")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SENT = "sent", _("Envoyée")
        EXTENDED = "extended", _("Délai prolongé par le responsable")
        GRANTED = "granted", _("Accordée")
        REFUSED = "refused", _("Refusée")
        OVERDUE = "overdue", _("Sans réponse dans le délai")
        CANCELLED = "cancelled", _("Annulée")

    profile = models.ForeignKey(
        WatchProfile, verbose_name=_("profil"), on_delete=models.CASCADE, related_name="requests"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    recipient_name = models.CharField(_("destinataire"), max_length=300)
    recipient_address = models.TextField(_("adresse du destinataire ou de son DPO"))
    urls = models.JSONField(_("adresses concernées"), default=list)
    data_concerned = models.TextField(_("données concernées"), blank=True)
    grounds = models.JSONField(_("motifs"), default=list)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    sent_on = models.DateField(_("envoyée le"), null=True, blank=True)
    received_on = models.DateField(_("reçue par le destinataire le"), null=True, blank=True)
    extension_notified_on = models.DateField(_("prolongation notifiée le"), null=True, blank=True)
    due_on = models.DateField(_("réponse attendue au plus tard le"), null=True, blank=True)
    answered_on = models.DateField(_("réponse reçue le"), null=True, blank=True)
    cnil_proposed_on = models.DateField(_("plainte CNIL proposée le"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("demande de suppression")
        verbose_name_plural = _("demandes de suppression")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.recipient_name}"


class ComplianceCheck(models.Model):
    """Flags F1–F12 of DOMAIN §6.2 computed for a watched review platform at one date, with the
    SignalConso draft (§6.3) listing the failures. Each flag is a finding for a person to
    confirm on screen before anything is filed."""

    page = models.ForeignKey(
        WatchedPage, verbose_name=_("page"), on_delete=models.CASCADE, related_name="checks"
    )
    checked_at = models.DateTimeField(_("vérifiée le"))
    section_url = models.URLField(_("rubrique sur les avis"), max_length=1000, blank=True)
    legal_url = models.URLField(_("mentions légales"), max_length=1000, blank=True)
    results = models.JSONField(_("résultats"), default=list)
    company = models.JSONField(_("entreprise"), default=dict, blank=True)
    signalconso = models.JSONField(_("signalement SignalConso pré-rempli"), default=dict)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("contrôle de conformité")
        verbose_name_plural = _("contrôles de conformité")
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.page} — {self.checked_at:%d/%m/%Y}"

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] == "fail"]


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

    def get_context(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
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


def search_api_url_validate(url: str) -> None:
    """A search API address the key may be sent to: public addresses only, after DNS (plus the
    networks of EGIDE_FETCH_ALLOWED_NETWORKS, empty in production); a French error otherwise."""
    allowed = tuple(ipaddress.ip_network(n) for n in settings.EGIDE_FETCH_ALLOWED_NETWORKS)
    try:
        url_check(url=url, allowed_networks=allowed)
    except FetchError as exc:
        raise ValidationError(
            {"base_url": _("Adresse de l'API refusée : %(reason)s") % {"reason": exc}}
        ) from exc


# Google's Custom Search JSON API: closed to new customers, it stops on 1 January 2027
# (developers.google.com/custom-search/v1/overview). Kept for keys configured before.
GOOGLE_CSE_END = datetime.date(2027, 1, 1)


def google_cse_closed(*, today: datetime.date | None = None) -> bool:
    return (today or timezone.localdate()) >= GOOGLE_CSE_END


@register_setting(icon="search")
class SearchSettings(BaseSiteSetting):
    """The insurer's own search API (its key, its quota) used for the results on doctors'
    names. ``base_url`` overrides the provider's address (tests use a local fake)."""

    class Provider(models.TextChoices):
        NONE = "", _("Aucun (recherche désactivée)")
        BRAVE = "brave", _("Brave Search API")
        GOOGLE_CSE = (
            "google-cse",
            _(
                "Google Programmable Search (JSON API) — clés existantes seulement, arrêt le 1er "
                "janvier 2027"
            ),
        )

    provider = models.CharField(
        _("fournisseur"),
        max_length=20,
        choices=Provider.choices,
        blank=True,
        default=Provider.BRAVE,
        help_text=_(
            "Brave Search API par défaut. L'API JSON de Google Programmable Search est fermée aux "
            "nouveaux clients et s'arrête le 1er janvier 2027 : elle reste utilisable jusque-là "
            "avec une clé déjà configurée ici ; passez à Brave avant cette date."
        ),
    )
    api_key = models.CharField(_("clé d'API"), max_length=200, blank=True)
    cx = models.CharField(
        _("identifiant du moteur (cx)"),
        max_length=200,
        blank=True,
        help_text=_("Google Programmable Search uniquement."),
    )
    base_url = models.URLField(_("adresse de l'API (remplacement)"), blank=True)
    results_per_query = models.PositiveSmallIntegerField(_("résultats par requête"), default=20)

    panels = [
        FieldPanel("provider"),
        FieldPanel("api_key"),
        FieldPanel("cx"),
        FieldPanel("base_url"),
        FieldPanel("results_per_query"),
    ]

    class Meta:
        verbose_name = _("moteur de recherche (veille)")

    def clean(self) -> None:
        super().clean()
        if self.provider and not self.api_key:
            raise ValidationError({"api_key": _("La clé d'API est obligatoire.")})
        if self.provider == self.Provider.GOOGLE_CSE:
            saved = (
                SearchSettings.objects.filter(pk=self.pk).values_list("provider", flat=True).first()
                if self.pk
                else None
            )
            if google_cse_closed():
                raise ValidationError(
                    {"provider": _("L'API de Google Programmable Search s'est arrêtée le 1er "
                                   "janvier 2027 : choisissez Brave Search API.")}
                )  # fmt: skip
            if saved != self.Provider.GOOGLE_CSE:
                raise ValidationError(
                    {"provider": _("Google Programmable Search n'accepte plus de nouveaux clients "
                                   "(arrêt le 1er janvier 2027) : choisissez Brave Search API.")}
                )  # fmt: skip
        if self.provider == self.Provider.GOOGLE_CSE and not self.cx:
            raise ValidationError({"cx": _("L'identifiant cx est obligatoire pour Google.")})
        if self.base_url:
            search_api_url_validate(self.base_url)
