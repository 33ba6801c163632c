"""Checks over the letters' required contents (``cover.letter_specs``, DOMAIN §4, §7, §8).

``letter_missing_fields`` refuses to produce a letter while a required field is empty; the
secrecy and content checks refuse wording that breaches medical secrecy or the letter's own
preconditions.

Field names are dotted paths ("notifier.email"); values may be given flat with those keys or as
nested mappings. The letter tables are re-exported here for the modules that read them with the
checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from cover.letter_specs import (
    CONSTAT_NORM_STATEMENT,
    CONSTAT_RECOMMENDED_OPERATIONS,
    CONSTAT_REQUIRED_OPERATIONS,
    DSA_GOOD_FAITH_STATEMENT,
    GDPR_CNIL_NOTICE,
    GDPR_DEADLINE_REMINDER,
    GDPR_ERASURE_STATEMENT,
    GDPR_LISTING_ARGUMENTS,
    GDPR_OBJECTION_STATEMENT,
    LETTER_SPECS,
    MANDATARIES,
    MISE_EN_DEMEURE_COURT_NOTICE,
    MISE_EN_DEMEURE_OBJECT,
    MISE_EN_DEMEURE_RESERVATION,
    PASSAGE_ITEM_FIELDS,
    LetterField,
    LetterKind,
    LetterSpec,
    Requirement,
    SenderCapacity,
)
from cover.reply_rules import MESSAGES, ReplyIssueCode, ReplySeverity, reply_check
from cover.rules import Route, _

__all__ = [
    "CONSTAT_NORM_STATEMENT",
    "CONSTAT_RECOMMENDED_OPERATIONS",
    "CONSTAT_REQUIRED_OPERATIONS",
    "DDR_LONGER_THAN_MESSAGE",
    "DDR_OVER_MAX_LINES",
    "DSA_GOOD_FAITH_STATEMENT",
    "GDPR_CNIL_NOTICE",
    "GDPR_DEADLINE_REMINDER",
    "GDPR_ERASURE_STATEMENT",
    "GDPR_LISTING_ARGUMENTS",
    "GDPR_OBJECTION_STATEMENT",
    "LETTER_EXTRA_MEDICAL_TERMS",
    "LETTER_PATIENT_MESSAGE",
    "LETTER_ROUTES",
    "LETTER_SECRECY_FIELDS",
    "LETTER_SECRECY_MESSAGE",
    "LETTER_SPECS",
    "LetterField",
    "LetterKind",
    "LetterSpec",
    "MANDATARIES",
    "MISE_EN_DEMEURE_COURT_NOTICE",
    "MISE_EN_DEMEURE_NO_CURE_PERIOD",
    "MISE_EN_DEMEURE_NO_RECIPIENT",
    "MISE_EN_DEMEURE_OBJECT",
    "MISE_EN_DEMEURE_RESERVATION",
    "PASSAGE_ITEM_FIELDS",
    "PUBLIC_REPLY_FIELDS",
    "Requirement",
    "SECRECY_CODES",
    "SenderCapacity",
    "THIRD_PERSON_SECRECY_PATTERNS",
    "letter_content_issues",
    "letter_default_values",
    "letter_droit_de_reponse_length_issues",
    "letter_missing_fields",
    "letter_secrecy_issues",
]


def _lookup(values: Mapping[str, Any], name: str) -> Any:
    if name in values:
        return values[name]
    current: Any = values
    for part in name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | Sequence | set | frozenset):
        return len(value) == 0
    return False


def _applies(spec_field: LetterField, values: Mapping[str, Any]) -> bool:
    if spec_field.required_when is None:
        return True
    other, accepted = spec_field.required_when
    return _lookup(values, other) in accepted


def letter_missing_fields(
    *,
    kind: LetterKind,
    values: Mapping[str, Any],
    include_recommended: bool = False,
    requirement_overrides: Mapping[str, Requirement] | None = None,
) -> list[str]:
    """Names of the required fields (and, if asked, recommended ones) that are empty.

    List fields with ``item_fields`` report missing sub-keys as ``name[index].key``.
    ``requirement_overrides`` lets an insurer's counsel promote or demote a field whose source
    is uncertain (e.g. require the legacy LCEN elements); unknown names raise ``ValueError``.
    """
    fields_ = LETTER_SPECS[kind].fields
    overrides = dict(requirement_overrides or {})
    unknown = set(overrides) - {f.name for f in fields_}
    if unknown:
        raise ValueError(f"unknown fields for {kind.value}: {sorted(unknown)}")
    wanted = {Requirement.REQUIRED} | ({Requirement.RECOMMENDED} if include_recommended else set())
    missing: list[str] = []
    for spec_field in fields_:
        requirement = overrides.get(spec_field.name, spec_field.requirement)
        if requirement not in wanted or not _applies(spec_field, values):
            continue
        value = _lookup(values, spec_field.name)
        if _is_empty(value):
            missing.append(spec_field.name)
            continue
        if spec_field.item_fields:
            if not isinstance(value, list | tuple):
                missing.append(spec_field.name)
                continue
            for index, item in enumerate(value):
                for key in spec_field.item_fields:
                    if not isinstance(item, Mapping) or _is_empty(item.get(key)):
                        missing.append(f"{spec_field.name}[{index}].{key}")
    return missing


def letter_default_values(*, kind: LetterKind) -> dict[str, str]:
    """Fixed wordings to pre-fill (good-faith statement, GDPR article statements...)."""
    return {f.name: f.fixed_text for f in LETTER_SPECS[kind].fields if f.fixed_text is not None}


def letter_droit_de_reponse_length_issues(
    *, reply_text: str, message_text: str, max_lines: int = 200
) -> list[str]:
    """Décret 2007-1527 art. 3: the reply may not exceed the message's length; 200 lines."""
    issues = []
    if len(reply_text) > len(message_text):
        issues.append("REPLY_LONGER_THAN_MESSAGE")
    if len(reply_text.splitlines()) > max_lines:
        issues.append("REPLY_OVER_MAX_LINES")
    return issues


