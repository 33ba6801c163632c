"""Reply assistant: hard blocks and warnings of DOMAIN §5.4, and the thank / explain / contact
structure of §5.3.

Why: a public reply to a review is where doctors most easily break medical secrecy (C. pén.
226-13: confirming that the reviewer is a patient is already a disclosure), the dignity of the
profession (R4127-31) or the advertising rules (R4127-19-1). The checks are deliberately broad
pattern lists: a false alarm costs a rewrite, a miss can cost a disciplinary sanction.

Offsets of issues refer to the text after Unicode NFC normalisation (what a browser sends).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cover.rules import (
    CATEGORY_RULES,
    CAVEAT_REPLY_CONFLICT,
    Caveat,
    Confidence,
    ContentCategory,
    _,
)

MAX_REPLY_CHARS = 600  # soft limit of DOMAIN §5.4 ("about 600 characters")


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
    SARCASM = "SARCASM"
    PROMOTION = "PROMOTION"
    TOO_LONG = "TOO_LONG"
    SPECIFIC_EVENT = "SPECIFIC_EVENT"
    EMOJI = "EMOJI"
    MEDICAL_TERM = "MEDICAL_TERM"
    TIME_MENTION = "TIME_MENTION"


@dataclass(frozen=True)
class ReplyIssue:
    code: ReplyIssueCode
    severity: ReplySeverity
    message: str
    start: int
    end: int
    match: str


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
}

# DOMAIN §5.4 soft warnings; every other code is a hard block.
WARNING_CODES: frozenset[ReplyIssueCode] = frozenset(
    {
        ReplyIssueCode.TOO_LONG,
        ReplyIssueCode.SPECIFIC_EVENT,
        ReplyIssueCode.EMOJI,
        ReplyIssueCode.MEDICAL_TERM,
        ReplyIssueCode.TIME_MENTION,
    }
)
SEVERITY: dict[ReplyIssueCode, ReplySeverity] = {
    code: ReplySeverity.WARN if code in WARNING_CODES else ReplySeverity.BLOCK
    for code in ReplyIssueCode
}

# Patterns match the folded text: lower case, accents removed, typographic apostrophes and
# non-breaking spaces replaced (same length as the original, so offsets carry over).
_MONTHS = (
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)"
)
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_VISIT_NOUNS = (
    r"(?:consultations?|rendez-vous|rdv|traitements?|dossiers?|visites?|venue|passage|sejour"
    r"|hospitalisation|operation|intervention|examens?|ordonnance|prescription|prise en charge)"
)
_PATIENT = r"(?:patient|patiente)"

PATTERNS: dict[ReplyIssueCode, tuple[str, ...]] = {
    ReplyIssueCode.VISIT_DATE_OR_TIME: (
        r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b",
        rf"\b(?:1er|\d{{1,2}})\s+{_MONTHS}\b",
        rf"\b{_MONTHS}\s+\d{{4}}\b",
        rf"\b{_WEEKDAYS}\s+dernier\b",
        rf"\bce\s+{_WEEKDAYS}\b",
        r"\b(?:hier|avant-hier|l'autre jour|ce matin|cet apres-midi)\b",
        r"\b(?:la semaine|le mois) derni(?:er|ere)\b",
    ),
    ReplyIssueCode.VISIT_REFERENCE: (rf"\b(?:votre|vos|ton|ta|tes)\s+{_VISIT_NOUNS}\b",),
    ReplyIssueCode.RECOLLECTION: (
        r"\bje me (?:souviens|rappelle)\b",
        r"\bnous nous (?:souvenons|rappelons)\b",
        r"\bcomme je (?:vous )?l'(?:ai|avais) (?:dit|explique|indique|precise)\b",
        r"\blors de (?:votre|ton) passage\b",
    ),
    ReplyIssueCode.PATIENT_STATUS: (
        rf"\b(?:mon|ma|notre) {_PATIENT}\b",
        rf"\bvous (?:n'|ne )?(?:etes|etiez|avez ete) (?:pas |jamais )?"
        rf"(?:un|une|notre|mon|ma|le|la) {_PATIENT}\b",
        r"\bvous n'(?:etes|etiez|avez) jamais\b",
        r"\b(?:je ne vous ai|nous ne vous avons) jamais\b",
        r"\b(?:je ne vous connais|nous ne vous connaissons) pas\b",
        r"\b(?:je vous ai|nous vous avons) (?:vue?|recue?|examinee?|soignee?|operee?|suivie?"
        r"|pris en charge|prise en charge)\b",
        r"\bvous (?:etes|etiez) (?:venue?s?|passee?s?)\b",
        r"\bvous avez (?:consulte|ete (?:recue?|vue?|prise? en charge|soignee?|operee?))\b",
        rf"\baucune? (?:{_PATIENT}|dossier|trace)\b",
        r"\binconnue?s? (?:de|dans) (?:nos|notre|mes)\b",
    ),
    ReplyIssueCode.ACCUSATION_OR_THREAT: (
        r"\b(?:porter|deposer|deposerai|deposerons|porterai|porterons) plainte\b",
        r"\bpoursuites?\b",
        r"\b(?:avocats?|tribunal|tribunaux|justice|juge|huissier|commissaire de justice)\b",
        r"\bdiffamat\w*",
        r"\bcalomni\w*",
        r"\binjur\w*",
        r"\bmise en demeure\b",
        r"\bdommages[- ]et[- ]interets\b",
        r"\bmensong\w*",
        r"\bmenteu\w*",
        r"\bvous mentez\b",
        r"\bfaux avis\b",
        r"\bmauvaise foi\b",
        r"\bmalhonnet\w*",
        r"\bvous (?:inventez|affabulez|exagerez)\b",
    ),
    ReplyIssueCode.SARCASM: (
        r"\bcomme par hasard\b",
        r"\bquelle surprise\b",
        r"\bben voyons\b",
        r"\blaissez-moi rire\b",
        r"\bsans rire\b",
        r"\bbravo\b",
        r"\b(?:mdr|lol)\b",
        r"!{2,}|\?!|!\?",
    ),
    ReplyIssueCode.PROMOTION: (
        r"\b(?:le|la|les) meilleur(?:e|s|es)?\b(?!\s+delais)",
        r"\baucune plainte\b",
        r"\btaux de (?:reussite|succes|satisfaction|guerison)\b",
        r"\b\d+(?:[.,]\d+)?\s?%",
        r"\bavant[- /]apres\b",
        r"\bn\s?°\s?1\b",
        r"\bnumero (?:un|1)\b",
        r"\bleader\b",
        r"\bmieux que\b",
        r"\bcontrairement (?:a|aux) (?:d'autres|\w+) (?:confreres|medecins|praticiens|cabinets)\b",
        r"\b(?:resultats? )?garanti(?:e|s|es)?\b",
        r"\bexcellent(?:e|s|es)? (?:resultats?|soins|avis|praticiens?)\b",
        r"\b(?:patients|patientes|clients) (?:satisfaits|ravis|contents|enchantes)\b",
        r"\bdes (?:milliers|centaines) de\b",
        r"\ble plus (?:experimente|reconnu|competent)\b",
        r"\b(?:5|cinq) etoiles\b",
    ),
    ReplyIssueCode.SPECIFIC_EVENT: (
        r"\b(?:ce jour-la|ce jour la|a ce moment-la)\b",
        r"\bj'ai (?:du|constate|remarque|vu|recu|examine|appris|eu)\b",
        r"\bje vous ai\b",
    ),
}

MEDICAL_TERMS: tuple[str, ...] = (
    "diagnostic",
    "diagnostique",
    "symptome",
    "douleur",
    "fievre",
    "infection",
    "cancer",
    "tumeur",
    "diabete",
    "depression",
    "maladie",
    "pathologie",
    "allergie",
    "fracture",
    "ordonnance",
    "medicament",
    "antibiotique",
    "posologie",
    "vaccin",
    "injection",
    "piqure",
    "analyse",
    "prise de sang",
    "bilan sanguin",
    "radio",
    "radiographie",
    "irm",
    "scanner",
    "echographie",
    "biopsie",
    "operation",
    "chirurgie",
    "anesthesie",
    "suture",
    "cicatrice",
    "prothese",
    "implant",
    "botox",
    "acide hyaluronique",
    "greffe",
    "grossesse",
    "accouchement",
    "frottis",
    "lesion",
    "arret de travail",
    "hospitalisation",
)

_SECOND_PERSON = re.compile(r"\b(?:vous|votre|vos|tu|ton|ta|tes|toi)\b")
_TIME = re.compile(r"\b\d{1,2}\s?h\s?(?:\d{2})?\b")
_SENTENCE = re.compile(r"[^.!?;\n]+")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff]|[:;]-?[()dDpP](?!\\w)"
)
_CHAR_FOLD = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00a0": " ", "\u202f": " "}


def _fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes, keeping one character per character."""
    folded = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0]
        lower = base.lower()
        folded.append(_CHAR_FOLD.get(lower, lower if len(lower) == 1 else base))
    return "".join(folded)


