"""The reply check: DOMAIN §5.4 hard blocks and warnings, with a French language pipeline.

Three layers, each adding findings:

1. patterns on the folded text (lower case, no accents): fixed phrases that need no analysis
   (« je me souviens », « faute de quoi », « nulle trace de votre nom », dates, « le meilleur »);
2. token rules on the spaCy analysis (``fr_core_news_md``): lemmas, person, tense and mood let
   one rule cover every conjugation and person (« vous avez été reçue », « cette personne a bien
   été reçue », « je vous avais pourtant expliqué »), named entities find a name that is not the
   signature, and word vectors widen the health and insult vocabularies;
3. doubt: what the rules cannot decide (a word close to health vocabulary, a narration in the
   past addressed to the reader, a person's name) is a « à faire relire » warning, never silence.

Offsets refer to the text after Unicode NFC normalisation (what a browser sends).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cover.reply_check.findings import (
    MESSAGES,
    SEVERITY,
    ReplyIssue,
    ReplyIssueCode,
    ReplySeverity,
)
from cover.reply_check.lexicons import (
    ACCUSE_LEMMAS,
    INSULT_WORDS,
    MOVE_LEMMAS,
    PERSON_NOUNS,
    PRACTICE_WORDS,
    PRAISE_LEMMAS,
    RECEIVE_LEMMAS,
    TELL_LEMMAS,
    WITHDRAW_LEMMAS,
    fold,
    health_terms,
    phrase_pattern,
    vector_indexes,
)
from cover.reply_check.model import nlp_get
from cover.rules import _

I = ReplyIssueCode  # noqa: E741 - short alias for the pattern tables

_fold_word = functools.lru_cache(maxsize=65536)(fold)

MAX_REPLY_CHARS = 600  # soft limit of DOMAIN §5.4 ("about 600 characters")

# Vector similarity (cosine, fr_core_news_md) above which a word counts as health vocabulary,
# and the band below it that only asks for a second reading. Calibrated on the corpus of
# tests/cover/reply_corpus.py (see bench/bench_reply_check.py).
HEALTH_SIM = 0.90
HEALTH_SIM_REVIEW = 0.70
INSULT_SIM_REVIEW = 0.80

MSG_REVIEW_HEALTH = _(
    "À faire relire : « %(word)s » ressemble à du vocabulaire médical ; vérifiez qu'il ne "
    "concerne pas l'auteur."
)
MSG_REVIEW_INSULT = _("À faire relire : « %(word)s » peut être lu comme un jugement sur l'auteur.")
MSG_REVIEW_NARRATION = _(
    "À faire relire : récit au passé adressé à l'auteur ; il ne doit rien dire de sa venue ni "
    "de sa prise en charge."
)
MSG_REVIEW_NAME = _(
    "À faire relire : « %(word)s » semble être le nom d'une personne ; ne nommez pas l'auteur."
)
MSG_REVIEW_THIRD_PERSON = _(
    "À faire relire : « %(word)s » désigne une personne ; ne dites rien de sa venue ni de sa "
    "prise en charge."
)
MSG_REVIEW_UNAVAILABLE = _(
    "À faire relire : l'analyse linguistique n'est pas disponible, seules des listes de "
    "formules ont été vérifiées."
)

# --------------------------------------------------------------------------------------------
# Layer 1: patterns on the folded text
# --------------------------------------------------------------------------------------------

_MONTHS = (
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)"
)
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_VISIT_NOUNS = (
    r"(?:consultations?|rendez-vous|rdv|traitements?|dossiers?|visites?|venue|passage|sejour"
    r"|hospitalisation|operation|intervention|examens?|ordonnance|prescription|prise en charge"
    r"|bilan|seances?|analyses?|resultats?|radios?|arrivee|arret de travail|soins|suivi"
    r"|accouchement|grossesse|sante|etat de sante|pathologie|maladie|diagnostic|fiche)"
)
_PATIENT = r"(?:patient|patiente)"
_PLACE = (
    r"(?:au cabinet|a notre cabinet|a mon cabinet|au centre|a la clinique|a l'hopital"
    r"|aux urgences|en consultation|a la consultation|chez nous|chez moi|dans nos locaux"
    r"|dans notre cabinet|dans mon cabinet|au secretariat|en salle d'attente)"
)
_NUM_WORDS = r"(?:\d+|un|une|deux|trois|quatre|cinq|six|huit|dix|quinze|quelques|plusieurs)"

PATTERNS: dict[ReplyIssueCode, tuple[str, ...]] = {
    I.VISIT_DATE_OR_TIME: (
        r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b",
        rf"\b(?:1er|\d{{1,2}})\s+{_MONTHS}\b",
        rf"\b{_MONTHS}\s+\d{{4}}\b",
        rf"\b{_WEEKDAYS}\s+(?:dernier|matin|soir|apres-midi)\b",
        rf"\bce\s+{_WEEKDAYS}\b",
        r"\b(?:hier|avant-hier|l'autre jour|ce matin|cet apres-midi)\b",
        r"\b(?:la semaine|le mois|l'an|l'annee) derni(?:er|ere)\b",
        rf"\bil y a {_NUM_WORDS} (?:jours?|semaines?|mois|ans?|heures?)\b",
        r"\ble jour de (?:votre|ton|sa|son|leur)\b",
    ),
    I.VISIT_REFERENCE: (
        rf"\b(?:votre|vos|ton|ta|tes)\s+(?:derniere?s?\s+|premiere?s?\s+|recente?s?\s+)?"
        rf"{_VISIT_NOUNS}\b",
        r"\b(?:notre|nos) (?:derniere?s? )?(?:consultations?|rencontres?|entretiens?|rendez-vous"
        r"|seances?)\b",
    ),
    I.RECOLLECTION: (
        r"\bje me (?:souviens|rappelle|souvenais|rappelais|souviendrai)\b",
        r"\bnous nous (?:souvenons|rappelons|souvenions|rappelions)\b",
        r"\b(?:comme|ainsi que) (?:je|nous) (?:vous |te )?l'(?:ai|avais|avons|avions) "
        r"(?:dit|explique|indique|precise|conseille|recommande|annonce|propose|prescrit|ecrit)\b",
        r"\blors de (?:votre|ton|notre|sa|son) (?:passage|visite|venue|entretien|rencontre"
        r"|consultation|rendez-vous|sejour|dernier|derniere)\b",
        r"\b(?:j'ai|nous avons|je garde|nous gardons) (?:(?:un|le) )?(?:bon |excellent |tres bon )?"
        r"(?:souvenir|en memoire|en tete)\b",
        r"\bje (?:n'ai pas|n'ai jamais) oublie\b",
        r"\b(?:je|nous) (?:vous|t'|te|l'|lui) ?(?:avais|avions|ai|avons) (?:\w+ )?(?:dit|explique"
        r"|indique|precise|conseille|recommande|prevenue?s?|avertie?s?|informee?s?|propose|demande"
        r"|signale|repete|prescrit)\b",
    ),
    I.PATIENT_STATUS: (
        rf"\b(?:mon|ma|notre|cet|cette|ce) (?:ancien |ancienne )?{_PATIENT}\b",
        rf"\bvous (?:n'|ne )?(?:etes|etiez|avez ete) (?:pas |jamais )?"
        rf"(?:un|une|notre|mon|ma|le|la) {_PATIENT}\b",
        rf"\b(?:etes|etiez|est|etait|avez ete|a ete|soyez|serait) (?:pas |jamais |bien |deja )?"
        rf"(?:un|une|notre|mon|ma|le|la|des|nos) (?:ancien |ancienne )?{_PATIENT}s?\b",
        r"\bvous n'(?:etes|etiez|avez|aviez) jamais\b",
        r"\b(?:je ne vous ai|nous ne vous avons|je ne l'ai|nous ne l'avons) jamais\b",
        r"\b(?:je ne vous connais|nous ne vous connaissons|je ne la connais|je ne le connais"
        r"|nous ne la connaissons|nous ne le connaissons) (?:pas|point|absolument pas)\b",
        r"\b(?:je vous ai|nous vous avons) (?:bien )?(?:vue?|recue?|examinee?|soignee?|operee?"
        r"|suivie?|pris en charge|prise en charge|accueillie?|rencontree?)\b",
        r"\bvous (?:etes|etiez) (?:bien )?(?:venue?s?|passee?s?)\b",
        r"\bvous avez (?:bien )?(?:consulte|ete (?:recue?|vue?|prise? en charge|soignee?|operee?))\b",
        rf"\baucune? (?:{_PATIENT}|dossier|trace|fiche)\b",
        r"\b(?:nulle|pas de|pas la moindre|aucune) trace\b",
        r"\binconnue?s? (?:de|dans|du|au) (?:nos|notre|mes|mon|cabinet|service|fichier)\b",
        r"\b(?:ne|n') ?(?:figure|figurez|figurait|figuriez|apparait|apparaissez|apparaissait)"
        r" (?:pas|jamais|nulle part)\b",
        r"\bdans (?:notre|nos|mon|mes) (?:fichiers?|registres?|agendas?|logiciels?|bases?"
        r"|patientele|listes? de patients|dossiers)\b",
        r"\bjamais mis les pieds\b",
        r"\b(?:aucun|pas de|pas le moindre|pas un) souvenir de (?:vous|toi|cette personne|ce patient"
        r"|cette patiente|ce monsieur|cette dame)\b",
        r"\b(?:partie|nombre|l'un|l'une|un|une) (?:de|d'entre) (?:nos|mes) (?:patients|patientes)\b",
        r"\bparmi (?:nos|mes) (?:patients|patientes)\b",
        r"\bmerci (?:de |d'|pour )(?:etre|avoir ete|vous etre) (?:venue?s?|passee?s?|deplacee?s?)\b",
        r"\bmerci (?:de|pour) (?:votre|ta) (?:visite|venue|confiance|fidelite|passage)\b",
        r"\bmerci (?:de|d') (?:nous|m') ?(?:avoir|'avoir) (?:fait confiance|choisie?s?|consulte)\b",
        r"\b(?:au plaisir de|heureux de|ravie?s? de) (?:vous|te) (?:revoir|retrouver|recevoir a"
        r" nouveau|avoir (?:vue?|recue?|accueillie?|soignee?))\b",
        r"\b(?:pris|prise|prises) en charge (?:au|par|dans|a)\b",
        rf"\b(?:venue?s?|passee?s?|presentee?s?|arrivee?s?|suivie?s?|recue?s?|vue?s?|soignee?s?"
        rf"|operee?s?|examinee?s?|hospitalisee?s?|traitee?s?|accueillie?s?) (?:\w+ ){{0,2}}"
        rf"{_PLACE}\b",
    ),
    I.ACCUSATION_OR_THREAT: (
        r"\b(?:porter|deposer|deposerai|deposerons|porterai|porterons) plainte\b",
        r"\bpoursuites?\b",
        r"\b(?:avocats?|tribunal|tribunaux|justice|juge|huissier|commissaire de justice)\b",
        r"\bdiffamat\w*",
        r"\bcalomni\w*",
        r"\binjur\w*",
        r"\bmise en demeure\b",
        r"\b(?:procedures?|actions?) (?:judiciaires?|en justice|juridiques?|penales?)\b",
        r"\b(?:engager|engagerons|engagerai|lancer|lancerons|entamer|entamerons|intenter"
        r"|intenterons) (?:une|des|la|toute) (?:procedure|action|poursuite)s?\b",
        r"\bjuridictions?\b",
        r"\b(?:defendre|faire valoir) (?:nos|mes|ses|leurs) (?:droits|interets)\b",
        r"\b(?:notre|mon) conseil\b(?! de l'ordre)",
        r"\bsaisi\w* (?:la justice|le tribunal|les tribunaux|un avocat|notre avocat|l'ordre"
        r"|le conseil de l'ordre|qui de droit|la cnil|les autorites)\b",
        r"\bdommages[- ]et[- ]interets\b",
        r"\bmensong\w*",
        r"\bmenteu\w*",
        r"\bvous mentez\b",
        r"\bfaux avis\b",
        r"\bmauvaise foi\b",
        r"\bmalhonnet\w*",
        r"\bvous (?:inventez|affabulez|exagerez)\b",
        r"\b(?:avis|commentaire|message|propos|allegations?) (?:faux|fallacieux|trompeurs?"
        r"|malveillants?|mensongers?|de pure fantaisie)\b",
        r"\b(?:vengeance|reglement de comptes?|troll|concurrent)\b",
        r"\bvous (?:n'avez|n'aviez) (?:rien|pas) (?:compris|lu|ecoute|respecte)\b",
        r"\b(?:votre|son|leur) (?:comportement|attitude|impolitesse|agressivite|insolence"
        r"|arrogance|retard|absence)\b",
        r"\bmanque de (?:respect|politesse|savoir-vivre)\b",
        r"\bil est (?:toujours |tellement |bien )?plus facile de (?:critiquer|juger|se plaindre"
        r"|denigrer)\b",
    ),
    I.THREAT: (
        r"\bfaute de quoi\b",
        r"\bsous peine d",
        r"\b(?:retirez|supprimez|effacez|enlevez|modifiez|rectifiez)\b",
        r"\b(?:a defaut|sinon)\b(?=[^.!?]*\b(?:nous|je|le cabinet)\b)",
        r"\bvous (?:le )?regretterez\b",
        r"\b(?:les|des) (?:suites|mesures|consequences) (?:qui s'imposent|necessaires|utiles"
        r"|appropriees|qui en decouleront)\b",
        r"\b(?:nous nous reservons|je me reserve) (?:le droit|toute action|la possibilite)\b",
        r"\bnous saurons (?:nous defendre|faire valoir|reagir|agir)\b",
        r"\b(?:prenez garde|gare a vous|attention a vous)\b",
        r"\bne restera pas (?:sans suite|sans consequences?|impuni)\b",
        r"\bnous (?:savons|connaissons) qui vous etes\b",
        r"\bvotre adresse ip\b",
        r"\bvous (?:devez|devrez|devriez|feriez mieux de|auriez interet a|avez interet a)"
        r" (?:retirer|supprimer|effacer|modifier|enlever)\b",
        r"\b(?:nous exigeons|j'exige|je vous somme|nous vous sommons)\b",
        r"\b(?:retrait|suppression) (?:immediate? )?(?:de (?:votre|cet|ce)|du) "
        r"(?:avis|commentaire|message|post)\b",
    ),
    I.SARCASM: (
        r"\bcomme par hasard\b",
        r"\bquelle (?:surprise|chance|perspicacite|finesse|delicatesse|elegance)\b",
        r"\bben voyons\b",
        r"\blaissez-moi rire\b",
        r"\bsans rire\b",
        r"\bbravo\b",
        r"\bfelicitations (?:pour|a vous)\b",
        r"\bchapeau\b",
        r"\bquel (?:talent|courage|sens)\b",
        r"\b(?:mdr|lol|ptdr)\b",
        r"!{2,}|\?!|!\?",
        r"\bmerci (?:pour|de) (?:cette|ce|cet) (?:lecon|magnifique|charmant|charmante|sympathique"
        r"|delicat|delicate|aimable|gentil|gentille|belle|bel|superbe|brillant|brillante)\b",
        r"\bvotre (?:grande |immense |infinie |profonde )(?:sagesse|expertise|science|patience"
        r"|connaissance|experience|bienveillance)\b",
        r"\bvous qui (?:savez|connaissez) (?:tout|mieux)\b",
        r"\bdocteur google\b",
        r"\b(?:heureusement|evidemment) que vous\b",
        r"\bvous avez (?:sans doute|surement|certainement) mieux a faire\b",
        r"\bravie?s? que vous ayez (?:trouve|pris) le temps\b",
        r"\bquel(?:le)? (?:plaisir|bonheur|joie) de (?:lire|recevoir) (?:un tel|une telle|votre)\b",
        r"\bmerci (?:infiniment |beaucoup )?pour (?:ce|cet) (?:avis|commentaire) si "
        r"(?:constructif|nuance|objectif|bienveillant|pertinent)\b",
        r"\b(?:si|aussi|tellement|tres) (?:constructif|nuance|objectif|bienveillant|pertinent"
        r"|charmant|aimable|sympathique|delicat|elogieux|genereux)e?s?\b(?=[^.]*(?:!|avis"
        r"|commentaire|propos|message|lire))",
        r"\bquel(?:le)? (?:plaisir|bonheur|joie) de (?:lire|recevoir) (?:un|une|ce|cet|cette)"
        r" (?:avis|commentaire|message)\b",
    ),
    I.PROMOTION: (
        r"\b(?:le|la|les) meilleur(?:e|s|es)?\b(?!\s+delais)",
        r"\baucune plainte\b",
        r"\btaux de (?:reussite|succes|satisfaction|guerison)\b",
        r"\b\d+(?:[.,]\d+)?\s?%",
        r"\bavant[- /]apres\b",
        r"\bn\s?°\s?1\b",
        r"\bnumero (?:un|1)\b",
        r"\bleader\b",
        r"\bmieux que\b",
        r"\bcontrairement (?:a|aux) (?:d'autres|beaucoup|la plupart|certains|\w+)"
        r"(?: (?:confreres|medecins|praticiens|cabinets|de mes|de nos))?\b",
        r"\b(?:resultats? )?garanti(?:e|s|es)?\b",
        r"\bexcellent(?:e|s|es)? (?:resultats?|soins|avis|praticiens?|reputation)\b",
        r"\b(?:patients|patientes|clients) (?:satisfaits|ravis|contents|enchantes|fideles)\b",
        r"\bdes (?:milliers|centaines) de\b",
        r"\ble plus (?:experimente|reconnu|competent)\b",
        r"\b(?:5|cinq) etoiles\b",
        r"\b(?:la plupart|l'immense majorite|la (?:grande |immense )?majorite|l'ensemble|tous|"
        r"toutes|beaucoup|nombre|bon nombre) (?:de |d'|des )?(?:nos|mes) (?:patients|patientes)\b",
        r"\b(?:nos|mes) (?:patients|patientes) (?:nous|me) (?:recommandent|font confiance"
        r"|remercient|adorent|apprecient|felicitent)\b",
        r"\b(?:nombreux|excellents|tres bons|bons|innombrables) (?:avis|retours|temoignages)\b",
        r"\b(?:avis|retours|temoignages) (?:positifs|elogieux|excellents|favorables|5 etoiles)\b",
        r"\b\d(?:[.,]\d)? ?(?:/ ?5|sur 5)\b",
        r"\brecommande(?:e|s|es)? par\b",
        r"\b(?:expertise|competence|reputation|qualite) (?:reconnue|unique|exceptionnelle"
        r"|inegalee|irreprochable)\b",
        r"\b(?:de pointe|derniere generation|excellence|inegale(?:e|s|es)?)\b",
        r"\b(?:le seul|la seule|le premier|la premiere) (?:cabinet|centre|medecin|praticien"
        r"|praticienne|specialiste|de la region|de la ville)\b",
        r"\b(?:le|la|les) (?:plus|mieux) (?:competent|experimente|reconnu|qualifie|efficace"
        r"|serieux|humain|disponible|rapide|performant|moderne|equipe|apprecie|recommande"
        r"|renomme|fiable|doux|attentif|note)e?s?\b",
        r"\bplus (?:competent|experimente|disponible|efficace|serieux|humain|rapide)e?s? que\b",
        r"\b(?:laissez|deposez|publiez|postez|mettez)(?:-nous| nous)? (?:un|une|votre) "
        r"(?:avis|note|commentaire|etoiles?)\b",
        r"\bn'hesitez pas a (?:nous )?(?:noter|laisser un avis|recommander)\b",
        r"\b(?:l'un|l'une|un|une) des (?:meilleur|plus (?:grands?|reputee?s?|reconnue?s?))\w*",
        r"\breconnue?s? comme\b",
        r"\baucune? (?:de nos|de mes|des) (?:patients|patientes)\b",
        r"\bplus \w+ que (?:celles?|ceux|les autres|d'autres|nos confreres|la concurrence"
        r"|ailleurs|la moyenne|la plupart)\b",
        r"\b(?:des|les) autres (?:cabinets|medecins|praticiens|confreres|centres|cliniques)\b",
    ),
    I.SPECIFIC_EVENT: (
        r"\b(?:ce jour-la|ce jour la|a ce moment-la)\b",
        r"\bj'ai (?:du|constate|remarque|vu|recu|examine|appris|eu)\b",
        r"\bje vous ai\b",
    ),
}
_COMPILED: dict[ReplyIssueCode, tuple[re.Pattern[str], ...]] = {
    code: tuple(re.compile(p) for p in patterns) for code, patterns in PATTERNS.items()
}

# A deadline is a threat only next to a demand to withdraw (« sous 48 heures » alone can be the
# practice's answering time).
_DEADLINE = re.compile(
    r"\b(?:sous|dans (?:les|un delai de)|d'ici) (?:\d+|quarante-huit|vingt-quatre|huit|quinze)"
    r" (?:heures|h|jours)\b|\bsous huitaine\b"
)
# A care verb in the passé composé or the passive: "a été vacciné", "avez été reçue". Checked
# on the text as well as on tokens, since the tagger sometimes reads a rare participle as a noun.
_CARE_PAST = re.compile(
    r"\b(?:ete|suis|est|sont|etait|etaient|etiez|etes|a|ont|avons|avez|avait|ai) "
    r"(?:bien |deja |jamais |pas |ete |\w+ment )?(?:recue?s?|vue?s?|examinee?s?|soignee?s?|operee?s?"
    r"|suivie?s?|accueillie?s?|hospitalisee?s?|vaccinee?s?|traitee?s?|auscultee?s?"
    r"|diagnostiquee?s?|accouchee?s?|perfusee?s?|platree?s?|suturee?s?|prise?s? en charge)\b"
)
_SOMEONE = re.compile(
    r"\b(?:personne|patient|patiente|fils|fille|enfant|mari|epouse|mere|pere|il|elle|ils"
    r"|elles|monsieur|madame|dame|auteur|autrice|internaute)\b"
)
_WITHDRAW_WORD = re.compile(r"\b(?:retir|supprim|effac|enlev|modifi|rectifi|retrait)\w*")
_SECOND_PERSON = re.compile(r"(?<![\w-])(?:vous|votre|vos|tu|ton|ta|tes|toi|te|t')(?![\w-])")
_THIRD_PERSON_REF = re.compile(
    r"\b(?:cette personne|ce patient|cette patiente|ce monsieur|cette dame|cette femme|"
    r"cet homme|l'interesse|l'interessee|l'auteur|l'autrice|cet internaute|cette internaute|"
    r"ce client|cette cliente|monsieur|madame|mademoiselle|m\.|mme|mlle)\b"
)
_TIME = re.compile(
    r"\b\d{1,2}\s?h(?:\s?\d{2})?\b|(?:(?<=\ba )|(?<=vers ))\d{1,2} heures(?: \d{2})?\b"
)
_SENTENCE = re.compile(r"[^.!?;\n]+")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff]|[:;]-?[()dDpP](?!\\w)"
)
# A capitalised word inside a sentence (not after . ! ? or a line start, nor a title).
_NAME_CANDIDATE = re.compile(
    r"(?<![.!?:;\n—–-])(?<![.!?:;\n—–-] )(?<!^)(?<!Dr )(?<!Pr )"
    r"(?<!Docteur )(?<!Professeur )(?<!Cabinet )\b[A-ZÀ-Ý][\w'-]+"
)
_CIVILITY = re.compile(r"^(?:m|mme|mlle|monsieur|madame|mademoiselle)\.?$")
_TITLES = frozenset({"dr", "docteur", "pr", "professeur", "cabinet", "centre", "clinique"})
_CLITIC_OBJECTS = frozenset({"vous", "te", "t'", "l'", "la", "le", "les"})
# Verbs whose object can only be a person: « nous l'avons opéré » says who was treated.
CARE_LEMMAS = frozenset(
    fold(w)
    for w in (
        "soigner opérer examiner ausculter hospitaliser vacciner accoucher piquer perfuser "
        "plâtrer suturer diagnostiquer accueillir"
    ).split()
)
_PAST_TENSES = frozenset({"Past", "Imp"})
_THRESHOLD_TOKENS = frozenset({"PRON", "DET", "ADP", "CCONJ", "SCONJ", "AUX", "PUNCT", "NUM"})


_ID_SEP = r"[\s\-_.]?"
# Words of a pseudonym too common to be searched alone ("Le patient du 13" is not "le").
_ID_COMMON_WORDS = frozenset(
    "les des une aux par pour sur dans avec sans mon ton son mes tes ses nos vos est qui que "
    "the and".split()
)


def _identifier_patterns(identifier: str) -> list[re.Pattern[str]]:
    """The identifier itself (separators optional), each of its words, and its initials."""
    folded = fold(identifier).strip()
    if not folded:
        return []
    chunks = [c for c in re.split(r"[\s\-_.]+", folded) if c]
    patterns = [rf"(?<!\w){re.escape(folded)}(?!\w)"]
    if len(chunks) > 1:
        patterns.append(rf"(?<!\w){_ID_SEP.join(re.escape(c) for c in chunks)}(?!\w)")
        patterns += [
            rf"(?<!\w){re.escape(c)}(?!\w)"
            for c in chunks
            if len(c) >= 3 and c not in _ID_COMMON_WORDS
        ]
        initials = r"[.\s-]{0,3}".join(re.escape(c[0]) for c in chunks)
        patterns.append(rf"(?<!\w){initials}\.?(?!\w)")
    else:
        split = re.findall(r"[a-z]+|\d+", folded)
        if len(split) > 1:  # "marie75" also as "marie 75" / "marie-75"
            patterns.append(rf"(?<!\w){_ID_SEP.join(re.escape(c) for c in split)}(?!\w)")
    return [re.compile(p) for p in dict.fromkeys(patterns)]


@dataclass
class _Collector:
    text: str
    found: dict[tuple[ReplyIssueCode, int, int], ReplyIssue]

    def add(self, code: ReplyIssueCode, start: int, end: int, message: str | None = None) -> None:
        key = (code, start, end)
        if key not in self.found:
            self.found[key] = ReplyIssue(
                code=code,
                severity=SEVERITY[code],
                message=str(message if message is not None else MESSAGES[code]),
                start=start,
                end=end,
                match=self.text[start:end],
            )


def _sentences(folded: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(folded)]


def _person_linked(sentence: str) -> bool:
    return bool(_SECOND_PERSON.search(sentence) or _THIRD_PERSON_REF.search(sentence))


# --------------------------------------------------------------------------------------------
# Layer 2: token rules
# --------------------------------------------------------------------------------------------


def _lemma(token: Any) -> str:
    return _fold_word(token.lemma_)


def _is_past(token: Any) -> bool:
    tenses = token.morph.get("Tense")
    forms = token.morph.get("VerbForm")
    return bool(set(tenses) & _PAST_TENSES) or "Part" in forms


def _person_of(token: Any) -> set[str]:
    return set(token.morph.get("Person"))


def _clitic_before(tokens: Sequence[Any], index: int, window: int = 4) -> Any | None:
    """A clitic object pronoun (vous, te, l', la, le) just before the verb or its auxiliary."""
    for j in range(index - 1, max(-1, index - 1 - window), -1):
        tok = tokens[j]
        low = tok.lower_.replace("\u2019", "'")
        if tok.pos_ in {"AUX", "ADV"} or low in {"ne", "n'", "pas", "jamais", "bien", "deja"}:
            continue
        if tok.pos_ == "PRON" and low in _CLITIC_OBJECTS:
            return tok
        if tok.pos_ == "PRON" and low in {"nous", "je", "j'", "on", "il", "elle"}:
            continue
        return None
    return None


def _token_rules(
    *,
    tokens: Sequence[Any],
    sentence_folded: str,
    out: _Collector,
    identifiers_seen: bool,
    public: bool,
) -> None:
    lemmas = [_lemma(t) for t in tokens]
    lowers = [_fold_word(t.text) for t in tokens]
    person_nouns = any(
        (lem in PERSON_NOUNS or low in PERSON_NOUNS) and t.pos_ in {"NOUN", "PROPN"}
        for t, lem, low in zip(tokens, lemmas, lowers, strict=True)
    )
    second_person = bool(_SECOND_PERSON.search(sentence_folded))
    per_entity = any(t.ent_type_ == "PER" and t.pos_ == "PROPN" for t in tokens)
    someone = person_nouns or second_person or per_entity or identifiers_seen
    first_person = any(low in {"je", "j'", "nous", "j"} for low in lowers)
    third_pronoun = any(low in {"il", "elle", "ils", "elles"} for low in lowers)

    for index, tok in enumerate(tokens):
        lem = lemmas[index]
        if lem == "souvenir" and tok.pos_ == "NOUN" and first_person:  # « j'en garde le souvenir »
            out.add(I.RECOLLECTION, tok.idx, tok.idx + len(tok.text))
        if tok.pos_ not in {"VERB", "AUX"} and lem not in MOVE_LEMMAS | RECEIVE_LEMMAS:
            continue
        past = _is_past(tok)
        clitic = _clitic_before(tokens, index)
        span = (tok.idx, tok.idx + len(tok.text))
        # Confirming or denying that someone came or was seen, in any person.
        if lem in RECEIVE_LEMMAS and past and tok.pos_ in {"VERB", "ADJ"}:
            following = tokens[index + 1 : index + 4]
            person_after = any(
                _lemma(t) in PERSON_NOUNS or (t.ent_type_ == "PER" and t.pos_ == "PROPN")
                for t in following
            )
            passive = "Pass" in tok.morph.get("Voice") or any(
                lemmas[j] == "etre" for j in range(max(0, index - 3), index)
            )
            if (clitic is not None and clitic.lower_ in {"vous", "te", "t'"}) or (
                clitic is not None and someone
            ):
                out.add(I.PATIENT_STATUS, *span)
            elif passive and (someone or third_pronoun):
                out.add(I.PATIENT_STATUS, *span)
            elif person_after or (clitic is not None and lem in CARE_LEMMAS):
                out.add(I.PATIENT_STATUS, *span)
            elif lem in CARE_LEMMAS and first_person and someone:  # « que j'ai soignée »
                out.add(I.PATIENT_STATUS, *span)
            elif public and someone and _person_of(tok) & {"2"}:
                out.add(I.PATIENT_STATUS, *span)
        if lem in MOVE_LEMMAS and past and tok.pos_ == "VERB":
            subject_person = second_person or person_nouns or per_entity or identifiers_seen
            if subject_person and lem != "passer" or re.search(_PLACE, sentence_folded):
                out.add(I.PATIENT_STATUS, *span)
        if (
            lem == "connaitre"
            and clitic is not None
            and re.search(r"\b(?:ne|n')\b", sentence_folded)
        ):
            out.add(I.PATIENT_STATUS, *span)
        if (
            lem in RECEIVE_LEMMAS | CARE_LEMMAS
            and "Inf" in tok.morph.get("VerbForm")
            and clitic is not None
            and clitic.lower_ in {"vous", "te", "t'"}
            and any(_is_past(t) and t.pos_ in {"AUX", "VERB"} for t in tokens[:index])
        ):
            out.add(I.PATIENT_STATUS, *span)  # « nous avons été heureux de vous accueillir »
        if lem == "consulter" and past and not first_person and (someone or third_pronoun):
            out.add(I.PATIENT_STATUS, *span)
        if lem in WITHDRAW_LEMMAS and re.search(
            r"\b(?:avis|commentaire|message|publication|post|propos)\b", sentence_folded
        ):
            out.add(I.THREAT, *span)  # asking the author to withdraw: the lawyer's job
        # Recollection, any tense: se souvenir, se rappeler, se remémorer.
        if lem in {"souvenir", "rememorer"} and tok.pos_ == "VERB":
            out.add(I.RECOLLECTION, *span)
        if lem == "rappeler" and index and lowers[index - 1] in {"me", "m'", "nous", "se", "s'"}:
            if lowers[index - 1] != "nous" or (index > 1 and lowers[index - 2] == "nous"):
                out.add(I.RECOLLECTION, *span)
        # "Je vous avais pourtant expliqué…": what was said to the reader, in the past.
        if lem in TELL_LEMMAS and past and first_person and clitic is not None:
            if clitic.lower_ in {"vous", "te", "t'", "l'", "la", "le"}:
                out.add(I.RECOLLECTION, *span)
        # Demands to withdraw the review, in the imperative: a threat in public.
        if lem in WITHDRAW_LEMMAS and "Imp" in tok.morph.get("Mood"):
            out.add(I.THREAT, *span)
        if lem == "exiger" and first_person:
            out.add(I.THREAT, *span)
        # Accusing the author: vous mentez, il a menti, cette personne invente…
        if lem in ACCUSE_LEMMAS and (_person_of(tok) & {"2", "3"} or (past and someone)):
            out.add(I.ACCUSATION_OR_THREAT, *span)
        # Praise put in the patients' mouths: « nos patients nous recommandent ».
        if lem in PRAISE_LEMMAS and re.search(r"\b(?:nos|mes|les) patient", sentence_folded):
            out.add(I.PROMOTION, *span)


def _health_and_tone(
    *,
    tokens: Sequence[Any],
    sentence_folded: str,
    singles: frozenset[str],
    extra: frozenset[str],
    nlp: Any,
    out: _Collector,
    linked: bool,
) -> None:
    health_index, insult_index = vector_indexes(nlp)
    for tok in tokens:
        if not tok.is_alpha and "-" not in tok.text:
            continue
        low = _fold_word(tok.text)
        lem = _lemma(tok)
        span = (tok.idx, tok.idx + len(tok.text))
        bare = re.sub(r"[sx]$", "", low)
        if low in INSULT_WORDS or lem in INSULT_WORDS:
            out.add(I.INSULT, *span)
            continue
        if low in PRACTICE_WORDS or lem in PRACTICE_WORDS or tok.pos_ in _THRESHOLD_TOKENS:
            continue
        if tok.is_stop or len(low) < 4 and low not in singles | extra:
            continue
        in_lexicon = bool({low, lem, bare} & (singles | extra))
        similarity = 0.0 if in_lexicon else health_index.similarity(tok)
        if in_lexicon or similarity >= HEALTH_SIM:
            out.add(I.MEDICAL_DETAIL if linked else I.MEDICAL_TERM, *span)
            continue
        if similarity >= HEALTH_SIM_REVIEW and linked:
            out.add(I.NEEDS_REVIEW, *span, MSG_REVIEW_HEALTH % {"word": tok.text})
            continue
        if tok.pos_ in {"ADJ", "NOUN"} and insult_index.similarity(tok) >= INSULT_SIM_REVIEW:
            out.add(I.NEEDS_REVIEW, *span, MSG_REVIEW_INSULT % {"word": tok.text})


def _names(*, doc: Any, folded: str, out: _Collector, signature_start: int) -> None:
    """People named in the reply: a civility followed by a name blocks; another person's name
    (not the doctor's, not in the signature) asks for a second reading."""
    tokens = list(doc)
    for index, tok in enumerate(tokens):
        if _CIVILITY.match(fold(tok.text)) and index + 1 < len(tokens):
            nxt = tokens[index + 1]
            if nxt.text[:1].isupper() and nxt.pos_ in {"PROPN", "NOUN", "ADJ", "X"}:
                end = nxt.idx + len(nxt.text)
                if index + 2 < len(tokens) and tokens[index + 2].text == ".":
                    end += 1
                out.add(I.PATIENT_IDENTIFIER, tok.idx, end)
    for ent in doc.ents:
        if ent.label_ != "PER" or ent.start_char >= signature_start:
            continue
        if not any(t.pos_ == "PROPN" for t in ent):
            continue
        before = fold(doc[ent.start - 1].text).rstrip(".") if ent.start else ""
        first = fold(ent[0].text).rstrip(".")
        if before in _TITLES or first in _TITLES or _CIVILITY.match(before):
            continue
        out.add(I.NEEDS_REVIEW, ent.start_char, ent.end_char, MSG_REVIEW_NAME % {"word": ent.text})


def _narration(*, tokens: Sequence[Any], out: _Collector) -> None:
    """A past-tense verb whose subject is the reader (« vous avez attendu », « vous étiez »)."""
    lowers = [_fold_word(t.text) for t in tokens]
    for index, tok in enumerate(tokens):
        if tok.pos_ not in {"VERB", "AUX"} or "Fin" not in tok.morph.get("VerbForm"):
            continue
        if "2" not in tok.morph.get("Person") or not index or lowers[index - 1] != "vous":
            continue
        tense = set(tok.morph.get("Tense"))
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        compound = (
            tok.pos_ == "AUX"
            and nxt is not None
            and "Part" in nxt.morph.get("VerbForm")
            and nxt.pos_ == "VERB"
        )
        if tense & _PAST_TENSES or compound:
            end = nxt.idx + len(nxt.text) if compound and nxt is not None else tok.idx + len(tok)
            out.add(I.NEEDS_REVIEW, tokens[index - 1].idx, end, MSG_REVIEW_NARRATION)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def check_text(
    *,
    text: str,
    reviewer_identifiers: Iterable[str] = (),
    extra_medical_terms: Iterable[str] = (),
    public: bool = True,
) -> list[ReplyIssue]:
    """Every finding of ``text`` sorted by position; any BLOCK finding rejects it.

    ``reviewer_identifiers``: the author's name and pseudonym as shown on the review (never
    echoed back, nor their initials). ``public``: a reply shown to everyone (a review reply, a
    droit de réponse); False for a letter sent to one addressee, where names and the past are
    expected and only secrecy matters to the caller.
    """
    text = unicodedata.normalize("NFC", text)
    folded = fold(text)
    out = _Collector(text=text, found={})

    identifiers_seen = False
    for identifier in reviewer_identifiers:
        for pattern in _identifier_patterns(identifier):
            for m in pattern.finditer(folded):
                identifiers_seen = True
                out.add(I.PATIENT_IDENTIFIER, m.start(), m.end())
    for code, patterns in _COMPILED.items():
        for pattern in patterns:
            for m in pattern.finditer(folded):
                out.add(code, m.start(), m.end())

    singles, phrases = health_terms()
    extra = frozenset(fold(t).strip() for t in extra_medical_terms if t.strip())
    extra_phrases = tuple(t for t in extra if " " in t)
    sentences = _sentences(folded)
    for start, end in sentences:
        sentence = folded[start:end]
        linked = _person_linked(sentence) or identifiers_seen
        for phrase in (*phrases, *extra_phrases):
            for m in phrase_pattern(phrase).finditer(sentence):
                code = I.MEDICAL_DETAIL if linked else I.MEDICAL_TERM
                out.add(code, start + m.start(), start + m.end())
        if linked or _SOMEONE.search(sentence):
            for m in _CARE_PAST.finditer(sentence):
                out.add(I.PATIENT_STATUS, start + m.start(), start + m.end())
        if _WITHDRAW_WORD.search(sentence):
            for m in _DEADLINE.finditer(sentence):
                out.add(I.THREAT, start + m.start(), start + m.end())
        for m in _TIME.finditer(sentence):
            linked_time = bool(_SECOND_PERSON.search(sentence)) or identifiers_seen
            code = I.VISIT_DATE_OR_TIME if linked_time else I.TIME_MENTION
            out.add(code, start + m.start(), start + m.end())

    nlp = nlp_get()
    if nlp is None:
        out.add(I.NEEDS_REVIEW, 0, 0, MSG_REVIEW_UNAVAILABLE)
    else:
        signature = re.search(r"(?:^|\s)[—–-]{1,2}\s*[^\s—–-][^\n]*$", text)
        signature_start = signature.start() if signature else len(text)
        doc = _analyse(nlp, text, names=bool(_NAME_CANDIDATE.search(text[:signature_start])))
        tokens_all = list(doc)
        cursor = 0
        for start, end in sentences:
            sentence_tokens = []
            while cursor < len(tokens_all) and tokens_all[cursor].idx < end:
                if tokens_all[cursor].idx >= start:
                    sentence_tokens.append(tokens_all[cursor])
                cursor += 1
            if not sentence_tokens:
                continue
            sentence = folded[start:end]
            scoped = [t for t in sentence_tokens if t.idx < signature_start]
            linked = _person_linked(sentence) or identifiers_seen
            _token_rules(
                tokens=scoped,
                sentence_folded=sentence,
                out=out,
                identifiers_seen=identifiers_seen,
                public=public,
            )
            _health_and_tone(
                tokens=scoped,
                sentence_folded=sentence,
                singles=singles,
                extra=extra,
                nlp=nlp,
                out=out,
                linked=linked,
            )
            _narration(tokens=scoped, out=out)
        _names(doc=doc, folded=folded, out=out, signature_start=signature_start)

    for m in _EMOJI.finditer(text):
        out.add(I.EMOJI, m.start(), m.end())
    if len(text) > MAX_REPLY_CHARS:
        out.add(I.TOO_LONG, MAX_REPLY_CHARS, len(text))
    return _prune(sorted(out.found.values(), key=lambda i: (i.start, i.end, i.code.value)))


def _analyse(nlp: Any, text: str, *, names: bool) -> Any:
    """Run the pipeline; the entity recogniser (a third of the time) only when a capitalised
    word stands inside a sentence, the only place a name can hide. Calling the components one
    by one leaves the shared pipeline untouched (thread-safe)."""
    doc = nlp.make_doc(text)
    for name, component in nlp.pipeline:
        if name == "ner" and not names:
            continue
        doc = component(doc)
    return doc


def _prune(issues: list[ReplyIssue]) -> list[ReplyIssue]:
    """Drop what adds nothing: a warning whose span overlaps a blocking finding's, and a
    finding inside a wider one of the same category (the pattern and the token rule often see
    the same words). Every echo of a reviewer identifier is kept."""
    blocks = [i for i in issues if i.severity is ReplySeverity.BLOCK]
    kept = []
    for issue in issues:
        if issue.severity is ReplySeverity.WARN and issue.code is not I.TOO_LONG:
            if any(b.start < issue.end and issue.start < b.end for b in blocks):
                continue
        if issue.code is not I.PATIENT_IDENTIFIER and any(
            other.code is issue.code
            and other is not issue
            and other.start <= issue.start
            and issue.end <= other.end
            and (other.end - other.start) > (issue.end - issue.start)
            for other in issues
        ):
            continue
        kept.append(issue)
    return kept
