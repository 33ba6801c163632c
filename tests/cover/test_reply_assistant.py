"""Reply assistant: thank / explain / private contact; hard blocks; "no reply" first-class."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

from cover.claims.models import ReplyDraft
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.replies import (
    reply_default_option,
    reply_draft_approve,
    reply_draft_check,
    reply_no_reply_choose,
)
from cover.reply_rules import ReplyOption, ReplyTopic, reply_propose
from tests.cover.claims_factories import WAITING, claim_qualified

pytestmark = pytest.mark.django_db
D = datetime.date


def _lawful(**kwargs):
    return claim_qualified(
        categories=("LAWFUL_NEGATIVE",), quotes=(WAITING,), today=D(2025, 3, 12), **kwargs
    )


def test_lawful_review_proposal_passes_and_is_approved(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _lawful()
        text = reply_propose(signature="Cabinet du Dr Martin", topics=[ReplyTopic.DELAYS])
        draft = reply_draft_check(claim=claim, text=text, by=claim.doctor.user)
        assert (draft.status, draft.issues) == ("checked", [])
        reply_draft_approve(draft=draft, by=claim.doctor.user)
        draft.refresh_from_db()
        assert draft.status == "approved"
        assert claim.events.get(kind="REPLY_APPROVED").note == text
        assert reply_default_option(claim=claim) is ReplyOption.NO_REPLY


def test_a_draft_breaking_medical_secrecy_is_blocked_and_cannot_be_approved(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = _lawful()
        draft = reply_draft_check(
            claim=claim,
            by=claim.doctor.user,
            text="Jean, je me souviens de votre consultation du 3 mars pour votre eczéma.",
        )
        codes = sorted({i["code"] for i in draft.issues if i["severity"] == "BLOCK"})
        assert draft.status == "blocked"
        assert codes == [
            "MEDICAL_DETAIL",  # « eczéma »: a word list missed it (issue 14)
            "PATIENT_IDENTIFIER",
            "RECOLLECTION",
            "VISIT_DATE_OR_TIME",
            "VISIT_REFERENCE",
        ]
        with pytest.raises(ClaimActionRefused):
            reply_draft_approve(draft=draft, by=claim.doctor.user)
        draft.refresh_from_db()
        assert draft.status == "blocked"
        assert not claim.events.filter(kind="REPLY_APPROVED").exists()


def test_no_public_reply_on_illicit_content_without_lawyer(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(today=D(2025, 3, 12))
        text = reply_propose(signature="Cabinet du Dr Martin")
        draft = reply_draft_check(claim=claim, text=text, by=claim.doctor.user)
        with pytest.raises(ClaimActionRefused) as refused:
            reply_draft_approve(draft=draft, by=claim.doctor.user)
        assert refused.value.reasons == [
            "Contenu illicite : pas de réponse ni de contact avec l'auteur sans avis de "
            "l'avocat (une réponse peut valoir acquiescement et ajoute de la visibilité)."
        ]
        assert ReplyDraft.objects.get(pk=draft.pk).status == "checked"


def test_no_reply_is_recorded_as_a_choice(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_qualified(today=D(2025, 3, 12))
        draft = reply_no_reply_choose(claim=claim, by=claim.doctor.user)
        assert (draft.option, draft.status, draft.text) == ("NO_REPLY", "approved", "")
        assert claim.events.filter(kind="NO_REPLY_CHOSEN").count() == 1