# --------------------------------------------------------------------------------------------
# Letters as acts on the claim: the ladder route each one takes, and its own preconditions
# --------------------------------------------------------------------------------------------

# A letter is the route it carries out: generating or sending it is checked by the ladder as
# taking that route (``cover.ladder.ladder_check_act``). The declaration to the insurer is step
# 0 (DOMAIN §3.2) and no route: it stays open until the claim is closed.
LETTER_ROUTES: Mapping[LetterKind, Route | None] = {
    LetterKind.DSA_NOTICE: Route.DSA_NOTICE,
    LetterKind.DROIT_DE_REPONSE: Route.DROIT_DE_REPONSE,
    LetterKind.GDPR_OBJECTION_ERASURE: Route.GDPR_OBJECTION_ERASURE,
    LetterKind.DEREFERENCING: Route.DEREFERENCING,
    LetterKind.CNIL_COMPLAINT: Route.CNIL_COMPLAINT,
    LetterKind.MISE_EN_DEMEURE: Route.MISE_EN_DEMEURE,
    LetterKind.CONSTAT_ORDER: Route.CONSTAT,
    LetterKind.INSURER_DECLARATION: None,
}

# Free text written for the letter that leaves the practice: medical secrecy applies to it
# (C. pén. 226-13; DOMAIN §4.1 "no medical detail", §4.2 "§5 applies", §4.5 "no medical or
# patient information"). The droit de réponse text is a public reply: every §5.4 block applies.
# Every free-text field the practice writes is checked (not the quotes, which are the author's
# words, nor the passages' legal qualifications, chosen from a list).
LETTER_SECRECY_FIELDS: Mapping[LetterKind, tuple[str, ...]] = {
    LetterKind.DSA_NOTICE: (
        "factual_justification",
        "requested_action",
        "prior_contact_with_author",
    ),
    LetterKind.DROIT_DE_REPONSE: ("reply.text",),
    LetterKind.GDPR_OBJECTION_ERASURE: (
        "particular_situation_grounds",
        "data_concerned",
        "confirmation_request",
    ),
    LetterKind.DEREFERENCING: ("reasons",),
    LetterKind.CNIL_COMPLAINT: ("grounds", "controller_response"),
    LetterKind.MISE_EN_DEMEURE: ("demand",),
    LetterKind.CONSTAT_ORDER: ("navigation_path", "urgency"),
    LetterKind.INSURER_DECLARATION: ("facts",),
}
PUBLIC_REPLY_FIELDS: frozenset[tuple[LetterKind, str]] = frozenset(
    {(LetterKind.DROIT_DE_REPONSE, "reply.text")}
)
# Codes of the reply checks that are about secrecy, for letters that are not public replies:
# a legal letter may name the offence, the court or a date, which a public reply may not.
SECRECY_CODES: frozenset[ReplyIssueCode] = frozenset(
    {
        ReplyIssueCode.VISIT_REFERENCE,
        ReplyIssueCode.MEDICAL_DETAIL,
        ReplyIssueCode.MEDICAL_TERM,
        ReplyIssueCode.RECOLLECTION,
        ReplyIssueCode.PATIENT_STATUS,
    }
)
# A letter speaks of the reviewer in the third person, where the reply checks (written for "vous")
# see nothing: "ce patient", "suivi pour...". Matched on lower-cased, accent-free text.
THIRD_PERSON_SECRECY_PATTERNS: tuple[str, ...] = (
    r"\b(?:ce|cet|cette|notre|mon|ma|nos|mes) (?:patient|patiente|patients|patientes)\b",
    r"\b(?:est|etait|a ete|n'est pas|n'etait pas|n'a jamais ete|n'a pas ete) "
    r"(?:un|une|notre|mon|ma|le|la) (?:patient|patiente)\b",
    r"\b(?:suivie?s?|traitee?s?|soignee?s?|operee?s?|hospitalisee?s?|consultee?s?|"
    r"prise?s? en charge) (?:pour|au cabinet)\b",
    r"\b(?:est|etait|a ete) atteinte?s? d(?:e |'|u |es )",
    r"\bsouffr(?:e|ait|ant) d(?:e |'|u |es )",
)
# Medical terms that the reply checks do not list (they warn there; in a letter they block).
LETTER_EXTRA_MEDICAL_TERMS: tuple[str, ...] = (
    "mélanome",
    "carcinome",
    "lymphome",
    "leucémie",
    "métastase",
    "chimiothérapie",
    "radiothérapie",
    "VIH",
    "sida",
    "hépatite",
    "IVG",
    "psychiatrique",
    "dépistage",
    "grain de beauté",
)
LETTER_PATIENT_MESSAGE = _("ne révélez pas qu'une personne est patient ni sa prise en charge")
LETTER_SECRECY_MESSAGE = _(
    "« %(field)s » : %(message)s (passage « %(match)s »). Un courrier ne doit contenir aucune "
    "information médicale ni relative à un patient (secret médical, C. pén. 226-13)."
)
DDR_LONGER_THAN_MESSAGE = _(
    "La réponse (%(reply)s caractères) dépasse la longueur du message mis en cause "
    "(%(message)s caractères) (décret n° 2007-1527, art. 3)."
)
DDR_OVER_MAX_LINES = _("La réponse dépasse 200 lignes (décret n° 2007-1527, art. 3 [SEC]).")
MISE_EN_DEMEURE_NO_RECIPIENT = _(
    "Indiquez le destinataire de la mise en demeure (l'auteur ou l'éditeur) : elle doit "
    "interpeller une personne (C. civ. art. 1344)."
)
MISE_EN_DEMEURE_NO_CURE_PERIOD = _(
    "Fixez le délai imparti en jours (nombre entier, au moins 1) : une mise en demeure sans délai "
    "pour s'exécuter n'est pas valable (CA Paris 19 mars 2013, n° 12/03448)."
)


