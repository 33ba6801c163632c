"""Word lists the pipeline starts from, and their widening by the model's word vectors.

Health vocabulary: ``health_lexicon.txt`` (written for Égide; its sources are named in the
file: CIM-10 titles (OMS/ATIH), ANSM public drug database, CCAM, French MeSH (Inserm)). An
installable open source was considered: ``edsnlp`` (AP-HP, BSD-3-Clause) ships French clinical
terminologies, but it targets hospital notes and pulls a large dependency tree for a few hundred
everyday words; it was not adopted. A word missing from the list is still caught when its
vector is close to the list's (``health_similarity``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

LEXICON_PATH = Path(__file__).with_name("health_lexicon.txt")

_CHAR_FOLD = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00a0": " ", "\u202f": " "}


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes, keeping one character per character
    (offsets in the folded text are offsets in the original)."""
    folded = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0]
        lower = base.lower()
        folded.append(_CHAR_FOLD.get(lower, lower if len(lower) == 1 else base))
    return "".join(folded)


@functools.cache
def health_terms() -> tuple[frozenset[str], tuple[str, ...]]:
    """(single folded words, folded multi-word terms) of the health lexicon."""
    singles: set[str] = set()
    phrases: list[str] = []
    for line in LEXICON_PATH.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if not term:
            continue
        folded = fold(term)
        if " " in folded:
            phrases.append(folded)
        else:
            singles.add(folded)
    return frozenset(singles), tuple(phrases)


# Words of the practice's own, general explanations (DOMAIN §5.3 step 2) that sit close to
# health words in the vector space but reveal nothing: never flagged by similarity.
PRACTICE_WORDS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "cabinet médecin médecine médical médicale docteur praticien praticienne soignant "
        "soins soin santé secret urgence urgences patient patiente patients patientes "
        "patientèle consultation consultations rendez-vous horaire horaires retard retards "
        "délai délais attente secrétariat secrétaire accueil équipe confidentialité "
        "disponibilité disponibilités créneau créneaux agenda planning journée journées "
        "ressenti avis commentaire situation individuelle cas professionnel professionnelle "
        "clinique hôpital centre service téléphone appel appels affluence personne personnes "
        "qualité écoute respect déontologie ordre conseil information informations question "
        "questions échange demande demandes difficulté difficultés inquiétude expérience "
        "remarque remarques temps prise charge suivi dépassement honoraires tarif tarifs facture "
        "démarche démarches qualité patience prévenance bienveillance attention "
        "mécontentement déception insatisfaction colère frustration gêne désagrément "
        "inconvénient malentendu incompréhension préoccupation organisation fonctionnement "
        "renouvellement ouverture fermeture"
    ).split()
)

INSULT_WORDS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "stupide idiot idiote imbécile crétin crétine débile abruti abrutie aigri aigrie "
        "frustré frustrée hystérique ignorant ignorante inculte malhonnête menteur menteuse "
        "mythomane jaloux jalouse mesquin mesquine pathétique ridicule lâche minable grossier "
        "grossière odieux odieuse impoli impolie irrespectueux irrespectueuse paranoïaque "
        "dérangé dérangée capricieux capricieuse râleur râleuse procédurier procédurière "
        "égoïste irresponsable incapable médiocre hypocrite malveillant malveillante "
        "vicieux vicieuse pervers perverse tordu tordue narcissique arrogant arrogante "
        "insolent insolente aigreur bêtise stupidité imbécillité méchanceté "
        "cinglé cinglée taré tarée attardé attardée"
    ).split()
)
INSULT_SEEDS: tuple[str, ...] = (
    "stupide",
    "idiot",
    "imbécile",
    "crétin",
    "aigri",
    "menteur",
    "malhonnête",
    "hystérique",
    "ignorant",
    "minable",
)

# Lemmas used by the token rules (see engine.py).
RECEIVE_LEMMAS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "recevoir voir examiner soigner suivre opérer accueillir traiter ausculter consulter "
        "hospitaliser vacciner revoir rencontrer accompagner piquer perfuser plâtrer suturer "
        "accoucher diagnostiquer prescrire orienter reconnaître croiser"
    ).split()
)
MOVE_LEMMAS: frozenset[str] = frozenset(
    fold(w) for w in "venir passer arriver revenir présenter attendre patienter repartir".split()
)
TELL_LEMMAS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "dire expliquer indiquer préciser conseiller prévenir avertir recommander proposer "
        "informer annoncer répéter signaler montrer demander orienter"
    ).split()
)
WITHDRAW_LEMMAS: frozenset[str] = frozenset(
    fold(w) for w in "retirer supprimer effacer enlever modifier corriger rectifier cesser".split()
)
ACCUSE_LEMMAS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "mentir inventer affabuler exagérer déformer travestir manipuler calomnier diffamer "
        "insulter dénigrer harceler tromper fabuler"
    ).split()
)
PRAISE_LEMMAS: frozenset[str] = frozenset(
    fold(w)
    for w in "recommander apprécier plébisciter adorer féliciter saluer louer préférer".split()
)
PERSON_NOUNS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "personne patient patiente monsieur madame mademoiselle dame homme femme enfant "
        "auteur autrice internaute intéressé intéressée client cliente fils fille mari épouse "
        "mère père"
    ).split()
)


class VectorIndex:
    """Unit vectors of seed words, to score how close a token is to a vocabulary."""

    def __init__(self, *, nlp: Any, words: tuple[str, ...] | frozenset[str]) -> None:
        import numpy  # lazy: needed only once the spaCy model is loaded (first reply check)

        rows = []
        for word in sorted(words):
            lexeme = nlp.vocab[word]
            if lexeme.has_vector and lexeme.vector_norm:
                rows.append(lexeme.vector / lexeme.vector_norm)
        self.matrix = numpy.array(rows, dtype="float32") if rows else None

    def similarity(self, token: Any) -> float:
        if self.matrix is None or not token.has_vector or not token.vector_norm:
            return 0.0
        return float((self.matrix @ (token.vector / token.vector_norm)).max())


@functools.cache
def _indexes(nlp_id: int, nlp: Any) -> tuple[VectorIndex, VectorIndex]:
    singles, _phrases = health_terms()
    raw = [
        line.split("#", 1)[0].strip()
        for line in LEXICON_PATH.read_text(encoding="utf-8").splitlines()
    ]
    health_words = frozenset(w.lower() for w in raw if w and " " not in w)
    return VectorIndex(nlp=nlp, words=health_words), VectorIndex(nlp=nlp, words=INSULT_SEEDS)


def vector_indexes(nlp: Any) -> tuple[VectorIndex, VectorIndex]:
    """(health index, insult index) for this pipeline, built once."""
    return _indexes(id(nlp), nlp)


def phrase_pattern(folded_term: str) -> re.Pattern[str]:
    """Whole-word pattern for a folded term, tolerating a plural -s / -x."""
    return re.compile(rf"(?<!\w){re.escape(folded_term)}(?:s|x)?(?!\w)")
