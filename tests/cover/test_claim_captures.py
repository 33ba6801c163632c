"""A claim and its captures: outcomes on the timeline, the doctor's « Captures » section (live
progress, thumbnail read out of the bundle, « Nouvelle capture »), the comparison of two
captures of one address and its PDF annex — and nobody else's claim, doctor or insurer.

Bundles here are small ZIPs written through the real write-once storage (the capture pipeline
itself is tested in tests/evidence, and tests/evidence/test_compare.py compares real captures).
No capture runs (``db`` tests: the work would be enqueued on commit).
"""

from __future__ import annotations

import hashlib
import html
import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from cover.claims.models import ClaimEvent, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids, claim_captures
from cover.claims.selectors.claims import claim_timeline
from cover.claims.services.captures import claim_capture_request
from evidence.models import Capture, CustodyEvent
from evidence.services.execution import capture_fail
from tests.conftest import staff_login
from tests.cover.claims_factories import (
    DEFAMATORY,
    INSULT,
    WAITING,
    claim_create,
    handler_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_env")]

REVIEW = "Le Dr Martin est un escroc. Il m'a facturé des actes jamais réalisés. " + WAITING
PAGE_BEFORE = f"Avis sur le Dr Martin\nJean D. : {INSULT}\nMarie P. : {DEFAMATORY}\n{WAITING}\n"
PAGE_AFTER = "Avis sur le Dr Martin\nJean D. : Le Dr Martin est un médecin peu aimable.\n" + (
    f"{WAITING}\n"
)
TIMEOUT_REASON = "La page n'a pas répondu dans le temps imparti."


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1280, 800), colour).save(out, format="PNG")
    return out.getvalue()


def _complete(capture_id: int, *, text: str, colour=(20, 40, 60)) -> Capture:
    """The capture finished with a bundle (page text and first screen) in the evidence store."""
    root = f"evidence-{capture_id}"
    tagmanifest = f"{capture_id} tagmanifest\n".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{root}/tagmanifest-sha256.txt", tagmanifest)
        archive.writestr(f"{root}/data/page.txt", text)
        archive.writestr(f"{root}/data/screenshot-viewport.png", _png(colour))
    capture = Capture.objects.get(pk=capture_id)
    capture.bundle.save(
        f"bundles/{root}-{timezone.now():%H%M%S%f}.zip", ContentFile(buffer.getvalue()), save=False
    )
    now = timezone.now()
    capture.status = Capture.Status.COMPLETE
    capture.progress = 100
    capture.tagmanifest_sha256 = hashlib.sha256(tagmanifest).hexdigest()
    capture.zip_sha256 = hashlib.sha256(buffer.getvalue()).hexdigest()
    capture.finished_at = capture.gen_time = now
    capture.save()
    return capture


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


@pytest.fixture
def address(unique) -> str:
    return f"http://127.0.0.1:9/medecin/martin/avis-{unique}"


@pytest.fixture
def claim(tenant_a, address):
    with tenant_context(tenant_a.insurer):
        return claim_create(urls=[address], source_text=REVIEW, quotes=(INSULT, DEFAMATORY))


@pytest.fixture
def handler(tenant_a):
    with tenant_context(tenant_a.insurer):
        return handler_create()


def _doctor_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        client.force_login(user)
    return client


def _staff_client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _opening_capture(tenant, claim) -> int:
    with tenant_context(tenant.insurer):
        (capture_id,) = claim_capture_ids(claim=claim)
    return capture_id


def _viewed(tenant) -> int:
    with tenant_context(tenant.insurer):
        return CustodyEvent.objects.filter(kind=CustodyEvent.Kind.VIEWED).count()


# --------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------


