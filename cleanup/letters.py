"""Texts of the removal requests: GDPR objection/erasure to a listing site (DOMAIN §4.3) and
de-referencing request to a search engine (§4.4), as plain text and as PDF.

Why: the fields each letter must carry are data in ``cover.letter_fields`` (a request missing
the art. 21(1) statement or the exact result URLs can be ignored); this module fills them from
a ``RemovalRequest`` and refuses to produce a letter while a required one is empty.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.models import RemovalRequest
from cover.letter_fields import (
    GDPR_LISTING_ARGUMENTS,
    LETTER_SPECS,
    LetterKind,
    letter_default_values,
    letter_missing_fields,
)

CONFIRMATION_REQUEST = (
    "Je vous remercie de me confirmer par écrit l'effacement de ces données et de m'en "
    "préciser la portée (fiche, avis associés, copies et caches)."
)
DEREFERENCING_SCOPE = (
    "Je vous demande de ne plus afficher ces résultats en réponse aux recherches effectuées "
    "à partir de mon nom, sur toutes les versions européennes de votre moteur de recherche."
)
DEREFERENCING_DEADLINE = (
    "Vous disposez d'un délai d'un mois à compter de la réception de la présente demande pour "
    "y répondre (article 12.3 du RGPD). À défaut de réponse satisfaisante, je saisirai la CNIL."
)
COPY_ADVICE = "Conservez une copie de cette demande et la preuve de son envoi."

KIND_TO_LETTER = {
    RemovalRequest.Kind.GDPR_LISTING: LetterKind.GDPR_OBJECTION_ERASURE,
    RemovalRequest.Kind.DEREFERENCING: LetterKind.DEREFERENCING,
}
# Default grounds proposed in the form (DOMAIN §4.3 arguments; §4.4 for search results).
DEFAULT_GROUNDS = {
    RemovalRequest.Kind.GDPR_LISTING: list(GDPR_LISTING_ARGUMENTS[:4]),
    RemovalRequest.Kind.DEREFERENCING: [
        "Ces résultats associent mon nom à des propos que je conteste et qui portent atteinte à "
        "ma réputation professionnelle.",
        "Le secret médical m'interdit d'y répondre publiquement.",
    ],
}
DEFAULT_DATA_CONCERNED = (
    "Fiche professionnelle à mon nom : nom, spécialité, adresse d'exercice, note et avis publiés."
)


def _doctor_name(request: RemovalRequest) -> str:
    doctor = request.profile.doctor
    return doctor.user.get_full_name() or str(doctor)


def letter_values(*, request: RemovalRequest) -> dict[str, Any]:
    """The letter's fields under the names ``cover.letter_fields`` checks."""
    kind = KIND_TO_LETTER[RemovalRequest.Kind(request.kind)]
    values: dict[str, Any] = dict(letter_default_values(kind=kind))
    if kind is LetterKind.GDPR_OBJECTION_ERASURE:
        values.update(
            {
                "doctor.name": _doctor_name(request),
                "doctor.rpps": request.profile.doctor.rpps,
                "controller.name": request.recipient_name,
                "controller.address_or_dpo": request.recipient_address,
                "listing.urls": list(request.urls),
                "data_concerned": request.data_concerned,
                "particular_situation_grounds": list(request.grounds),
                "confirmation_request": CONFIRMATION_REQUEST,
            }
        )
    else:
        values.update(
            {
                "data_subject.name": _doctor_name(request),
                "operator.name": request.recipient_name,
                "result_urls": list(request.urls),
                "reasons": list(request.grounds),
            }
        )
    return values


def letter_missing(*, request: RemovalRequest) -> list[str]:
    """French labels of the required fields still empty."""
    kind = KIND_TO_LETTER[RemovalRequest.Kind(request.kind)]
    labels = {f.name: str(f.label) for f in LETTER_SPECS[kind].fields}
    missing = letter_missing_fields(kind=kind, values=letter_values(request=request))
    return list(dict.fromkeys(labels.get(name, name) for name in missing))


def letter_context(*, request: RemovalRequest, on: datetime.date | None = None) -> dict[str, Any]:
    doctor = request.profile.doctor
    kind = KIND_TO_LETTER[RemovalRequest.Kind(request.kind)]
    values = letter_values(request=request)
    on = on or request.sent_on or timezone.localdate()
    if kind is LetterKind.GDPR_OBJECTION_ERASURE:
        subject = (
            "Opposition au traitement et demande d'effacement (articles 21.1 et 17.1.c du RGPD)"
        )
        paragraphs = [
            "Je suis le Dr {}{}, médecin. Votre site publie à mon sujet les données "
            "suivantes : {}".format(
                values["doctor.name"],
                f" (RPPS {doctor.rpps})" if doctor.rpps else "",
                values["data_concerned"],
            ),
            values["objection_statement"],
            values["erasure_statement"],
            "Cette opposition repose sur des raisons tenant à ma situation particulière :",
        ]
        closing = [
            values["confirmation_request"],
            values["deadline_reminder"],
            values["cnil_escalation_notice"],
        ]
    else:
        subject = "Demande de déréférencement (articles 17 et 21 du RGPD)"
        paragraphs = [
            "Je suis le Dr {}, médecin. Je vous demande le déréférencement des résultats "
            "suivants, affichés en réponse aux recherches sur mon nom.".format(
                values["data_subject.name"]
            ),
            DEREFERENCING_SCOPE,
            "Motifs de la demande :",
        ]
        closing = [DEREFERENCING_DEADLINE]
    return {
        "request": request,
        "doctor": doctor,
        "doctor_name": _doctor_name(request),
        "subject": subject,
        "paragraphs": paragraphs,
        "grounds": list(request.grounds),
        "urls": list(request.urls),
        "closing": closing,
        "date": on,
        "place": doctor.city,
        "copy_advice": COPY_ADVICE,
    }


def letter_text(*, request: RemovalRequest, on: datetime.date | None = None) -> str:
    missing = letter_missing(request=request)
    if missing:
        raise ValueError(_("Champs obligatoires manquants : %s") % ", ".join(missing))
    return render_to_string("cleanup/letter.txt", letter_context(request=request, on=on))


def letter_pdf(*, request: RemovalRequest, on: datetime.date | None = None) -> bytes:
    """The same letter as a PDF (WeasyPrint; the HTML has no external resource to fetch)."""
    from weasyprint import HTML  # lazy: heavy (Pango, fonts), only where a PDF is rendered

    missing = letter_missing(request=request)
    if missing:
        raise ValueError(_("Champs obligatoires manquants : %s") % ", ".join(missing))
    html = render_to_string("cleanup/letter.html", letter_context(request=request, on=on))
    return HTML(string=html, base_url=None).write_pdf()