def _letter_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def letter_secrecy_issues(
    *,
    kind: LetterKind,
    field_name: str,
    text: str,
    reviewer_identifiers: Sequence[str] = (),
) -> list[str]:
    """French reasons why ``text``, written for a letter of ``kind``, breaks medical secrecy
    (or, for a public reply, any hard block of DOMAIN §5.4)."""
    if not text.strip():
        return []
    label = next((f.label for f in LETTER_SPECS[kind].fields if f.name == field_name), field_name)
    public = (kind, field_name) in PUBLIC_REPLY_FIELDS
    issues = reply_check(
        text=text,
        reviewer_identifiers=reviewer_identifiers if public else (),
        extra_medical_terms=LETTER_EXTRA_MEDICAL_TERMS,
        public=public,
    )
    normalized = unicodedata.normalize("NFC", text)
    folded = _letter_fold(normalized)
    third_person: list[tuple[int, int]] = []
    if len(folded) == len(normalized):
        for pattern in THIRD_PERSON_SECRECY_PATTERNS:
            third_person += [(m.start(), m.end()) for m in re.finditer(pattern, folded)]
    found: list[tuple[str, str]] = []
    for issue in issues:
        blocks = issue.severity is ReplySeverity.BLOCK if public else issue.code in SECRECY_CODES
        if public and issue.code is ReplyIssueCode.MEDICAL_TERM:
            blocks = True
        if not blocks:
            continue
        message = str(issue.message)
        if not public:
            # A letter speaks of the author in the third person: the letter's own wording.
            if issue.code is ReplyIssueCode.PATIENT_STATUS:
                if any(s < issue.end and issue.start < e for s, e in third_person):
                    continue  # reported below by the third-person pattern
                message = str(LETTER_PATIENT_MESSAGE)
            elif issue.code is ReplyIssueCode.MEDICAL_DETAIL:
                message = str(MESSAGES[ReplyIssueCode.MEDICAL_TERM])
        found.append((message, issue.match))
    for start, end in third_person:
        found.append((str(LETTER_PATIENT_MESSAGE), normalized[start:end]))
    seen: set[tuple[str, str]] = set()
    reasons = []
    for message, match in found:
        if (message, match) in seen:
            continue
        seen.add((message, match))
        reasons.append(
            LETTER_SECRECY_MESSAGE
            % {"field": label, "message": message.rstrip("."), "match": match.strip()}
        )
    return reasons