def _term_pattern(term: str) -> str:
    """Whole-word pattern for a folded term, tolerating a plural -s / -x."""
    return rf"(?<!\w){re.escape(_fold(term))}(?:s|x)?(?!\w)"


def _identifier_patterns(identifier: str) -> list[str]:
    """The identifier itself, each of its words, and its initials (J. D., J.D., JD)."""
    folded = _fold(identifier).strip()
    if not folded:
        return []
    patterns = [rf"(?<!\w){re.escape(folded)}(?!\w)"]
    words = [w for w in re.split(r"[\s\-]+", folded) if w]
    if len(words) > 1:
        patterns += [rf"(?<!\w){re.escape(w)}(?!\w)" for w in words if len(w) >= 2]
        initials = r"\.?\s?".join(re.escape(w[0]) for w in words)
        patterns.append(rf"(?<!\w){initials}\.?(?!\w)")
    return patterns


def _issue(code: ReplyIssueCode, text: str, start: int, end: int) -> ReplyIssue:
    return ReplyIssue(
        code=code,
        severity=SEVERITY[code],
        message=MESSAGES[code],
        start=start,
        end=end,
        match=text[start:end],
    )


def reply_check(
    *,
    text: str,
    reviewer_identifiers: Sequence[str] = (),
    extra_medical_terms: Sequence[str] = (),
) -> list[ReplyIssue]:
    """All issues of a draft reply, sorted by position; any BLOCK issue rejects the draft.

    ``reviewer_identifiers``: the author's name and pseudonym as shown on the review (so they are
    never echoed back). A medical term or a clock time blocks when its sentence also addresses
    the reader (vous, votre...), i.e. could be tied to the reviewer; alone it only warns.
    """
    text = unicodedata.normalize("NFC", text)
    folded = _fold(text)
    found: dict[tuple[ReplyIssueCode, int, int], ReplyIssue] = {}

    def add(code: ReplyIssueCode, start: int, end: int) -> None:
        found.setdefault((code, start, end), _issue(code, text, start, end))

    for identifier in reviewer_identifiers:
        for pattern in _identifier_patterns(identifier):
            for m in re.finditer(pattern, folded):
                add(ReplyIssueCode.PATIENT_IDENTIFIER, m.start(), m.end())
    for code, patterns in PATTERNS.items():
        for pattern in patterns:
            for m in re.finditer(pattern, folded):
                add(code, m.start(), m.end())

    terms = [_term_pattern(t) for t in (*MEDICAL_TERMS, *extra_medical_terms) if t.strip()]
    for sentence in _SENTENCE.finditer(folded):
        addressed = bool(_SECOND_PERSON.search(sentence.group()))
        offset = sentence.start()
        for pattern in terms:
            for m in re.finditer(pattern, sentence.group()):
                code = ReplyIssueCode.MEDICAL_DETAIL if addressed else ReplyIssueCode.MEDICAL_TERM
                add(code, offset + m.start(), offset + m.end())
        for m in _TIME.finditer(sentence.group()):
            code = ReplyIssueCode.VISIT_DATE_OR_TIME if addressed else ReplyIssueCode.TIME_MENTION
            add(code, offset + m.start(), offset + m.end())

    for m in _EMOJI.finditer(text):
        add(ReplyIssueCode.EMOJI, m.start(), m.end())
    if len(text) > MAX_REPLY_CHARS:
        add(ReplyIssueCode.TOO_LONG, MAX_REPLY_CHARS, len(text))
    return sorted(found.values(), key=lambda i: (i.start, i.end, i.code.value))


