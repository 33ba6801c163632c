"""Questionnaire → category per passage (cover.classification), in DOMAIN §2.2's order."""

import pytest

from cover.classification import (
    DECISION_STEPS,
    QUESTIONS,
    DiscriminatoryGround,
    PassageAnswers,
    Questionnaire,
    classification_propose,
)
from cover.rules import Confidence, ContentCategory

C = ContentCategory
REVIEW = "Le Dr X est un escroc. Il m'a charcuté. Attente de 2 heures."


def passage(quote: str = "escroc", **answers) -> PassageAnswers:
    start = REVIEW.index(quote) if quote in REVIEW else 0
    return PassageAnswers(quote=quote, start=start, end=start + len(quote), **answers)


def classify_one(**answers):
    result = classification_propose(
        questionnaire=Questionnaire(page_is_listing=False, passages=(passage(**answers),))
    )
    (only,) = result.passages
    return only


@pytest.mark.parametrize(
    ("answers", "category", "step"),
    [
        (
            {"discriminatory_grounds": frozenset({DiscriminatoryGround.RELIGION})},
            C.DISCRIMINATORY_SPEECH,
            2,
        ),
        ({"precise_factual_imputation": True}, C.DIFFAMATION, 3),
        ({"outrageous_expression": True}, C.INJURE, 4),
        ({"targets_services_not_person": True}, C.DENIGREMENT, 5),
        ({"discloses_private_life": True}, C.PRIVACY, 6),
        ({"shows_picture_or_video": True}, C.IMAGE_RIGHTS, 6),
        ({}, C.LAWFUL_NEGATIVE, 7),
    ],
)
def test_each_single_answer_gives_its_category(answers, category, step):
    # given one yes answer / when classifying / then the matching category and step
    result = classify_one(**answers)
    assert (result.category, result.step) == (category, step)


@pytest.mark.parametrize(
    ("answers", "category"),
    [
        # discrimination is tested before the imputation
        (
            {
                "discriminatory_grounds": frozenset({DiscriminatoryGround.ORIGIN}),
                "precise_factual_imputation": True,
            },
            C.DISCRIMINATORY_SPEECH,
        ),
        # an insult that cannot be separated from an imputation is absorbed by diffamation
        ({"precise_factual_imputation": True, "outrageous_expression": True}, C.DIFFAMATION),
        # an attack on the person takes the 1881 route before dénigrement
        ({"outrageous_expression": True, "targets_services_not_person": True}, C.INJURE),
        ({"targets_services_not_person": True, "discloses_private_life": True}, C.DENIGREMENT),
        ({"discloses_private_life": True, "shows_picture_or_video": True}, C.PRIVACY),
        # everything yes: step 2 wins
        (
            {
                "discriminatory_grounds": frozenset({DiscriminatoryGround.DISABILITY}),
                "precise_factual_imputation": True,
                "outrageous_expression": True,
                "targets_services_not_person": True,
                "discloses_private_life": True,
                "shows_picture_or_video": True,
            },
            C.DISCRIMINATORY_SPEECH,
        ),
    ],
)
def test_first_matching_step_wins(answers, category):
    assert classify_one(**answers).category == category


def test_decision_order_is_domain_2_2():
    # given the decision data / then steps 2..6 in the order of DOMAIN §2.2
    assert [(s.step, s.answer_field, s.category) for s in DECISION_STEPS] == [
        (2, "discriminatory_grounds", C.DISCRIMINATORY_SPEECH),
        (3, "precise_factual_imputation", C.DIFFAMATION),
        (4, "outrageous_expression", C.INJURE),
        (5, "targets_services_not_person", C.DENIGREMENT),
        (6, "discloses_private_life", C.PRIVACY),
        (6, "shows_picture_or_video", C.IMAGE_RIGHTS),
    ]
    assert [q.step for q in QUESTIONS] == [1, 2, 2, 3, 4, 5, 6, 6]


