"""Positive content the doctor owns (issue 16.6): staff draft items with a real body, only the
doctor approves them in the portal, every text is checked against R4127-19-1, an approved item
is published on the insurer's site, and the rank chart marks the publication date."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup.changes import url_key
from cleanup.models import (
    ArticlePage,
    ContentPlanItem,
    Mention,
    ProfilePage,
    Scan,
    SearchQuery,
    SearchResultRank,
)
from cleanup.selectors import content_rank_chart
from cleanup.services.content import (
    content_plan_item_decide,
    content_plan_item_propose,
    content_plan_item_save,
)
from cleanup.services.watch import watch_profile_save
from tenants.roles import CLAIMS_HANDLER
from tests.cleanup.factories import doctor_with_policy
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db

BODY = [
    {"type": "heading", "value": "Organisation du cabinet"},
    {"type": "paragraph", "value": "<p>Consultations <b>sur rendez-vous</b> du lundi au vendredi.</p>"},
    {"type": "practice_info", "value": {"label": "Accès", "text": "Cabinet accessible PMR."}},
    {
        "type": "hours_contact",
        "value": {"hours": "Lundi–vendredi 8 h–18 h", "phone": "04 78 00 00 00", "email": "",
                  "address": "12 rue des Lilas, Lyon", "booking_url": ""},
    },
]  # fmt: skip


def _profile(doctor):
    return watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="", specialty="",
        keywords=[],
    )  # fmt: skip


def _handler(tag: str) -> User:
    user = User.objects.create_user(
        username=f"gestion-{tag}", email=f"g{tag}@exemple.test", first_name="Gaston",
        last_name="Gestion",
    )  # fmt: skip
    user.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
    return user


def _proposed(*, profile, staff, title="Horaires du cabinet", channel="article", body=None):
    item = content_plan_item_save(
        actor=staff, profile=profile, title=title, summary="Informations pratiques.",
        channel=channel, body=BODY if body is None else body,
    )  # fmt: skip
    return content_plan_item_propose(item=item, actor=staff)


def _snapshot(item: ContentPlanItem):
    item = ContentPlanItem.objects.get(pk=item.pk)
    return (item.status, item.approved_at, item.published_at, item.page_id, item.events.count())


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {"type": "paragraph", "value": "<p>Mes patients témoignent de leur confiance.</p>"},
            "Contenu interdit par le code de déontologie (R4127-19-1), bloc 1 (paragraphe) : "
            "témoignages de patients (« patients témoignent »).",
        ),
        (
            {"type": "heading", "value": "Plus expérimentée que les confrères du quartier"},
            "Contenu interdit par le code de déontologie (R4127-19-1), bloc 1 (intertitre) : "
            "allégation comparative (« Plus expérimentée que les confrères »).",
        ),
        (
            {"type": "practice_info", "value": {"label": "Retours", "text": "Remerciements de nos patients"}},
            "Contenu interdit par le code de déontologie (R4127-19-1), bloc 1 (information "
            "pratique) : témoignages de patients (« Remerciements de nos patients »).",
        ),
    ],
)  # fmt: skip
def test_staff_draft_with_testimonial_or_comparison_is_refused(tenant_a, block, expected):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0001")
        profile = _profile(doctor)
        staff = _handler("c0de0001")

        with pytest.raises(ValidationError) as exc:
            content_plan_item_save(
                actor=staff, profile=profile, title="Le cabinet", channel="article", body=[block]
            )

        assert exc.value.message_dict == {"body": [expected]}
        assert ContentPlanItem.objects.filter(profile=profile).count() == 0


def test_staff_admin_form_refuses_a_comparison_and_has_no_status(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0002")
        profile = _profile(doctor)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, _handler("c0de0002"))

    form = staff.get("/admin/veille/contenus/new/")
    data = {
        "profile": profile.pk, "title": "Le cabinet", "summary": "", "channel": "article",
        "planned_for": "", "status": "published", "body-count": "1", "body-0-type": "heading",
        "body-0-value": "Le meilleur cabinet de Lyon", "body-0-deleted": "", "body-0-order": "0",
        "body-0-id": "",
    }  # fmt: skip
    refused = staff.post("/admin/veille/contenus/new/", data)
    with tenant_context(tenant_a.insurer):
        created_when_refused = ContentPlanItem.objects.filter(profile=profile).count()
    data["body-0-value"] = "Organisation du cabinet"
    saved = staff.post("/admin/veille/contenus/new/", data)

    assert form.status_code == 200 and 'name="status"' not in form.content.decode()
    assert refused.status_code == 200 and created_when_refused == 0
    # The StreamField widget carries its errors as JSON (non-ASCII escaped).
    assert r"(R4127-19-1), bloc 1 (intertitre) : all\u00e9gation comparative" in (
        refused.content.decode()
    )
    assert saved.status_code == 302
    with tenant_context(tenant_a.insurer):
        item = ContentPlanItem.objects.get(profile=profile)
        assert (item.status, item.body[0].value) == ("draft", "Organisation du cabinet")
        assert list(item.events.values_list("action", "actor__username")) == [
            ("drafted", "gestion-c0de0002")
        ]


def test_staff_proposes_doctor_approves_in_portal_and_the_page_is_published(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0003")
        profile = _profile(doctor)
        handler = _handler("c0de0003")
        item = content_plan_item_save(
            actor=handler, profile=profile, title="Horaires du cabinet", channel="article",
            summary="Informations pratiques.", body=BODY,
        )  # fmt: skip
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
        portal = Client(HTTP_HOST=tenant_a.domain)
        portal.force_login(doctor.user)

    before = portal.get("/veille/contenus/")
    proposed = staff.post(f"/admin/veille/contenus/suivi/{item.pk}/", {"action": "propose"})
    shown = portal.get("/veille/contenus/")
    approved = portal.post(
        "/veille/contenus/", {"item": item.pk, "decision": "approve"}, follow=True
    )

    assert "Horaires du cabinet" not in before.content.decode()  # drafts stay with staff
    assert proposed.status_code == 302
    html = shown.content.decode()
    assert "Horaires du cabinet" in html and "Consultations <b>sur rendez-vous</b>" in html
    assert "Cabinet accessible PMR." in html and "Approuver et publier" in html
    assert "Contenu approuvé et publié." in approved.content.decode()
    with tenant_context(tenant_a.insurer):
        item.refresh_from_db()
        page = ArticlePage.objects.get(doctor=doctor)
        assert (item.status, item.page_id, page.live) == ("published", page.pk, True)
        assert list(item.events.values_list("action", "actor__username")) == [
            ("drafted", "gestion-c0de0003"),
            ("proposed", "gestion-c0de0003"),
            ("approved", doctor.user.username),
            ("published", doctor.user.username),
        ]
        url = page.url
    public = Client(HTTP_HOST=tenant_a.domain).get(url)
    assert public.status_code == 200
    body = public.content.decode()
    assert "Horaires du cabinet" in body and "Lundi–vendredi 8 h–18 h" in body
    assert "Organisation du cabinet" in body


def test_staff_cannot_approve_through_the_service_or_http_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0004")
        profile = _profile(doctor)
        handler = _handler("c0de0004")
        item = _proposed(profile=profile, staff=handler)
        before = _snapshot(item)

        with pytest.raises(PermissionDenied) as exc:
            content_plan_item_decide(item=item, actor=handler, approve=True)
        with pytest.raises(PermissionDenied):
            content_plan_item_decide(item=item, actor=None, approve=True)

        assert str(exc.value) == "Seul le médecin concerné peut approuver ou refuser ses contenus."
        assert _snapshot(item) == before
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)

    portal_post = staff.post("/veille/contenus/", {"item": item.pk, "decision": "approve"})
    follow_post = staff.post(f"/admin/veille/contenus/suivi/{item.pk}/", {"action": "approve"})

    assert portal_post.status_code == 403
    # Wagtail's admin answers a refused step by going back to its home page.
    assert (follow_post.status_code, follow_post["Location"]) == (302, "/admin/")
    with tenant_context(tenant_a.insurer):
        assert _snapshot(item) == before
        assert ArticlePage.objects.filter(doctor=doctor).count() == 0


def test_another_doctor_or_insurer_cannot_see_or_approve(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0005")
        item = _proposed(profile=_profile(doctor), staff=_handler("c0de0005"))
        before = _snapshot(item)
        colleague = doctor_with_policy(tag="c0de0006", first_name="Paul", last_name="Durand")
        same_insurer = Client(HTTP_HOST=tenant_a.domain)
        same_insurer.force_login(colleague.user)
    with tenant_context(tenant_b.insurer):
        other = doctor_with_policy(tag="c0de0007", first_name="Luc", last_name="Bernard")
        other_insurer = Client(HTTP_HOST=tenant_b.domain)
        other_insurer.force_login(other.user)

    responses = []
    for client in (same_insurer, other_insurer):
        listing = client.get("/veille/contenus/")
        decided = client.post("/veille/contenus/", {"item": item.pk, "decision": "approve"})
        responses.append((listing.status_code, "Horaires du cabinet" in listing.content.decode(),
                          decided.status_code))  # fmt: skip

    assert responses == [(200, False, 404), (200, False, 404)]
    with tenant_context(tenant_a.insurer):
        assert _snapshot(item) == before
    with tenant_context(tenant_b.insurer):
        assert ArticlePage.objects.count() == 0


def test_allowance_exhausted_is_explained_in_french_and_nothing_is_published(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0008", positive_content_campaigns_per_year=1)
        profile = _profile(doctor)
        handler = _handler("c0de0008")
        first = _proposed(profile=profile, staff=handler, title="Horaires du cabinet")
        second = _proposed(profile=profile, staff=handler, title="Parcours professionnel")
        portal = Client(HTTP_HOST=tenant_a.domain)
        portal.force_login(doctor.user)

    portal.post("/veille/contenus/", {"item": first.pk, "decision": "approve"})
    refused = portal.post(
        "/veille/contenus/", {"item": second.pk, "decision": "approve"}, follow=True
    )

    assert (
        "Votre formule comprend 1 campagne de contenu positif par an, déjà utilisée."
        in refused.content.decode()
    )
    with tenant_context(tenant_a.insurer):
        assert list(profile.content.order_by("pk").values_list("status", flat=True)) == [
            "published",
            "proposed",
        ]
        assert ArticlePage.objects.filter(doctor=doctor).count() == 1


def test_an_edit_after_approval_goes_back_to_the_doctor(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de0009", positive_content_campaigns_per_year=1)
        profile = _profile(doctor)
        handler = _handler("c0de0009")
        item = _proposed(profile=profile, staff=handler)
        item = content_plan_item_decide(item=item, actor=doctor.user, approve=True)
        new_body = [{"type": "heading", "value": "Nouveaux horaires d'été"}]

        edited = content_plan_item_save(
            actor=handler, profile=profile, item=item, title=item.title, channel="article",
            summary=item.summary, body=new_body,
        )  # fmt: skip
        page = ArticlePage.objects.get(pk=item.page_id)
        still_online = [b.value for b in page.body]
        again = content_plan_item_decide(item=edited, actor=doctor.user, approve=True)
        page.refresh_from_db()

        assert edited.status == "proposed"
        assert still_online[0] == "Organisation du cabinet"  # the approved text until re-approval
        assert again.status == "published"  # same campaign: not counted twice
        assert [b.value for b in page.body] == ["Nouveaux horaires d'été"]
        assert list(item.events.values_list("action", flat=True)) == [
            "drafted", "proposed", "approved", "published", "resubmitted", "approved", "published",
        ]  # fmt: skip


def test_forbidden_text_slipped_into_the_database_is_refused_at_approval(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de000a")
        item = _proposed(profile=_profile(doctor), staff=_handler("c0de000a"))
        ContentPlanItem.objects.filter(pk=item.pk).update(
            body=[{"type": "heading", "value": "Aucune plainte depuis 20 ans", "id": "x"}]
        )
        before = _snapshot(item)

        with pytest.raises(ValidationError) as exc:
            content_plan_item_decide(item=item, actor=doctor.user, approve=True)

        assert exc.value.message_dict["body"] == [
            "Contenu interdit par le code de déontologie (R4127-19-1), bloc 1 (intertitre) : "
            "allégation promotionnelle (« Aucune plainte »)."
        ]
        assert _snapshot(item) == before


def test_profile_page_and_directory_channels(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de000b", positive_content_campaigns_per_year=2)
        profile = _profile(doctor)
        handler = _handler("c0de000b")
        on_profile = _proposed(profile=profile, staff=handler, channel="profile_page")
        directory = _proposed(profile=profile, staff=handler, title="Annuaire", channel="directory")

        content_plan_item_decide(item=on_profile, actor=doctor.user, approve=True)
        listed = content_plan_item_decide(item=directory, actor=doctor.user, approve=True)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
        page = ProfilePage.objects.get(doctor=doctor)
        url = page.url

    marked = staff.post(f"/admin/veille/contenus/suivi/{listed.pk}/", {"action": "mark_published"})
    public = Client(HTTP_HOST=tenant_a.domain).get(url)

    assert listed.status == "to_publish"
    assert marked.status_code == 302
    assert "Cabinet accessible PMR." in public.content.decode()
    with tenant_context(tenant_a.insurer):
        directory.refresh_from_db()
        assert directory.status == "published" and directory.published_at is not None
        assert directory.events.last().actor == handler


def test_rank_chart_marks_the_publication_between_the_scans_before_and_after(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de000c")
        profile = _profile(doctor)
        handler = _handler("c0de000c")
        item = _proposed(profile=profile, staff=handler)
        item = content_plan_item_decide(item=item, actor=doctor.user, approve=True)
        page_url = ArticlePage.objects.get(pk=item.page_id).full_url
        now = timezone.now()
        published = now - datetime.timedelta(days=10)
        ContentPlanItem.objects.filter(pk=item.pk).update(published_at=published)
        query = SearchQuery.objects.create(profile=profile, text="Claire Martin")
        bad = "https://forum.example/fil-claire-martin"
        Mention.objects.create(
            profile=profile, url_key=url_key(bad), url=bad, first_seen=now,
            last_seen=now, best_rank=2, flagged=True,
        )  # fmt: skip
        for days, ranks in ((20, {bad: 2}), (1, {bad: 6, page_url: 1})):
            scan = Scan.objects.create(
                profile=profile, status=Scan.Status.DONE,
                finished_at=now - datetime.timedelta(days=days),
            )  # fmt: skip
            for url, rank in ranks.items():
                SearchResultRank.objects.create(scan=scan, query=query, url=url, rank=rank)

        svg = content_rank_chart(profile=profile)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
        portal = Client(HTTP_HOST=tenant_a.domain)
        portal.force_login(doctor.user)

    doctor_page = portal.get("/veille/contenus/").content.decode()
    staff_page = staff.get(f"/admin/veille/contenus/suivi/{item.pk}/").content.decode()

    when = timezone.localtime(published).strftime("%d/%m/%Y")
    assert f'data-marker="{when}"' in svg
    assert "Publication : Horaires du cabinet" in svg
    assert "Résultat négatif le mieux placé — " in svg and " : 6</title>" in svg
    assert "Contenu publié le mieux placé — " in svg and " : 1</title>" in svg
    assert f'data-marker="{when}"' in doctor_page
    assert f'data-marker="{when}"' in staff_page


def test_staff_admin_edit_after_approval_sends_it_back_whatever_status_is_posted(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="c0de000d")
        profile = _profile(doctor)
        handler = _handler("c0de000d")
        item = _proposed(profile=profile, staff=handler)
        item = content_plan_item_decide(item=item, actor=doctor.user, approve=True)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)

    edited = staff.post(
        f"/admin/veille/contenus/edit/{item.pk}/",
        {
            "profile": profile.pk, "title": "Horaires d'été", "summary": "", "channel": "article",
            "planned_for": "", "status": "published", "body-count": "1",
            "body-0-type": "heading", "body-0-value": "Fermeture en août", "body-0-deleted": "",
            "body-0-order": "0", "body-0-id": "",
        },
    )  # fmt: skip

    assert edited.status_code == 302
    with tenant_context(tenant_a.insurer):
        item.refresh_from_db()
        assert (item.status, item.title) == ("proposed", "Horaires d'été")
        assert item.events.last().action == "resubmitted"
        assert item.events.last().actor == handler
        assert ArticlePage.objects.get(pk=item.page_id).title == "Horaires du cabinet"
