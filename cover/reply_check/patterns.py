"""The reply check's rule tables (DOMAIN §5.4): the patterns of layer 1 on the folded text
(fixed phrases, dates, threats, care verbs in the past), the similarity thresholds and review
messages, and the word sets the token rules of ``cover.reply_check.engine`` read.
"""

from __future__ import annotations

import re

from cover.reply_check.findings import ReplyIssueCode
from cover.reply_check.lexicons import fold
from cover.rules import _

I = ReplyIssueCode  # noqa: E741 - short alias for the pattern tables

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
PLACE = (
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
        rf"{PLACE}\b",
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
COMPILED_PATTERNS: dict[ReplyIssueCode, tuple[re.Pattern[str], ...]] = {
    code: tuple(re.compile(p) for p in patterns) for code, patterns in PATTERNS.items()
}

# A deadline is a threat only next to a demand to withdraw (« sous 48 heures » alone can be the
# practice's answering time).
DEADLINE = re.compile(
    r"\b(?:sous|dans (?:les|un delai de)|d'ici) (?:\d+|quarante-huit|vingt-quatre|huit|quinze)"
    r" (?:heures|h|jours)\b|\bsous huitaine\b"
)
# A care verb in the passé composé or the passive: "a été vacciné", "avez été reçue". Checked
# on the text as well as on tokens, since the tagger sometimes reads a rare participle as a noun.
CARE_PAST = re.compile(
    r"\b(?:ete|suis|est|sont|etait|etaient|etiez|etes|a|ont|avons|avez|avait|ai) "
    r"(?:bien |deja |jamais |pas |ete |\w+ment )?(?:recue?s?|vue?s?|examinee?s?|soignee?s?|operee?s?"
    r"|suivie?s?|accueillie?s?|hospitalisee?s?|vaccinee?s?|traitee?s?|auscultee?s?"
    r"|diagnostiquee?s?|accouchee?s?|perfusee?s?|platree?s?|suturee?s?|prise?s? en charge)\b"
)
SOMEONE = re.compile(
    r"\b(?:personne|patient|patiente|fils|fille|enfant|mari|epouse|mere|pere|il|elle|ils"
    r"|elles|monsieur|madame|dame|auteur|autrice|internaute)\b"
)
WITHDRAW_WORD = re.compile(r"\b(?:retir|supprim|effac|enlev|modifi|rectifi|retrait)\w*")
SECOND_PERSON = re.compile(r"(?<![\w-])(?:vous|votre|vos|tu|ton|ta|tes|toi|te|t')(?![\w-])")
THIRD_PERSON_REF = re.compile(
    r"\b(?:cette personne|ce patient|cette patiente|ce monsieur|cette dame|cette femme|"
    r"cet homme|l'interesse|l'interessee|l'auteur|l'autrice|cet internaute|cette internaute|"
    r"ce client|cette cliente|monsieur|madame|mademoiselle|m\.|mme|mlle)\b"
)
TIME = re.compile(
    r"\b\d{1,2}\s?h(?:\s?\d{2})?\b|(?:(?<=\ba )|(?<=vers ))\d{1,2} heures(?: \d{2})?\b"
)
SENTENCE = re.compile(r"[^.!?;\n]+")
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff]|[:;]-?[()dDpP](?!\\w)"
)
# A capitalised word inside a sentence (not after . ! ? or a line start, nor a title).
NAME_CANDIDATE = re.compile(
    r"(?<![.!?:;\n—–-])(?<![.!?:;\n—–-] )(?<!^)(?<!Dr )(?<!Pr )"
    r"(?<!Docteur )(?<!Professeur )(?<!Cabinet )\b[A-ZÀ-Ý][\w'-]+"
)
CIVILITY = re.compile(r"^(?:m|mme|mlle|monsieur|madame|mademoiselle)\.?$")
TITLES = frozenset({"dr", "docteur", "pr", "professeur", "cabinet", "centre", "clinique"})
CLITIC_OBJECTS = frozenset({"vous", "te", "t'", "l'", "la", "le", "les"})
# Verbs whose object can only be a person: « nous l'avons opéré » says who was treated.
CARE_LEMMAS = frozenset(
    fold(w)
    for w in (
        "soigner opérer examiner ausculter hospitaliser vacciner accoucher piquer perfuser "
        "plâtrer suturer diagnostiquer accueillir"
    ).split()
)
PAST_TENSES = frozenset({"Past", "Imp"})
THRESHOLD_TOKENS = frozenset({"PRON", "DET", "ADP", "CCONJ", "SCONJ", "AUX", "PUNCT", "NUM"})


_ID_SEP = r"[\s\-_.]?"
# Words of a pseudonym too common to be searched alone ("Le patient du 13" is not "le").
_ID_COMMON_WORDS = frozenset(
    "les des une aux par pour sur dans avec sans mon ton son mes tes ses nos vos est qui que "
    "the and".split()
)


def identifier_patterns(identifier: str) -> list[re.Pattern[str]]:
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
