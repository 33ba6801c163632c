"""Every kind of e-mail Égide sends for an insurer, as data: its French default wording, the
placeholders its template may use (with a sample value for the admin preview), and whether it
leaves at once or waits for the recipient's next digest.

Defaults live here, not in the database: an insurer that never edits a template always gets the
current wording. Placeholder names are French because the insurer's staff type them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class MailKind(StrEnum):
    ACCOUNT_VERIFICATION = "account_verification"
    ACCOUNT_EXISTS = "account_exists"
    ACCOUNT_INVITATION = "account_invitation"
    CLAIM_UPDATE = "claim_update"
    COVER_DECISION = "cover_decision"
    CLAIM_ASSIGNED = "claim_assigned"
    DEADLINE_REMINDER = "deadline_reminder"
    MONITORING_ALERTS = "monitoring_alerts"
    CAPTURE_DONE = "capture_done"
    EVIDENCE_SHARE = "evidence_share"
    REMOVAL_REQUEST_UPDATE = "removal_request_update"
    CANCELLATION_CONFIRMATION = "cancellation_confirmation"
    DIGEST = "digest"


@dataclass(frozen=True)
class MailKindSpec:
    label: str | Promise
    subject: str | Promise
    body: str | Promise
    # name -> (what it holds, sample value for the preview)
    placeholders: dict[str, tuple[str | Promise, str]] = field(default_factory=dict)
    # Sent at once: account e-mails, legal acknowledgements, expiring links, and notices that
    # are already a digest. Everything else waits for the recipient's next digest unless the
    # caller marks it urgent (a hard deadline close at hand).
    immediate: bool = False


_INSURER = {"nom_assureur": (_("nom de l'assureur"), "Mutuelle exemple")}
_LINK = {"lien": (_("lien vers la page concernée"), "https://assureur.exemple/portail/")}
_CLAIM = {
    "reference": (_("référence du dossier"), "SIN-2026-0042"),
    "etape": (_("étape du dossier"), "Nouvelle étape"),
    "note": (_("précision du gestionnaire"), "Courrier envoyé à l'hébergeur."),
}

MAIL_KINDS: dict[MailKind, MailKindSpec] = {
    MailKind.ACCOUNT_VERIFICATION: MailKindSpec(
        label=_("Vérification de l'adresse e-mail"),
        subject=_("Confirmez votre adresse e-mail – {{ nom_assureur }}"),
        body=_(
            "Bonjour,\n\nPour activer votre espace {{ nom_assureur }} et poursuivre votre "
            "souscription, confirmez votre adresse en suivant ce lien :\n{{ lien }}\n\n"
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n"
        ),
        placeholders={**_INSURER, **_LINK},
        immediate=True,
    ),
    MailKind.ACCOUNT_EXISTS: MailKindSpec(
        label=_("Inscription avec une adresse déjà inscrite"),
        subject=_("Votre compte {{ nom_assureur }} existe déjà"),
        body=_(
            "Bonjour,\n\nUne inscription à {{ nom_assureur }} vient d'être demandée avec votre "
            "adresse, qui a déjà un compte. Rien n'a été modifié. Pour vous connecter :\n"
            "{{ lien }}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n"
        ),
        placeholders={**_INSURER, **_LINK},
        immediate=True,
    ),
    MailKind.ACCOUNT_INVITATION: MailKindSpec(
        label=_("Invitation d'un assuré (choix du mot de passe)"),
        subject=_("Votre espace e-réputation {{ nom_assureur }}"),
        body=_(
            "Bonjour,\n\nVotre contrat {{ numero_contrat }} comprend la garantie e-réputation "
            "de {{ nom_assureur }}. Activez votre espace (veille, déclaration de sinistre, "
            "attestation) en choisissant votre mot de passe :\n{{ lien }}\n"
        ),
        placeholders={
            **_INSURER,
            "numero_contrat": (_("numéro du contrat"), "RCP-2026-0001"),
            **_LINK,
        },
        immediate=True,
    ),
    MailKind.CLAIM_UPDATE: MailKindSpec(
        label=_("Avancement d'un dossier"),
        subject=_("Dossier {{ reference }} : {{ etape }}"),
        body=_(
            "Bonjour,\n\nVotre dossier {{ reference }} avance : {{ etape }}.\n{{ note }}\n"
            "Suivez votre dossier : {{ lien }}\n"
        ),
        placeholders={**_INSURER, **_CLAIM, **_LINK},
    ),
    MailKind.COVER_DECISION: MailKindSpec(
        label=_("Décision sur la garantie"),
        subject="{{ sujet }}",
        body="{{ detail }}",
        placeholders={
            **_INSURER,
            "reference": (_("référence du dossier"), "SIN-2026-0042"),
            "sujet": (
                _("objet rédigé automatiquement"),
                "Dossier SIN-2026-0042 : refus de garantie",
            ),
            "detail": (
                _("la décision, son motif, la clause, les voies de recours et le lien"),
                "…",
            ),
            **_LINK,
        },
        # A refusal leaves the doctor alone before running legal deadlines: at once.
        immediate=True,
    ),
    MailKind.CLAIM_ASSIGNED: MailKindSpec(
        label=_("Dossier attribué (gestionnaire)"),
        subject=_("Dossier {{ reference }} attribué"),
        body=_(
            "Bonjour,\n\nLe dossier {{ reference }} vous a été attribué.\n{{ note }}\n"
            "Prochaine échéance : {{ prochaine_echeance }}\nOuvrir le dossier : {{ lien }}\n"
        ),
        placeholders={
            **_INSURER,
            "reference": (_("référence du dossier"), "SIN-2026-0042"),
            "note": (_("précision"), "Dossier urgent."),
            "prochaine_echeance": (_("prochaine échéance"), "Prescription — 14/04/2026"),
            **_LINK,
        },
        immediate=True,
    ),
    MailKind.DEADLINE_REMINDER: MailKindSpec(
        label=_("Rappel d'échéance (gestionnaire)"),
        subject=_("Échéance {{ echeance }} — dossier {{ reference }}"),
        body=_(
            "Dossier {{ reference }} : {{ echeance }}, échéance le {{ date_echeance }} "
            "({{ jours_restants }} jours restants).\n{{ jour_ouvre }}{{ fondement }}\n"
        ),
        placeholders={
            **_INSURER,
            "reference": (_("référence du dossier"), "SIN-2026-0042"),
            "echeance": (_("nom du délai"), "Prescription loi de 1881 (3 mois)"),
            "date_echeance": (_("date d'échéance"), "14/04/2026"),
            "jours_restants": (_("jours restants"), "3"),
            "jour_ouvre": (_("mention du jour ouvré, s'il y a lieu"), ""),
            "fondement": (_("fondement juridique"), "Loi du 29 juillet 1881, art. 65"),
            **_LINK,
        },
        immediate=True,
    ),
    MailKind.MONITORING_ALERTS: MailKindSpec(
        label=_("Résultats de la veille"),
        subject="{{ sujet }}",
        body="{{ detail }}",
        placeholders={
            **_INSURER,
            "sujet": (_("objet rédigé automatiquement"), "Veille e-réputation : 3 changements"),
            "nombre": (_("nombre de changements"), "3"),
            "detail": (_("détail des changements, lien compris"), "…"),
            **_LINK,
        },
        # Already one e-mail per scan, at the plan's scan frequency.
        immediate=True,
    ),
    MailKind.CAPTURE_DONE: MailKindSpec(
        label=_("Capture de preuve terminée"),
        subject=_("Votre capture de preuve est prête"),
        body=_(
            "Bonjour,\n\nLa capture de {{ adresse }} est terminée et horodatée.\n"
            "Consultez-la : {{ lien }}\n"
        ),
        placeholders={
            **_INSURER,
            "adresse": (_("adresse capturée"), "https://avis.exemple/dr-martin"),
            **_LINK,
        },
    ),
    MailKind.EVIDENCE_SHARE: MailKindSpec(
        label=_("Envoi d'un lot de preuve (lien à durée limitée)"),
        subject=_("Lot de preuve n° {{ numero }} à télécharger"),
        body=_(
            "Bonjour,\n\n{{ expediteur }} vous transmet un lot de preuve (capture de "
            "{{ adresse }}, horodatée le {{ horodatage }}).\n\nTéléchargez-le avant le "
            "{{ expiration }} en suivant ce lien :\n{{ lien }}\n\nLe lot se vérifie hors ligne "
            "avec des outils standard : les instructions sont dans le fichier VERIFY.md qu'il "
            "contient.\n"
        ),
        placeholders={
            **_INSURER,
            "numero": (_("numéro de la capture"), "12"),
            "expediteur": (_("nom de l'expéditeur"), "Claire Martin"),
            "adresse": (_("adresse capturée"), "https://avis.exemple/dr-martin"),
            "horodatage": (_("date de l'horodatage"), "02/03/2026 10:15"),
            "expiration": (_("fin de validité du lien"), "09/03/2026 10:15"),
            **_LINK,
        },
        # The link expires: it cannot wait for a digest.
        immediate=True,
    ),
    MailKind.REMOVAL_REQUEST_UPDATE: MailKindSpec(
        label=_("Suivi d'une demande de retrait"),
        subject=_("Demande de retrait : {{ etat }}"),
        body=_(
            "Bonjour,\n\nVotre demande de retrait auprès de {{ destinataire }} : {{ etat }}.\n"
            "Suivez-la : {{ lien }}\n"
        ),
        placeholders={
            **_INSURER,
            "destinataire": (_("plateforme ou hébergeur"), "Avis Santé"),
            "etat": (_("état de la demande"), "réponse reçue"),
            **_LINK,
        },
    ),
    MailKind.CANCELLATION_CONFIRMATION: MailKindSpec(
        label=_("Confirmation de résiliation"),
        subject=_("Résiliation de votre contrat {{ numero_contrat }}"),
        body=_(
            "Bonjour,\n\n{{ nom_assureur }} a bien reçu la résiliation de votre contrat "
            "{{ numero_contrat }}, le {{ date_demande }}. Elle prend effet le {{ date_effet }}.\n"
            "Votre contrat : {{ lien }}\n"
        ),
        placeholders={
            **_INSURER,
            "numero_contrat": (_("numéro du contrat"), "RCP-2026-0001"),
            "date_demande": (_("date de la demande"), "02/03/2026"),
            "date_effet": (_("date d'effet"), "01/04/2026"),
            **_LINK,
        },
        # The acknowledgement of a cancellation is owed without delay.
        immediate=True,
    ),
    MailKind.DIGEST: MailKindSpec(
        label=_("Récapitulatif groupé"),
        subject=_("{{ nom_assureur }} : {{ nombre }} nouvelles de vos dossiers"),
        body=_(
            "Bonjour,\n\nVoici ce qui a changé dans votre espace {{ nom_assureur }} :\n"
            "{% for element in elements %}\n* {{ element.sujet }}\n  {{ element.lien }}\n"
            "{% endfor %}"
        ),
        placeholders={
            **_INSURER,
            "nombre": (_("nombre de nouvelles"), "2"),
            "elements": (
                _("les nouvelles, chacune avec {{ element.sujet }} et {{ element.lien }}"),
                "",
            ),
        },
    ),
}

MAIL_KIND_CHOICES = [(kind.value, spec.label) for kind, spec in MAIL_KINDS.items()]

# Sample items for the preview of the digest.
DIGEST_SAMPLE_ITEMS = [
    {"sujet": "Dossier SIN-2026-0042 : Nouvelle étape", "lien": "https://assureur.exemple/a/"},
    {"sujet": "Dossier SIN-2026-0042 : Courrier préparé", "lien": "https://assureur.exemple/b/"},
]


def mail_sample_context(kind: MailKind) -> dict[str, object]:
    """Sample values of a kind's placeholders, for the admin preview and save-time checks."""
    context: dict[str, object] = {
        name: s for name, (_d, s) in MAIL_KINDS[kind].placeholders.items()
    }
    if kind == MailKind.DIGEST:
        context["elements"] = DIGEST_SAMPLE_ITEMS
    return context


MAIL_KIND_VALUES = frozenset(kind.value for kind in MailKind)


def placeholder(name: str) -> str:
    """How a placeholder is written in a template: ``{{ name }}``."""
    return "{{ " + name + " }}"
