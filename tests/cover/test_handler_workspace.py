"""The handlers' workspace in the Wagtail admin: the dashboard on the admin home, assignment to a
colleague (audited, e-mailed), internal notes and attachments that the doctor never sees and
that are served only to the insurer's handlers, and forms whose inputs fit their values."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from cover.claims.forms import LetterForm, TransitionForm
from cover.claims.models import Claim, ClaimAttachment, ClaimEvent, ClaimNote, TimelineKind
from cover.claims.selectors.captures import claim_capture_ids
from cover.claims.selectors.claims import (
    DASHBOARD_LIMIT,
    claim_handlers,
    claim_timeline,
    handler_dashboard,
)
from cover.claims.selectors.letters import letter_values_auto
from cover.claims.services.handling import ATTACHMENT_MAX_BYTES, claim_assign
from cover.claims.services.notifications import claim_handler_email_send
from cover.letter_fields import LetterKind
from evidence.models import Capture
from tenants.roles import CLAIMS_HANDLER
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_create, doctor_create
from tests.tenants.factories import InsurerAdminFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # Opening a claim records a capture of its loopback address; nothing is fetched.
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def _handler(first: str, last: str, unique: str):
    return UserFactory(
        email=f"{first.lower()}-{unique}@exemple.fr",
        first_name=first,
        last_name=last,
        role=CLAIMS_HANDLER,
    )


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


# ---------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------


def test_the_admin_home_shows_the_week_unassigned_claims_and_failed_captures(tenant_a, unique):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    sunday = monday + datetime.timedelta(days=6)
    with tenant_context(tenant_a.insurer):
        me = _handler("Alice", "Martin", unique)
        due_unassigned = claim_create(urls=[f"http://127.0.0.1:9/avis/{unique}-a"])
        due_mine = claim_create(urls=[f"http://127.0.0.1:9/avis/{unique}-b"])
        later = claim_create(urls=[f"http://127.0.0.1:9/avis/{unique}-c"])
        Claim.objects.filter(pk=due_unassigned.pk).update(
            next_deadline_date=sunday, next_deadline_label="Prescription (loi de 1881)"
        )
        Claim.objects.filter(pk=due_mine.pk).update(next_deadline_date=sunday, assigned_to=me)
        Claim.objects.filter(pk=later.pk).update(
            next_deadline_date=sunday + datetime.timedelta(days=30), assigned_to=me
        )
        (capture_id,) = claim_capture_ids(claim=due_mine)
        Capture.objects.filter(pk=capture_id).update(
            status=Capture.Status.FAILED, error="La page n'a pas répondu."
        )
        other_open = set(
            Claim.objects.exclude(state="CLOSED")
            .filter(assigned_to__isnull=True)
            .exclude(pk=due_unassigned.pk)
            .values_list("reference", flat=True)
        )
    client = _client(tenant_a, me)

    response = client.get("/admin/")

    assert response.status_code == 200
    page = _page(response)
    panel = page[page.index('id="claims-dashboard-section"') :]
    # the week as a picture: Sunday's bar counts the two claims due that day
    assert f'data-day="{sunday.isoformat()}" data-count="2"' in panel
    due = re.findall(r'data-due="([^"]+)"', panel)
    assert sorted(due) == sorted([due_unassigned.reference, due_mine.reference])
    unassigned = set(re.findall(r'data-unassigned="([^"]+)"', panel))
    assert due_unassigned.reference in unassigned
    assert unassigned - {due_unassigned.reference} <= other_open
    assert due_mine.reference not in unassigned and later.reference not in unassigned
    assert re.findall(r'data-failed-capture="(\d+)"', panel) == [str(capture_id)]
    assert f'href="/admin/preuves/{capture_id}/"' in panel
    assert f'href="/admin/sinistres/{due_mine.pk}/#evidence"' in panel
    assert "2 dossiers me sont attribués" in panel
    assert f'href="/admin/sinistres/{due_unassigned.pk}/"' in panel


def test_the_dashboard_reads_the_same_few_queries_whatever_the_number_of_claims(tenant_a, unique):
    today = timezone.localdate()

    def queries(me) -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard = handler_dashboard(user=me, today=today)
            [(str(c.doctor), c.assigned_to) for c in dashboard.due_this_week + dashboard.unassigned]
        return len(captured.captured_queries)

    with tenant_context(tenant_a.insurer):
        me = _handler("Bruno", "Petit", unique)
        first = claim_create(urls=[f"http://127.0.0.1:9/avis/{unique}-0"])
        Claim.objects.filter(pk=first.pk).update(next_deadline_date=today)
        with_one = queries(me)
        for n in range(1, 13):
            claim = claim_create(urls=[f"http://127.0.0.1:9/avis/{unique}-{n}"])
            Claim.objects.filter(pk=claim.pk).update(next_deadline_date=today)
        with_many = queries(me)
        dashboard = handler_dashboard(user=me, today=today)
    assert with_many == with_one
    assert len(dashboard.due_this_week) == DASHBOARD_LIMIT
    assert len(dashboard.unassigned) == DASHBOARD_LIMIT


def test_a_doctor_and_tenant_b_see_nothing_of_tenant_a_dashboard(tenant_a, tenant_b, unique):
    today = timezone.localdate()
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        Claim.objects.filter(pk=claim.pk).update(next_deadline_date=today)
    with tenant_context(tenant_b.insurer):
        handler_b = _handler("Chloé", "Bernard", unique)
        dashboard_b = handler_dashboard(user=handler_b, today=today)
        refs_b = {c.reference for c in dashboard_b.due_this_week + dashboard_b.unassigned}
    page_b = _page(_client(tenant_b, handler_b).get("/admin/"))
    assert claim.reference not in refs_b
    assert claim.reference not in page_b
    # an insurer admin without the claims permission gets no claims panel
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email=f"admin-{unique}@exemple.fr")
    page_admin = _page(_client(tenant_a, admin).get("/admin/"))
    assert 'id="claims-dashboard-section"' not in page_admin


def test_the_admin_home_lists_new_monitoring_alerts_with_links(tenant_a, tenant_b, unique):
    from cleanup.models import Alert, Scan
    from cleanup.services.watch import watch_profile_save
    from tests.cleanup.factories import doctor_with_policy

    with tenant_context(tenant_a.insurer):
        me = _handler("Quentin", "Roy", unique)
        profile = watch_profile_save(
            doctor=doctor_with_policy(tag=unique), name_variants=["Claire Martin"],
            practice_name="", city="Lyon", specialty="", keywords=[],
        )  # fmt: skip
        scan = Scan.objects.create(profile=profile, status="done")
        new, read = (
            Alert.objects.create(
                profile=profile,
                scan=scan,
                kind="new_review",
                url="https://avis.example/1",
                title=f"{title} {unique}",
                band="unrated",
                read_at=read_at,
            )  # fmt: skip
            for title, read_at in (("Avis neuf", None), ("Avis lu", timezone.now()))
        )
    with tenant_context(tenant_b.insurer):
        handler_b = _handler("Rose", "Vidal", unique)

    page = _page(_client(tenant_a, me).get("/admin/"))
    page_b = _page(_client(tenant_b, handler_b).get("/admin/"))

    panel = page[page.index('id="monitoring-new-alerts"') :]
    assert f'data-alert="{new.pk}"' in panel
    assert f'href="/admin/veille/alertes/inspect/{new.pk}/"' in panel
    assert f"Avis neuf {unique}" in panel
    assert f"Avis lu {unique}" not in panel
    assert unique not in page_b


# ---------------------------------------------------------------------------------------------
# Assignment
# ---------------------------------------------------------------------------------------------


def test_assigning_a_claim_to_a_colleague_is_audited_and_filtered_in_my_claims(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        me = _handler("Denis", "Roux", unique)
        colleague = _handler("Emma", "Leroy", unique)
        claim = claim_create()
    client = _client(tenant_a, me)

    page = _page(client.get(f"/admin/sinistres/{claim.pk}/"))
    assert f'<option value="{colleague.pk}">Emma Leroy</option>' in page
    assert 'id="sticky-assignee"' in page

    response = client.post(f"/admin/sinistres/{claim.pk}/attribuer/", {"handler": colleague.pk})

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        events = list(
            ClaimEvent.objects.filter(claim=claim, kind=TimelineKind.ASSIGNED).values_list(
                "ref", "visible_to_doctor", "recorded_by_id", "note"
            )
        )
    assert claim.assigned_to_id == colleague.pk
    assert events == [
        (f"user-{colleague.pk}", False, me.pk, "Attribué à Emma Leroy par Denis Roux.")
    ]
    # « Mes dossiers »: the colleague's queue has it, mine does not
    colleague_queue = _page(_client(tenant_a, colleague).get("/admin/sinistres/?assignment=mine"))
    my_queue = _page(client.get("/admin/sinistres/?assignment=mine"))
    assert f'data-reference="{claim.reference}"' in colleague_queue
    assert f'data-reference="{claim.reference}"' not in my_queue
    # the doctor's timeline does not show it
    with tenant_context(tenant_a.insurer):
        doctor_kinds = {e.kind for e in claim_timeline(claim=claim, for_doctor=True)}
    assert TimelineKind.ASSIGNED.value not in doctor_kinds


def test_the_assignee_gets_an_email_with_a_link_to_the_claim(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        me = _handler("Fanny", "Morel", unique)
        colleague = _handler("Gilles", "Faure", unique)
        claim = claim_create()
        claim_assign(claim=claim, handler=colleague, by=me)
        event = ClaimEvent.objects.get(claim=claim, kind=TimelineKind.ASSIGNED)
        mail.outbox.clear()
        # the actor's body, as the worker runs it after commit
        claim_handler_email_send(claim_id=claim.pk, event_id=event.pk)
        # a second run after a re-assignment announces nothing stale
        claim_assign(claim=claim, handler=me, by=me)
        claim_handler_email_send(claim_id=claim.pk, event_id=event.pk)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([colleague.email], f"Dossier {claim.reference} attribué")
    ]
    assert f"http://{tenant_a.domain}" in mail.outbox[0].body
    assert f"/admin/sinistres/{claim.pk}/" in mail.outbox[0].body
    assert claim.doctor.user.email not in mail.outbox[0].to


def test_a_claim_cannot_be_assigned_to_a_doctor_nor_by_a_doctor(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        me = _handler("Hugo", "Blanc", unique)
        claim = claim_create()
        doctor = claim.doctor
    client = _client(tenant_a, me)

    refused = client.post(f"/admin/sinistres/{claim.pk}/attribuer/", {"handler": doctor.user.pk})
    doctor_client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        doctor_client.force_login(doctor.user)
    forbidden = doctor_client.post(f"/admin/sinistres/{claim.pk}/attribuer/", {"handler": me.pk})

    assert refused.status_code == 302
    assert forbidden.status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        audited = ClaimEvent.objects.filter(claim=claim, kind=TimelineKind.ASSIGNED).count()
    assert (claim.assigned_to_id, audited) == (None, 0)


def test_the_colleagues_offered_are_the_handlers_of_this_insurer_only(tenant_a, tenant_b, unique):
    with tenant_context(tenant_a.insurer):
        me = _handler("Jules", "Garnier", unique)
        doctor = doctor_create(email=f"medecin-{unique}@exemple.fr")
        admin = InsurerAdminFactory(email=f"admin-{unique}@exemple.fr")
        emails_a = set(claim_handlers().values_list("email", flat=True))
    with tenant_context(tenant_b.insurer):
        handler_b = _handler("Inès", "Noël", unique)
        emails_b = set(claim_handlers().values_list("email", flat=True))
    assert me.email in emails_a
    assert {doctor.user.email, admin.email, handler_b.email} & emails_a == set()
    assert handler_b.email in emails_b and me.email not in emails_b


# ---------------------------------------------------------------------------------------------
# Notes and attachments
# ---------------------------------------------------------------------------------------------


def test_an_internal_note_is_shown_to_handlers_and_never_to_the_doctor(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        me = _handler("Karine", "Lopez", unique)
        claim = claim_create()
    client = _client(tenant_a, me)
    secret = f"Hébergeur relancé par téléphone {unique}"

    response = client.post(f"/admin/sinistres/{claim.pk}/notes/", {"text": secret})

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        notes = list(ClaimNote.objects.filter(claim=claim).values_list("text", "author_id"))
        doctor_client = Client(HTTP_HOST=tenant_a.domain)
        doctor_client.force_login(claim.doctor.user)
    assert notes == [(secret, me.pk)]
    handler_page = _page(client.get(f"/admin/sinistres/{claim.pk}/"))
    assert secret in handler_page
    assert '<a href="#notes">Notes (1)</a>' in handler_page
    doctor_page = doctor_client.get(f"/portail/sinistres/{claim.pk}/")
    assert doctor_page.status_code == 200
    assert secret not in _page(doctor_page)
    # and the doctor cannot add one
    doctor_post = doctor_client.post(f"/admin/sinistres/{claim.pk}/notes/", {"text": "moi"})
    assert doctor_post.status_code in (302, 403)
    with tenant_context(tenant_a.insurer):
        assert ClaimNote.objects.filter(claim=claim).count() == 1


def test_an_attachment_is_served_only_to_the_insurer_handlers_as_a_download(
    tenant_a, tenant_b, unique
):
    with tenant_context(tenant_a.insurer):
        me = _handler("Louis", "Perrin", unique)
        claim = claim_create()
    client = _client(tenant_a, me)

    upload = SimpleUploadedFile("réponse hébergeur.pdf", PDF, content_type="application/pdf")
    response = client.post(
        f"/admin/sinistres/{claim.pk}/pieces/", {"file": upload, "description": "Réponse"}
    )

    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        attachment = ClaimAttachment.objects.get(claim=claim)
        doctor_client = Client(HTTP_HOST=tenant_a.domain)
        doctor_client.force_login(claim.doctor.user)
        other_claim = claim_create(doctor=doctor_create(email=f"autre-{unique}@exemple.fr"))
    assert attachment.file.name.startswith("claims/attachments/")
    assert "réponse" not in attachment.file.name
    url = f"/admin/sinistres/{claim.pk}/pieces/{attachment.pk}/"
    assert url in _page(client.get(f"/admin/sinistres/{claim.pk}/"))

    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    # not through the media URL (private storage)
    media = client.get(f"/media/{tenant_a.insurer.schema_name}/{attachment.file.name}")
    assert media.status_code == 404
    # not under another claim's address
    assert (
        client.get(f"/admin/sinistres/{other_claim.pk}/pieces/{attachment.pk}/").status_code == 404
    )
    # not to the doctor
    assert doctor_client.get(url).status_code in (302, 403)
    assert "réponse hébergeur" not in _page(doctor_client.get(f"/portail/sinistres/{claim.pk}/"))
    # not to a handler of insurer B, on B's host
    with tenant_context(tenant_b.insurer):
        handler_b = _handler("Manon", "Girard", unique)
        b_attachments = ClaimAttachment.objects.count()
    cross = _client(tenant_b, handler_b).get(url)
    assert cross.status_code == 404
    assert PDF not in cross.content
    # nor can B's handler add a file to A's claim (nothing written in either schema)
    _client(tenant_b, handler_b).post(
        f"/admin/sinistres/{claim.pk}/pieces/",
        {"file": SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")},
    )
    with tenant_context(tenant_b.insurer):
        assert ClaimAttachment.objects.count() == b_attachments
    with tenant_context(tenant_a.insurer):
        assert ClaimAttachment.objects.filter(claim=claim).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<script>alert(1)</script>", "Type de fichier non accepté (page.html)"),
        ("faux.pdf", b"<html>pas un PDF</html>", "ne correspond pas à son extension (.pdf)"),
        (
            "gros.pdf",
            b"%PDF-" + b"0" * (ATTACHMENT_MAX_BYTES + 1),
            "Fichier trop volumineux : 10,0\u202fMo (maximum 10,0\u202fMo).",
        ),
    ],
)
def test_a_refused_file_says_why_in_french_and_nothing_is_stored(
    tenant_a, unique, name, content, message
):
    with tenant_context(tenant_a.insurer):
        me = _handler("Nina", "Dupuis", unique)
        claim = claim_create()
    client = _client(tenant_a, me)

    response = client.post(
        f"/admin/sinistres/{claim.pk}/pieces/",
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )

    assert message in _page(response)
    with tenant_context(tenant_a.insurer):
        assert ClaimAttachment.objects.filter(claim=claim).count() == 0


# ---------------------------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------------------------


def test_step_and_action_must_agree(tenant_a, unique):
    mismatched = TransitionForm(
        {"to_state": "EVIDENCE", "route": "DSA_NOTICE", "reason": "Preuve d'abord"}
    )
    matched = TransitionForm({"to_state": "PLATFORM", "route": "DSA_NOTICE", "reason": "Retrait"})
    constat = TransitionForm({"to_state": "PLATFORM", "route": "CONSTAT", "reason": "Constat"})
    assert not mismatched.is_valid()
    assert "ne correspond pas à l'étape « 1 — Preuve »" in mismatched.errors["route"][0]
    assert matched.is_valid() and constat.is_valid()
    # the admin refuses it and the claim does not move
    with tenant_context(tenant_a.insurer):
        me = _handler("Olivier", "Renard", unique)
        claim = claim_create()
    client = _client(tenant_a, me)
    response = client.post(
        f"/admin/sinistres/{claim.pk}/etape/",
        {"to_state": "EVIDENCE", "route": "DSA_NOTICE", "reason": "Preuve d'abord"},
        follow=True,
    )
    assert "ne correspond pas à l'étape" in _page(response)
    with tenant_context(tenant_a.insurer):
        claim.refresh_from_db()
        assert (claim.state, claim.transitions.count()) == ("INTAKE", 0)
    # each démarche tells the admin's script which steps it belongs to
    page = _page(client.get(f"/admin/sinistres/{claim.pk}/"))
    assert '<option value="DSA_NOTICE" data-states="PLATFORM">' in page


def test_letter_fields_get_date_number_and_email_inputs_with_labels(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        auto = letter_values_auto(
            claim=claim, kind=LetterKind.MISE_EN_DEMEURE, today=datetime.date(2025, 3, 20)
        )
    form = LetterForm(kind=LetterKind.MISE_EN_DEMEURE, auto=auto)
    rendered = {name: str(form[name]) for name in form.fields}
    assert 'type="number"' in rendered["compliance_deadline_days"]
    assert 'min="1"' in rendered["compliance_deadline_days"]
    assert 'type="date"' in rendered["content.date"]
    assert 'value="2025-03-10"' in rendered["content.date"]
    assert "<textarea" in rendered["demand"]
    assert 'type="text"' in rendered["recipient.name"]
    # posted back, a date goes to the letter the French way and the days as a number
    posted = LetterForm(
        {
            **dict.fromkeys(form.fields, ""),
            "compliance_deadline_days": "8",
            "content.date": "2025-03-10",
        },
        kind=LetterKind.MISE_EN_DEMEURE,
        auto=auto,
    )
    assert posted.is_valid(), posted.errors
    values = posted.values()
    assert values["content.date"] == "10/03/2025"
    assert values["compliance_deadline_days"] == 8
    zero = LetterForm({"compliance_deadline_days": "0"}, kind=LetterKind.MISE_EN_DEMEURE, auto=auto)
    assert not zero.is_valid()
    assert "compliance_deadline_days" in zero.errors


def test_every_input_of_the_claim_page_has_a_label_and_partner_hints_link_the_directory(
    tenant_a, unique
):
    with tenant_context(tenant_a.insurer):
        me = _handler("Pauline", "Henry", unique)
        claim = claim_create()
    client = _client(tenant_a, me)
    page = client.get(f"/admin/sinistres/{claim.pk}/").content.decode()
    main = page[page.index('class="claims-admin claim-layout"') :]
    # every visible input, select and textarea sits in a <label> or has one pointing at its id
    unlabeled = []
    for match in re.finditer(r"<(input|select|textarea)\b[^>]*>", main):
        tag = match.group(0)
        if 'type="hidden"' in tag or 'type="submit"' in tag:
            continue
        id_match = re.search(r'id="([^"]+)"', tag)
        if id_match and f'for="{id_match.group(1)}"' in main:
            continue
        opened = main.rfind("<label", 0, match.start())
        closed = main.rfind("</label>", 0, match.start())
        if opened > closed:
            continue
        unlabeled.append(tag[:80])
    assert unlabeled == []
    letter = client.get(f"/admin/sinistres/{claim.pk}/courriers/nouveau/CONSTAT_ORDER/")
    assert letter.status_code == 200
    assert 'href="/admin/snippets/claims/partner/"' in letter.content.decode()