def _positive_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 1
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) >= 1
    return False


def letter_content_issues(
    *,
    kind: LetterKind,
    values: Mapping[str, Any],
    message_text: str,
    reviewer_identifiers: Sequence[str] = (),
) -> list[str]:
    """French reasons why the letter's own contents refuse it, beyond empty fields.

    Droit de réponse: no longer than the message that provoked it (décret 2007-1527 art. 3).
    Mise en demeure: a recipient and a cure period (CA Paris 19 Mar 2013). Every letter: no
    medical secret in the free text it carries (``LETTER_SECRECY_FIELDS``).
    """
    reasons: list[str] = []
    if kind is LetterKind.DROIT_DE_REPONSE:
        reply = _lookup(values, "reply.text")
        if isinstance(reply, str) and reply.strip():
            codes = letter_droit_de_reponse_length_issues(
                reply_text=reply.strip(), message_text=message_text
            )
            if "REPLY_LONGER_THAN_MESSAGE" in codes:
                reasons.append(
                    DDR_LONGER_THAN_MESSAGE
                    % {"reply": len(reply.strip()), "message": len(message_text)}
                )
            if "REPLY_OVER_MAX_LINES" in codes:
                reasons.append(str(DDR_OVER_MAX_LINES))
    if kind is LetterKind.MISE_EN_DEMEURE:
        if _is_empty(_lookup(values, "recipient.name")):
            reasons.append(str(MISE_EN_DEMEURE_NO_RECIPIENT))
        if not _positive_int(_lookup(values, "compliance_deadline_days")):
            reasons.append(str(MISE_EN_DEMEURE_NO_CURE_PERIOD))
    for name in LETTER_SECRECY_FIELDS.get(kind, ()):
        text = _lookup(values, name)
        if isinstance(text, str):
            reasons += letter_secrecy_issues(
                kind=kind,
                field_name=name,
                text=text,
                reviewer_identifiers=reviewer_identifiers,
            )
    return reasons
