"""Reply assistant: hard blocks and warnings of DOMAIN §5.4, and the thank / explain / contact
structure of §5.3.

Why: a public reply to a review is where doctors most easily break medical secrecy (C. pén.
226-13: confirming that the reviewer is a patient is already a disclosure), the dignity of the
profession (R4127-31) or the advertising rules (R4127-19-1). The check itself lives in
``cover.reply_check`` (a French spaCy pipeline with patterns, lemmas, morphology, entities and
word vectors); this module keeps the public names its callers use and adds the proposal and the
"no reply" option. A false alarm costs a rewrite, a miss can cost a disciplinary sanction: when
the check is unsure it warns « à faire relire ».

Offsets of issues refer to the text after Unicode NFC normalisation (what a browser sends).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cover.reply_check.engine import check_text
from cover.reply_check.findings import (
    MESSAGES,
    SEVERITY,
    WARNING_CODES,
    ReplyIssue,
    ReplyIssueCode,
    ReplySeverity,
)
from cover.reply_check.lexicons import fold as _fold
from cover.reply_check.patterns import MAX_REPLY_CHARS, PATTERNS
from cover.rules import (
    CATEGORY_RULES,
    CAVEAT_REPLY_CONFLICT,
    Caveat,
    Confidence,
    ContentCategory,
    _,
)

__all__ = [
    "MAX_REPLY_CHARS",
    "MESSAGES",
    "PATTERNS",
    "SEVERITY",
    "WARNING_CODES",
    "ReplyIssue",
    "ReplyIssueCode",
    "ReplySeverity",
    "_fold",
]


def reply_check(
    *,
    text: str,
    reviewer_identifiers: Sequence[str] = (),
    extra_medical_terms: Sequence[str] = (),
    public: bool = True,
) -> list[ReplyIssue]:
    """All issues of a draft reply, sorted by position; any BLOCK issue rejects the draft.

    ``reviewer_identifiers``: the author's name and pseudonym as shown on the review (so they are
    never echoed back). A health term or a clock time blocks when its sentence also addresses
    the reader (vous, votre...) or designates a person, i.e. could be tied to the reviewer;
    alone it only warns. See ``cover.reply_check.engine.check_text``.
    """
    return check_text(
        text=text,
        reviewer_identifiers=reviewer_identifiers,
        extra_medical_terms=extra_medical_terms,
        public=public,
    )


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