def test_the_timeline_shows_a_complete_capture_with_its_bundle_and_a_failed_one_with_its_reason(
    tenant_a, claim, handler, address
):
    # given: the opening capture complete, a second address failed
    other = "http://127.0.0.1:9/forum/fil-7"
    with tenant_context(tenant_a.insurer):
        done = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
        failed_id = claim_capture_request(claim=claim, by=handler, url=other)
        Capture.objects.filter(pk=failed_id).update(attempts=3)
        capture_fail(capture_id=failed_id, reason=TIMEOUT_REASON)
        # when
        entries = [
            (e.kind, e.note)
            for e in claim_timeline(claim=claim, for_doctor=True)
            if e.kind in ("CAPTURE_COMPLETED", "CAPTURE_FAILED")
        ]
    # then
    assert entries == [
        (
            "CAPTURE_COMPLETED",
            f"n° {done.pk} — {address} — empreinte {done.tagmanifest_sha256[:16]}…",
        ),
        ("CAPTURE_FAILED", f"n° {failed_id} — {other} — {TIMEOUT_REASON}"),
    ]
    # nothing was written on the claim: the outcomes are read from the captures
    with tenant_context(tenant_a.insurer):
        assert not ClaimEvent.objects.filter(claim=claim, kind__startswith="CAPTURE_C").exists()
    # the handler's page links the bundle's staff download; the doctor's, the capture
    admin = _page(_staff_client(tenant_a, handler).get(f"/admin/sinistres/{claim.pk}/"))
    assert '<tr data-capture-outcome="CAPTURE_COMPLETED">' in admin
    assert f'<a href="/admin/preuves/{done.pk}/telecharger/">télécharger le lot de preuve</a>' in (
        admin
    )
    assert f"n° {failed_id} — {other} — {TIMEOUT_REASON}" in admin
    portal = _page(
        _doctor_client(tenant_a, claim.doctor.user).get(f"/portail/sinistres/{claim.pk}/")
    )
    assert '<li data-capture-outcome="CAPTURE_COMPLETED">' in portal
    assert f'<a href="#capture-{done.pk}">voir la capture</a>' in portal
    assert f"Échec de la capture : n° {failed_id} — {other} — {TIMEOUT_REASON}" in portal


# --------------------------------------------------------------------------------------------
# The doctor's « Captures » section
# --------------------------------------------------------------------------------------------


def test_the_doctor_page_lists_the_captures_with_live_progress_and_thumbnail(
    tenant_a, claim, handler
):
    with tenant_context(tenant_a.insurer):
        done = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
        queued = claim_capture_request(claim=claim, by=handler, url="http://127.0.0.1:9/autre")
    page = _page(_doctor_client(tenant_a, claim.doctor.user).get(f"/portail/sinistres/{claim.pk}/"))

    assert (
        f'<div class="capture" id="capture-{queued}" data-capture="{queued}" data-status="queued" '
        f'data-status-url="/portail/sinistres/{claim.pk}/captures/{queued}/etat.json">'
    ) in page
    assert f"Capture n° {queued} (demandée par votre assureur)" in page
    assert (
        f'<img src="/portail/sinistres/{claim.pk}/captures/{done.pk}/capture.png" '
        'alt="Première page écran de la capture" loading="lazy">'
    ) in page
    assert f"<code>{done.tagmanifest_sha256}</code>" in page
    assert f'<form method="post" action="/portail/sinistres/{claim.pk}/captures/nouvelle/"' in page


def test_the_thumbnail_is_the_bundles_first_screen_reduced(tenant_a, claim):
    with tenant_context(tenant_a.insurer):
        done = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE, colour=(200, 10, 10))
    response = _doctor_client(tenant_a, claim.doctor.user).get(
        f"/portail/sinistres/{claim.pk}/captures/{done.pk}/capture.png"
    )
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    image = Image.open(io.BytesIO(response.content))
    assert (image.size, image.getpixel((10, 10))) == ((480, 300), (200, 10, 10))


def test_another_doctor_gets_no_thumbnail_no_progress_and_no_comparison(tenant_a, claim, handler):
    # given: two complete captures of the claim's address
    with tenant_context(tenant_a.insurer):
        first = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
        second_id = claim_capture_request(claim=claim, by=handler, url=claim.urls[0])
        _complete(second_id, text=PAGE_AFTER)
        stranger = claim_create(urls=[claim.urls[0]]).doctor.user
    before = _viewed(tenant_a)
    client = _doctor_client(tenant_a, stranger)
    base = f"/portail/sinistres/{claim.pk}/captures"
    # when
    responses = [
        client.get(f"{base}/{first.pk}/capture.png"),
        client.get(f"{base}/{first.pk}/etat.json"),
        client.get(f"{base}/comparer/?a={first.pk}&b={second_id}"),
        client.get(f"{base}/annexe.pdf?a={first.pk}&b={second_id}"),
    ]
    # then: a 404 like a missing claim, no image, no state, no custody event
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert all(b"\x89PNG" not in r.content and b"%PDF" not in r.content for r in responses)
    assert _viewed(tenant_a) == before


def test_a_capture_of_another_claim_is_not_served_through_mine(tenant_a, claim):
    with tenant_context(tenant_a.insurer):
        other = claim_create(doctor=claim.doctor, urls=["http://127.0.0.1:9/autre-dossier"])
        theirs = _complete(_opening_capture(tenant_a, other), text=PAGE_BEFORE)
    response = _doctor_client(tenant_a, claim.doctor.user).get(
        f"/portail/sinistres/{claim.pk}/captures/{theirs.pk}/capture.png"
    )
    assert response.status_code == 404


