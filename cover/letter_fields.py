"""Required contents of each letter of DOMAIN §4 (and §7, §8) as data.

Why: a notice that lacks one element of DSA art. 16(2) does not give the host actual knowledge;
a droit de réponse request without the elements of décret 2007-1527 art. 2 can be refused; an
ambiguous mise en demeure is not valid. The generator fills these fields and
``letter_missing_fields`` refuses to produce a letter while a required one is empty.

Field names are dotted paths ("notifier.email"); values may be given flat with those keys or as
nested mappings. ``REQUIRED`` comes from the text or case law cited; ``RECOMMENDED`` is good
practice (for the DSA notice: the legacy LCEN 6-I-5 list that French judges were used to).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cover.reply_rules import MESSAGES, ReplyIssueCode, ReplySeverity, reply_check
from cover.rules import Addressee, Caveat, Confidence, Route, _


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
