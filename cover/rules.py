"""The legal rules of DOMAIN.md as data: categories, events, routes and the clock catalogue.

Why a data module: the rules change (SREN moved LCEN articles, case law conflicts) and several
values are only [SEC], [UNVERIFIED] or [CONFLICT]. Keeping them here, each with its legal basis
and caveat, lets the engines (deadlines, ladder, letters) stay generic, lets an insurer override
an uncertain value without a code change, and lets the UI show the caveat next to the result.

Pure Python on purpose: no Django import, so the rules can be unit-tested without a database.
User-facing strings are French and marked with ``_`` (a no-op marker that ``makemessages``
extracts); the Django layer translates them at display time with ``gettext``.

Nothing here is legal advice: DOMAIN.md says every rule must be validated by an avocat.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def gettext_noop(message: str) -> str:
    """Mark a string for translation without importing Django (translated at display time)."""
    return message


_ = gettext_noop


# --------------------------------------------------------------------------------------------
# Enumerations (DOMAIN §2.1)
# --------------------------------------------------------------------------------------------


class Confidence(StrEnum):
    """Confidence tags of DOMAIN §0; carried with every rule so the UI can show them."""

    TEXT = "TEXT"
    SEC = "SEC"
    UNVERIFIED = "UNVERIFIED"
    CONFLICT = "CONFLICT"
    STALE = "STALE"


class ContentCategory(StrEnum):
    INJURE = "INJURE"
    DIFFAMATION = "DIFFAMATION"
    DISCRIMINATORY_SPEECH = "DISCRIMINATORY_SPEECH"
    DENIGREMENT = "DENIGREMENT"
    PRIVACY = "PRIVACY"
    IMAGE_RIGHTS = "IMAGE_RIGHTS"
    LAWFUL_NEGATIVE = "LAWFUL_NEGATIVE"
    PERSONAL_DATA_LISTING = "PERSONAL_DATA_LISTING"


class Addressee(StrEnum):
    AUTHOR = "AUTHOR"
    PUBLICATION_DIRECTOR = "PUBLICATION_DIRECTOR"
    HOST = "HOST"
    CONTROLLER = "CONTROLLER"
    SEARCH_ENGINE = "SEARCH_ENGINE"
    CNIL = "CNIL"
    DGCCRF = "DGCCRF"
    CDOM = "CDOM"
    COURT = "COURT"
    INSURER = "INSURER"
    COMMISSAIRE_DE_JUSTICE = "COMMISSAIRE_DE_JUSTICE"


class Route(StrEnum):
    NO_ACTION = "NO_ACTION"
    REPLY = "REPLY"
    CONTACT_AUTHOR = "CONTACT_AUTHOR"
    PLATFORM_REPORT_TOS = "PLATFORM_REPORT_TOS"
    DSA_NOTICE = "DSA_NOTICE"
    DROIT_DE_REPONSE = "DROIT_DE_REPONSE"
    GDPR_OBJECTION_ERASURE = "GDPR_OBJECTION_ERASURE"
    DEREFERENCING = "DEREFERENCING"
    CNIL_COMPLAINT = "CNIL_COMPLAINT"
    MISE_EN_DEMEURE = "MISE_EN_DEMEURE"
    CONSTAT = "CONSTAT"
    CONCILIATION_ORDINALE = "CONCILIATION_ORDINALE"
    IDENTIFICATION_REQUETE_145 = "IDENTIFICATION_REQUETE_145"
    PAF_LCEN_6_3 = "PAF_LCEN_6_3"
    REFERE_835 = "REFERE_835"
    REFERE_ART9 = "REFERE_ART9"
    CITATION_DIRECTE = "CITATION_DIRECTE"
    PLAINTE_CPC = "PLAINTE_CPC"
    ASSIGNATION_FOND = "ASSIGNATION_FOND"
    SIGNALCONSO = "SIGNALCONSO"


class ClaimEventKind(StrEnum):
    """Dated facts recorded on a claim; they start, interrupt, extend or satisfy clocks."""

    CONTENT_DISCOVERED = "CONTENT_DISCOVERED"  # T_seen: does NOT move the 1881 clock
    CAPTURE_DONE = "CAPTURE_DONE"  # software capture (§7.3)
    CONSTAT_ORDERED = "CONSTAT_ORDERED"
    CONSTAT_DONE = "CONSTAT_DONE"
    INSURER_NOTIFIED = "INSURER_NOTIFIED"
    LAWYER_ENGAGED = "LAWYER_ENGAGED"
    REPLY_PUBLISHED = "REPLY_PUBLISHED"
    AUTHOR_CONTACTED = "AUTHOR_CONTACTED"
    TOS_REPORT_SENT = "TOS_REPORT_SENT"
    DSA_NOTICE_SENT = "DSA_NOTICE_SENT"
    PLATFORM_DECISION_NOTIFIED = "PLATFORM_DECISION_NOTIFIED"
    DSA_INTERNAL_COMPLAINT_FILED = "DSA_INTERNAL_COMPLAINT_FILED"
    DROIT_DE_REPONSE_REQUEST_SENT = "DROIT_DE_REPONSE_REQUEST_SENT"
    DROIT_DE_REPONSE_HOST_RECEIVED = "DROIT_DE_REPONSE_HOST_RECEIVED"
    DROIT_DE_REPONSE_DIRECTOR_RECEIVED = "DROIT_DE_REPONSE_DIRECTOR_RECEIVED"
    DROIT_DE_REPONSE_PUBLISHED = "DROIT_DE_REPONSE_PUBLISHED"
    GDPR_REQUEST_SENT = "GDPR_REQUEST_SENT"
    GDPR_REQUEST_RECEIVED = "GDPR_REQUEST_RECEIVED"
    GDPR_EXTENSION_NOTIFIED = "GDPR_EXTENSION_NOTIFIED"
    GDPR_ANSWER_RECEIVED = "GDPR_ANSWER_RECEIVED"
    DEREFERENCING_REQUEST_SENT = "DEREFERENCING_REQUEST_SENT"
    DEREFERENCING_REQUEST_RECEIVED = "DEREFERENCING_REQUEST_RECEIVED"
    DEREFERENCING_EXTENSION_NOTIFIED = "DEREFERENCING_EXTENSION_NOTIFIED"
    DEREFERENCING_ANSWER_RECEIVED = "DEREFERENCING_ANSWER_RECEIVED"
    CNIL_COMPLAINT_SENT = "CNIL_COMPLAINT_SENT"
    CNIL_COMPLAINT_RECEIVED = "CNIL_COMPLAINT_RECEIVED"
    CNIL_DECISION_RECEIVED = "CNIL_DECISION_RECEIVED"
    MISE_EN_DEMEURE_SENT = "MISE_EN_DEMEURE_SENT"
    MISE_EN_DEMEURE_RECEIVED = "MISE_EN_DEMEURE_RECEIVED"
    # New making available of the content (DOMAIN §3): a new loi 1881 period for it.
    CONTENT_REPUBLISHED = "CONTENT_REPUBLISHED"
    # The content is shown online on this date by an archive (Wayback, BnF) or an earlier
    # capture: evidence for the earliest plausible publication date (DOMAIN §3).
    CONTENT_ARCHIVED = "CONTENT_ARCHIVED"
    CONTENT_REMOVED = "CONTENT_REMOVED"
    CONCILIATION_REQUESTED = "CONCILIATION_REQUESTED"
    CONCILIATION_OUTCOME = "CONCILIATION_OUTCOME"
    SIGNALCONSO_FILED = "SIGNALCONSO_FILED"
    PLAINTE_SIMPLE = "PLAINTE_SIMPLE"  # simple complaint to the procureur: NOT interruptive
    REQUISITIONS_AUX_FINS_D_ENQUETE = "REQUISITIONS_AUX_FINS_D_ENQUETE"
    PROSECUTION_OR_INSTRUCTION_ACT = "PROSECUTION_OR_INSTRUCTION_ACT"
    CIVIL_PROCEDURAL_ACT = "CIVIL_PROCEDURAL_ACT"


EVENT_LABELS: Mapping[ClaimEventKind, str] = {
    ClaimEventKind.CONTENT_DISCOVERED: _("Découverte du contenu par le médecin"),
    ClaimEventKind.CAPTURE_DONE: _("Capture logicielle réalisée"),
    ClaimEventKind.CONSTAT_ORDERED: _("Constat commandé au commissaire de justice"),
    ClaimEventKind.CONSTAT_DONE: _("Constat réalisé par le commissaire de justice"),
    ClaimEventKind.INSURER_NOTIFIED: _("Déclaration à l'assureur"),
    ClaimEventKind.LAWYER_ENGAGED: _("Avocat saisi"),
    ClaimEventKind.REPLY_PUBLISHED: _("Réponse publiée"),
    ClaimEventKind.AUTHOR_CONTACTED: _("Auteur contacté"),
    ClaimEventKind.TOS_REPORT_SENT: _("Signalement CGU envoyé"),
    ClaimEventKind.DSA_NOTICE_SENT: _("Notification DSA envoyée à l'hébergeur"),
    ClaimEventKind.PLATFORM_DECISION_NOTIFIED: _("Décision de la plateforme notifiée"),
    ClaimEventKind.DSA_INTERNAL_COMPLAINT_FILED: _("Réclamation interne DSA déposée (art. 20)"),
    ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT: _("Demande de droit de réponse envoyée"),
    ClaimEventKind.DROIT_DE_REPONSE_HOST_RECEIVED: _(
        "Demande de droit de réponse reçue par l'hébergeur"
    ),
    ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED: _(
        "Demande de droit de réponse reçue par le directeur de la publication (AR)"
    ),
    ClaimEventKind.DROIT_DE_REPONSE_PUBLISHED: _("Réponse insérée"),
    ClaimEventKind.GDPR_REQUEST_SENT: _("Demande RGPD envoyée"),
    ClaimEventKind.GDPR_REQUEST_RECEIVED: _("Demande RGPD reçue par le responsable de traitement"),
    ClaimEventKind.GDPR_EXTENSION_NOTIFIED: _("Prolongation notifiée par le responsable"),
    ClaimEventKind.GDPR_ANSWER_RECEIVED: _("Réponse du responsable de traitement reçue"),
    ClaimEventKind.DEREFERENCING_REQUEST_SENT: _("Demande de déréférencement envoyée"),
    ClaimEventKind.DEREFERENCING_REQUEST_RECEIVED: _(
        "Demande de déréférencement reçue par le moteur"
    ),
    ClaimEventKind.DEREFERENCING_EXTENSION_NOTIFIED: _("Prolongation notifiée par le moteur"),
    ClaimEventKind.DEREFERENCING_ANSWER_RECEIVED: _("Réponse du moteur de recherche reçue"),
    ClaimEventKind.CNIL_COMPLAINT_SENT: _("Plainte envoyée à la CNIL"),
    ClaimEventKind.CNIL_COMPLAINT_RECEIVED: _("Plainte reçue par la CNIL"),
    ClaimEventKind.CNIL_DECISION_RECEIVED: _("Décision de la CNIL reçue"),
    ClaimEventKind.MISE_EN_DEMEURE_SENT: _("Mise en demeure envoyée"),
    ClaimEventKind.MISE_EN_DEMEURE_RECEIVED: _("Mise en demeure reçue par le destinataire (AR)"),
    ClaimEventKind.CONTENT_REPUBLISHED: _("Republication du contenu (nouvelle mise en ligne)"),
    ClaimEventKind.CONTENT_ARCHIVED: _(
        "Contenu attesté en ligne à cette date (archive Wayback ou BnF, capture antérieure)"
    ),
    ClaimEventKind.CONTENT_REMOVED: _("Contenu retiré"),
    ClaimEventKind.CONCILIATION_REQUESTED: _("Conciliation ordinale demandée"),
    ClaimEventKind.CONCILIATION_OUTCOME: _("Issue de la conciliation ordinale"),
    ClaimEventKind.SIGNALCONSO_FILED: _("Signalement SignalConso déposé"),
    ClaimEventKind.PLAINTE_SIMPLE: _("Plainte simple au procureur (non interruptive)"),
    ClaimEventKind.REQUISITIONS_AUX_FINS_D_ENQUETE: _("Réquisitions aux fins d'enquête"),
    ClaimEventKind.PROSECUTION_OR_INSTRUCTION_ACT: _(
        "Acte de poursuite ou d'instruction (qualifié par l'avocat)"
    ),
    ClaimEventKind.CIVIL_PROCEDURAL_ACT: _(
        "Acte de procédure civile manifestant la volonté de poursuivre (qualifié par l'avocat)"
    ),
}


class ClaimFact(StrEnum):
    """Undated facts about a claim that switch rules on or off (DOMAIN §3, §4.2, §4.5)."""

    DIRECT_REPLY_AVAILABLE = "DIRECT_REPLY_AVAILABLE"  # décret 2007-1527 art. 1 al. 2
    CRIMINAL_226_1 = "CRIMINAL_226_1"  # recording/transmission in a private place
    COUNSEL_EXCLUDES_PRESS_LAW = "COUNSEL_EXCLUDES_PRESS_LAW"  # dénigrement confirmed by counsel
    AUTHOR_IS_DOCTOR = "AUTHOR_IS_DOCTOR"  # R4127-56: conciliation first
    AUTHOR_ANONYMOUS = "AUTHOR_ANONYMOUS"  # identification requête CPC 145
    PUBLISHER_ANONYMOUS_NON_PRO = "PUBLISHER_ANONYMOUS_NON_PRO"  # droit de réponse via host
    LITIGATION_PLAUSIBLE = "LITIGATION_PLAUSIBLE"  # forces the constat-first guard


# --------------------------------------------------------------------------------------------
# Caveats
# --------------------------------------------------------------------------------------------


# What staff read instead of DOMAIN's editorial tags (never shown as such): a rule taken from
# the text of the law needs no note; anything less certain is « à vérifier ».
CONFIDENCE_NOTES: dict[Confidence, str] = {
    Confidence.TEXT: "",
    Confidence.SEC: _("Source secondaire, à vérifier"),
    Confidence.UNVERIFIED: _("À vérifier"),
    Confidence.CONFLICT: _("À vérifier : les sources divergent"),
    Confidence.STALE: _("À vérifier : la règle a pu changer"),
}


@dataclass(frozen=True)
class Caveat:
    """A warning shown next to a rule; ``tag`` is the DOMAIN confidence tag it comes from."""

    tag: Confidence
    text: str

    @property
    def note(self) -> str:
        """The plain French note for staff (« À vérifier »…), empty for the text of the law."""
        return str(CONFIDENCE_NOTES[self.tag])


# --------------------------------------------------------------------------------------------
# Clocks (DOMAIN §3.1, §4.6)
# --------------------------------------------------------------------------------------------


class DurationUnit(StrEnum):
    DAYS = "DAYS"
    WORKING_DAYS = "WORKING_DAYS"  # Monday–Friday except the insurer's public holidays
    MONTHS = "MONTHS"
    YEARS = "YEARS"


class HolidayCalendar(StrEnum):
    """French public-holiday calendars for working-day clocks (an insurer setting).

    Alsace-Moselle adds Good Friday and 26 December (local law); the overseas departments add
    their abolition-of-slavery day and, for some, Good Friday or Mi-Carême. The dates come from
    the ``holidays`` package (``holidays.France(subdiv=...)``); see ``HOLIDAY_SUBDIVISIONS``.
    """

    METROPOLE = "metropole"
    ALSACE_MOSELLE = "alsace-moselle"
    GUADELOUPE = "guadeloupe"
    MARTINIQUE = "martinique"
    GUYANE = "guyane"
    LA_REUNION = "la-reunion"
    MAYOTTE = "mayotte"


HOLIDAY_CALENDAR_LABELS: Mapping[HolidayCalendar, str] = {
    HolidayCalendar.METROPOLE: _("France métropolitaine"),
    HolidayCalendar.ALSACE_MOSELLE: _("Alsace-Moselle (Bas-Rhin, Haut-Rhin, Moselle)"),
    HolidayCalendar.GUADELOUPE: _("Guadeloupe"),
    HolidayCalendar.MARTINIQUE: _("Martinique"),
    HolidayCalendar.GUYANE: _("Guyane"),
    HolidayCalendar.LA_REUNION: _("La Réunion"),
    HolidayCalendar.MAYOTTE: _("Mayotte"),
}

# ``holidays.France`` subdivision codes; "57" (Moselle) has the same local holidays as "6AE"
# (Alsace) in the package.
HOLIDAY_SUBDIVISIONS: Mapping[HolidayCalendar, str | None] = {
    HolidayCalendar.METROPOLE: None,
    HolidayCalendar.ALSACE_MOSELLE: "57",
    HolidayCalendar.GUADELOUPE: "971",
    HolidayCalendar.MARTINIQUE: "972",
    HolidayCalendar.GUYANE: "973",
    HolidayCalendar.LA_REUNION: "974",
    HolidayCalendar.MAYOTTE: "976",
}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: DurationUnit


class ClockKind(StrEnum):
    LIMITATION = "LIMITATION"  # prescription: the right to sue is lost
    ACTION_WINDOW = "ACTION_WINDOW"  # the claimant must act before the end
    WAITING_WINDOW = "WAITING_WINDOW"  # the other party's time to answer
    MILESTONE = "MILESTONE"  # engine rule (e.g. lawyer engaged by T_pub + 60 days)


class AlertAnchor(StrEnum):
    START = "START"  # alert N days after the start of the clock
    DUE = "DUE"  # alert N days before the due date


@dataclass(frozen=True)
class Alert:
    days: int
    anchor: AlertAnchor


@dataclass(frozen=True)
class Extension:
    """A longer period granted when ``event`` occurs before the base period ends (GDPR 12(3))."""

    event: ClaimEventKind
    extra: Duration


@dataclass(frozen=True)
class ClockRule:
    """One clock of DOMAIN §4.6. ``start_event`` None means the clock starts at T_pub."""

    id: str
    label: str
    kind: ClockKind
    hard: bool
    start_event: ClaimEventKind | None
    duration: Duration
    legal_basis: str
    confidence: tuple[Confidence, ...]
    end_offset_days: int = 0
    interrupted_by: tuple[ClaimEventKind, ...] = ()
    not_interrupted_by: tuple[ClaimEventKind, ...] = ()
    restart_duration: Duration | None = None
    satisfied_by: tuple[ClaimEventKind, ...] = ()
    extension: Extension | None = None
    alerts: tuple[Alert, ...] = ()
    caveats: tuple[Caveat, ...] = ()
    # Start used while ``start_event`` (a receipt) is not recorded for the same ref: sending
    # is on or before receipt, so the period counted from it ends no later (conservative).
    provisional_start_event: ClaimEventKind | None = None
    # Events that open a new period of this clock for new content, with their own date
    # (a republication restarts the loi 1881 clock for the republished content, DOMAIN §3).
    reopened_by: tuple[ClaimEventKind, ...] = ()


# Product default for hard clocks whose DOMAIN entry gives no alert: warn 30 days before the due
# date. This is a UX setting, not a legal rule; override per clock with {"alerts": (...)}.
DEFAULT_HARD_ALERTS: tuple[Alert, ...] = (Alert(30, AlertAnchor.DUE),)

_PRESS_INTERRUPTING = (
    ClaimEventKind.REQUISITIONS_AUX_FINS_D_ENQUETE,
    ClaimEventKind.PROSECUTION_OR_INSTRUCTION_ACT,
    ClaimEventKind.CIVIL_PROCEDURAL_ACT,
)
# DOMAIN §3.1: "None of these interrupt it". Documentation for the UI; the engine only ever
# looks at ``interrupted_by``.
_PRESS_NOT_INTERRUPTING = (
    ClaimEventKind.DSA_NOTICE_SENT,
    ClaimEventKind.MISE_EN_DEMEURE_SENT,
    ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT,
    ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED,
    ClaimEventKind.GDPR_REQUEST_SENT,
    ClaimEventKind.GDPR_REQUEST_RECEIVED,
    ClaimEventKind.PLAINTE_SIMPLE,
)

CAVEAT_PRESS_DAY_COUNT = Caveat(
    Confidence.UNVERIFIED,
    _(
        "Le décompte au jour près des « trois mois révolus » n'est pas vérifié : l'échéance "
        "retenue est prudente (date de publication + 3 mois − 1 jour ; si le mois d'arrivée n'a pas le même "
        "quantième, le dernier jour de ce mois, moins un jour)."
    ),
)
CAVEAT_PRESS_AMICABLE = Caveat(
    Confidence.TEXT,
    _(
        "Les démarches amiables n'interrompent pas la prescription : notification DSA, mise en "
        "demeure, droit de réponse, demande RGPD, plainte simple. Seuls les actes de poursuite "
        "ou d'instruction (avant poursuites : réquisitions aux fins d'enquête) et, au civil, "
        "les actes de procédure manifestant la volonté de poursuivre l'interrompent."
    ),
)
CAVEAT_PRESS_REPUBLICATION = Caveat(
    Confidence.SEC,
    _(
        "Le point de départ est la première mise en ligne, pas la découverte. Une "
        "republication fait courir un nouveau délai pour la nouvelle publication ; un simple "
        "changement d'adresse du site, non. En cas de doute sur cette date, retenir la date "
        "plausible la plus ancienne."
    ),
)

CLOCKS: Mapping[str, ClockRule] = {
    rule.id: rule
    for rule in (
        ClockRule(
            id="PRESS_3M",
            label=_("Prescription loi de 1881 (3 mois)"),
            kind=ClockKind.LIMITATION,
            hard=True,
            start_event=None,
            duration=Duration(3, DurationUnit.MONTHS),
            end_offset_days=-1,
            interrupted_by=_PRESS_INTERRUPTING,
            not_interrupted_by=_PRESS_NOT_INTERRUPTING,
            restart_duration=Duration(3, DurationUnit.MONTHS),
            reopened_by=(ClaimEventKind.CONTENT_REPUBLISHED,),
            alerts=(Alert(45, AlertAnchor.START), Alert(60, AlertAnchor.START)),
            legal_basis=_("Loi du 29 juillet 1881, art. 65 ; Cass. crim. 30 janv. 2001"),
            confidence=(Confidence.TEXT, Confidence.SEC),
            caveats=(CAVEAT_PRESS_DAY_COUNT, CAVEAT_PRESS_AMICABLE, CAVEAT_PRESS_REPUBLICATION),
        ),
        ClockRule(
            id="PRESS_LAWYER_D60",
            label=_("Avocat saisi au plus tard 60 jours après la publication"),
            kind=ClockKind.MILESTONE,
            hard=True,
            start_event=None,
            duration=Duration(60, DurationUnit.DAYS),
            satisfied_by=(ClaimEventKind.LAWYER_ENGAGED,),
            alerts=(Alert(45, AlertAnchor.START),),
            legal_basis=_("Règle prudente (prescription de 3 mois) ; loi 1881, art. 65"),
            confidence=(Confidence.UNVERIFIED,),
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Règle de prudence de la plateforme, pas un texte : l'avocat doit "
                        "disposer d'un mois pour agir avant l'échéance de 3 mois."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="PRESS_DISCRIM_1Y",
            label=_("Prescription propos discriminatoires (1 an)"),
            kind=ClockKind.LIMITATION,
            hard=True,
            start_event=None,
            duration=Duration(1, DurationUnit.YEARS),
            end_offset_days=-1,
            reopened_by=(ClaimEventKind.CONTENT_REPUBLISHED,),
            alerts=DEFAULT_HARD_ALERTS,
            legal_basis=_("Loi du 29 juillet 1881, art. 65-3 (loi du 27 janvier 2014)"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Échéance prudente (date de publication + 1 an − 1 jour). Les interruptions ne sont "
                        "pas calculées ici : les sources ne précisent pas leur effet sur le délai "
                        "d'un an ; l'avocat suit la prescription une fois l'action engagée."
                    ),
                ),
                CAVEAT_PRESS_AMICABLE,
                CAVEAT_PRESS_REPUBLICATION,
            ),
        ),
        ClockRule(
            id="CIVIL_5Y",
            label=_("Prescription civile (5 ans)"),
            kind=ClockKind.LIMITATION,
            hard=True,
            start_event=None,
            duration=Duration(5, DurationUnit.YEARS),
            end_offset_days=-1,
            alerts=DEFAULT_HARD_ALERTS,
            legal_basis=_("C. civ. art. 2224 ; Cass. 2e civ. 12 avr. 2012, n° 11-20664"),
            confidence=(Confidence.SEC, Confidence.CONFLICT),
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Point de départ discuté : l'article 2224 vise le jour où le titulaire "
                        "« a connu ou aurait dû connaître les faits » ; la jurisprudence retient "
                        "la première mise en ligne. Le calcul retient la première mise en ligne "
                        "(prudent)."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="DELIT_6Y",
            label=_("Prescription délictuelle (6 ans, C. pén. 226-1)"),
            kind=ClockKind.LIMITATION,
            hard=True,
            start_event=None,
            duration=Duration(6, DurationUnit.YEARS),
            end_offset_days=-1,
            alerts=DEFAULT_HARD_ALERTS,
            legal_basis=_("CPP art. 8 (loi n° 2017-242) ; C. pén. art. 226-1"),
            confidence=(Confidence.TEXT,),
        ),
        ClockRule(
            id="DROIT_DE_REPONSE_REQUEST_3M",
            label=_("Délai pour demander un droit de réponse (3 mois)"),
            kind=ClockKind.ACTION_WINDOW,
            hard=True,
            start_event=None,
            duration=Duration(3, DurationUnit.MONTHS),
            end_offset_days=-1,
            satisfied_by=(ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT,),
            alerts=DEFAULT_HARD_ALERTS,
            legal_basis=_("LCEN art. 1-1-III (ex-6-IV) ; décret n° 2007-1527"),
            confidence=(Confidence.TEXT,),
            caveats=(
                Caveat(
                    Confidence.STALE,
                    _(
                        "La loi SREN a déplacé le droit de réponse en ligne à l'article 1-1-III "
                        "de la LCEN « à droit constant » ; le décret 2007-1527 vise encore le "
                        "« IV de l'article 6 »."
                    ),
                ),
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Application intégrale du décret 2007-1527 après la loi SREN non "
                        "vérifiée (TJ Paris, réf., 19 nov. 2024 a appliqué l'article 1-1-III)."
                    ),
                ),
                Caveat(
                    Confidence.TEXT,
                    _(
                        "Procédure fermée lorsque le service permet de répondre directement "
                        "(décret 2007-1527, art. 1 al. 2)."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="DROIT_DE_REPONSE_HOST_FORWARD",
            label=_("Transmission de la demande par l'hébergeur au directeur de la publication"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.DROIT_DE_REPONSE_HOST_RECEIVED,
            duration=Duration(1, DurationUnit.DAYS),
            satisfied_by=(ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED,),
            legal_basis=_("LCEN art. 1-1-III (« sans délai ») ; décret n° 2007-1527 (24 h)"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _("La loi dit « sans délai » ; le délai de 24 heures vient du décret."),
                ),
            ),
        ),
        ClockRule(
            id="DROIT_DE_REPONSE_INSERTION_3D",
            label=_("Insertion de la réponse (3 jours)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.DROIT_DE_REPONSE_DIRECTOR_RECEIVED,
            provisional_start_event=ClaimEventKind.DROIT_DE_REPONSE_REQUEST_SENT,
            duration=Duration(3, DurationUnit.DAYS),
            satisfied_by=(ClaimEventKind.DROIT_DE_REPONSE_PUBLISHED,),
            legal_basis=_("LCEN art. 1-1-III (ex-6-IV) : 3 jours, amende de 3 750 €"),
            confidence=(Confidence.TEXT, Confidence.CONFLICT),
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Une source (lexbase.fr) indique 72 h pour les sites éditoriaux et "
                        "24 h pour les sites participatifs ; le texte dit trois jours, retenu ici."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="DROIT_DE_REPONSE_DISPLAY_MIN",
            label=_("Durée minimale de mise en ligne de la réponse"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.DROIT_DE_REPONSE_PUBLISHED,
            duration=Duration(1, DurationUnit.DAYS),
            legal_basis=_("Décret n° 2007-1527 : aussi longtemps que le message, au moins 1 jour"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "La réponse reste en ligne aussi longtemps que le message, au minimum "
                        "un jour."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="GDPR_RESPONSE_1M",
            label=_("Réponse du responsable de traitement (1 mois, + 2 si prolongation)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.GDPR_REQUEST_RECEIVED,
            provisional_start_event=ClaimEventKind.GDPR_REQUEST_SENT,
            duration=Duration(1, DurationUnit.MONTHS),
            extension=Extension(
                ClaimEventKind.GDPR_EXTENSION_NOTIFIED, Duration(2, DurationUnit.MONTHS)
            ),
            satisfied_by=(ClaimEventKind.GDPR_ANSWER_RECEIVED,),
            legal_basis=_("RGPD art. 12(3)"),
            confidence=(Confidence.TEXT,),
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Une ancienne page de la CNIL mentionne un délai de 2 mois (règle "
                        "antérieure au RGPD) ; le délai du RGPD (1 mois, + 2 mois si la "
                        "prolongation est notifiée dans le premier mois) est retenu."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="DEREFERENCING_RESPONSE_1M",
            label=_("Réponse du moteur de recherche (1 mois, + 2 si prolongation)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.DEREFERENCING_REQUEST_RECEIVED,
            provisional_start_event=ClaimEventKind.DEREFERENCING_REQUEST_SENT,
            duration=Duration(1, DurationUnit.MONTHS),
            extension=Extension(
                ClaimEventKind.DEREFERENCING_EXTENSION_NOTIFIED, Duration(2, DurationUnit.MONTHS)
            ),
            satisfied_by=(ClaimEventKind.DEREFERENCING_ANSWER_RECEIVED,),
            legal_basis=_("RGPD art. 12(3), 17 et 21 ; CJUE Google Spain, 13 mai 2014"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Le déréférencement ne supprime pas la page : la mener en parallèle "
                        "d'une demande au site source."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="CNIL_SILENCE_3M",
            label=_("Silence de la CNIL (3 mois = rejet implicite)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.CNIL_COMPLAINT_RECEIVED,
            provisional_start_event=ClaimEventKind.CNIL_COMPLAINT_SENT,
            duration=Duration(3, DurationUnit.MONTHS),
            satisfied_by=(ClaimEventKind.CNIL_DECISION_RECEIVED,),
            legal_basis=_("Décret n° 2019-536, art. 10"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _("Rejet implicite après 3 mois de silence : source secondaire uniquement."),
                ),
            ),
        ),
        ClockRule(
            id="DSA_DECISION",
            label=_("Décision de l'hébergeur sur la notification (délai interne)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.DSA_NOTICE_SENT,
            duration=Duration(15, DurationUnit.DAYS),
            satisfied_by=(ClaimEventKind.PLATFORM_DECISION_NOTIFIED,),
            alerts=(Alert(7, AlertAnchor.START),),
            legal_basis=_(
                "DSA (règlement (UE) 2022/2065) art. 16(6) : traitement « en temps utile »"
            ),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Le DSA ne fixe aucun délai : relance à J+7 et escalade à J+15 sont des "
                        "paramètres internes, jamais au-delà de l'échéance de prescription."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="DSA_COMPLAINT_WINDOW_6M",
            label=_("Réclamation interne contre la décision de la plateforme (6 mois)"),
            kind=ClockKind.ACTION_WINDOW,
            hard=True,
            start_event=ClaimEventKind.PLATFORM_DECISION_NOTIFIED,
            duration=Duration(6, DurationUnit.MONTHS),
            end_offset_days=-1,
            satisfied_by=(ClaimEventKind.DSA_INTERNAL_COMPLAINT_FILED,),
            alerts=DEFAULT_HARD_ALERTS,
            legal_basis=_("DSA (règlement (UE) 2022/2065) art. 20"),
            confidence=(Confidence.TEXT,),
            caveats=(
                Caveat(
                    Confidence.TEXT,
                    _("Le système de réclamation reste ouvert « au moins » 6 mois (art. 20)."),
                ),
            ),
        ),
        ClockRule(
            id="MISE_EN_DEMEURE_CURE",
            label=_("Délai laissé par la mise en demeure"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.MISE_EN_DEMEURE_RECEIVED,
            provisional_start_event=ClaimEventKind.MISE_EN_DEMEURE_SENT,
            duration=Duration(8, DurationUnit.DAYS),
            satisfied_by=(ClaimEventKind.CONTENT_REMOVED,),
            legal_basis=_("C. civ. art. 1344 ; CA Paris 19 mars 2013 n° 12/03448"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Délai fixé par la mise en demeure elle-même (8 jours par défaut), "
                        "compté de sa réception, ou de son envoi tant que la réception n'est pas "
                        "enregistrée. La mise en demeure n'interrompt pas la prescription de la "
                        "loi de 1881."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="INSURER_DECLARATION",
            label=_("Déclaration du sinistre à l'assureur"),
            kind=ClockKind.ACTION_WINDOW,
            hard=True,
            start_event=ClaimEventKind.CONTENT_DISCOVERED,
            duration=Duration(5, DurationUnit.WORKING_DAYS),
            satisfied_by=(ClaimEventKind.INSURER_NOTIFIED,),
            alerts=(Alert(2, AlertAnchor.DUE),),
            legal_basis=_("Conditions générales du contrat"),
            confidence=(Confidence.SEC, Confidence.UNVERIFIED),
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Délai propre à chaque contrat : « 5 jours ouvrés » est souvent cité ; "
                        "lire les conditions générales et particulières de la police. "
                        "Jours ouvrés : du lundi au vendredi, hors jours fériés du calendrier "
                        "choisi par l'assureur."
                    ),
                ),
            ),
        ),
        ClockRule(
            id="ORDINAL_CONCILIATION",
            label=_("Conciliation ordinale (choix des conciliateurs)"),
            kind=ClockKind.WAITING_WINDOW,
            hard=False,
            start_event=ClaimEventKind.CONCILIATION_REQUESTED,
            duration=Duration(1, DurationUnit.MONTHS),
            satisfied_by=(ClaimEventKind.CONCILIATION_OUTCOME,),
            legal_basis=_("CSP art. R4127-56 ; pratique du CDOM du Nord"),
            confidence=(Confidence.SEC,),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _("Environ un mois pour choisir les conciliateurs : pratique locale."),
                ),
            ),
        ),
    )
}

# Fields an override may replace; ``id`` is the key and cannot change.
CLOCK_OVERRIDABLE_FIELDS: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(ClockRule) if f.name != "id"
)


def clock_rules_with_overrides(
    *, overrides: Mapping[str, Mapping[str, Any]] | None
) -> tuple[dict[str, ClockRule], dict[str, tuple[str, ...]]]:
    """Return the clock catalogue with per-clock overrides applied, and which fields changed.

    Unknown clock ids or field names raise ``ValueError``: a typo in an insurer's configuration
    must not silently fall back to a default legal value.
    """
    rules = dict(CLOCKS)
    changed: dict[str, tuple[str, ...]] = {}
    for clock_id, fields_ in (overrides or {}).items():
        if clock_id not in rules:
            raise ValueError(f"unknown clock id in overrides: {clock_id!r}")
        unknown = set(fields_) - CLOCK_OVERRIDABLE_FIELDS
        if unknown:
            raise ValueError(f"unknown clock fields in overrides for {clock_id}: {sorted(unknown)}")
        rules[clock_id] = dataclasses.replace(rules[clock_id], **dict(fields_))
        changed[clock_id] = tuple(sorted(fields_))
    return rules, changed


# Fields an insurer may override from stored JSON (``clock_overrides_from_json``): the values
# DOMAIN marks as contract-specific, [UNVERIFIED] or [CONFLICT]. Start events, interrupting
# acts and caveats stay in code: changing them changes the legal reading, not a parameter.
CLOCK_JSON_OVERRIDABLE_FIELDS: frozenset[str] = frozenset(
    {
        "label",
        "hard",
        "duration",
        "end_offset_days",
        "restart_duration",
        "extension",
        "alerts",
        "legal_basis",
    }
)


def _json_duration(value: Any, where: str) -> Duration:
    if not isinstance(value, Mapping) or set(value) != {"amount", "unit"}:
        raise ValueError(f"{where}: expected {{'amount': int, 'unit': str}}, got {value!r}")
    amount, unit = value["amount"], value["unit"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"{where}: amount must be a non-negative integer, got {amount!r}")
    if unit not in DurationUnit.__members__:
        raise ValueError(f"{where}: unknown unit {unit!r}")
    return Duration(amount, DurationUnit(unit))


def _json_clock_field(name: str, value: Any, where: str) -> Any:
    if name in {"duration", "restart_duration"}:
        if value is None and name == "restart_duration":
            return None
        return _json_duration(value, where)
    if name == "extension":
        if value is None:
            return None
        if not isinstance(value, Mapping) or set(value) != {"event", "extra"}:
            raise ValueError(f"{where}: expected {{'event': str, 'extra': duration}}")
        if value["event"] not in ClaimEventKind.__members__:
            raise ValueError(f"{where}: unknown event {value['event']!r}")
        return Extension(ClaimEventKind(value["event"]), _json_duration(value["extra"], where))
    if name == "alerts":
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list of {{'days': int, 'anchor': str}}")
        alerts = []
        for item in value:
            if not isinstance(item, Mapping) or set(item) != {"days", "anchor"}:
                raise ValueError(f"{where}: expected {{'days': int, 'anchor': str}}, got {item!r}")
            if not isinstance(item["days"], int) or item["anchor"] not in AlertAnchor.__members__:
                raise ValueError(f"{where}: invalid alert {item!r}")
            alerts.append(Alert(item["days"], AlertAnchor(item["anchor"])))
        return tuple(alerts)
    if name == "hard":
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if name == "end_offset_days":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected a non-empty text, got {value!r}")
    return value


def clock_overrides_from_json(data: Any) -> dict[str, dict[str, Any]]:
    """Turn an insurer's stored JSON overrides into the ``overrides`` of the deadline engine.

    ``{"INSURER_DECLARATION": {"duration": {"amount": 10, "unit": "WORKING_DAYS"}}}`` becomes
    ``{"INSURER_DECLARATION": {"duration": Duration(10, DurationUnit.WORKING_DAYS)}}``. Anything
    unknown or ill-typed raises ``ValueError`` (the settings form shows it; a typo must never fall
    back silently to a default legal value).
    """
    if data in (None, ""):
        return {}
    if not isinstance(data, Mapping):
        raise ValueError("clock overrides must be an object keyed by clock id")
    result: dict[str, dict[str, Any]] = {}
    for clock_id, fields_ in data.items():
        if clock_id not in CLOCKS:
            raise ValueError(f"unknown clock id in overrides: {clock_id!r}")
        if not isinstance(fields_, Mapping):
            raise ValueError(f"overrides for {clock_id} must be an object")
        unknown = set(fields_) - CLOCK_JSON_OVERRIDABLE_FIELDS
        if unknown:
            raise ValueError(f"unknown clock fields in overrides for {clock_id}: {sorted(unknown)}")
        result[clock_id] = {
            name: _json_clock_field(name, value, f"{clock_id}.{name}")
            for name, value in fields_.items()
        }
    return result


# « Jours ouvrables » (Monday–Saturday) are counted as working days (Monday–Friday): the due
# date can only come earlier, never later.
_DELAY_UNITS: Mapping[str, DurationUnit] = {
    "jour ouvré": DurationUnit.WORKING_DAYS,
    "jours ouvrés": DurationUnit.WORKING_DAYS,
    "jour ouvrable": DurationUnit.WORKING_DAYS,
    "jours ouvrables": DurationUnit.WORKING_DAYS,
    "jour": DurationUnit.DAYS,
    "jours": DurationUnit.DAYS,
    "mois": DurationUnit.MONTHS,
    "an": DurationUnit.YEARS,
    "ans": DurationUnit.YEARS,
}
_DELAY_PATTERN = re.compile(
    r"^\s*(\d{1,3})\s+(jours?\s+ouvr(?:é|e|able)s?|jours?|mois|ans?)\s*\.?\s*$", re.IGNORECASE
)


def declaration_delay_duration(text: str) -> Duration | None:
    """Read a plan's declaration delay (« 5 jours ouvrés », « 10 jours », « 2 mois »).

    Anything else (« 2 mois après refus », a sentence) returns ``None``: the clock keeps its
    default and the text stays displayed for the handler to read.
    """
    match = _DELAY_PATTERN.match(text or "")
    if match is None:
        return None
    unit_text = " ".join(match.group(2).lower().split())
    unit_text = unit_text.replace("ouvre", "ouvré")
    unit = _DELAY_UNITS.get(unit_text)
    if unit is None:
        return None
    return Duration(int(match.group(1)), unit)


# --------------------------------------------------------------------------------------------
# Category rules (DOMAIN §3)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockLink:
    """Attach a clock to a category, optionally only with (or unless) a claim fact."""

    clock_id: str
    requires_fact: ClaimFact | None = None
    unless_fact: ClaimFact | None = None


@dataclass(frozen=True)
class CategoryRule:
    category: ContentCategory
    label: str
    legal_basis: str
    sanction: str
    default_routes: tuple[Route, ...]
    primary_addressees: tuple[Addressee, ...]
    clocks: tuple[ClockLink, ...]
    illicit: bool
    caveats: tuple[Caveat, ...] = field(default=())


CAVEAT_REPLY_CONFLICT = Caveat(
    Confidence.CONFLICT,
    _(
        "Répondre ? Le guide CNOM 2018 conseille une réponse empathique ; l'Observatoire de la "
        "sécurité des médecins (c. 2025) déconseille de répondre. « Ne pas répondre » reste une "
        "option de premier rang."
    ),
)

_DDR = ClockLink("DROIT_DE_REPONSE_REQUEST_3M", unless_fact=ClaimFact.DIRECT_REPLY_AVAILABLE)
_PRESS_ROUTES = (
    Route.CONSTAT,
    Route.DSA_NOTICE,
    Route.MISE_EN_DEMEURE,
    Route.PAF_LCEN_6_3,
    Route.REFERE_835,
    Route.CITATION_DIRECTE,
    Route.ASSIGNATION_FOND,
)

CATEGORY_RULES: Mapping[ContentCategory, CategoryRule] = {
    rule.category: rule
    for rule in (
        CategoryRule(
            category=ContentCategory.INJURE,
            label=_("Injure"),
            legal_basis=_(
                "Loi du 29 juillet 1881, art. 29 al. 2 ; art. 33 al. 2 (envers un particulier)"
            ),
            sanction=_("Amende de 12 000 € ; non publique : contravention (C. pén. R621-2)"),
            default_routes=_PRESS_ROUTES,
            primary_addressees=(Addressee.HOST, Addressee.AUTHOR, Addressee.PUBLICATION_DIRECTOR),
            clocks=(ClockLink("PRESS_3M"), ClockLink("PRESS_LAWYER_D60"), _DDR),
            illicit=True,
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _("Montant de l'amende (12 000 €) vu seulement dans des sources secondaires."),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.DIFFAMATION,
            label=_("Diffamation"),
            legal_basis=_("Loi du 29 juillet 1881, art. 29 al. 1 ; art. 32 al. 1"),
            sanction=_("Amende de 12 000 €"),
            default_routes=_PRESS_ROUTES,
            primary_addressees=(Addressee.HOST, Addressee.AUTHOR, Addressee.PUBLICATION_DIRECTOR),
            clocks=(ClockLink("PRESS_3M"), ClockLink("PRESS_LAWYER_D60"), _DDR),
            illicit=True,
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Poursuite sur plainte de la victime (art. 48-6) ; montant de l'amende "
                        "vu dans des sources secondaires."
                    ),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.DISCRIMINATORY_SPEECH,
            label=_("Propos discriminatoires"),
            legal_basis=_(
                "Loi du 29 juillet 1881, art. 24 (provocation) ; art. 32 al. 2 et art. 33 al. 3 "
                "(diffamation ou injure aggravées)"
            ),
            sanction=_("1 an d'emprisonnement et 45 000 € d'amende"),
            default_routes=(*_PRESS_ROUTES, Route.PLAINTE_CPC),
            primary_addressees=(Addressee.HOST, Addressee.COURT),
            clocks=(ClockLink("PRESS_DISCRIM_1Y"), _DDR),
            illicit=True,
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Obligation pour l'hébergeur d'un dispositif de signalement visible "
                        "(ancien LCEN 6-I-7) : statut après la loi SREN non vérifié."
                    ),
                ),
                Caveat(
                    Confidence.CONFLICT,
                    _("Amende des propos non publics : 1 500 € ou 750 € selon les sources."),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.DENIGREMENT,
            label=_("Dénigrement"),
            legal_basis=_("C. civ. art. 1240"),
            sanction=_("Dommages-intérêts"),
            default_routes=(Route.MISE_EN_DEMEURE, Route.DSA_NOTICE, Route.ASSIGNATION_FOND),
            primary_addressees=(Addressee.AUTHOR, Addressee.HOST),
            clocks=(
                ClockLink("CIVIL_5Y"),
                ClockLink("PRESS_3M", unless_fact=ClaimFact.COUNSEL_EXCLUDES_PRESS_LAW),
                ClockLink("PRESS_LAWYER_D60", unless_fact=ClaimFact.COUNSEL_EXCLUDES_PRESS_LAW),
                _DDR,
            ),
            illicit=True,
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Risque de requalification : si les propos visent la personne du "
                        "médecin, seule la loi de 1881 s'applique (Cass. Ass. plén. 12 juil. "
                        "2000). Le délai de 3 mois est appliqué tant que l'avocat n'a pas "
                        "confirmé le dénigrement."
                    ),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.PRIVACY,
            label=_("Atteinte à la vie privée"),
            legal_basis=_(
                "C. civ. art. 9 al. 1 et al. 2 (référé) ; C. pén. art. 226-1 si enregistrement "
                "dans un lieu privé"
            ),
            sanction=_("Dommages-intérêts ; pénal seulement au titre de l'art. 226-1"),
            default_routes=(Route.CONSTAT, Route.DSA_NOTICE, Route.REFERE_ART9),
            primary_addressees=(Addressee.HOST, Addressee.AUTHOR, Addressee.COURT),
            clocks=(
                ClockLink("CIVIL_5Y"),
                ClockLink("DELIT_6Y", requires_fact=ClaimFact.CRIMINAL_226_1),
                _DDR,
            ),
            illicit=True,
        ),
        CategoryRule(
            category=ContentCategory.IMAGE_RIGHTS,
            label=_("Droit à l'image"),
            legal_basis=_("C. civ. art. 9 ; C. pén. art. 226-1 2° et 226-8"),
            sanction=_("226-1 : 1 an et 45 000 € ; 226-8 : 1 an et 15 000 €"),
            default_routes=(Route.CONSTAT, Route.DSA_NOTICE, Route.REFERE_835, Route.PLAINTE_CPC),
            primary_addressees=(Addressee.HOST, Addressee.AUTHOR),
            clocks=(
                ClockLink("CIVIL_5Y"),
                ClockLink("DELIT_6Y", requires_fact=ClaimFact.CRIMINAL_226_1),
                _DDR,
            ),
            illicit=True,
            caveats=(
                Caveat(
                    Confidence.TEXT,
                    _(
                        "L'art. 226-1 ne vise que l'image d'une personne se trouvant dans un "
                        "lieu privé ; le droit civil à l'image repose sur l'art. 9 du C. civ."
                    ),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.LAWFUL_NEGATIVE,
            label=_("Avis négatif licite"),
            legal_basis=_("Aucun fondement de retrait : liberté d'expression"),
            sanction="—",
            default_routes=(
                Route.NO_ACTION,
                Route.REPLY,
                Route.CONTACT_AUTHOR,
                Route.PLATFORM_REPORT_TOS,
                Route.DROIT_DE_REPONSE,
            ),
            primary_addressees=(Addressee.AUTHOR, Addressee.PUBLICATION_DIRECTOR),
            clocks=(_DDR,),
            illicit=False,
            caveats=(
                CAVEAT_REPLY_CONFLICT,
                Caveat(
                    Confidence.TEXT,
                    _(
                        "Droit de réponse seulement si le site ne permet pas de répondre "
                        "directement (décret 2007-1527, art. 1 al. 2)."
                    ),
                ),
            ),
        ),
        CategoryRule(
            category=ContentCategory.PERSONAL_DATA_LISTING,
            label=_("Fiche professionnelle (données personnelles)"),
            legal_basis=_("RGPD art. 21(1), 17(1)(c) et 77 ; CJUE Google Spain, 13 mai 2014"),
            sanction=_("Sanctions CNIL (à l'encontre du responsable de traitement)"),
            default_routes=(
                Route.GDPR_OBJECTION_ERASURE,
                Route.CNIL_COMPLAINT,
                Route.REFERE_835,
                Route.DEREFERENCING,
            ),
            primary_addressees=(Addressee.CONTROLLER, Addressee.SEARCH_ENGINE, Addressee.CNIL),
            clocks=(),
            illicit=False,
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Jurisprudence partagée sur la suppression des fiches Google : refus "
                        "(TGI Paris 12 avr. 2019 ; TJ Paris 9 mars 2021), admission (TGI Paris "
                        "réf. 6 avr. 2018 ; CA Chambéry 22 mai 2025)."
                    ),
                ),
            ),
        ),
    )
}

# Categories where litigation is plausible, so a constat must precede any removal notice
# (DOMAIN §3.2 step 1: "1881 categories, privacy, image").
LITIGATION_PLAUSIBLE_CATEGORIES: frozenset[ContentCategory] = frozenset(
    {
        ContentCategory.INJURE,
        ContentCategory.DIFFAMATION,
        ContentCategory.DISCRIMINATORY_SPEECH,
        ContentCategory.PRIVACY,
        ContentCategory.IMAGE_RIGHTS,
    }
)

# The loi 1881 limitation clocks: "never let a wait window run past the 1881 hard deadline".
PRESS_LIMITATION_CLOCK_IDS: tuple[str, ...] = ("PRESS_3M", "PRESS_DISCRIM_1Y")


# --------------------------------------------------------------------------------------------
# Routes (DOMAIN §3.2 ladder, §4)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteRule:
    """``may_cause_removal``: the step could get the content removed, destroying the proof.

    ``wait_clock_ids``: clocks the claimant would wait on after taking the route; the ladder
    refuses a route whose worst-case wait ends after the loi 1881 deadline.
    """

    route: Route
    label: str
    may_cause_removal: bool
    addressee: Addressee | None
    wait_clock_ids: tuple[str, ...] = ()
    caveats: tuple[Caveat, ...] = ()


ROUTE_RULES: Mapping[Route, RouteRule] = {
    rule.route: rule
    for rule in (
        RouteRule(Route.NO_ACTION, _("Ne rien faire"), False, None),
        RouteRule(Route.REPLY, _("Répondre publiquement"), False, None),
        RouteRule(Route.CONTACT_AUTHOR, _("Demande courtoise à l'auteur"), True, Addressee.AUTHOR),
        RouteRule(
            Route.PLATFORM_REPORT_TOS,
            _("Signalement selon les CGU de la plateforme"),
            True,
            Addressee.HOST,
        ),
        RouteRule(
            Route.DSA_NOTICE,
            _("Notification DSA à l'hébergeur"),
            True,
            Addressee.HOST,
            ("DSA_DECISION",),
            (
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Présenter sciemment un contenu licite comme illicite pour obtenir son "
                        "retrait était puni d'un an et 15 000 € (ancien LCEN 6-I-4) ; maintien "
                        "après la loi SREN non vérifié."
                    ),
                ),
                Caveat(
                    Confidence.SEC,
                    _(
                        "Les plateformes suspendent les auteurs de notifications manifestement "
                        "infondées et fréquentes (DSA art. 23) : ne pas multiplier les envois."
                    ),
                ),
            ),
        ),
        RouteRule(
            Route.DROIT_DE_REPONSE,
            _("Droit de réponse en ligne"),
            False,
            Addressee.PUBLICATION_DIRECTOR,
            ("DROIT_DE_REPONSE_INSERTION_3D",),
        ),
        RouteRule(
            Route.GDPR_OBJECTION_ERASURE,
            _("Opposition et effacement RGPD"),
            True,
            Addressee.CONTROLLER,
            ("GDPR_RESPONSE_1M",),
        ),
        RouteRule(
            Route.DEREFERENCING,
            _("Déréférencement"),
            False,
            Addressee.SEARCH_ENGINE,
            ("DEREFERENCING_RESPONSE_1M",),
            (
                Caveat(
                    Confidence.SEC,
                    _("Le déréférencement ne supprime pas la page source."),
                ),
            ),
        ),
        RouteRule(Route.CNIL_COMPLAINT, _("Plainte à la CNIL"), True, Addressee.CNIL),
        RouteRule(
            Route.MISE_EN_DEMEURE,
            _("Mise en demeure"),
            True,
            Addressee.AUTHOR,
            ("MISE_EN_DEMEURE_CURE",),
        ),
        RouteRule(
            Route.CONSTAT,
            _("Constat par commissaire de justice"),
            False,
            Addressee.COMMISSAIRE_DE_JUSTICE,
        ),
        RouteRule(
            Route.CONCILIATION_ORDINALE,
            _("Conciliation ordinale (CDOM)"),
            True,
            Addressee.CDOM,
            ("ORDINAL_CONCILIATION",),
        ),
        RouteRule(
            Route.IDENTIFICATION_REQUETE_145,
            _("Requête en identification (CPC art. 145)"),
            False,
            Addressee.COURT,
            (),
            (
                Caveat(
                    Confidence.SEC,
                    _(
                        "Au civil, n'obtient en pratique que l'identité civile (nom, prénom, "
                        "adresse) ; données de connexion réservées au pénal (CPCE L34-1)."
                    ),
                ),
            ),
        ),
        RouteRule(
            Route.PAF_LCEN_6_3,
            _("Procédure accélérée au fond (LCEN art. 6-3)"),
            True,
            Addressee.COURT,
            (),
            (
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Choix de la procédure discuté : référé et requête coexistent selon le "
                        "Sénat ; une juridiction a jugé la procédure accélérée au fond "
                        "obligatoire. Numérotation post-SREN (art. 6-3) à vérifier."
                    ),
                ),
            ),
        ),
        RouteRule(Route.REFERE_835, _("Référé (CPC art. 835)"), True, Addressee.COURT),
        RouteRule(Route.REFERE_ART9, _("Référé (C. civ. art. 9 al. 2)"), True, Addressee.COURT),
        RouteRule(Route.CITATION_DIRECTE, _("Citation directe"), False, Addressee.COURT),
        RouteRule(
            Route.PLAINTE_CPC,
            _("Plainte avec constitution de partie civile"),
            False,
            Addressee.COURT,
        ),
        RouteRule(Route.ASSIGNATION_FOND, _("Assignation au fond"), False, Addressee.COURT),
        RouteRule(
            Route.SIGNALCONSO,
            _("Signalement SignalConso (DGCCRF)"),
            False,
            Addressee.DGCCRF,
            (),
            (
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Un professionnel (le médecin) peut-il utiliser SignalConso, conçu pour "
                        "les consommateurs ? Non vérifié ; alternative : courrier à la DGCCRF "
                        "ou à la DDPP."
                    ),
                ),
            ),
        ),
    )
}