def test_another_insurers_capture_is_never_served(tenant_a, tenant_b, claim):
    # given: a complete capture in tenant A; in tenant B, a doctor with a claim of their own
    with tenant_context(tenant_a.insurer):
        done = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
    with tenant_context(tenant_b.insurer):
        claim_b = claim_create(urls=["http://127.0.0.1:9/assureur-b"])
        captures_b = claim_captures(claim=claim_b)
    client = _doctor_client(tenant_b, claim_b.doctor.user)
    # when: tenant B's doctor asks for A's capture, through A's claim number and through theirs
    responses = [
        client.get(f"/portail/sinistres/{claim.pk}/captures/{done.pk}/capture.png"),
        client.get(f"/portail/sinistres/{claim_b.pk}/captures/{done.pk}/capture.png"),
        client.get(f"/portail/sinistres/{claim_b.pk}/captures/{done.pk}/etat.json"),
    ]
    # then: nothing of A comes back
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert all(b"\x89PNG" not in r.content for r in responses)
    assert [c.url for c in captures_b] == ["http://127.0.0.1:9/assureur-b"]
    with tenant_context(tenant_b.insurer):
        assert not Capture.objects.filter(tagmanifest_sha256=done.tagmanifest_sha256).exists()


def test_the_progress_endpoint_follows_a_capture_the_insurer_requested(tenant_a, claim, handler):
    with tenant_context(tenant_a.insurer):
        capture_id = claim_capture_request(claim=claim, by=handler, url="http://127.0.0.1:9/autre")
        Capture.objects.filter(pk=capture_id).update(
            status="running", progress=40, step="Défilement de la page"
        )
    data = (
        _doctor_client(tenant_a, claim.doctor.user)
        .get(f"/portail/sinistres/{claim.pk}/captures/{capture_id}/etat.json")
        .json()
    )
    assert (data["id"], data["status"], data["progress"], data["step"], data["image_url"]) == (
        capture_id,
        "running",
        40,
        "Défilement de la page",
        None,
    )


def _captures_of(tenant, claim) -> tuple[int, int]:
    with tenant_context(tenant.insurer):
        return (
            Capture.objects.count(),
            ClaimEvent.objects.filter(claim=claim, kind=TimelineKind.CAPTURE_REQUESTED).count(),
        )


def test_a_double_post_of_nouvelle_capture_creates_exactly_one_capture(tenant_a, claim):
    client = _doctor_client(tenant_a, claim.doctor.user)
    other = "http://127.0.0.1:9/forum/fil-9"
    before = _captures_of(tenant_a, claim)
    # when: the same form posted twice (a double click)
    first = client.post(f"/portail/sinistres/{claim.pk}/captures/nouvelle/", {"other_url": other})
    second = client.post(
        f"/portail/sinistres/{claim.pk}/captures/nouvelle/", {"other_url": other}, follow=True
    )
    # then
    assert first.status_code == 302
    assert first["Location"] == f"/portail/sinistres/{claim.pk}/#captures"
    assert _captures_of(tenant_a, claim) == (before[0] + 1, before[1] + 1)
    with tenant_context(tenant_a.insurer):
        capture = Capture.objects.get(url=other)
    assert (capture.requested_by_id, capture.status) == (claim.doctor.user_id, "queued")
    assert f"Capture n° {capture.pk} demandée : elle démarre dans un instant." in _page(second)


def test_the_hourly_limit_is_refused_in_french_and_nothing_is_created(tenant_a, claim, settings):
    # given: the claim's opening capture already used this hour's only capture
    settings.EGIDE_CAPTURES_PER_HOUR_CLAIM = 1
    before = _captures_of(tenant_a, claim)
    # when
    response = _doctor_client(tenant_a, claim.doctor.user).post(
        f"/portail/sinistres/{claim.pk}/captures/nouvelle/",
        {"url": claim.urls[0], "other_url": "http://127.0.0.1:9/encore"},
        follow=True,
    )
    # then
    assert response.status_code == 200
    assert (
        "Limite de 1 captures par heure atteinte pour ce sinistre. Réessayez plus tard."
        in _page(response)
    )
    assert _captures_of(tenant_a, claim) == before


