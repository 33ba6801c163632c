"""What the reply check reports: a category (``ReplyIssueCode``), a severity, a plain French
message and the offending span (offsets in the NFC-normalised text)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cover.rules import _


class ReplySeverity(StrEnum):
    BLOCK = "BLOCK"
    WARN = "WARN"


class ReplyIssueCode(StrEnum):
    PATIENT_IDENTIFIER = "PATIENT_IDENTIFIER"
    VISIT_DATE_OR_TIME = "VISIT_DATE_OR_TIME"
    VISIT_REFERENCE = "VISIT_REFERENCE"
    MEDICAL_DETAIL = "MEDICAL_DETAIL"
    RECOLLECTION = "RECOLLECTION"
    PATIENT_STATUS = "PATIENT_STATUS"
    ACCUSATION_OR_THREAT = "ACCUSATION_OR_THREAT"
    INSULT = "INSULT"
    THREAT = "THREAT"
    SARCASM = "SARCASM"
    PROMOTION = "PROMOTION"
    TOO_LONG = "TOO_LONG"
    SPECIFIC_EVENT = "SPECIFIC_EVENT"
    EMOJI = "EMOJI"
    MEDICAL_TERM = "MEDICAL_TERM"
    TIME_MENTION = "TIME_MENTION"
    NEEDS_REVIEW = "NEEDS_REVIEW"


@dataclass(frozen=True)
class ReplyIssue:
    """One finding. ``message`` is plain French; ``match`` is ``text[start:end]``."""

    code: ReplyIssueCode
    severity: ReplySeverity
    message: str
    start: int
    end: int
    match: str

    @property
    def category(self) -> ReplyIssueCode:
        return self.code

    @property
    def span(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.match)


MESSAGES: dict[ReplyIssueCode, str] = {
    ReplyIssueCode.PATIENT_IDENTIFIER: _(
        "Ne reprenez ni le nom, ni les initiales, ni le pseudonyme de l'auteur."
    ),
    ReplyIssueCode.VISIT_DATE_OR_TIME: _("Aucune date ni heure de visite."),
    ReplyIssueCode.VISIT_REFERENCE: _(
        "N'évoquez pas « votre consultation », « votre rendez-vous », « votre traitement », "
        "« votre dossier » ni une visite : cela confirme une prise en charge."
    ),
    ReplyIssueCode.MEDICAL_DETAIL: _(
        "Aucun diagnostic, symptôme, médicament, examen ou acte rattaché à l'auteur (secret "
        "médical, C. pén. 226-13)."
    ),
    ReplyIssueCode.RECOLLECTION: _(
        "Pas de souvenir de la rencontre (« je me souviens », « comme je vous l'ai dit », "
        "« lors de votre passage »)."
    ),
    ReplyIssueCode.PATIENT_STATUS: _(
        "Ne confirmez ni ne niez que l'auteur est un patient : c'est déjà une révélation."
    ),
    ReplyIssueCode.ACCUSATION_OR_THREAT: _(
        "Pas d'accusation ni de menace judiciaire en public (R4127-31) ; les suites "
        "juridiques passent par l'avocat."
    ),
    ReplyIssueCode.INSULT: _(
        "Pas de jugement ni d'insulte envers l'auteur : une réponse agressive déconsidère la "
        "profession (R4127-31)."
    ),
    ReplyIssueCode.THREAT: _(
        "Pas de menace, même voilée (« faute de quoi… », « retirez ce commentaire ») : une "
        "demande de retrait passe par l'avocat, pas par une réponse publique."
    ),
    ReplyIssueCode.SARCASM: _("Pas d'ironie ni de ton agressif (R4127-31)."),
    ReplyIssueCode.PROMOTION: _(
        "Pas d'affirmation promotionnelle ou comparative (R4127-19 et R4127-19-1)."
    ),
    ReplyIssueCode.TOO_LONG: _("Réponse longue (plus de 600 caractères) : soyez bref."),
    ReplyIssueCode.SPECIFIC_EVENT: _(
        "Récit à la première personne d'un événement précis : restez général."
    ),
    ReplyIssueCode.EMOJI: _("Évitez les émojis."),
    ReplyIssueCode.MEDICAL_TERM: _(
        "Terme médical : vérifiez qu'il ne peut pas être rattaché à l'auteur."
    ),
    ReplyIssueCode.TIME_MENTION: _(
        "Horaire mentionné : vérifiez qu'il ne désigne pas l'heure d'une visite."
    ),
    ReplyIssueCode.NEEDS_REVIEW: _(
        "À faire relire : ce passage pourrait révéler une prise en charge ou manquer de neutralité."
    ),
}

# DOMAIN §5.4 soft warnings (and « à faire relire »); every other code is a hard block.
WARNING_CODES: frozenset[ReplyIssueCode] = frozenset(
    {
        ReplyIssueCode.TOO_LONG,
        ReplyIssueCode.SPECIFIC_EVENT,
        ReplyIssueCode.EMOJI,
        ReplyIssueCode.MEDICAL_TERM,
        ReplyIssueCode.TIME_MENTION,
        ReplyIssueCode.NEEDS_REVIEW,
    }
)
SEVERITY: dict[ReplyIssueCode, ReplySeverity] = {
    code: ReplySeverity.WARN if code in WARNING_CODES else ReplySeverity.BLOCK
    for code in ReplyIssueCode
}
