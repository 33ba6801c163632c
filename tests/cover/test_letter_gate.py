"""One gate for letters: each of the 8 letter kinds is refused where the ladder refuses the route
it carries out (same French reasons, nothing created), refused on its own preconditions, and
rendered to a PDF where they hold; marking a letter sent asks the gate again."""

from __future__ import annotations

import datetime
import html
import re
import subprocess

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from cover.claims.models import Claim, ClaimEvent, Letter, Transition
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.events import claim_event_record
from cover.claims.services.ladder import claim_transition
from cover.claims.services.letters import letter_generate, letter_mark_sent
from cover.claims.services.replies import reply_draft_approve, reply_draft_check
from cover.ladder import LadderState
from cover.letter_fields import LetterKind
from cover.rules import ClaimEventKind
from tests.conftest import staff_login
from tests.cover.claims_factories import (
    WAITING,
    claim_create,
    claim_qualified,
    claim_with_proof,
    handler_create,
)

pytestmark = pytest.mark.django_db
D = datetime.date
OPENED = D(2025, 3, 12)
TODAY = D(2025, 3, 20)

NOT_ON_LADDER = "Le passage de « {0} » à « {1} » n'est pas prévu par l'échelle."
CONSTAT_FIRST = (
    "Un contentieux est plausible : faites établir le constat par un commissaire de justice "
    "avant toute démarche pouvant entraîner le retrait du contenu (risque de perdre la preuve)."
)
PROOF_FIRST = (
    "La prescription de la loi de 1881 court : aucune démarche pouvant entraîner le retrait du "
    "contenu avant une capture terminée (la preuve)."
)
CAPTURE_FIRST = "Faites d'abord la capture logicielle (le contenu peut disparaître)."
CLASSIFY_FIRST = "Qualifiez chaque passage (questionnaire) avant de poursuivre."
DIRECT_REPLY = (
    "Le site permet de répondre directement : la procédure de droit de réponse n'est pas ouverte."
)
CNIL_FIRST = (
    "Exercez d'abord le droit auprès du responsable de traitement (demande RGPD ou de "
    "déréférencement) et gardez-en la preuve avant de saisir la CNIL."
)
CLOSED = "Le dossier est clos : aucune démarche n'est plus possible."
SECRECY_TAIL = (
    "Un courrier ne doit contenir aucune information médicale ni relative à un patient (secret "
    "médical, C. pén. 226-13)."
)

GDPR_VALUES = {
    "controller.name": "Annuaire Santé SAS",
    "controller.address_or_dpo": "DPO, 1 rue de la Paix, 75002 Paris",
    "data_concerned": "Nom, adresse et téléphone du cabinet",
    "particular_situation_grounds": "Des annuaires publics existent déjà (CNOM, Ameli).",
    "confirmation_request": "Merci de me confirmer l'effacement et sa portée.",
}
CNIL_VALUES = {
    "controller.name": "Annuaire Santé SAS",
    "prior_request.copy": "Demande d'opposition et d'effacement jointe",
    "prior_request.date": "20/03/2025",
    "prior_request.receipt_proof": "Accusé de réception du 22/03/2025",
    "grounds": "Le responsable n'a pas donné suite à la demande d'effacement.",
}
DDR_REPLY = "Le cabinet respecte les horaires ; des urgences causent parfois des retards."
DIRECTOR = {"addressee.name": "Directeur de la publication d'Avis Santé"}


def _files() -> int:
    try:
        return len(default_storage.listdir("claims/letters")[1])
    except FileNotFoundError:
        return 0


def _footprint(claim: Claim) -> tuple[int, int, int, int]:
    """What a letter act could leave behind: letters, timeline entries, PDF files, moves."""
    return (
        Letter.objects.filter(claim=claim).count(),
        ClaimEvent.objects.filter(claim=claim).count(),
        _files(),
        Transition.objects.filter(claim=claim).count(),
    )


def _pdf_text(letter: Letter) -> str:
    with letter.file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", out.stdout.decode())


def _refused(claim: Claim, kind: LetterKind, *, today: D = TODAY, **values) -> list[str]:
    """Generate and expect a refusal that leaves nothing behind; return its reasons."""
    before = _footprint(claim)
    with pytest.raises(ClaimActionRefused) as refused:
        letter_generate(claim=claim, kind=kind, by=handler_create(), today=today, values=values)
    assert _footprint(claim) == before
    return refused.value.reasons


