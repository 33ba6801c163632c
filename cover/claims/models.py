"""Claims: a doctor's report about online content, worked by the insurer's claims handlers.

The legal rules (categories, clocks, ladder, letter contents, reply checks) are pure modules in
``cover/`` (rules, deadlines, classification, ladder, reply_rules, letter_fields); these models
only store what a claim is made of so those engines can be fed: passages with their offsets and
qualification, dated events, the ladder state and its audit trail, letters and their proof of
sending, costs against the guarantee's ceilings.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from cover.claims.plan_terms import SERVICE_LABELS, SERVICE_OTHER
from cover.ladder import STATE_LABELS, LadderState
from cover.letter_fields import LETTER_SPECS, LetterKind
from cover.rules import CATEGORY_RULES, EVENT_LABELS, ClaimEventKind, ContentCategory

LADDER_STATE_CHOICES = [(state.value, STATE_LABELS[state]) for state in LadderState]
CATEGORY_CHOICES = [(c.value, CATEGORY_RULES[c].label) for c in ContentCategory]
LETTER_KIND_CHOICES = [(k.value, LETTER_SPECS[k].label) for k in LetterKind]


class TimelineKind(models.TextChoices):
    """Timeline entries that are not legal events: they never feed the deadline engine."""

    CLAIM_OPENED = "CLAIM_OPENED", _("Sinistre déclaré")
    CAPTURE_REQUESTED = "CAPTURE_REQUESTED", _("Capture demandée")
    QUESTIONNAIRE_ANSWERED = "QUESTIONNAIRE_ANSWERED", _("Questionnaire complété")
    QUALIFIED = "QUALIFIED", _("Qualification confirmée par le gestionnaire")
    COVER_CHECKED = "COVER_CHECKED", _("Vérification de la garantie")
    STEP_CHANGED = "STEP_CHANGED", _("Nouvelle étape")
    LETTER_GENERATED = "LETTER_GENERATED", _("Courrier préparé")
    REPLY_APPROVED = "REPLY_APPROVED", _("Réponse validée")
    NO_REPLY_CHOSEN = "NO_REPLY_CHOSEN", _("Choix de ne pas répondre")
    REMINDER_SENT = "REMINDER_SENT", _("Rappel d'échéance envoyé")
    EVIDENCE_SENT = "EVIDENCE_SENT", _("Preuve transmise au commissaire de justice")
    PUBLICATION_DATE_CORRECTED = (
        "PUBLICATION_DATE_CORRECTED",
        _("Date de publication corrigée par le gestionnaire"),
    )
    PUBLICATION_DATE_ESTIMATED = (
        "PUBLICATION_DATE_ESTIMATED",
        _("Date de publication estimée d'après une preuve plus ancienne"),
    )
    LETTER_RECEIVED = "LETTER_RECEIVED", _("Courrier reçu par son destinataire")
    ASSIGNED = "ASSIGNED", _("Dossier attribué à un gestionnaire")
    COVER_REFUSED = "COVER_REFUSED", _("Garantie refusée")
    COVER_REFUSAL_REVERSED = "COVER_REFUSAL_REVERSED", _("Refus de garantie levé")


EVENT_KIND_CHOICES = [(k.value, EVENT_LABELS[k]) for k in ClaimEventKind] + list(
    TimelineKind.choices
)


class PublicationDateSource(models.TextChoices):
    """Where the claim's publication date (T_pub) comes from. Only the doctor's date (the one
    shown on the page) and a handler's correction are not estimates (DOMAIN §3: when T_pub is
    uncertain, the earliest plausible date)."""

    DOCTOR = "doctor", _("date affichée, indiquée par le médecin")
    ARCHIVE = "archive", _("date d'archive ou de preuve la plus ancienne")
    CAPTURE = "capture", _("date de la capture la plus ancienne")
    DISCOVERY = "discovery", _("date de découverte, à défaut d'autre preuve")
    HANDLER = "handler", _("date corrigée par le gestionnaire")


class CoverStatus(models.TextChoices):
    PENDING = "pending", _("À vérifier")
    COVERED = "covered", _("Acquise")
    REFUSED = "refused", _("Refusée")


def _claim_file_path(prefix: str, extension: str) -> str:
    # Unguessable names: files sit in the tenant's media folder, downloads go through views
    # that check who asks.
    return f"claims/{prefix}/{uuid.uuid4().hex}{extension}"


def letter_upload_to(instance: Letter, filename: str) -> str:
    return _claim_file_path("letters", ".pdf")


def proof_upload_to(instance: Letter, filename: str) -> str:
    extension = "." + filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else ""
    return _claim_file_path("proofs", extension)


def attachment_upload_to(instance: ClaimAttachment, filename: str) -> str:
    extension = "." + filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else ""
    return _claim_file_path("attachments", extension)


class Claim(models.Model):
    """One report by an insured doctor about content published online (DOMAIN §3.2 step 0)."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    doctor = models.ForeignKey(
        "cover.Doctor", verbose_name=_("médecin"), on_delete=models.PROTECT, related_name="claims"
    )
    policy = models.ForeignKey(
        "cover.Policy",
        verbose_name=_("contrat"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déclaré par"),
        on_delete=models.PROTECT,
        related_name="claims_opened",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("gestionnaire"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims_assigned",
    )
    urls = models.JSONField(_("adresses (URL)"), default=list)
    source_text = models.TextField(_("texte du contenu"))
    publication_date = models.DateField(_("date de publication"))
    publication_date_estimated = models.BooleanField(
        _("date de publication estimée"), default=False
    )
    publication_date_source = models.CharField(
        _("origine de la date de publication"),
        max_length=12,
        choices=PublicationDateSource.choices,
        default=PublicationDateSource.DOCTOR,
    )
    seen_date = models.DateField(_("date de découverte"))
    author_name = models.CharField(_("auteur (nom ou pseudonyme)"), max_length=200, blank=True)
    description = models.TextField(_("exposé des faits"), blank=True)
    facts = models.JSONField(_("faits"), default=list)
    page_is_listing = models.BooleanField(_("la page est une fiche"), default=False)
    state = models.CharField(
        _("étape"), max_length=20, choices=LADDER_STATE_CHOICES, default=LadderState.INTAKE.value
    )
    cover_status = models.CharField(
        _("garantie"), max_length=10, choices=CoverStatus.choices, default=CoverStatus.PENDING
    )
    cover_reasons = models.JSONField(_("motifs de la décision de garantie"), default=list)
    cover_checked_at = models.DateTimeField(_("garantie vérifiée le"), null=True, blank=True)
    # A refusal names the plan term it applies (cover.claims.services.cover_check.cover_clauses): its code
    # and its wording as the doctor reads it.
    cover_clause_code = models.CharField(_("clause appliquée (code)"), max_length=30, blank=True)
    cover_clause = models.TextField(_("clause du contrat appliquée"), blank=True)
    # Denormalised from the deadline engine so the queue sorts in the database.
    next_deadline_date = models.DateField(_("prochaine échéance impérative"), null=True)
    next_deadline_label = models.CharField(_("échéance"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("déclaré le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("sinistre")
        verbose_name_plural = _("sinistres")
        ordering = ["-created_at"]
        permissions = [("handle_claim", _("Instruire les sinistres"))]
        indexes = [
            # The handlers' queue order (selectors.claims_queue), open claims only.
            models.Index(
                fields=["next_deadline_date", "created_at", "id"],
                condition=~models.Q(state="CLOSED"),
                name="claim_queue_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Passage(models.Model):
    """An exact quote of the content with its offsets in ``Claim.source_text``.

    One qualification per passage (a writ that does not choose is void, DOMAIN §2.2): the
    questionnaire proposes it, the handler confirms it, letters quote it verbatim.
    """

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    quote = models.TextField(_("passage cité"))
    start = models.PositiveIntegerField(_("début"))
    end = models.PositiveIntegerField(_("fin"))
    answers = models.JSONField(_("réponses au questionnaire"), default=dict)
    proposed_category = models.CharField(
        _("catégorie proposée"), max_length=30, choices=CATEGORY_CHOICES, blank=True
    )
    proposed_step = models.PositiveSmallIntegerField(_("étape du questionnaire"), null=True)
    confirmed_category = models.CharField(
        _("catégorie confirmée"), max_length=30, choices=CATEGORY_CHOICES, blank=True
    )
    qualification = models.CharField(_("qualification juridique"), max_length=300, blank=True)
    legal_basis = models.CharField(_("articles"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("passage")
        ordering = ["position", "start"]

    def __str__(self) -> str:
        return self.quote[:60]


class ClaimEvent(models.Model):
    """A dated fact on the claim. Kinds of ``ClaimEventKind`` feed the deadline engine; the
    other kinds only tell the story on the timeline."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("événement"), max_length=40, choices=EVENT_KIND_CHOICES)
    date = models.DateField(_("date"))
    ref = models.CharField(_("référence"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    visible_to_doctor = models.BooleanField(_("visible par le médecin"), default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("événement")
        ordering = ["date", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.date:%d/%m/%Y})"


class PublicationDateChange(models.Model):
    """Audit of a handler's correction of the publication date: who, when, old, new, why."""

    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="publication_date_changes"
    )
    old_date = models.DateField(_("ancienne date"))
    old_estimated = models.BooleanField(_("ancienne date estimée"))
    old_source = models.CharField(
        _("origine de l'ancienne date"), max_length=12, choices=PublicationDateSource.choices
    )
    new_date = models.DateField(_("nouvelle date"))
    reason = models.TextField(_("motif"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("par"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("correction de la date de publication")
        verbose_name_plural = _("corrections de la date de publication")
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.old_date:%d/%m/%Y} → {self.new_date:%d/%m/%Y}"


class Transition(models.Model):
    """Audit of a move on the escalation ladder: who, when, why, from, to."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("de"), max_length=20, choices=LADDER_STATE_CHOICES)
    to_state = models.CharField(_("vers"), max_length=20, choices=LADDER_STATE_CHOICES)
    route = models.CharField(_("démarche"), max_length=40, blank=True)
    reason = models.TextField(_("motif"))
    warnings = models.JSONField(_("avertissements acceptés"), default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("changement d'étape")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class LetterTemplate(models.Model):
    """The insurer's wording of one kind of letter (a Django template, editable in Wagtail).

    The required contents do not depend on it: the generator refuses a letter while a required
    field of ``cover.letter_fields`` is empty, whatever the template says.
    """

    kind = models.CharField(_("type de courrier"), max_length=30, choices=LETTER_KIND_CHOICES)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(
        _("modèle"),
        help_text=_(
            "Gabarit Django : les valeurs sont dans {{ v }} (par exemple {{ v.notifier.name }}), "
            "les passages dans {{ passages }}."
        ),
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    panels = [FieldPanel("kind"), FieldPanel("title"), FieldPanel("body")]

    class Meta:
        verbose_name = _("modèle de courrier")
        verbose_name_plural = _("modèles de courrier")
        constraints = [models.UniqueConstraint(fields=["kind"], name="letter_template_kind")]
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.title


class PartnerKind(models.TextChoices):
    COMMISSAIRE = "commissaire", _("Commissaire de justice")
    AVOCAT = "avocat", _("Avocat")


class Partner(models.Model):
    """The insurer's directory of commissaires de justice and avocats."""

    kind = models.CharField(_("profession"), max_length=12, choices=PartnerKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    office = models.CharField(_("étude ou cabinet"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    active = models.BooleanField(_("actif"), default=True)

    panels = [
        FieldPanel("kind"),
        FieldPanel("name"),
        FieldPanel("office"),
        FieldPanel("email"),
        FieldPanel("phone"),
        FieldPanel("address"),
        FieldPanel("active"),
    ]

    class Meta:
        verbose_name = _("partenaire")
        verbose_name_plural = _("partenaires")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Letter(models.Model):
    """A generated letter (PDF) with the values it was made from and its proof of sending."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(_("type"), max_length=30, choices=LETTER_KIND_CHOICES)
    values = models.JSONField(_("valeurs"))
    html = models.TextField(_("contenu rendu"))
    file = models.FileField(_("PDF"), upload_to=letter_upload_to)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField(_("préparé le"), auto_now_add=True)
    sent_at = models.DateField(_("envoyé le"), null=True, blank=True)
    received_on = models.DateField(_("reçu par le destinataire le"), null=True, blank=True)
    proof = models.FileField(_("preuve d'envoi"), upload_to=proof_upload_to, blank=True)
    capture_ref = models.CharField(_("référence de capture"), max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("courrier")
        ordering = ["-generated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.claim.reference}"


class CostKind(models.TextChoices):
    COMMISSAIRE = "commissaire", _("Commissaire de justice")
    AVOCAT = "avocat", _("Avocat")
    OTHER = "other", _("Autre")


class Cost(models.Model):
    """A fee charged to the claim; ``covered_cents`` is what the guarantee pays after the
    deductible and within the per-claim and annual ceilings, fixed when it is recorded."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="costs")
    kind = models.CharField(_("nature"), max_length=12, choices=CostKind.choices)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partenaire"), on_delete=models.PROTECT, null=True, blank=True
    )
    label = models.CharField(_("libellé"), max_length=200)
    # The guaranteed service the fee belongs to: its sub-ceiling applies (cover.claims.plan_terms).
    service = models.CharField(
        _("service"),
        max_length=12,
        choices=[(code, _(label)) for code, label in SERVICE_LABELS.items()],
        default=SERVICE_OTHER,
    )
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    covered_cents = models.PositiveIntegerField(_("pris en charge (centimes)"))
    deductible_cents = models.PositiveIntegerField(_("franchise imputée (centimes)"), default=0)
    cover_notes = models.JSONField(_("motifs de prise en charge partielle"), default=list)
    incurred_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("frais")
        verbose_name_plural = _("frais")
        ordering = ["incurred_on", "pk"]

    def __str__(self) -> str:
        return self.label


class ReplyDraft(models.Model):
    """A public reply (or the choice not to reply) checked against DOMAIN §5.4."""

    class Option(models.TextChoices):
        NO_REPLY = "NO_REPLY", _("Ne pas répondre")
        REPLY = "REPLY", _("Répondre")

    class Status(models.TextChoices):
        BLOCKED = "blocked", _("Bloquée")
        CHECKED = "checked", _("Vérifiée")
        APPROVED = "approved", _("Validée")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="reply_drafts")
    option = models.CharField(_("choix"), max_length=10, choices=Option.choices)
    text = models.TextField(_("texte"), blank=True)
    issues = models.JSONField(_("problèmes relevés"), default=list)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("projet de réponse")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_option_display()} ({self.get_status_display()})"


class ClaimNote(models.Model):
    """A handler's internal note on a claim. Staff only: never shown to the doctor, never on
    the claim's timeline (which the doctor reads), never e-mailed."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="internal_notes")
    text = models.TextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("écrite le"), auto_now_add=True)

    class Meta:
        verbose_name = _("note interne")
        verbose_name_plural = _("notes internes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ClaimAttachment(models.Model):
    """A file a handler adds to a claim (an exchange with a host, an expert's report…).

    Staff only: stored under an unguessable name in the tenant's private media and downloaded
    only through ``claims_admin:attachment``, which checks the handler's permission."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("fichier"), upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("taille (octets)"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ajoutée par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name


class CoverDecisionRecord(models.Model):
    """Audit of every cover decision on a claim (automatic check, handler's refusal, reversal
    of a refusal): who, when, the decision, its reasons and the clause applied."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="cover_decisions")
    status = models.CharField(_("décision"), max_length=10, choices=CoverStatus.choices)
    previous_status = models.CharField(
        _("décision précédente"), max_length=10, choices=CoverStatus.choices
    )
    reasons = models.JSONField(_("motifs"), default=list)
    clause_code = models.CharField(_("clause appliquée (code)"), max_length=30, blank=True)
    clause = models.TextField(_("clause du contrat appliquée"), blank=True)
    note = models.TextField(_("motif du réexamen"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("décision de garantie")
        verbose_name_plural = _("décisions de garantie")
        ordering = ["decided_at", "pk"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.previous_status} → {self.status}"
