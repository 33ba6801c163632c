"""Questionnaire → proposed legal category per passage, in the decision order of DOMAIN §2.2.

Why per passage: letters must quote the exact passages, and a writ that does not choose one
qualification per passage is void (CA Nouméa 13 May 2013; CA Paris 15 Feb 2011). The order
matters: a precise factual imputation absorbs an insult that cannot be separated from it, and an
attack on the person takes the loi 1881 route before any dénigrement (C. civ. 1240) claim.

The result is a proposal for the claims handler and the avocat, never a legal decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cover.rules import CATEGORY_RULES, Caveat, Confidence, ContentCategory, _


class DiscriminatoryGround(StrEnum):
    """Grounds of loi 1881 arts 24, 32 al. 2, 33 al. 3 (sex, orientation, disability: 2014)."""

    ORIGIN = "ORIGIN"
    ETHNICITY = "ETHNICITY"
    NATION = "NATION"
    RACE = "RACE"
    RELIGION = "RELIGION"
    SEX = "SEX"
    SEXUAL_ORIENTATION = "SEXUAL_ORIENTATION"
    GENDER_IDENTITY = "GENDER_IDENTITY"
    DISABILITY = "DISABILITY"


@dataclass(frozen=True)
class PassageAnswers:
    """Answers for one passage (quote plus offsets in the captured text)."""

    quote: str
    start: int
    end: int
    discriminatory_grounds: frozenset[DiscriminatoryGround] = frozenset()
    calls_to_discrimination_or_violence: bool = False
    precise_factual_imputation: bool = False
    outrageous_expression: bool = False
    targets_services_not_person: bool = False
    discloses_private_life: bool = False
    shows_picture_or_video: bool = False


@dataclass(frozen=True)
class Questionnaire:
    """``page_is_listing`` is step 1: it applies to the page and coexists with the passages."""

    page_is_listing: bool
    passages: tuple[PassageAnswers, ...]


@dataclass(frozen=True)
class Question:
    field: str
    step: int
    text: str
    help: str = ""


QUESTIONS: tuple[Question, ...] = (
    Question(
        "page_is_listing",
        1,
        _("La page est-elle une fiche (nom, adresse, téléphone, horaires) plutôt qu'une opinion ?"),
    ),
    Question(
        "discriminatory_grounds",
        2,
        _(
            "Le passage s'en prend-il au médecin en raison de son origine, son ethnie, sa "
            "nation, sa prétendue race, sa religion, son sexe, son orientation sexuelle, son "
            "identité de genre ou son handicap ?"
        ),
    ),
    Question(
        "calls_to_discrimination_or_violence",
        2,
        _("Le passage appelle-t-il d'autres personnes à la discrimination ou à la violence ?"),
        _("Seul un appel effectif caractérise la provocation (art. 24)."),
    ),
    Question(
        "precise_factual_imputation",
        3,
        _(
            "Le passage impute-t-il au médecin un fait précis, dont la vérité pourrait être "
            "débattue, et qui porte atteinte à son honneur ou à sa réputation ?"
        ),
        _(
            "Y compris sous forme de question ou de doute, et même si le médecin n'est pas "
            "nommé mais reste identifiable."
        ),
    ),
    Question(
        "outrageous_expression",
        4,
        _(
            "Le passage contient-il une expression outrageante, un terme de mépris ou une "
            "invective, sans imputer de fait ?"
        ),
        _(
            "Si l'injure est séparable d'une imputation diffamatoire, isolez-la dans un passage "
            "distinct."
        ),
    ),
    Question(
        "targets_services_not_person",
        5,
        _(
            "Le passage critique-t-il la qualité des services ou produits, et non la personne "
            "du médecin ?"
        ),
    ),
    Question(
        "discloses_private_life",
        6,
        _(
            "Le passage révèle-t-il la vie privée du médecin (santé, famille, adresse "
            "personnelle, faits intimes) ?"
        ),
    ),
    Question(
        "shows_picture_or_video", 6, _("Le passage montre-t-il une photo ou une vidéo du médecin ?")
    ),
)


@dataclass(frozen=True)
class DecisionStep:
    """One test of DOMAIN §2.2: the first step whose answer is truthy decides the category."""

    step: int
    answer_field: str
    category: ContentCategory


DECISION_STEPS: tuple[DecisionStep, ...] = (
    DecisionStep(2, "discriminatory_grounds", ContentCategory.DISCRIMINATORY_SPEECH),
    DecisionStep(3, "precise_factual_imputation", ContentCategory.DIFFAMATION),
    DecisionStep(4, "outrageous_expression", ContentCategory.INJURE),
    DecisionStep(5, "targets_services_not_person", ContentCategory.DENIGREMENT),
    DecisionStep(6, "discloses_private_life", ContentCategory.PRIVACY),
    DecisionStep(6, "shows_picture_or_video", ContentCategory.IMAGE_RIGHTS),
)
FALLBACK_STEP = 7  # LAWFUL_NEGATIVE: rude, subjective, unfair, but within free expression
LISTING_STEP = 1


@dataclass(frozen=True)
class Qualification:
    """Precise qualification inside a category, chosen by the first truthy answer field."""

    answer_field: str | None  # None: the fallback
    label: str
    legal_basis: str


# Discriminatory speech is usually an aggravated diffamation or injure; provocation needs an
# actual call to discriminate or to violence (DOMAIN C7, Dalloz actualité 25 Nov 2011).
QUALIFICATIONS: Mapping[ContentCategory, tuple[Qualification, ...]] = {
    ContentCategory.DISCRIMINATORY_SPEECH: (
        Qualification(
            "calls_to_discrimination_or_violence",
            _("Provocation à la discrimination, à la haine ou à la violence"),
            _("Loi du 29 juillet 1881, art. 24"),
        ),
        Qualification(
            "precise_factual_imputation",
            _("Diffamation aggravée à caractère discriminatoire"),
            _("Loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 2"),
        ),
        Qualification(
            "outrageous_expression",
            _("Injure aggravée à caractère discriminatoire"),
            _("Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 3"),
        ),
        Qualification(
            None,
            _("Propos discriminatoires : qualification à arrêter par l'avocat"),
            _("Loi du 29 juillet 1881, art. 24, 32 al. 2 ou 33 al. 3"),
        ),
    ),
    ContentCategory.DIFFAMATION: (
        Qualification(
            None,
            _("Diffamation publique envers un particulier"),
            _("Loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 1"),
        ),
    ),
    ContentCategory.INJURE: (
        Qualification(
            None,
            _("Injure publique envers un particulier"),
            _("Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 2"),
        ),
    ),
    ContentCategory.DENIGREMENT: (Qualification(None, _("Dénigrement"), _("C. civ. art. 1240")),),
    ContentCategory.PRIVACY: (
        Qualification(None, _("Atteinte à la vie privée"), _("C. civ. art. 9")),
    ),
    ContentCategory.IMAGE_RIGHTS: (
        Qualification(None, _("Atteinte au droit à l'image"), _("C. civ. art. 9")),
    ),
    ContentCategory.LAWFUL_NEGATIVE: (
        Qualification(
            None,
            _("Avis négatif licite (liberté d'expression)"),
            _("Aucun fondement de retrait"),
        ),
    ),
    ContentCategory.PERSONAL_DATA_LISTING: (
        Qualification(
            None,
            _("Fiche professionnelle : traitement de données personnelles"),
            _("RGPD art. 21(1) et 17(1)(c)"),
        ),
    ),
}

CAVEAT_PROPOSAL = Caveat(
    Confidence.UNVERIFIED,
    _("Qualification proposée par questionnaire : à valider par l'avocat avant toute lettre."),
)


@dataclass(frozen=True)
class PassageClassification:
    quote: str
    start: int
    end: int
    category: ContentCategory
    step: int
    qualification: str
    legal_basis: str
    caveats: tuple[Caveat, ...]


@dataclass(frozen=True)
class ClassificationResult:
    listing: PassageClassification | None
    passages: tuple[PassageClassification, ...]
    categories: tuple[ContentCategory, ...]
    caveats: tuple[Caveat, ...]


def _qualify(category: ContentCategory, answers: PassageAnswers) -> Qualification:
    for qualification in QUALIFICATIONS[category]:
        if qualification.answer_field is None or getattr(answers, qualification.answer_field):
            return qualification
    raise ValueError(f"no fallback qualification for {category}")  # pragma: no cover


def _classify_passage(answers: PassageAnswers) -> PassageClassification:
    category, step = ContentCategory.LAWFUL_NEGATIVE, FALLBACK_STEP
    for decision in DECISION_STEPS:
        if getattr(answers, decision.answer_field):
            category, step = decision.category, decision.step
            break
    qualification = _qualify(category, answers)
    return PassageClassification(
        quote=answers.quote,
        start=answers.start,
        end=answers.end,
        category=category,
        step=step,
        qualification=qualification.label,
        legal_basis=qualification.legal_basis,
        caveats=CATEGORY_RULES[category].caveats,
    )


def _validate(questionnaire: Questionnaire, source_text: str | None) -> None:
    previous_end = -1
    for answers in sorted(questionnaire.passages, key=lambda p: p.start):
        if not answers.quote.strip():
            raise ValueError("empty passage quote")
        if answers.start < 0 or answers.end - answers.start != len(answers.quote):
            raise ValueError(f"offsets do not match the quote: {answers.quote!r}")
        if source_text is not None and source_text[answers.start : answers.end] != answers.quote:
            raise ValueError(f"quote not found at its offsets: {answers.quote!r}")
        # One qualification per passage: overlapping passages would qualify the same words twice.
        if answers.start < previous_end:
            raise ValueError(f"passages overlap at offset {answers.start}")
        previous_end = answers.end


def classification_propose(
    *, questionnaire: Questionnaire, source_text: str | None = None
) -> ClassificationResult:
    """Propose one category per passage, following DOMAIN §2.2's order exactly.

    ``source_text`` (the captured review text), when given, must contain each quote at its
    offsets: letters quote the passages verbatim.
    """
    _validate(questionnaire, source_text)
    passages = tuple(_classify_passage(answers) for answers in questionnaire.passages)
    listing = None
    if questionnaire.page_is_listing:
        listing_category = ContentCategory.PERSONAL_DATA_LISTING
        qualification = QUALIFICATIONS[listing_category][0]
        listing = PassageClassification(
            quote="",
            start=0,
            end=0,
            category=listing_category,
            step=LISTING_STEP,
            qualification=qualification.label,
            legal_basis=qualification.legal_basis,
            caveats=CATEGORY_RULES[listing_category].caveats,
        )
    ordered = ([listing.category] if listing else []) + [p.category for p in passages]
    return ClassificationResult(
        listing=listing,
        passages=passages,
        categories=tuple(dict.fromkeys(ordered)),
        caveats=(CAVEAT_PROPOSAL,),
    )