def _generated(claim: Claim, kind: LetterKind, *, today: D = TODAY, **values) -> Letter:
    files = _files()
    letter = letter_generate(
        claim=claim, kind=kind, by=handler_create(), today=today, values=values
    )
    assert _files() == files + 1
    assert claim.events.filter(kind="LETTER_GENERATED", ref=str(letter.pk)).count() == 1
    return letter


# --- DSA notice ------------------------------------------------------------------------------


def test_dsa_notice_on_a_defamation_claim_at_intake_is_refused_with_the_ladder_reasons(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a qualified defamation claim still at intake: no capture, no constat
        claim = claim_qualified(today=OPENED)
        # when the DSA notice is generated, then the ladder's reasons refuse it
        reasons = _refused(
            claim, LetterKind.DSA_NOTICE, factual_justification="Aucun acte facturé à tort."
        )
        assert reasons == [
            NOT_ON_LADDER.format("0 — Ouverture", "3 — Plateforme"),
            CONSTAT_FIRST,
            PROOF_FIRST,
        ]


def test_dsa_notice_waits_for_the_constat_then_is_rendered(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a defamation claim with its capture but without the constat
        claim = claim_with_proof(today=OPENED, constat=False)
        assert _refused(
            claim, LetterKind.DSA_NOTICE, factual_justification="Aucun acte facturé à tort."
        ) == [CONSTAT_FIRST]
        # when the constat is done, then the notice is generated as a PDF
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CONSTAT_DONE,
            date=TODAY,
            by=handler_create(),
            today=TODAY,
        )
        letter = _generated(
            claim, LetterKind.DSA_NOTICE, factual_justification="Aucun acte facturé à tort."
        )
        text = _pdf_text(letter)
        assert "Je déclare de bonne foi" in text
        assert "Aucun acte facturé à tort." in text


def test_dsa_justification_revealing_a_patient_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(today=OPENED)
        reasons = _refused(
            claim,
            LetterKind.DSA_NOTICE,
            factual_justification="Ce patient, suivi pour un mélanome, n'a rien payé de trop.",
        )
        label = "« Justification factuelle de l'illicéité »"
        assert reasons == [
            f"{label} : Terme médical : vérifiez qu'il ne peut pas être rattaché à l'auteur "
            f"(passage « mélanome »). {SECRECY_TAIL}",
            f"{label} : ne révélez pas qu'une personne est patient ni sa prise en charge "
            f"(passage « Ce patient »). {SECRECY_TAIL}",
            f"{label} : ne révélez pas qu'une personne est patient ni sa prise en charge "
            f"(passage « suivi pour »). {SECRECY_TAIL}",
        ]


# --- Droit de réponse ------------------------------------------------------------------------


def _lawful_claim(*, facts: tuple[str, ...] = (), **kwargs) -> Claim:
    claim = claim_with_proof(
        categories=("LAWFUL_NEGATIVE",), quotes=(WAITING,), constat=False, **kwargs
    )
    claim.facts = list(facts)
    claim.save(update_fields=["facts"])
    return claim


def _prepared_on(letter: Letter, day: D) -> Letter:
    """Date the preparation of ``letter`` (the tests' calendar is not the machine's)."""
    at = datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC)
    Letter.objects.filter(pk=letter.pk).update(generated_at=at)
    letter.refresh_from_db()
    return letter


