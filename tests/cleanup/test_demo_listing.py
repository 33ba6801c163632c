"""Demo data of the new journeys: the directory listing of the demo review site (PagesJaunes
layout, two pages, read through its platform profile), the positive-content item proposed to
the demo doctor, and the Google attribution of Places alerts on /veille/."""

from __future__ import annotations

import json
import urllib.request

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.demo import DEMO_CONTENT_TITLE, content_demo_seed, monitoring_demo_seed
from cleanup.models import Alert, ArticlePage, ContentPlanItem, Review, Scan, WatchedPage
from cleanup.services.watch import watch_profile_save
from saas.embedded.review_content import (
    LISTING_PLATFORM_NAME,
    LISTING_PROFILE,
    LISTINGS,
    listing_path,
)
from saas.embedded.review_site import DemoReviewSite
from tenants.roles import CLAIMS_HANDLER
from tests.cleanup.factories import doctor_with_policy

SLUG = "dr-paul-bernard"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db
def test_the_demo_listing_is_read_through_its_profile_both_pages(tenant_a, tenant_b, tmp_path):
    # given the demo site on loopback and the listing seeded for a doctor of insurer A
    site = DemoReviewSite(host="127.0.0.1", port=0, data_dir=tmp_path).start()
    try:
        url = site.url + listing_path(SLUG)
        missing = _status(site.url + listing_path(SLUG, 3))
        with tenant_context(tenant_a.insurer):
            doctor = doctor_with_policy(tag="d1a50001")
            page = monitoring_demo_seed(
                doctor_email=doctor.user.username, page_url=url, label=LISTING_PLATFORM_NAME,
                platform=LISTING_PROFILE,
            )  # fmt: skip
            # a second run of the seed changes nothing
            again = monitoring_demo_seed(
                doctor_email=doctor.user.username, page_url=url, label=LISTING_PLATFORM_NAME,
                platform=LISTING_PROFILE,
            )  # fmt: skip
            assert page is not None and again is not None and again.pk == page.pk
            scans = list(page.profile.scans.values_list("status", flat=True))
            authors = sorted(Review.objects.filter(page=page).values_list("author", flat=True))
            baseline = Alert.objects.get(profile=page.profile, kind=Alert.Kind.BASELINE)
            client = Client(HTTP_HOST=tenant_a.domain)
            client.force_login(doctor.user)
        dashboard = client.get("/veille/").content.decode()
    finally:
        site.stop()
    reads = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    expected = sorted(r.author for p in LISTINGS[SLUG].pages for r in p)
    # then one baseline scan read page 1 and page 2 through the PagesJaunes profile
    assert (page.platform, scans, missing) == (LISTING_PROFILE, [Scan.Status.DONE], 404)
    assert authors == expected and len(expected) == 5
    assert {k: v["reads"] for k, v in reads.items()} == {
        f"{LISTING_PROFILE}/{SLUG}/1": 1,
        f"{LISTING_PROFILE}/{SLUG}/2": 1,
    }
    # and /veille/ shows the baseline with the negative review of page 2 to examine
    assert "5 avis enregistrés" in baseline.title + baseline.text
    assert [e["author"] for e in baseline.detail["examine"]] == ["Gérard F."]
    assert "Gérard F." in dashboard and "un vrai boucher" in dashboard
    with tenant_context(tenant_b.insurer):
        assert WatchedPage.objects.filter(url=url).count() == 0


@pytest.mark.django_db
def test_the_demo_content_item_waits_for_the_doctor_once(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="d1a50002")
        handler = User.objects.create_user(username="gestion-d1a50002", email="g@exemple.test")
        handler.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
        item = content_demo_seed(doctor_email=doctor.user.username, staff_email="gestion-d1a50002")
        again = content_demo_seed(doctor_email=doctor.user.username, staff_email="gestion-d1a50002")
        nobody = content_demo_seed(doctor_email="inconnu@exemple.fr", staff_email="x")
        assert item is not None and again is not None
        assert (again.pk, item.status, nobody) == (item.pk, ContentPlanItem.Status.PROPOSED, None)
        assert ContentPlanItem.objects.filter(profile__doctor=doctor).count() == 1
        assert [b.block_type for b in item.body] == [
            "heading", "paragraph", "practice_info", "hours_contact",
        ]  # fmt: skip
        assert list(item.events.values_list("action", "actor__username")) == [
            ("drafted", "gestion-d1a50002"),
            ("proposed", "gestion-d1a50002"),
        ]
        portal = Client(HTTP_HOST=tenant_a.domain)
        portal.force_login(doctor.user)
    shown = portal.get("/veille/contenus/").content.decode()
    approved = portal.post("/veille/contenus/", {"item": item.pk, "decision": "approve"})
    assert DEMO_CONTENT_TITLE in shown and "Approuver et publier" in shown
    assert approved.status_code == 302
    with tenant_context(tenant_a.insurer):
        article = ArticlePage.objects.get(doctor=doctor)
        url = article.url
    public = Client(HTTP_HOST=tenant_a.domain).get(url)
    assert public.status_code == 200
    assert "Organisation des consultations" in public.content.decode()
    with tenant_context(tenant_b.insurer):
        assert not ContentPlanItem.objects.filter(title=DEMO_CONTENT_TITLE).exists()


@pytest.mark.django_db
def test_places_alerts_show_the_google_attribution_on_veille(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="d1a50003")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        common = {
            "profile": profile,
            "scan": Scan.objects.create(profile=profile, status=Scan.Status.DONE),
            "kind": Alert.Kind.NEW_REVIEW,
            "url": "https://maps.google.com/",
        }
        google = Alert.objects.create(
            **common, title="Avis Google Maps sur Cabinet des Lilas", text="Très bien.",
            detail={"source": "google_places", "attribution": "Avis fourni par Google",
                    "author": "Léa P.", "author_uri": "https://www.google.com/maps/contrib/1"},
        )  # fmt: skip
        forged = Alert.objects.create(
            **common, title="Avis Google Maps sur Cabinet des Roses", text="Bien.",
            detail={"attribution": "Avis fourni par Google", "author": "Zoé",
                    "author_uri": "javascript:alert(1)"},
        )  # fmt: skip
        other = Alert.objects.create(**common, title="Avis sur un annuaire", text="Correct.")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)
    html = client.get("/veille/").content.decode()
    assert (
        f'<p class="alert-meta attribution" id="attribution-{google.pk}">Avis fourni par Google'
        ' — <a href="https://www.google.com/maps/contrib/1"' in html
    )
    assert f'id="attribution-{forged.pk}">Avis fourni par Google — Zoé</p>' in html
    assert "javascript:alert" not in html
    assert f'id="attribution-{other.pk}"' not in html
