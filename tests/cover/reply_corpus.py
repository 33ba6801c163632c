"""Labelled French drafts for the reply check (DOMAIN §5.4), used by test_reply_corpus.py and
bench/bench_reply_check.py.

Each case: the draft, the reviewer's identifiers when known, and the §5.4 categories it breaks
(empty: a compliant draft that must never be blocked). The drafts vary person (je / nous / vous /
il / elle / cette personne), tense and wording; the seven misses quoted in issue 14 are here
word for word (marked ``issue14``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cover.reply_check.findings import ReplyIssueCode as C

# §5.4 category -> the finding codes that satisfy it (any one, with severity BLOCK).
CATEGORY_CODES: dict[str, frozenset[C]] = {
    "identifier": frozenset({C.PATIENT_IDENTIFIER}),
    "visit_date": frozenset({C.VISIT_DATE_OR_TIME}),
    "visit_reference": frozenset({C.VISIT_REFERENCE, C.RECOLLECTION, C.PATIENT_STATUS}),
    "health": frozenset({C.MEDICAL_DETAIL}),
    "recollection": frozenset({C.RECOLLECTION}),
    "patient_status": frozenset({C.PATIENT_STATUS}),
    "accusation": frozenset({C.ACCUSATION_OR_THREAT, C.INSULT}),
    "threat": frozenset({C.THREAT, C.ACCUSATION_OR_THREAT}),
    "sarcasm": frozenset({C.SARCASM}),
    "promotion": frozenset({C.PROMOTION}),
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_CODES)


@dataclass(frozen=True)
class Draft:
    text: str
    categories: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    note: str = ""

    @property
    def compliant(self) -> bool:
        return not self.categories


DOMAIN_EXAMPLE = (
    "Bonjour, nous vous remercions d'avoir pris le temps de partager votre ressenti. Dans le "
    "respect du secret médical, nous ne pouvons évoquer publiquement aucune situation "
    "individuelle. De manière générale, le cabinet s'efforce de respecter les horaires ; des "
    "urgences peuvent toutefois occasionner des retards, ce que nous regrettons. Si vous le "
    "souhaitez, nous vous invitons à contacter directement le cabinet afin d'échanger en toute "
    "confidentialité. — Cabinet du Dr X"
)

BLOCKED: tuple[Draft, ...] = (
    # --- the seven misses of issue 14, word for word
    Draft("Bonjour, merci d'être venue au cabinet.", ("patient_status",), note="issue14"),
    Draft(
        "Votre eczéma demandait un suivi régulier, nous le regrettons.",
        ("health",),
        note="issue14",
    ),
    Draft("Cette personne a bien été reçue au cabinet.", ("patient_status",), note="issue14"),
    Draft(
        "Retirez ce commentaire sous 48 heures, faute de quoi nous prendrons nos dispositions.",
        ("threat",),
        note="issue14",
    ),
    Draft("Voilà l'avis d'une personne aigrie et stupide.", ("accusation",), note="issue14"),
    Draft("Nulle trace de votre nom dans notre fichier.", ("patient_status",), note="issue14"),
    Draft("L'immense majorité de nos patients nous recommandent.", ("promotion",), note="issue14"),
    # --- patient status, every person and tense
    Draft("Merci d'être passé nous voir, monsieur.", ("patient_status",)),
    Draft("Nous vous avons accueillie avec la plus grande attention.", ("patient_status",)),
    Draft("Je vous ai examiné avec soin ce jour-là.", ("patient_status",)),
    Draft("Cette patiente a été prise en charge selon les règles.", ("patient_status",)),
    Draft("Ce monsieur avait été vu en urgence par mon associé.", ("patient_status",)),
    Draft("Vous étiez venu sans rendez-vous et nous vous avons reçu.", ("patient_status",)),
    Draft("Elle a été suivie au cabinet pendant deux ans.", ("patient_status",)),
    Draft("Vous n'avez jamais consulté au cabinet, cet avis est donc faux.", ("patient_status",)),
    Draft("Nous ne vous connaissons pas.", ("patient_status",)),
    Draft("Aucun dossier à votre nom n'existe chez nous.", ("patient_status",)),
    Draft("Votre nom ne figure pas dans nos registres.", ("patient_status",)),
    Draft("Vous êtes inconnue de notre patientèle.", ("patient_status",)),
    Draft("Merci pour votre confiance renouvelée.", ("patient_status",)),
    Draft("Au plaisir de vous revoir bientôt au cabinet.", ("patient_status",)),
    Draft("Vous avez attendu parce que le médecin était en retard.", ("patient_status",)),
    # --- visit references, dates and times
    Draft(
        "Concernant votre rendez-vous de mardi dernier, le retard était exceptionnel.",
        ("visit_reference", "visit_date"),
    ),
    Draft("Le 14 mars à 10 h, le cabinet était complet.", ("visit_date",)),
    Draft("Vous êtes arrivée à 9h45 alors que le créneau était à 9h.", ("visit_date",)),
    Draft("Il y a trois semaines, le secrétariat vous a rappelée.", ("visit_date",)),
    Draft("Vos résultats d'analyses étaient pourtant normaux.", ("visit_reference", "health")),
    Draft("Le jour de votre venue, un patient était en urgence.", ("visit_reference",)),
    # --- recollection
    Draft("Je me souviens très bien de votre consultation.", ("recollection",)),
    Draft("Nous nous rappelons parfaitement cet échange.", ("recollection",)),
    Draft("Je vous avais pourtant expliqué la marche à suivre.", ("recollection",)),
    Draft("Comme nous vous l'avions indiqué, le cabinet ferme à 18 h.", ("recollection",)),
    Draft("Lors de votre passage, la salle d'attente était pleine.", ("recollection",)),
    Draft("J'ai gardé un excellent souvenir de notre rencontre.", ("recollection",)),
    # --- health details linked to the author, terms in and out of the lexicon
    Draft("Votre tension était élevée, d'où l'arrêt de travail.", ("health",)),
    Draft("Vos migraines nécessitaient un avis spécialisé.", ("health",)),
    Draft("Cette dame souffrait d'une rosacée sévère.", ("health",), note="vector widening"),
    Draft("Vous étiez enceinte, nous ne pouvions donc pas prescrire ce médicament.", ("health",)),
    Draft("Votre bronchiolite n'exigeait aucun antibiotique.", ("health",), note="vectors"),
    Draft("Il fallait d'abord soigner votre dépression.", ("health",)),
    Draft("Le vaccin que vous avez reçu était adapté.", ("health",)),
    # --- identifiers
    Draft("Bonjour Sophie, nous regrettons votre déception.", ("identifier",), ("Sophie L.",)),
    Draft("Merci S.L. pour ce retour.", ("identifier",), ("Sophie Lambert",)),
    Draft("Bonjour marie 75, le cabinet est à votre écoute.", ("identifier",), ("Marie75",)),
    Draft("Madame Durand, nous vous invitons à nous contacter.", ("identifier",)),
    # --- accusations and insults
    Draft("Vous mentez, et vous le savez.", ("accusation",)),
    Draft("Cet avis mensonger n'a qu'un but : nuire.", ("accusation",)),
    Draft("Il est tellement plus facile de critiquer derrière un écran.", ("accusation",)),
    Draft("Votre comportement au secrétariat était inacceptable.", ("accusation",)),
    Draft("Une personne aussi ignorante ne peut pas comprendre.", ("accusation",)),
    Draft("Cette personne invente des faits pour se venger.", ("accusation",)),
    # --- threats, explicit and veiled
    Draft("Nous allons porter plainte pour diffamation.", ("threat",)),
    Draft("Supprimez votre avis, sinon nous saisirons qui de droit.", ("threat",)),
    Draft("Cet avis ne restera pas sans suite.", ("threat",)),
    Draft("Nous nous réservons le droit d'agir.", ("threat",)),
    Draft("Je vous demande de retirer ce message dans les 24 heures.", ("threat",)),
    Draft("Nous savons qui vous êtes.", ("threat",)),
    # --- sarcasm
    Draft("Merci pour cette magnifique leçon de médecine !", ("sarcasm",)),
    Draft("Quelle surprise de lire un avis si nuancé.", ("sarcasm",)),
    Draft("Bravo pour votre immense expertise médicale.", ("sarcasm",)),
    Draft("Heureusement que vous êtes là pour nous apprendre notre métier !!", ("sarcasm",)),
    Draft("Vous avez sans doute mieux à faire que d'écrire des avis.", ("sarcasm",)),
    # --- promotion and comparison
    Draft("Nous sommes le meilleur cabinet de la ville.", ("promotion",)),
    Draft("La plupart de nos patients sont très satisfaits.", ("promotion",)),
    Draft("Nos patients apprécient notre disponibilité.", ("promotion",)),
    Draft("98 % de réussite sur ces interventions.", ("promotion",)),
    Draft("Contrairement à d'autres confrères, nous prenons le temps.", ("promotion",)),
    Draft("Plus de 500 avis positifs en témoignent.", ("promotion",)),
    Draft("N'hésitez pas à nous laisser un avis cinq étoiles.", ("promotion",)),
    Draft("Le cabinet le plus reconnu de la région.", ("promotion",)),
    # --- second batch, written after the first tuning pass (kept as regression cases)
    Draft("Nous sommes ravis que vous soyez venue nous consulter.", ("patient_status",)),
    Draft("Je confirme avoir reçu cette personne le 2 mai.", ("patient_status", "visit_date")),
    Draft("Nous n'avons retrouvé aucune trace de votre passage.", ("patient_status",)),
    Draft("Ce patient n'a jamais fait partie de notre patientèle.", ("patient_status",)),
    Draft("Tu es venu au cabinet sans rendez-vous.", ("patient_status",)),
    Draft("Je ne vous ai jamais soignée.", ("patient_status",)),
    Draft("Nous l'avons opéré dans les règles de l'art.", ("patient_status",)),
    Draft("Votre fils a été vacciné conformément au calendrier.", ("patient_status", "health")),
    Draft("Vous aviez pris rendez-vous pour un renouvellement d'ordonnance.", ("health",)),
    Draft("Votre asthme était parfaitement contrôlé.", ("health",)),
    Draft("Les douleurs dont vous vous plaigniez étaient bénignes.", ("health",)),
    Draft("Votre lombalgie chronique ne justifiait pas d'IRM.", ("health",)),
    Draft("Vous preniez déjà des anxiolytiques.", ("health",)),
    Draft("Votre psoriasis s'est amélioré depuis.", ("health",)),
    Draft("Je me rappelle parfaitement votre visite.", ("recollection",)),
    Draft("Vous vous souvenez sans doute que je vous avais prévenu.", ("recollection",)),
    Draft(
        "Ainsi que je vous l'ai précisé au téléphone, le cabinet ferme en août.", ("recollection",)
    ),
    Draft("Vous êtes une menteuse.", ("accusation",)),
    Draft("Vos propos calomnieux sont inadmissibles.", ("accusation",)),
    Draft("Une telle hystérique ne mérite pas de réponse.", ("accusation",)),
    Draft("Vous avez manifestement affabulé.", ("accusation",)),
    Draft("Enlevez cet avis immédiatement.", ("threat",)),
    Draft("Notre conseil a été saisi.", ("threat",)),
    Draft("Vous recevrez prochainement un courrier de notre avocat.", ("threat",)),
    Draft("Nous prendrons les mesures qui s'imposent.", ("threat",)),
    Draft("Merci pour ce commentaire si constructif.", ("sarcasm",)),
    Draft("Quel talent pour la critique !", ("sarcasm",)),
    Draft("Le seul cabinet de la ville équipé d'un laser.", ("promotion",)),
    Draft("Nos résultats sont garantis.", ("promotion",)),
    Draft("Tous nos patients nous font confiance depuis vingt ans.", ("promotion",)),
    Draft("Merci J.-P. M. pour votre message.", ("identifier",), ("Jean-Pierre Martin",)),
    Draft("Bonjour Jean-Pierre, merci pour votre avis.", ("identifier",), ("Jean-Pierre M.",)),
    Draft("Monsieur Bernard, le cabinet reste à votre disposition.", ("identifier",)),
    # --- third batch, written after the second tuning pass
    Draft("Nous avons été heureux de vous accueillir.", ("patient_status",)),
    Draft("Je n'ai aucun souvenir de vous.", ("patient_status",)),
    Draft("Vous faites partie de nos patients depuis longtemps.", ("patient_status",)),
    Draft("Cette dame n'est jamais venue chez nous.", ("patient_status",)),
    Draft("Il a consulté trois fois pour le même problème.", ("patient_status",)),
    Draft("Votre mère a été parfaitement prise en charge.", ("patient_status",)),
    Draft("Votre dossier médical ne mentionne rien de tel.", ("visit_reference",)),
    Draft("Vous avez été reçu le lundi 4 à 11 heures.", ("visit_date",)),
    Draft("Lors de notre dernier rendez-vous, tout s'était bien passé.", ("visit_reference",)),
    Draft("Votre cholestérol est trop élevé, je vous l'ai dit.", ("health",)),
    Draft("Votre enfant avait une otite, pas une simple fièvre.", ("health",)),
    Draft("Les crises d'angoisse que vous décrivez relèvent d'un psychiatre.", ("health",)),
    Draft("Votre IVG s'est déroulée sans complication.", ("health",)),
    Draft("Vous refusiez de prendre votre insuline.", ("health",)),
    Draft("Votre genou opéré devait être ménagé.", ("health",)),
    Draft("Je me souviens de vous, vous étiez très pressée.", ("recollection",)),
    Draft("Nous vous avions pourtant conseillé de revenir.", ("recollection",)),
    Draft("Vous êtes d'une mauvaise foi incroyable.", ("accusation",)),
    Draft("Ce commentaire est l'œuvre d'un concurrent jaloux.", ("accusation",)),
    Draft("Vous êtes un menteur et un lâche.", ("accusation",)),
    Draft("Votre avis est diffamatoire et sera signalé à notre avocat.", ("threat",)),
    Draft("Si ce message n'est pas retiré, nous engagerons une procédure.", ("threat",)),
    Draft("Nous pourrions être amenés à défendre nos droits devant les juridictions.", ("threat",)),
    Draft("Vous feriez mieux de supprimer ce message.", ("threat",)),
    Draft("Merci pour ce superbe commentaire, vraiment.", ("sarcasm",)),
    Draft("Quel plaisir de lire un avis aussi bienveillant !", ("sarcasm",)),
    Draft("Nous avons plus de 20 000 patients satisfaits.", ("promotion",)),
    Draft("Notre cabinet est reconnu comme l'un des meilleurs de France.", ("promotion",)),
    Draft("Aucun de nos patients ne s'est jamais plaint.", ("promotion",)),
    Draft("Nos techniques sont bien plus modernes que celles des autres cabinets.", ("promotion",)),
    Draft("Bonjour Mme L., nous prenons note.", ("identifier",), ("Laure Martin",)),
    Draft("Cher Kevin_du_13, merci.", ("identifier",), ("Kevin_du_13",)),
)

COMPLIANT: tuple[Draft, ...] = (
    Draft(DOMAIN_EXAMPLE, note="DOMAIN §5.4 example"),
    Draft(DOMAIN_EXAMPLE.replace("Cabinet du Dr X", "Dr Martin"), note="other signature"),
    Draft(
        "Bonjour, merci d'avoir pris le temps de partager votre ressenti. Dans le respect du "
        "secret médical, nous ne pouvons évoquer publiquement aucune situation individuelle. "
        "Si vous le souhaitez, contactez directement le cabinet afin d'échanger en toute "
        "confidentialité. — Dr Martin",
        note="plain variant",
    ),
    Draft(
        "Bonjour, nous vous remercions pour votre message. Le secret médical nous interdit "
        "d'évoquer publiquement toute situation individuelle. De manière générale, les délais "
        "d'attente dépendent des disponibilités du cabinet, qui s'efforce de proposer des "
        "créneaux au plus tôt. Nous restons à votre disposition par téléphone. — Cabinet médical "
        "des Tilleuls",
        note="appointment topic",
    ),
    Draft(
        "Bonjour, merci pour votre retour. Nous ne pouvons pas répondre publiquement à une "
        "situation particulière, par respect du secret médical. Le cabinet organise ses "
        "journées de façon à pouvoir recevoir les urgences, ce qui peut décaler les horaires "
        "prévus. N'hésitez pas à nous appeler pour en parler. — Dr Lefèvre",
        note="emergencies topic",
    ),
    Draft(
        "Bonjour, nous avons bien pris connaissance de votre avis. Tenus au secret médical, "
        "nous ne commentons aucune situation individuelle. Le secrétariat s'efforce de répondre "
        "à tous les appels ; aux heures de forte affluence, l'attente peut être plus longue. "
        "Vous pouvez joindre le cabinet pour échanger en toute confidentialité. — Cabinet du "
        "Dr Benali",
        note="phone topic",
    ),
    Draft(
        "Bonjour, merci d'avoir partagé votre ressenti. Le secret médical nous empêche de "
        "répondre sur le fond ici. Nous vous invitons à contacter le cabinet directement. "
        "— Le secrétariat",
    ),
    Draft(
        "Bonjour, nous regrettons que votre expérience n'ait pas été à la hauteur de vos "
        "attentes. Dans le respect du secret médical, nous ne pouvons rien dire d'une situation "
        "individuelle. Nous vous invitons à prendre contact avec le cabinet. — Dr Rousseau",
    ),
    Draft(
        "Bonjour, merci de votre retour. Le cabinet s'efforce de respecter les horaires ; "
        "des urgences peuvent occasionner des retards. Pour en parler en toute confidentialité, "
        "contactez-nous directement. — Cabinet du Dr X",
    ),
    Draft(
        "Madame, Monsieur, nous avons lu votre commentaire avec attention. Le secret médical "
        "ne nous permet pas d'y répondre publiquement. Le cabinet reste joignable aux heures "
        "d'ouverture pour échanger en privé. — Dr Petit",
    ),
    Draft(
        "Bonjour, nous entendons votre mécontentement. Par respect du secret médical, aucune "
        "situation individuelle ne peut être évoquée ici. De manière générale, le cabinet "
        "consacre à chaque consultation le temps nécessaire, ce qui peut allonger l'attente. "
        "Si vous le souhaitez, contactez le cabinet pour en discuter. — Cabinet du Dr Nguyen",
    ),
    Draft(
        "Bonjour, merci d'avoir pris la peine d'écrire. Nous ne pouvons pas discuter "
        "publiquement d'une situation individuelle. Le cabinet est ouvert du lundi au vendredi "
        "et répond aux messages dans la journée. — Dr Garnier",
    ),
    Draft(
        "Bonjour, nous vous remercions d'avoir partagé votre avis. Dans le respect du secret "
        "médical, nous ne pouvons évoquer aucune situation individuelle. Nous restons à votre "
        "écoute si vous souhaitez contacter le cabinet. — Cabinet de pédiatrie du Dr Morel",
    ),
    Draft(
        "Bonjour, merci pour ce retour. Le cabinet est attentif à chaque remarque et s'efforce "
        "d'améliorer son accueil. Vous pouvez contacter directement le secrétariat pour "
        "échanger en toute confidentialité. — Dr Fontaine",
    ),
    Draft(
        "Bonjour, nous prenons note de votre message. Le secret médical s'impose à nous en "
        "toutes circonstances. Le cabinet se tient à votre disposition pour un échange privé. "
        "— Cabinet médical du Parc",
    ),
    Draft(
        "Bonjour, merci d'avoir pris le temps d'écrire. De manière générale, le cabinet "
        "s'efforce de proposer des créneaux au plus tôt et de prévenir en cas de retard. "
        "Contactez-nous directement si vous le souhaitez. — Dr Caron",
    ),
    # --- second batch
    Draft(
        "Bonjour, nous comprenons que l'attente ait pu paraître longue. Le cabinet s'efforce de limiter les retards. Contactez-nous directement si vous le souhaitez. — Dr Martin"
    ),
    Draft(
        "Bonjour, le cabinet reçoit sur rendez-vous du lundi au samedi. Les urgences sont prises en charge en priorité. — Cabinet du Dr X"
    ),
    Draft(
        "Bonjour, merci pour votre avis. Nous répondons aux messages sous 48 heures. En cas d'urgence vitale, appelez le 15. — Dr Blanc"
    ),
    Draft(
        "Bonjour, le cabinet ferme à 19 h en semaine. Nous vous invitons à appeler le secrétariat pour échanger en toute confidentialité. — Dr Roux"
    ),
    Draft(
        "Bonjour, nous sommes désolés que vous n'ayez pas été satisfait. Le secret médical nous empêche de commenter. Le cabinet reste joignable au 01 23 45 67 89. — Dr Faure"
    ),
    Draft(
        "Bonjour, nous regrettons la gêne occasionnée. Le cabinet met tout en œuvre pour améliorer l'organisation des rendez-vous. — Le Dr Girard et son équipe"
    ),
    Draft(
        "Bonjour, votre message a bien été transmis au médecin. Nous vous invitons à contacter le cabinet pour en parler de vive voix. — Le secrétariat du Dr Lambert"
    ),
    Draft(
        "Bonjour, merci pour votre retour. Nous prenons chaque remarque au sérieux afin d'améliorer l'accueil. — Cabinet dentaire des Lilas"
    ),
)

CORPUS: tuple[Draft, ...] = BLOCKED + COMPLIANT