@pytest.mark.parametrize(
    ("answers", "qualification", "legal_basis"),
    [
        (
            {"calls_to_discrimination_or_violence": True},
            "Provocation à la discrimination, à la haine ou à la violence",
            "Loi du 29 juillet 1881, art. 24",
        ),
        (
            {"precise_factual_imputation": True},
            "Diffamation aggravée à caractère discriminatoire",
            "Loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 2",
        ),
        (
            {"outrageous_expression": True},
            "Injure aggravée à caractère discriminatoire",
            "Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 3",
        ),
        (
            {},
            "Propos discriminatoires : qualification à arrêter par l'avocat",
            "Loi du 29 juillet 1881, art. 24, 32 al. 2 ou 33 al. 3",
        ),
    ],
)
def test_discriminatory_speech_qualification(answers, qualification, legal_basis):
    # given a discriminatory passage / then provocation only with an actual call (DOMAIN C7)
    result = classify_one(
        discriminatory_grounds=frozenset({DiscriminatoryGround.SEXUAL_ORIENTATION}), **answers
    )
    assert (result.qualification, result.legal_basis) == (qualification, legal_basis)


def test_review_with_listing_gives_one_category_per_passage():
    # given a listing page with three passages of one review
    questionnaire = Questionnaire(
        page_is_listing=True,
        passages=(
            passage("Le Dr X est un escroc.", precise_factual_imputation=True),
            passage("Il m'a charcuté.", outrageous_expression=True),
            passage("Attente de 2 heures."),
        ),
    )
    # when classifying against the captured text
    result = classification_propose(questionnaire=questionnaire, source_text=REVIEW)
    # then each passage keeps its quote, offsets and one qualification; the listing coexists
    assert [(p.quote, p.start, p.end, p.category) for p in result.passages] == [
        ("Le Dr X est un escroc.", 0, 22, C.DIFFAMATION),
        ("Il m'a charcuté.", 23, 39, C.INJURE),
        ("Attente de 2 heures.", 40, 60, C.LAWFUL_NEGATIVE),
    ]
    assert result.passages[1].qualification == "Injure publique envers un particulier"
    assert result.passages[1].legal_basis == "Loi du 29 juillet 1881, art. 29 al. 2 et 33 al. 2"
    assert result.listing is not None
    assert (result.listing.category, result.listing.step) == (C.PERSONAL_DATA_LISTING, 1)
    assert [c.tag for c in result.listing.caveats] == [Confidence.CONFLICT]
    assert result.categories == (
        C.PERSONAL_DATA_LISTING,
        C.DIFFAMATION,
        C.INJURE,
        C.LAWFUL_NEGATIVE,
    )
    assert [c.tag for c in result.caveats] == [Confidence.UNVERIFIED]


def test_categories_are_deduplicated_in_passage_order():
    questionnaire = Questionnaire(
        page_is_listing=False,
        passages=(
            passage("Il m'a charcuté.", outrageous_expression=True),
            passage("Le Dr X est un escroc.", outrageous_expression=True),
        ),
    )
    result = classification_propose(questionnaire=questionnaire, source_text=REVIEW)
    assert result.listing is None
    assert result.categories == (C.INJURE,)


def test_denigrement_carries_the_requalification_caveat():
    result = classify_one(targets_services_not_person=True)
    assert [c.tag for c in result.caveats] == [Confidence.SEC]
    assert result.caveats[0].text.startswith("Risque de requalification")


@pytest.mark.parametrize(
    ("passages", "source_text", "message"),
    [
        (
            (PassageAnswers(quote="escroc", start=16, end=20),),
            None,
            "offsets do not match the quote: 'escroc'",
        ),
        (
            (PassageAnswers(quote="escroc", start=0, end=6),),
            REVIEW,
            "quote not found at its offsets: 'escroc'",
        ),
        ((PassageAnswers(quote="  ", start=0, end=2),), None, "empty passage quote"),
        (
            (
                PassageAnswers(quote="Le Dr X est un escroc.", start=0, end=22),
                PassageAnswers(quote="un escroc", start=12, end=21),
            ),
            REVIEW,
            "passages overlap at offset 12",
        ),
    ],
)
def test_invalid_passages_are_refused(passages, source_text, message):
    # given passages whose quote/offsets are inconsistent or overlap (one qualification each)
    questionnaire = Questionnaire(page_is_listing=False, passages=passages)
    with pytest.raises(ValueError) as error:
        classification_propose(questionnaire=questionnaire, source_text=source_text)
    assert str(error.value) == message