def reply_blocking_issues(*, issues: Iterable[ReplyIssue]) -> list[ReplyIssue]:
    return [i for i in issues if i.severity is ReplySeverity.BLOCK]


# --------------------------------------------------------------------------------------------
# Proposal: thank → explain generally → offer private contact → sign neutrally (DOMAIN §5.3)
# --------------------------------------------------------------------------------------------


class ReplyTopic(StrEnum):
    """What the general explanation is about: the practice, never the case."""

    DELAYS = "DELAYS"
    APPOINTMENT_AVAILABILITY = "APPOINTMENT_AVAILABILITY"
    EMERGENCIES = "EMERGENCIES"
    PHONE_REACHABILITY = "PHONE_REACHABILITY"


REPLY_THANKS = _("Bonjour, nous vous remercions d'avoir pris le temps de partager votre ressenti.")
REPLY_SECRECY = _(
    "Dans le respect du secret médical, nous ne pouvons évoquer publiquement aucune situation "
    "individuelle."
)
REPLY_FIRST_TOPIC_LEAD = _("De manière générale, ")
REPLY_NEXT_TOPIC_LEAD = _("Par ailleurs, ")
REPLY_TOPIC_BODIES: dict[ReplyTopic, str] = {
    ReplyTopic.DELAYS: _(
        "le cabinet s'efforce de respecter les horaires ; des urgences peuvent toutefois "
        "occasionner des retards, ce que nous regrettons."
    ),
    ReplyTopic.APPOINTMENT_AVAILABILITY: _(
        "les délais d'attente dépendent des disponibilités du cabinet, qui s'efforce de "
        "proposer des créneaux au plus tôt."
    ),
    ReplyTopic.EMERGENCIES: _(
        "le cabinet organise ses journées de façon à pouvoir recevoir les urgences, ce qui peut "
        "décaler les horaires prévus."
    ),
    ReplyTopic.PHONE_REACHABILITY: _(
        "le secrétariat s'efforce de répondre à tous les appels ; aux heures de forte "
        "affluence, l'attente peut être plus longue."
    ),
}
REPLY_PRIVATE_CONTACT = _(
    "Si vous le souhaitez, nous vous invitons à contacter directement le cabinet afin "
    "d'échanger en toute confidentialité."
)
REPLY_SIGNATURE = "— {signature}"


