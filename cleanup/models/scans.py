"""What each monitoring run saw and what changed: the ``Scan`` itself, the page snapshots,
reviews tracked across scans, rating trend points, search result ranks, mentions on the
doctor's name, and the ``Alert`` raised for each change a person should look at."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cleanup.models.watch import SearchQuery, WatchedPage, WatchProfile
from cleanup.scoring import RATING_BANDS, UNRATED


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
