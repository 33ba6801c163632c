"""Scoring new items: negativity from the rating, possible-illicit flags with passages."""

from __future__ import annotations

from datetime import date

import pytest

from cleanup.extract import Review
from cleanup.scoring import (
    CATEGORIES,
    FLAG_NOTICE,
    LEXICON,
    IllicitFlag,
    mention_score,
    mention_text,
    rating_band,
    review_score,
    text_flags,
)
from cleanup.search_providers import SearchResult


def _review(text: str, rating: float | None) -> Review:
    return Review(
        review_id="h:1",
        author="X",
        date=date(2024, 6, 1),
        rating=rating,
        text=text,
        source="json-ld",
        id_from_markup=False,
    )


def _spans(flags):
    return [(f.category, f.term, f.start, f.end) for f in flags]


def test_insult_and_accusations_in_a_one_star_review():
    # given
    text = "Un vrai charlatan, il m’a charcuté et mérite d'être radié."
    # when
    score = review_score(review=_review(text, 1.0))
    # then
    assert (score.negativity, score.band, score.band_label, score.negative) == (
        1.0,
        "very_negative",
        "Très négatif",
        True,
    )
    assert score.flags == (
        IllicitFlag("INJURE", "Injure possible", "Loi du 29 juillet 1881, art. 29 al. 2",
                    "charlatan", 8, 17, text, 0, 58),
        IllicitFlag("DIFFAMATION", "Accusation d'un fait précis (diffamation possible)",
                    "Loi du 29 juillet 1881, art. 29 al. 1", "charcuté", 26, 34, text, 0, 58),
        IllicitFlag("DIFFAMATION", "Accusation d'un fait précis (diffamation possible)",
                    "Loi du 29 juillet 1881, art. 29 al. 1", "radié", 52, 57, text, 0, 58),
    )  # fmt: skip
    assert score.flagged_categories == ("INJURE", "DIFFAMATION")
    assert score.notice == FLAG_NOTICE


def test_passage_is_the_sentence_holding_the_match():
    # given
    text = "Attente de deux heures. Ce médecin est un ESCROC !"
    # when
    (flag,) = text_flags(text=text)
    # then: case and accents do not hide the word, offsets point at the original text
    assert (flag.category, flag.term, flag.start, flag.end) == ("DIFFAMATION", "ESCROC", 42, 48)
    assert (flag.passage, flag.passage_start, flag.passage_end) == (
        "Ce médecin est un ESCROC !",
        24,
        50,
    )
    assert text[flag.passage_start : flag.passage_end] == flag.passage


def test_private_facts_are_flagged():
    text = "Il habite au 12 rue des Lilas et sa femme est enceinte. Appelez le 06 12 34 56 78."
    assert _spans(text_flags(text=text)) == [
        ("PRIVACY", "habite au", 3, 12),
        ("PRIVACY", "12 rue", 13, 19),
        ("PRIVACY", "sa femme", 33, 41),
        ("PRIVACY", "enceinte", 46, 54),
        ("PRIVACY", "06 12 34 56 78", 67, 81),
    ]


def test_discrimination_is_flagged():
    flags = text_flags(text="Rentre dans ton pays, sale arabe.")
    assert _spans(flags) == [
        ("DISCRIMINATORY_SPEECH", "Rentre dans ton pays", 0, 20),
        ("DISCRIMINATORY_SPEECH", "sale arabe", 22, 32),
    ]
    assert flags[0].basis == "Loi du 29 juillet 1881, art. 24, 32 al. 2 et 33 al. 3"


def test_offsets_survive_characters_that_fold_to_several():
    # given: 'ß' folds to 'ss', shifting folded offsets by one
    text = "Straße: l'arnaqueur du coin"
    # when
    (flag,) = text_flags(text=text)
    # then
    assert (flag.term, flag.start, flag.end) == ("arnaqueur", 10, 19)


def test_a_lawful_negative_review_is_negative_but_not_flagged():
    # given: waiting time and a curt secretary (DOMAIN §2.2: not illicit)
    score = review_score(review=_review("Attente interminable, secrétariat peu aimable.", 2.0))
    # then
    assert (score.negativity, score.band, score.negative, score.flags) == (
        0.75,
        "negative",
        True,
        (),
    )


def test_words_inside_other_words_do_not_match():
    # "connaissance" holds "conna", "violet" holds "viol", "bouchere" needs an article
    assert text_flags(text="Une connaissance m'a conseillé ce cabinet au mur violet.") == ()


@pytest.mark.parametrize(
    ("rating", "expected"),
    [(1.0, ("very_negative", "Très négatif", True)), (1.5, ("very_negative", "Très négatif", True)),
     (2.5, ("negative", "Négatif", True)), (3.0, ("mixed", "Mitigé", False)),
     (4.0, ("positive", "Positif", False)), (None, ("unrated", "Sans note", False))],
)  # fmt: skip
def test_rating_bands(rating, expected):
    assert rating_band(rating=rating) == expected


@pytest.mark.parametrize(
    ("rating", "negativity"), [(5.0, 0.0), (4.0, 0.25), (3.0, 0.5), (0.0, 1.0)]
)
def test_negativity_scale(rating, negativity):
    assert review_score(review=_review("", rating)).negativity == negativity


def test_search_mention_is_scored_on_title_and_snippet():
    # given
    result = SearchResult(
        2, "https://forum.example/t/1", "Dr Martin, escroc ?", "Il m'a volé 200 €."
    )
    # when
    score = mention_score(result=result)
    # then
    assert mention_text(result=result) == "Dr Martin, escroc ? — Il m'a volé 200 €."
    assert (score.negativity, score.band, score.negative) == (None, "unrated", False)
    assert _spans(score.flags) == [
        ("DIFFAMATION", "escroc", 11, 17),
        ("DIFFAMATION", "m'a volé", 25, 33),
    ]


def test_every_lexicon_entry_names_a_known_category():
    assert {e.category for e in LEXICON} == set(CATEGORIES)
    assert FLAG_NOTICE == (
        "Repérage automatique par mots-clés, à vérifier par une personne : "
        "ce n'est pas une qualification juridique."
    )