def reply_propose(*, signature: str, topics: Sequence[ReplyTopic] = ()) -> str:
    """A French reply following thank / explain generally / private contact / neutral signature.

    With ``topics=[ReplyTopic.DELAYS]`` and ``signature="Cabinet du Dr X"`` this is the example of
    DOMAIN §5.4 word for word. Raises ``ValueError`` if the result (through the signature) hits a
    hard block: the assistant never proposes a text it would reject.
    """
    if not signature.strip():
        raise ValueError("signature is required")
    parts = [REPLY_THANKS, REPLY_SECRECY]
    for index, topic in enumerate(dict.fromkeys(topics)):
        lead = REPLY_FIRST_TOPIC_LEAD if index == 0 else REPLY_NEXT_TOPIC_LEAD
        parts.append(lead + REPLY_TOPIC_BODIES[topic])
    parts.append(REPLY_PRIVATE_CONTACT)
    parts.append(REPLY_SIGNATURE.format(signature=signature.strip()))
    text = " ".join(parts)
    blocking = reply_blocking_issues(issues=reply_check(text=text))
    if blocking:
        raise ValueError(f"proposal hits hard blocks: {[i.code.value for i in blocking]}")
    return text


# --------------------------------------------------------------------------------------------
# Whether to reply at all (DOMAIN §5.4: "no reply" is always offered)
# --------------------------------------------------------------------------------------------


class ReplyOption(StrEnum):
    NO_REPLY = "NO_REPLY"
    REPLY = "REPLY"


@dataclass(frozen=True)
class ReplyChoice:
    options: tuple[ReplyOption, ...]
    default: ReplyOption
    caveats: tuple[Caveat, ...]


CAVEAT_ILLICIT_NO_REPLY = Caveat(
    Confidence.SEC,
    _(
        "Contenu illicite : ne pas répondre préserve la voie judiciaire ; une réponse ne se "
        "conçoit qu'avec l'avocat."
    ),
)


def reply_options(
    *,
    categories: Iterable[ContentCategory],
    lawful_default: ReplyOption = ReplyOption.NO_REPLY,
) -> ReplyChoice:
    """Offer "no reply" always; make it the default for illicit content.

    For lawful reviews the default is configurable: the CNOM's 2018 guide and its 2025
    Observatoire disagree [CONFLICT], and the caveat says so.
    """
    category_set = set(categories)
    options = (ReplyOption.NO_REPLY, ReplyOption.REPLY)
    if any(CATEGORY_RULES[c].illicit for c in category_set):
        return ReplyChoice(options, ReplyOption.NO_REPLY, (CAVEAT_ILLICIT_NO_REPLY,))
    return ReplyChoice(options, lawful_default, (CAVEAT_REPLY_CONFLICT,))
