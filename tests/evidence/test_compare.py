"""Comparing two captures of the same address: which reviews were edited, removed, added; the
fate of each quoted passage; the PDF annex with both captures' hashes.

The end-to-end test captures a real loopback page twice (real Chromium, real TSA, real bundles)
while its reviews change in between, then reads both bundles through the storage API.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from evidence.compare import (
    ChangeKind,
    PassageFate,
    TextChange,
    captures_compare,
    comparison_annex_pdf,
    passage_outcomes,
    text_diff,
)
from evidence.models import Capture
from evidence.services.execution import capture_execute
from evidence.services.requests import capture_request
from tests.evidence.changing_reviews import (
    AFTER,
    BEFORE,
    DEFAMATORY_REVIEW,
    INSULT_EDITED,
    INSULT_REVIEW,
    NEW_REVIEW,
    ReviewSite,
    review_site_fixture,  # noqa: F401 — fixture
)
from tests.tenants.factories import DoctorUserFactory

INSULT = "Le Dr Martin est un escroc."
DEFAMATORY = "Il m'a facturé des actes jamais réalisés."
WAITING = "Attente interminable au cabinet."
TITLE = "Avis sur le Dr Martin"


def _text(reviews) -> str:
    return "\n".join([TITLE, *reviews]) + "\n"


# --------------------------------------------------------------------------------------------
# Pure logic
# --------------------------------------------------------------------------------------------


def test_the_diff_names_the_edited_the_removed_and_the_added_paragraphs():
    changes = text_diff(before=_text(BEFORE), after=_text(AFTER))

    assert changes == (
        TextChange(ChangeKind.EDITED, before=INSULT_REVIEW, after=INSULT_EDITED),
        TextChange(ChangeKind.REMOVED, before=DEFAMATORY_REVIEW),
        TextChange(ChangeKind.ADDED, after=NEW_REVIEW),
    )
    assert [c.label for c in changes] == ["modifié", "supprimé", "ajouté"]


def test_the_same_text_with_other_spacing_has_no_change():
    assert (
        text_diff(before=_text(BEFORE), after="  " + _text(BEFORE).replace(" : ", "  :\u00a0"))
        == ()
    )


def test_each_passage_is_unchanged_edited_removed_or_not_in_the_first_capture():
    outcomes = passage_outcomes(
        passages=[INSULT, DEFAMATORY, WAITING, "Un passage jamais publié."],
        before=_text(BEFORE),
        after=_text(AFTER),
    )

    assert [(o.quote, o.fate, o.label) for o in outcomes] == [
        (INSULT, PassageFate.EDITED, "modifié"),
        (DEFAMATORY, PassageFate.REMOVED, "supprimé"),
        (WAITING, PassageFate.UNCHANGED, "inchangé"),
        ("Un passage jamais publié.", PassageFate.NOT_IN_FIRST, "absent de la première capture"),
    ]
    assert (outcomes[0].before, outcomes[0].after) == (INSULT_REVIEW, INSULT_EDITED)
    assert (outcomes[1].before, outcomes[1].after) == (DEFAMATORY_REVIEW, "")


# --------------------------------------------------------------------------------------------
# Two real captures
# --------------------------------------------------------------------------------------------


def _capture(url: str, doctor, browser) -> Capture:
    capture_id = capture_request(
        url=url, requested_by=doctor, reason="Avis modifié ?", enqueue=False
    )
    capture = capture_execute(capture_id=capture_id, browser=browser)
    assert capture.status == Capture.Status.COMPLETE, capture.error
    capture.refresh_from_db()
    return capture


@pytest.mark.django_db
@pytest.mark.usefixtures("evidence_env")
def test_two_real_captures_compared_and_exported_as_a_pdf_annex(
    tenant_a, review_site: ReviewSite, capture_browser, tmp_path: Path
):
    # given: the page captured, then its reviews edited, withdrawn and added, captured again
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory()
        first = _capture(review_site.url(), doctor, capture_browser)
        review_site.publish(AFTER)
        second = _capture(review_site.url(), doctor, capture_browser)
        # when: compared (given in the wrong order: the earlier capture comes first anyway)
        comparison = captures_compare(
            first=second, second=first, passages=[INSULT, DEFAMATORY, WAITING]
        )
        pdf = comparison_annex_pdf(comparison=comparison, subject="Sinistre SIN-TEST-1")

    # then: the diff names the edited and the removed reviews, and the added one
    assert (comparison.first.capture_id, comparison.second.capture_id) == (first.pk, second.pk)
    assert comparison.changes == (
        TextChange(ChangeKind.EDITED, before=INSULT_REVIEW, after=INSULT_EDITED),
        TextChange(ChangeKind.REMOVED, before=DEFAMATORY_REVIEW),
        TextChange(ChangeKind.ADDED, after=NEW_REVIEW),
    )
    assert [(o.quote, o.fate) for o in comparison.passages] == [
        (INSULT, PassageFate.EDITED),
        (DEFAMATORY, PassageFate.REMOVED),
        (WAITING, PassageFate.UNCHANGED),
    ]
    assert (comparison.first.tagmanifest_sha256, comparison.second.tagmanifest_sha256) == (
        first.tagmanifest_sha256,
        second.tagmanifest_sha256,
    )
    assert comparison.first.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert comparison.second.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    # the annex is a PDF that carries both captures' numbers and hashes and the diff
    assert pdf[:5] == b"%PDF-"
    (tmp_path / "annexe.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "annexe.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    flat = "".join(text.split())
    assert first.tagmanifest_sha256 in flat
    assert second.tagmanifest_sha256 in flat
    assert f"n°{first.pk}" in flat and f"n°{second.pk}" in flat
    assert "Sinistre SIN-TEST-1" in text
    assert "supprimé" in text and "modifié" in text
    assert "".join(DEFAMATORY_REVIEW.split()) in flat


def test_captures_of_two_addresses_are_not_compared(tenant_a, db):
    with tenant_context(tenant_a.insurer):
        a = Capture.objects.create(url="http://127.0.0.1:9/a", status="complete")
        b = Capture.objects.create(url="http://127.0.0.1:9/b", status="complete")
        with pytest.raises(ValueError, match="ne sont pas de la même adresse"):
            captures_compare(first=a, second=b)
        c = Capture.objects.create(url="http://127.0.0.1:9/a", status="failed")
        with pytest.raises(ValueError, match=f"La capture n° {c.pk} n'est pas terminée"):
            captures_compare(first=a, second=c)