def test_droit_de_reponse_is_refused_where_the_site_offers_a_direct_reply(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a lawful negative review on a site where the doctor can reply directly
        claim = _lawful_claim(today=OPENED, facts=("DIRECT_REPLY_AVAILABLE",))
        # when a droit de réponse is generated, then décret 2007-1527 art. 1 al. 2 refuses it
        assert _refused(
            claim, LetterKind.DROIT_DE_REPONSE, **DIRECTOR, **{"reply.text": DDR_REPLY}
        ) == [DIRECT_REPLY]


def test_droit_de_reponse_is_refused_once_its_three_month_window_has_closed(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a review published on 10/03/2025, worked 200 days later
        claim = _lawful_claim(today=OPENED)
        late = D(2025, 3, 10) + datetime.timedelta(days=200)
        reasons = _refused(
            claim, LetterKind.DROIT_DE_REPONSE, today=late, **DIRECTOR, **{"reply.text": DDR_REPLY}
        )
        assert reasons == [
            "Le délai de 3 mois pour demander un droit de réponse a expiré le 09/06/2025."
        ]


def test_droit_de_reponse_text_is_checked_for_length_and_secrecy(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _lawful_claim(today=OPENED)
        too_long = "Le cabinet vous remercie. " * 5
        assert _refused(
            claim, LetterKind.DROIT_DE_REPONSE, **DIRECTOR, **{"reply.text": too_long}
        ) == [
            f"La réponse ({len(too_long.strip())} caractères) dépasse la longueur du message "
            f"mis en cause ({len(claim.source_text)} caractères) (décret n° 2007-1527, art. 3)."
        ]
        reasons = _refused(
            claim,
            LetterKind.DROIT_DE_REPONSE,
            **DIRECTOR,
            **{"reply.text": "Je me souviens de votre consultation."},
        )
        label = "« Teneur de la réponse sollicitée »"
        assert reasons == [
            f"{label} : Pas de souvenir de la rencontre (« je me souviens », « comme je vous "
            f"l'ai dit », « lors de votre passage ») (passage « Je me souviens »). "
            f"{SECRECY_TAIL}",
            f"{label} : N'évoquez pas « votre consultation », « votre rendez-vous », « votre "
            f"traitement », « votre dossier » ni une visite : cela confirme une prise en charge "
            f"(passage « votre consultation »). {SECRECY_TAIL}",
        ]


def test_droit_de_reponse_within_its_window_is_rendered(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _lawful_claim(today=OPENED)
        letter = _generated(
            claim, LetterKind.DROIT_DE_REPONSE, **DIRECTOR, **{"reply.text": DDR_REPLY}
        )
        assert DDR_REPLY in _pdf_text(letter)


def test_marking_a_droit_de_reponse_sent_after_its_window_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a droit de réponse prepared within the window
        claim = _lawful_claim(today=OPENED)
        letter = _generated(
            claim, LetterKind.DROIT_DE_REPONSE, **DIRECTOR, **{"reply.text": DDR_REPLY}
        )
        _prepared_on(letter, TODAY)
        before = _footprint(claim)
        # when it is marked sent after the window closed, then it is refused and not recorded
        late = D(2025, 6, 20)
        with pytest.raises(ClaimActionRefused) as refused:
            letter_mark_sent(
                letter=letter, sent_on=late, by=handler_create(), capture_ref="AR-1", today=late
            )
        assert refused.value.reasons == [
            "Le délai de 3 mois pour demander un droit de réponse a expiré le 09/06/2025."
        ]
        letter.refresh_from_db()
        assert letter.sent_at is None
        assert _footprint(claim) == before


# --- GDPR objection / erasure, de-referencing, CNIL ------------------------------------------


def test_gdpr_erasure_on_defamation_waits_for_the_constat(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(today=OPENED, constat=False)
        assert _refused(claim, LetterKind.GDPR_OBJECTION_ERASURE, **GDPR_VALUES) == [
            CONSTAT_FIRST,
            "L'attente liée à « Opposition et effacement RGPD » peut durer jusqu'au 20/06/2025, "
            "après l'échéance de prescription du 09/06/2025 : les démarches amiables "
            "n'interrompent pas la prescription, engagez l'action avant cette date.",
        ]


def test_gdpr_erasure_grounds_must_not_reveal_a_patient(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _listing_claim()
        values = {**GDPR_VALUES, "particular_situation_grounds": "Cette patiente est suivie."}
        assert _refused(claim, LetterKind.GDPR_OBJECTION_ERASURE, **values) == [
            "« Raisons tenant à la situation particulière » : ne révélez pas qu'une personne "
            f"est patient ni sa prise en charge (passage « est suivie »). {SECRECY_TAIL}",
            "« Raisons tenant à la situation particulière » : ne révélez pas qu'une personne "
            f"est patient ni sa prise en charge (passage « Cette patiente »). {SECRECY_TAIL}",
        ]


def _listing_claim(**kwargs) -> Claim:
    return claim_with_proof(
        categories=("PERSONAL_DATA_LISTING",), today=OPENED, constat=False, **kwargs
    )


def test_gdpr_then_cnil_complaint_follows_the_controller_step(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a listing claim with its capture: the GDPR request is rendered
        claim = _listing_claim()
        gdpr = _prepared_on(
            _generated(claim, LetterKind.GDPR_OBJECTION_ERASURE, **GDPR_VALUES), TODAY
        )
        assert "article 21.1 du RGPD" in _pdf_text(gdpr)
        # when the CNIL complaint comes before the request is sent, then it is refused
        assert _refused(claim, LetterKind.CNIL_COMPLAINT, **CNIL_VALUES) == [CNIL_FIRST]
        # when the request is marked sent, then the claim moves to the platform step, audited
        handler = handler_create()
        letter_mark_sent(letter=gdpr, sent_on=TODAY, by=handler, capture_ref="AR-1", today=TODAY)
        claim.refresh_from_db()
        assert claim.state == "PLATFORM"
        assert list(
            Transition.objects.filter(claim=claim).values_list("from_state", "to_state", "route")
        ) == [("INTAKE", "EVIDENCE", ""), ("EVIDENCE", "PLATFORM", "GDPR_OBJECTION_ERASURE")]
        assert claim.events.filter(kind="GDPR_REQUEST_SENT").count() == 1
        # and the CNIL complaint is then rendered
        cnil = _generated(claim, LetterKind.CNIL_COMPLAINT, **CNIL_VALUES)
        assert "Annuaire Santé SAS" in _pdf_text(cnil)


def test_dereferencing_needs_the_capture_then_is_rendered(tenant_a):
    with tenant_context(tenant_a.insurer):
        values = {"operator.name": "Moteur SA", "reasons": "Données professionnelles inexactes."}
        claim = _listing_claim(capture=False)
        assert _refused(claim, LetterKind.DEREFERENCING, **values) == [CAPTURE_FIRST]
        claim_event_record(
            claim=claim,
            kind=ClaimEventKind.CAPTURE_DONE,
            date=TODAY,
            by=handler_create(),
            today=TODAY,
        )
        letter = _generated(claim, LetterKind.DEREFERENCING, **values)
        assert "Moteur SA" in _pdf_text(letter)


# --- Mise en demeure -------------------------------------------------------------------------


def test_mise_en_demeure_needs_a_recipient_and_a_cure_period(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given an anonymous review: nobody to interpel, and no cure period given
        claim = claim_with_proof(today=OPENED, author_name="")
        reasons = _refused(claim, LetterKind.MISE_EN_DEMEURE, compliance_deadline_days="huit")
        assert reasons == [
            "Indiquez le destinataire de la mise en demeure (l'auteur ou l'éditeur) : elle doit "
            "interpeller une personne (C. civ. art. 1344).",
            "Fixez le délai imparti en jours (nombre entier, au moins 1) : une mise en demeure "
            "sans délai pour s'exécuter n'est pas valable (CA Paris 19 mars 2013, n° 12/03448).",
        ]


def test_mise_en_demeure_on_defamation_at_intake_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(today=OPENED)
        assert _refused(claim, LetterKind.MISE_EN_DEMEURE) == [
            NOT_ON_LADDER.format("0 — Ouverture", "4 — Mise en demeure"),
            CONSTAT_FIRST,
            PROOF_FIRST,
        ]


def test_mise_en_demeure_with_proof_is_rendered_and_sending_moves_the_claim(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_with_proof(today=OPENED)
        dsa = _generated(
            claim, LetterKind.DSA_NOTICE, factual_justification="Aucun acte facturé à tort."
        )
        mise = _generated(claim, LetterKind.MISE_EN_DEMEURE)
        dsa, mise = _prepared_on(dsa, TODAY), _prepared_on(mise, TODAY)
        text = _pdf_text(mise)
        assert "Objet : MISE EN DEMEURE" in text
        assert "Délai imparti : 8 jours" in text
        handler = handler_create()
        letter_mark_sent(letter=mise, sent_on=TODAY, by=handler, capture_ref="AR-2", today=TODAY)
        claim.refresh_from_db()
        assert claim.state == "MISE_EN_DEMEURE"
        # then the DSA notice prepared earlier can no longer be sent: the ladder moves forward
        before = _footprint(claim)
        with pytest.raises(ClaimActionRefused) as refused:
            letter_mark_sent(letter=dsa, sent_on=TODAY, by=handler, capture_ref="AR-3", today=TODAY)
        assert refused.value.reasons == [
            NOT_ON_LADDER.format("4 — Mise en demeure", "3 — Plateforme")
        ]
        dsa.refresh_from_db()
        assert dsa.sent_at is None
        assert _footprint(claim) == before


# --- Constat order, insurer declaration ------------------------------------------------------


def test_constat_order_needs_a_qualified_claim_and_is_open_at_later_steps(tenant_a):
    with tenant_context(tenant_a.insurer):
        values = {"commissaire.office": "Étude Durand, Paris"}
        unqualified = claim_create(today=OPENED)
        assert _refused(unqualified, LetterKind.CONSTAT_ORDER, **values) == [CLASSIFY_FIRST]
        # a listing claim already at the platform step can still order a constat
        claim = _listing_claim()
        gdpr = _prepared_on(
            _generated(claim, LetterKind.GDPR_OBJECTION_ERASURE, **GDPR_VALUES), TODAY
        )
        letter_mark_sent(
            letter=gdpr, sent_on=TODAY, by=handler_create(), capture_ref="AR-1", today=TODAY
        )
        letter = _generated(claim, LetterKind.CONSTAT_ORDER, **values)
        assert "NF Z67-147" in _pdf_text(letter)
        claim.refresh_from_db()
        assert claim.state == "PLATFORM"


def test_insurer_declaration_is_open_until_the_claim_is_closed(tenant_a):
    with tenant_context(tenant_a.insurer):
        values = {"facts": "Avis diffamatoire publié sur un site d'avis.", "policy.number": "P-1"}
        claim = claim_qualified(today=OPENED)
        letter = _generated(claim, LetterKind.INSURER_DECLARATION, **values)
        assert "Avis diffamatoire publié sur un site d'avis." in _pdf_text(letter)
        claim_transition(
            claim=claim,
            to_state=LadderState.CLOSED,
            by=handler_create(),
            reason="Retrait obtenu",
            today=TODAY,
        )
        claim.refresh_from_db()
        assert _refused(claim, LetterKind.INSURER_DECLARATION, **values) == [CLOSED]


# --- The admin letter form -------------------------------------------------------------------


def test_admin_letter_form_shows_the_refusal_in_french_and_creates_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a defamation claim still at intake, and a handler in the admin
        claim = claim_qualified(today=OPENED)
        handler = handler_create()
        url = reverse("claims_admin:letter_new", args=[claim.pk, "DSA_NOTICE"])
        before = _footprint(claim)
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)
    # when the form is opened, then the gate's reasons are shown before anything is typed
    page = html.unescape(client.get(url).content.decode())
    assert "Ce courrier n'est pas possible en l'état du dossier :" in page
    assert CONSTAT_FIRST in page
    # when it is posted anyway, then the same reasons come back, in French, and nothing is made
    response = client.post(url, {"factual_justification": "Aucun acte facturé à tort."})
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Courrier refusé" in page
    for reason in (NOT_ON_LADDER.format("0 — Ouverture", "3 — Plateforme"), PROOF_FIRST):
        assert reason in page
    with tenant_context(tenant_a.insurer):
        assert _footprint(claim) == before


# --- Reply approval asks the same gate ---------------------------------------------------------


def test_reply_approval_on_a_closed_claim_is_refused_with_the_gate_reason(tenant_a):
    with tenant_context(tenant_a.insurer):
        # given a lawful review whose claim was closed
        claim = claim_qualified(categories=("LAWFUL_NEGATIVE",), quotes=(WAITING,), today=OPENED)
        draft = reply_draft_check(
            claim=claim, text="Merci pour votre retour.", by=claim.doctor.user
        )
        claim_transition(
            claim=claim, to_state=LadderState.CLOSED, by=handler_create(), reason="Sans suite"
        )
        events = claim.events.count()
        # when the doctor approves the reply, then the gate refuses it and nothing is recorded
        with pytest.raises(ClaimActionRefused) as refused:
            reply_draft_approve(draft=draft, by=claim.doctor.user)
        assert refused.value.reasons == [CLOSED]
        draft.refresh_from_db()
        assert draft.status == "checked"
        assert claim.events.count() == events