def test_another_doctor_cannot_request_a_capture_for_my_claim(tenant_a, claim):
    with tenant_context(tenant_a.insurer):
        stranger = claim_create(urls=["http://127.0.0.1:9/lui"]).doctor.user
    before = _captures_of(tenant_a, claim)
    response = _doctor_client(tenant_a, stranger).post(
        f"/portail/sinistres/{claim.pk}/captures/nouvelle/",
        {"other_url": "http://127.0.0.1:9/intrus"},
    )
    assert response.status_code == 404
    assert _captures_of(tenant_a, claim)[1] == before[1]
    with tenant_context(tenant_a.insurer):
        assert not Capture.objects.filter(url="http://127.0.0.1:9/intrus").exists()


# --------------------------------------------------------------------------------------------
# Comparing two captures of one address
# --------------------------------------------------------------------------------------------


@pytest.fixture
def two_captures(tenant_a, claim, handler) -> tuple[int, int]:
    with tenant_context(tenant_a.insurer):
        first = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
        second_id = claim_capture_request(claim=claim, by=handler, url=claim.urls[0])
        _complete(second_id, text=PAGE_AFTER, colour=(230, 230, 230))
    return first.pk, second_id


def test_the_handler_compares_two_captures_and_exports_the_annex(
    tenant_a, claim, handler, two_captures, tmp_path: Path
):
    first, second = two_captures
    client = _staff_client(tenant_a, handler)
    viewed = _viewed(tenant_a)
    # the claim page offers the comparison
    detail = _page(client.get(f"/admin/sinistres/{claim.pk}/"))
    compare_url = f"/admin/sinistres/{claim.pk}/preuves/comparer/?a={first}&b={second}"
    assert f'<a href="{compare_url}">Comparer les captures n° {first}' in detail
    # the side-by-side page: both captures, their hashes, each passage's fate, the diff
    page = _page(client.get(compare_url))
    with tenant_context(tenant_a.insurer):
        hashes = dict(
            Capture.objects.filter(pk__in=two_captures).values_list("pk", "tagmanifest_sha256")
        )
    assert f'<span class="hash tagmanifest">{hashes[first]}</span>' in page
    assert f'<span class="hash tagmanifest">{hashes[second]}</span>' in page
    assert page.count('<img src="data:image/png;base64,') == 2
    assert (
        f'<tr class="fate-edited" data-fate="edited"><td>« {INSULT} »</td><td><strong>modifié'
    ) in page
    assert (
        f'<tr class="fate-removed" data-fate="removed"><td>« {DEFAMATORY} »</td>'
        "<td><strong>supprimé"
    ) in page
    assert f"<td>Marie P. : {DEFAMATORY}</td><td>—</td>" in page
    # the annex
    response = client.get(f"/admin/sinistres/{claim.pk}/preuves/annexe.pdf?a={first}&b={second}")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == (
        f'attachment; filename="annexe-{claim.reference}-captures-{first}-{second}.pdf"'
    )
    (tmp_path / "annexe.pdf").write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "annexe.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    flat = "".join(text.split())
    assert hashes[first] in flat and hashes[second] in flat
    assert f"Sinistre {claim.reference}" in text
    # both views were written on both captures' chains of custody
    assert _viewed(tenant_a) == viewed + 4


def test_the_doctor_compares_the_two_captures_of_their_claim(tenant_a, claim, two_captures):
    first, second = two_captures
    client = _doctor_client(tenant_a, claim.doctor.user)
    detail = _page(client.get(f"/portail/sinistres/{claim.pk}/"))
    assert f"/portail/sinistres/{claim.pk}/captures/comparer/?a={first}&b={second}" in detail
    page = _page(
        client.get(f"/portail/sinistres/{claim.pk}/captures/comparer/?a={first}&b={second}")
    )
    assert '<tr class="fate-removed" data-fate="removed">' in page
    assert f'href="/portail/sinistres/{claim.pk}/captures/annexe.pdf?a={first}&b={second}"' in page
    pdf = client.get(f"/portail/sinistres/{claim.pk}/captures/annexe.pdf?a={first}&b={second}")
    assert (pdf.status_code, pdf.content[:5]) == (200, b"%PDF-")


def test_captures_of_two_addresses_are_not_compared_with_a_french_message(tenant_a, claim, handler):
    with tenant_context(tenant_a.insurer):
        first = _complete(_opening_capture(tenant_a, claim), text=PAGE_BEFORE)
        other = claim_capture_request(claim=claim, by=handler, url="http://127.0.0.1:9/ailleurs")
        _complete(other, text=PAGE_AFTER)
    viewed = _viewed(tenant_a)
    response = _staff_client(tenant_a, handler).get(
        f"/admin/sinistres/{claim.pk}/preuves/comparer/?a={first.pk}&b={other}", follow=True
    )
    assert "Les deux captures ne sont pas de la même adresse." in _page(response)
    assert _viewed(tenant_a) == viewed
