"""The letters of DOMAIN §4 (and §7, §8) as data: for each letter kind, its fields, whether
each is required or recommended, and the legal statements the letter carries.

Why: a notice that lacks one element of DSA art. 16(2) does not give the host actual knowledge;
a droit de réponse request without the elements of décret 2007-1527 art. 2 can be refused; an
ambiguous mise en demeure is not valid. ``REQUIRED`` comes from the text or case law cited;
``RECOMMENDED`` is good practice (for the DSA notice: the legacy LCEN 6-I-5 list that French
judges were used to). The checks over these tables live in ``cover.letter_fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cover.rules import Addressee, Caveat, Confidence, _


class LetterKind(StrEnum):
    DSA_NOTICE = "DSA_NOTICE"
    DROIT_DE_REPONSE = "DROIT_DE_REPONSE"
    GDPR_OBJECTION_ERASURE = "GDPR_OBJECTION_ERASURE"
    DEREFERENCING = "DEREFERENCING"
    CNIL_COMPLAINT = "CNIL_COMPLAINT"
    MISE_EN_DEMEURE = "MISE_EN_DEMEURE"
    CONSTAT_ORDER = "CONSTAT_ORDER"
    INSURER_DECLARATION = "INSURER_DECLARATION"


class Requirement(StrEnum):
    REQUIRED = "REQUIRED"
    RECOMMENDED = "RECOMMENDED"


class SenderCapacity(StrEnum):
    """Who signs: the doctor, or a mandatary whose mandate must then be mentioned."""

    DOCTOR = "DOCTOR"
    LAWYER = "LAWYER"
    INSURER = "INSURER"


MANDATARIES: frozenset[Any] = frozenset({SenderCapacity.LAWYER, SenderCapacity.INSURER})


@dataclass(frozen=True)
class LetterField:
    """One element of a letter.

    ``item_fields``: for a list of mappings (quoted passages), the keys each item needs.
    ``required_when``: (other field, values) — the field is required only in that case.
    ``fixed_text``: wording to insert as is (see ``letter_default_values``).
    ``dsa_ref`` / ``legacy_lcen``: for the DSA notice, which list the element comes from.
    """

    name: str
    label: str
    requirement: Requirement
    basis: str
    note: str = ""
    item_fields: tuple[str, ...] = ()
    required_when: tuple[str, frozenset[Any]] | None = None
    fixed_text: str | None = None
    dsa_ref: str | None = None
    legacy_lcen: bool = False


@dataclass(frozen=True)
class LetterSpec:
    kind: LetterKind
    label: str
    addressee: Addressee
    basis: str
    channel: str
    fields: tuple[LetterField, ...]
    caveats: tuple[Caveat, ...] = ()


REQ = Requirement.REQUIRED
REC = Requirement.RECOMMENDED

PASSAGE_ITEM_FIELDS = ("quote", "qualification", "legal_basis")

DSA_GOOD_FAITH_STATEMENT = _(
    "Je déclare de bonne foi que les informations et allégations contenues dans la présente "
    "notification sont exactes et complètes."
)
GDPR_OBJECTION_STATEMENT = _(
    "Je m'oppose, sur le fondement de l'article 21.1 du RGPD, au traitement de mes données "
    "personnelles."
)
GDPR_ERASURE_STATEMENT = _(
    "Je demande l'effacement de ces données sur le fondement de l'article 17.1.c du RGPD."
)
GDPR_DEADLINE_REMINDER = _(
    "Je vous rappelle que vous disposez d'un délai d'un mois à compter de la réception de la "
    "présente demande pour y répondre (article 12.3 du RGPD)."
)
GDPR_CNIL_NOTICE = _(
    "À défaut de réponse satisfaisante dans ce délai, je saisirai la Commission nationale de "
    "l'informatique et des libertés (CNIL)."
)
MISE_EN_DEMEURE_OBJECT = _("MISE EN DEMEURE")
MISE_EN_DEMEURE_COURT_NOTICE = _(
    "À défaut d'exécution dans ce délai, je saisirai la juridiction compétente, notamment aux "
    "fins d'obtenir réparation de mon préjudice et le remboursement des frais de procédure."
)
MISE_EN_DEMEURE_RESERVATION = _("Sous toutes réserves.")
CONSTAT_NORM_STATEMENT = _(
    "Le constat sera établi conformément à la norme NF Z67-147 (mode opératoire des "
    "procès-verbaux de constat sur internet)."
)
# NF Z67-147 §4.2.1 and §4.2.2, as cited by CA Aix 15 Sep 2016 and Cass. soc. 18 Nov 2020.
CONSTAT_REQUIRED_OPERATIONS: tuple[str, ...] = (
    _("adresse IP identifiant le matériel utilisé"),
    _("suppression des caches avant la consultation"),
    _("vérification de l'absence de serveur proxy"),
    _("preuve des liens hypertextes menant aux pages litigieuses"),
    _("suppression des cookies"),
    _("heure de début des opérations"),
)
# Further practice (CA Paris 12 Jan 2016 and commentators): recommended, not required.
CONSTAT_RECOMMENDED_OPERATIONS: tuple[str, ...] = (
    _("mention de la norme"),
    _("description de l'ordinateur (marque, modèle, numéro de série)"),
    _("version et date de mise à jour du système d'exploitation"),
    _("version du navigateur, absence de modules complémentaires"),
    _("architecture du réseau local, pare-feu, fournisseur d'accès"),
    _("contrôle antimalware"),
    _("synchronisation de l'horloge"),
    _("captures pleine page et code source"),
    _("opérations de clôture"),
)
# Arguments for a GDPR objection to a listing (CNOM guide; CA Chambéry 22 May 2025).
GDPR_LISTING_ARGUMENTS: tuple[str, ...] = (
    _("Des annuaires publics existent déjà (CNOM, Ameli) : la fiche n'est pas nécessaire."),
    _("La finalité de la fiche est essentiellement commerciale."),
    _("Les avis ne sont pas vérifiés : n'importe qui, même non patient, peut en publier."),
    _("Le secret médical interdit au médecin de répondre : la balance des intérêts penche."),
    _(
        "Défaut d'information au titre de l'article 14 du RGPD (insuffisant à lui seul selon "
        "CA Chambéry 22 mai 2025)."
    ),
)

_MANDATE_NOTE = _("Mentionner le mandat lorsque l'avocat ou l'assureur agit pour le médecin.")
_NO_MEDICAL = _("Aucune information médicale ni relative à un patient (secret médical).")

LETTER_SPECS: Mapping[LetterKind, LetterSpec] = {
    spec.kind: spec
    for spec in (
        LetterSpec(
            kind=LetterKind.DSA_NOTICE,
            label=_("Notification de contenu illicite à l'hébergeur"),
            addressee=Addressee.HOST,
            basis=_("DSA (règlement (UE) 2022/2065) art. 16 ; ancien LCEN art. 6-I-5"),
            channel=_(
                "Formulaire électronique de l'hébergeur (art. 16(1)), soumission archivée "
                "(capture et accusé de réception) ; LRAR ou LRE en complément pour la preuve."
            ),
            fields=(
                LetterField(
                    "notice_date",
                    _("Date de la notification"),
                    REC,
                    _("LCEN 6-I-5"),
                    legacy_lcen=True,
                ),
                LetterField(
                    "notifier.name",
                    _("Nom du notifiant"),
                    REQ,
                    _("DSA art. 16(2)(c)"),
                    dsa_ref="16(2)(c)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "notifier.email",
                    _("Adresse électronique du notifiant"),
                    REQ,
                    _("DSA art. 16(2)(c)"),
                    dsa_ref="16(2)(c)",
                ),
                LetterField(
                    "notifier.mandate",
                    _("Mandat (avocat ou assureur agissant pour le médecin)"),
                    REQ,
                    _("DOMAIN §4.1"),
                    note=_MANDATE_NOTE,
                    required_when=("notifier.capacity", MANDATARIES),
                ),
                LetterField(
                    "notifier.postal_address",
                    _("Adresse postale du notifiant"),
                    REC,
                    _("LCEN 6-I-5 (ancien)"),
                    note=_("Facultatif : arbitrage de confidentialité."),
                    legacy_lcen=True,
                ),
                LetterField(
                    "notifier.profession",
                    _("Profession du notifiant"),
                    REC,
                    _("LCEN 6-I-5 (ancien)"),
                    legacy_lcen=True,
                ),
                LetterField(
                    "host.legal_name",
                    _("Dénomination de l'hébergeur"),
                    REC,
                    _("LCEN 6-I-5 ; mentions légales (LCEN art. 1-1)"),
                    legacy_lcen=True,
                ),
                LetterField(
                    "host.registered_office",
                    _("Siège social de l'hébergeur"),
                    REC,
                    _("LCEN 6-I-5 ; mentions légales (LCEN art. 1-1)"),
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.urls",
                    _("URL exacte(s) du contenu"),
                    REQ,
                    _("DSA art. 16(2)(b)"),
                    dsa_ref="16(2)(b)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.screenshots",
                    _("Captures d'écran"),
                    REC,
                    _("DSA art. 16(2)(b)"),
                    dsa_ref="16(2)(b)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.review_id",
                    _("Identifiant de l'avis"),
                    REC,
                    _("DSA art. 16(2)(b)"),
                    dsa_ref="16(2)(b)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.author_pseudonym",
                    _("Pseudonyme de l'auteur"),
                    REC,
                    _("DSA art. 16(2)(b)"),
                    dsa_ref="16(2)(b)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.display_date",
                    _("Date affichée de l'avis"),
                    REC,
                    _("DSA art. 16(2)(b)"),
                    dsa_ref="16(2)(b)",
                    legacy_lcen=True,
                ),
                LetterField(
                    "content.passages",
                    _("Passages cités mot pour mot, avec qualification et articles"),
                    REQ,
                    _("DSA art. 16(2)(a)"),
                    dsa_ref="16(2)(a)",
                    legacy_lcen=True,
                    item_fields=PASSAGE_ITEM_FIELDS,
                    note=_(
                        "Par exemple : « injure publique envers un particulier — loi du 29 "
                        "juillet 1881, art. 29 al. 2 et 33 al. 2 »."
                    ),
                ),
                LetterField(
                    "factual_justification",
                    _("Justification factuelle de l'illicéité"),
                    REQ,
                    _("DSA art. 16(2)(a)"),
                    dsa_ref="16(2)(a)",
                    legacy_lcen=True,
                    note=_("Ne pas rompre le secret médical pour prouver la fausseté."),
                ),
                LetterField(
                    "good_faith_statement",
                    _("Déclaration de bonne foi"),
                    REQ,
                    _("DSA art. 16(2)(d)"),
                    dsa_ref="16(2)(d)",
                    fixed_text=DSA_GOOD_FAITH_STATEMENT,
                ),
                LetterField(
                    "prior_contact_with_author",
                    _("Copie de la demande adressée à l'auteur, ou motif de son impossibilité"),
                    REC,
                    _("LCEN 6-I-5 (ancien)"),
                    legacy_lcen=True,
                ),
                LetterField(
                    "requested_action",
                    _("Mesure demandée"),
                    REC,
                    _("DOMAIN §4.1"),
                    note=_(
                        "Retrait ou blocage ; conservation des données d'identification en "
                        "vue d'une décision judiciaire."
                    ),
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.STALE,
                    _(
                        "La liste de l'ancien LCEN 6-I-5 a été abrogée par la loi SREN : elle ne "
                        "sert plus que de liste de contrôle complémentaire."
                    ),
                ),
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Simplification de 2020 des éléments d'identité (nom et courriel) : "
                        "rédaction finale non vérifiée."
                    ),
                ),
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Présenter sciemment un contenu licite comme illicite était puni d'un an "
                        "et 15 000 € (ancien LCEN 6-I-4) ; maintien après la loi SREN non "
                        "vérifié. Avertissement à conserver."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.DROIT_DE_REPONSE,
            label=_("Demande d'insertion d'un droit de réponse en ligne"),
            addressee=Addressee.PUBLICATION_DIRECTOR,
            basis=_("LCEN art. 1-1-III (ex-6-IV) ; décret n° 2007-1527, art. 1 à 3"),
            channel=_(
                "LRAR ou tout moyen garantissant l'identité du demandeur et la preuve de la "
                "réception (LRE qualifiée : CPCE L100 et eIDAS art. 44)."
            ),
            fields=(
                LetterField(
                    "requester.name",
                    _("Identité du demandeur (personne nommée ou désignée)"),
                    REQ,
                    _("Décret n° 2007-1527, art. 1"),
                ),
                LetterField(
                    "addressee.name",
                    _("Directeur de la publication (ou hébergeur)"),
                    REQ,
                    _("LCEN art. 1-1-III"),
                    note=_("L'hébergeur, si l'éditeur non professionnel est resté anonyme."),
                ),
                LetterField(
                    "message.references",
                    _("Références du message"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2"),
                ),
                LetterField(
                    "message.access_conditions",
                    _("Conditions d'accès au message (URL)"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2"),
                ),
                LetterField(
                    "message.author_name",
                    _("Nom de l'auteur du message"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2"),
                    note=_("S'il est mentionné."),
                    required_when=("message.author_shown", frozenset({True})),
                ),
                LetterField(
                    "message.nature",
                    _("Nature du message (écrit, son ou images)"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2"),
                ),
                LetterField(
                    "message.disputed_passages",
                    _("Passages contestés"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2"),
                ),
                LetterField(
                    "reply.text",
                    _("Teneur de la réponse sollicitée"),
                    REQ,
                    _("Décret n° 2007-1527, art. 2 et 3"),
                    note=_(
                        "Écrite, limitée à la longueur du message ; 200 lignes au plus. "
                        "La réponse est publique : règles du secret médical."
                    ),
                ),
                LetterField(
                    "message.publication_date",
                    _("Date de mise à disposition du message"),
                    REC,
                    _("LCEN art. 1-1-III (délai de 3 mois)"),
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _("Application intégrale du décret 2007-1527 après la loi SREN non vérifiée."),
                ),
                Caveat(
                    Confidence.TEXT,
                    _(
                        "Irrecevable si le service permet de répondre directement (décret "
                        "2007-1527, art. 1 al. 2)."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.GDPR_OBJECTION_ERASURE,
            label=_("Opposition et demande d'effacement (RGPD)"),
            addressee=Addressee.CONTROLLER,
            basis=_("RGPD art. 21(1), 17(1)(c) et 12(3)"),
            channel=_("LRAR ou formulaire du responsable de traitement ; garder la preuve."),
            fields=(
                LetterField("doctor.name", _("Identité du médecin"), REQ, _("DOMAIN §4.3")),
                LetterField("doctor.rpps", _("Numéro RPPS"), REC, _("DOMAIN §4.3")),
                LetterField(
                    "controller.name",
                    _("Nom du responsable de traitement"),
                    REQ,
                    _("DOMAIN §4.3"),
                ),
                LetterField(
                    "controller.address_or_dpo",
                    _("Adresse du responsable ou de son DPO"),
                    REQ,
                    _("DOMAIN §4.3"),
                ),
                LetterField("listing.urls", _("URL(s) de la fiche"), REQ, _("DOMAIN §4.3")),
                LetterField("data_concerned", _("Données concernées"), REQ, _("DOMAIN §4.3")),
                LetterField(
                    "objection_statement",
                    _("Opposition (art. 21.1)"),
                    REQ,
                    _("RGPD art. 21(1)"),
                    fixed_text=GDPR_OBJECTION_STATEMENT,
                ),
                LetterField(
                    "erasure_statement",
                    _("Demande d'effacement (art. 17.1.c)"),
                    REQ,
                    _("RGPD art. 17(1)(c)"),
                    fixed_text=GDPR_ERASURE_STATEMENT,
                ),
                LetterField(
                    "particular_situation_grounds",
                    _("Raisons tenant à la situation particulière"),
                    REQ,
                    _("RGPD art. 21(1)"),
                    note=_("Voir GDPR_LISTING_ARGUMENTS."),
                ),
                LetterField(
                    "confirmation_request",
                    _("Demande de confirmation de l'effacement et de sa portée"),
                    REQ,
                    _("DOMAIN §4.3"),
                ),
                LetterField(
                    "deadline_reminder",
                    _("Rappel du délai d'un mois"),
                    REQ,
                    _("RGPD art. 12(3)"),
                    fixed_text=GDPR_DEADLINE_REMINDER,
                ),
                LetterField(
                    "cnil_escalation_notice",
                    _("Annonce d'une plainte à la CNIL"),
                    REQ,
                    _("RGPD art. 77"),
                    fixed_text=GDPR_CNIL_NOTICE,
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Jurisprudence partagée sur la suppression des fiches Google (TGI Paris "
                        "12 avr. 2019 et TJ Paris 9 mars 2021 : refus ; CA Chambéry 22 mai 2025 : "
                        "suppression)."
                    ),
                ),
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Limite de la liberté d'expression (art. 17(3)(a)) : rédaction non "
                        "vérifiée ; elle peut protéger les avis même si la fiche est contestée."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.DEREFERENCING,
            label=_("Demande de déréférencement"),
            addressee=Addressee.SEARCH_ENGINE,
            basis=_("RGPD art. 17 et 21 ; CJUE Google Spain, 13 mai 2014 ; CJUE 24 sept. 2019"),
            channel=_(
                "Formulaire du moteur de recherche ou LRAR à l'exploitant ; garder une "
                "copie ou une capture de la demande."
            ),
            fields=(
                LetterField(
                    "data_subject.name",
                    _("Nom de la personne (requêtes sur son nom)"),
                    REQ,
                    _("CJUE Google Spain, 13 mai 2014"),
                ),
                LetterField(
                    "operator.name",
                    _("Exploitant du moteur de recherche"),
                    REQ,
                    _("DOMAIN §4.4"),
                ),
                LetterField(
                    "result_urls",
                    _("URL exacte(s) des résultats"),
                    REQ,
                    _("DOMAIN §4.4"),
                ),
                LetterField("reasons", _("Motifs de la demande"), REQ, _("DOMAIN §4.4")),
                LetterField(
                    "identity_proof",
                    _("Justificatif d'identité"),
                    REC,
                    _("DOMAIN §4.4"),
                    note=_(
                        "Seulement s'il est raisonnablement demandé ; pas de document "
                        "disproportionné."
                    ),
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Le déréférencement ne supprime pas la page : mener en parallèle une "
                        "demande au site source. En cas de refus : juge judiciaire ou CNIL, puis "
                        "Conseil d'État."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.CNIL_COMPLAINT,
            label=_("Projet de plainte à la CNIL"),
            addressee=Addressee.CNIL,
            basis=_("RGPD art. 77"),
            channel=_("Formulaire de plainte en ligne de la CNIL."),
            fields=(
                LetterField("complainant.name", _("Identité du plaignant"), REQ, _("RGPD art. 77")),
                LetterField(
                    "controller.name",
                    _("Responsable de traitement mis en cause"),
                    REQ,
                    _("RGPD art. 77"),
                ),
                LetterField("content.urls", _("URL(s) concernées"), REQ, _("DOMAIN §4.3")),
                LetterField(
                    "prior_request.copy",
                    _("Copie de la demande au responsable"),
                    REQ,
                    _("DOMAIN §4.3"),
                    note=_("Le droit doit d'abord être exercé auprès du responsable."),
                ),
                LetterField(
                    "prior_request.date",
                    _("Date de la demande au responsable"),
                    REQ,
                    _("DOMAIN §4.3"),
                ),
                LetterField(
                    "prior_request.receipt_proof",
                    _("Preuve de réception de la demande"),
                    REQ,
                    _("DOMAIN §4.3"),
                ),
                LetterField(
                    "controller_response",
                    _("Réponse du responsable (s'il y en a une)"),
                    REC,
                    _("DOMAIN §4.3"),
                ),
                LetterField("grounds", _("Exposé des griefs"), REQ, _("RGPD art. 77")),
            ),
            caveats=(
                Caveat(
                    Confidence.SEC,
                    _(
                        "Silence de la CNIL pendant 3 mois : rejet implicite (décret 2019-536, "
                        "art. 10)."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.MISE_EN_DEMEURE,
            label=_("Mise en demeure à l'auteur ou à l'éditeur"),
            addressee=Addressee.AUTHOR,
            basis=_("C. civ. art. 1344 ; CA Paris 19 mars 2013 n° 12/03448"),
            channel=_(
                "LRAR (suffisante), courriel ou sommation par commissaire de justice, "
                "pourvu que l'interpellation soit explicite."
            ),
            fields=(
                LetterField("sender.name", _("Expéditeur"), REQ, _("C. civ. art. 1344")),
                LetterField(
                    "sender.mandate",
                    _("Mandat (avocat ou assureur agissant pour le médecin)"),
                    REQ,
                    _("DOMAIN §4.5"),
                    note=_MANDATE_NOTE,
                    required_when=("sender.capacity", MANDATARIES),
                ),
                LetterField(
                    "recipient.name",
                    _("Destinataire (auteur ou éditeur)"),
                    REQ,
                    _("C. civ. art. 1344"),
                ),
                LetterField(
                    "recipient.publication_director",
                    _("Directeur de la publication"),
                    REC,
                    _("DOMAIN §4.5"),
                ),
                LetterField(
                    "object_line",
                    _("Objet : MISE EN DEMEURE"),
                    REQ,
                    _("CA Paris 19 mars 2013 (interpellation non ambiguë)"),
                    fixed_text=MISE_EN_DEMEURE_OBJECT,
                ),
                LetterField("content.urls", _("URL du contenu"), REQ, _("DOMAIN §4.5")),
                LetterField("content.date", _("Date du contenu"), REQ, _("DOMAIN §4.5")),
                LetterField(
                    "content.passages",
                    _("Passages cités, avec qualification et articles"),
                    REQ,
                    _("DOMAIN §4.5"),
                    item_fields=PASSAGE_ITEM_FIELDS,
                ),
                LetterField(
                    "demand",
                    _("Demande (retrait, non-republication, rectification)"),
                    REQ,
                    _("CA Paris 19 mars 2013 (le destinataire sait ce qui est exigé)"),
                    note=_NO_MEDICAL,
                ),
                LetterField(
                    "compliance_deadline_days",
                    _("Délai imparti (en jours, par exemple 8)"),
                    REQ,
                    _("CA Paris 19 mars 2013 n° 12/03448"),
                ),
                LetterField(
                    "court_action_notice",
                    _("Annonce de la saisine du juge"),
                    REQ,
                    _("DOMAIN §4.5"),
                    fixed_text=MISE_EN_DEMEURE_COURT_NOTICE,
                ),
                LetterField(
                    "reservation",
                    _("« Sous toutes réserves »"),
                    REQ,
                    _("DOMAIN §4.5"),
                    fixed_text=MISE_EN_DEMEURE_RESERVATION,
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.TEXT,
                    _(
                        "La mise en demeure n'interrompt pas la prescription de la loi de 1881 : "
                        "l'envoyer tôt."
                    ),
                ),
                Caveat(
                    Confidence.TEXT,
                    _(
                        "Entre médecins : rechercher d'abord une conciliation par le conseil "
                        "départemental de l'Ordre (R4127-56)."
                    ),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.CONSTAT_ORDER,
            label=_("Commande d'un constat internet à un commissaire de justice"),
            addressee=Addressee.COMMISSAIRE_DE_JUSTICE,
            basis=_("Norme AFNOR NF Z67-147 (11 sept. 2010), §4.2.1 et §4.2.2"),
            channel=_("Courriel ou courrier à l'étude, avec le dossier de preuve."),
            fields=(
                LetterField("requester.name", _("Requérant"), REQ, _("DOMAIN §7")),
                LetterField(
                    "requester.mandate",
                    _("Mandat (avocat ou assureur agissant pour le médecin)"),
                    REQ,
                    _("DOMAIN §7"),
                    note=_MANDATE_NOTE,
                    required_when=("requester.capacity", MANDATARIES),
                ),
                LetterField(
                    "commissaire.office",
                    _("Étude du commissaire de justice"),
                    REQ,
                    _("DOMAIN §7"),
                ),
                LetterField("content.urls", _("URL(s) à constater"), REQ, _("DOMAIN §7.2")),
                LetterField(
                    "norm_statement",
                    _("Constat conforme à la norme NF Z67-147"),
                    REQ,
                    _("DOMAIN §7.2 (règle produit)"),
                    fixed_text=CONSTAT_NORM_STATEMENT,
                ),
                LetterField(
                    "required_operations",
                    _("Opérations exigées (§4.2.1 et §4.2.2)"),
                    REQ,
                    _("NF Z67-147 §4.2.1 et §4.2.2 ; CA Aix 15 sept. 2016"),
                ),
                LetterField(
                    "recommended_operations",
                    _("Opérations recommandées"),
                    REC,
                    _("CA Paris 12 janv. 2016 ; pratique"),
                ),
                LetterField(
                    "navigation_path",
                    _("Cheminement par liens jusqu'aux pages litigieuses"),
                    REC,
                    _("NF Z67-147 §4.2.1 et §4.2.2"),
                ),
                LetterField(
                    "content.passages",
                    _("Passages à relever"),
                    REC,
                    _("DOMAIN §2.2"),
                    item_fields=PASSAGE_ITEM_FIELDS,
                ),
                LetterField(
                    "capture_reference",
                    _("Référence de la capture logicielle"),
                    REC,
                    _("DOMAIN §7.3 (preuve d'appoint)"),
                ),
                LetterField(
                    "urgency",
                    _("Urgence (le contenu peut disparaître)"),
                    REC,
                    _("DOMAIN §7.3"),
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.CONFLICT,
                    _(
                        "Force obligatoire de la norme discutée : simple bonne pratique (CA Paris "
                        "27 févr. 2013) ; constat annulé faute de la respecter (CA Aix 15 sept. "
                        "2016) ; appréciation des juges du fond (Cass. 2019 et 2020)."
                    ),
                ),
                Caveat(
                    Confidence.UNVERIFIED,
                    _("Édition en vigueur de la norme (révision postérieure à 2010) non vérifiée."),
                ),
            ),
        ),
        LetterSpec(
            kind=LetterKind.INSURER_DECLARATION,
            label=_("Déclaration de sinistre à l'assureur"),
            addressee=Addressee.INSURER,
            basis=_("Contrat (conditions générales et particulières) ; C. assur. L127-2-3"),
            channel=_("Par écrit, dans le délai du contrat."),
            fields=(
                LetterField("insured.name", _("Assuré"), REQ, _("Contrat")),
                LetterField("policy.number", _("Numéro de contrat"), REQ, _("Contrat")),
                LetterField("insurer.name", _("Assureur"), REQ, _("Contrat")),
                LetterField("content.urls", _("URL(s) du contenu"), REQ, _("DOMAIN §3.2 étape 0")),
                LetterField(
                    "content.publication_date",
                    _("Date de première mise en ligne"),
                    REQ,
                    _("DOMAIN §8 (antériorité : publications postérieures au contrat)"),
                ),
                LetterField(
                    "content.discovery_date",
                    _("Date de découverte"),
                    REQ,
                    _("DOMAIN §8 (délai de déclaration)"),
                ),
                LetterField("facts", _("Exposé des faits"), REQ, _("Contrat")),
                LetterField(
                    "proposed_categories",
                    _("Qualifications proposées"),
                    REC,
                    _("DOMAIN §2.2"),
                ),
                LetterField("requested_services", _("Prestations demandées"), REC, _("DOMAIN §8")),
                LetterField(
                    "lawyer_choice",
                    _("Libre choix de l'avocat"),
                    REC,
                    _("C. assur. L127-2-3"),
                ),
            ),
            caveats=(
                Caveat(
                    Confidence.UNVERIFIED,
                    _(
                        "Délai de déclaration, plafonds, franchises et antériorité propres à "
                        "chaque contrat : lire les conditions générales et particulières."
                    ),
                ),
            ),
        ),
    )
}
