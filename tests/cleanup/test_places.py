"""Google Places API (New): search a place, follow it, track its rating, detect new reviews,
show them with Google's attribution.

Google is answered either by the official client's own ``HttpMockSequence`` (bodies shaped on
Google's published reference for ``places:searchText`` and ``places.get``), or — for the portal
pages, which go through the outbound guard in production — by a real HTTP server on 127.0.0.1
that speaks the Places API (New) protocol (``EGIDE_PLACES_ENDPOINT`` points the client at it;
the test settings allow loopback). Nothing leaves the machine.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from googleapiclient.http import HttpMockSequence

from cleanup.models import Alert, Scan
from cleanup.places import services
from cleanup.places.models import FollowedPlace, PlaceRatingPoint, PlaceReview, PlacesSettings
from cleanup.services.watch import watch_profile_save
from tests.cleanup.factories import doctor_with_policy
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db

API_KEY = "AIzaSyFAKE-places-key-0123456789abcdef"
PLACE_ID = "ChIJ3S-JXmauEmsRUcIaWtf4MzE"
PLACE_URI = f"https://maps.google.com/?cid=1234567890&place_id={PLACE_ID}"


# --------------------------------------------------------------------------- bodies


def review(rid: str, *, rating: int, text: str, author: str, when: str = "il y a 2 semaines"):  # type: ignore[no-untyped-def]
    return {
        "name": f"places/{PLACE_ID}/reviews/{rid}",
        "relativePublishTimeDescription": when,
        "rating": rating,
        "text": {"text": text, "languageCode": "fr"},
        "originalText": {"text": text, "languageCode": "fr"},
        "authorAttribution": {
            "displayName": author,
            "uri": f"https://www.google.com/maps/contrib/{rid}1000",
            "photoUri": f"https://lh3.googleusercontent.com/a-/{rid}=s128-c0x00000000-cc-rp-mo",
        },
        "publishTime": "2026-11-20T10:12:33.123456789Z",
        "flagContentUri": "https://www.google.com/local/review/rap/report?postId=x",
        "googleMapsUri": f"https://www.google.com/maps/reviews/data=!4m8!14m7!1m6!2m5!1s{rid}",
    }


R1 = review("ChZDSUhNMG9nS0VJQ0FnSUR4", rating=5, text="Très à l'écoute.", author="Anne D.")
R2 = review("ChZDSUhNMG9nS0VJQ0FnSUR5", rating=4, text="Ponctuel.", author="Paul L.")
R3 = review(
    "ChdDSUhNMG9nS0VJQ0FnSUR6", rating=1,
    text="Médecin incompétent, à fuir absolument.", author="Yves B.", when="il y a 1 jour",
)  # fmt: skip

SEARCH = {
    "places": [
        {
            "id": PLACE_ID,
            "formattedAddress": "12 Rue des Lilas, 69003 Lyon, France",
            "rating": 4.5,
            "googleMapsUri": PLACE_URI,
            "userRatingCount": 2,
            "displayName": {"text": "Cabinet des Lilas - Dr Claire Martin", "languageCode": "fr"},
        },
        {
            "id": "ChIJN1t_tDeuEmsRUsoyG83frY4",
            "formattedAddress": "3 Place Bellecour, 69002 Lyon, France",
            "googleMapsUri": "https://maps.google.com/?cid=999",
            "displayName": {"text": "Centre médical Bellecour", "languageCode": "fr"},
        },
    ]
}


def details(*reviews: dict[str, Any], rating: float = 4.5, count: int = 2) -> dict[str, Any]:
    return {
        "id": PLACE_ID,
        "formattedAddress": "12 Rue des Lilas, 69003 Lyon, France",
        "rating": rating,
        "googleMapsUri": PLACE_URI,
        "userRatingCount": count,
        "displayName": {"text": "Cabinet des Lilas - Dr Claire Martin", "languageCode": "fr"},
        "reviews": list(reviews),
    }


FOLLOW = {k: v for k, v in details().items() if k in ("id", "displayName", "formattedAddress",
                                                      "googleMapsUri")}  # fmt: skip


def ok(body: dict[str, Any]) -> tuple[dict[str, str], str]:
    return ({"status": "200", "content-type": "application/json"}, json.dumps(body))


def error(status: int, code: str, message: str) -> tuple[dict[str, str], str]:
    body = {"error": {"code": status, "message": message, "status": code}}
    return ({"status": str(status), "content-type": "application/json"}, json.dumps(body))


class RecordingSequence(HttpMockSequence):
    """The client's HttpMockSequence, also keeping what was asked."""

    def __init__(self, iterable: list[tuple[dict[str, str], str]]) -> None:
        super().__init__(iterable)
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []

    def request(self, uri, method="GET", body=None, headers=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append((method, uri, body, dict(headers or {})))
        return super().request(uri, method, body, headers, *args, **kwargs)


# --------------------------------------------------------------------------- loopback Places API


class PlacesServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.responses: list[tuple[int, dict[str, Any]]] = []
        self.base_url = ""


@pytest.fixture
def places_server(settings) -> Iterator[PlacesServer]:
    state = PlacesServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append((self.command, self.path, dict(self.headers.items()), body))
            if self.headers.get("X-Goog-Api-Key") != API_KEY:
                status, data = 403, {"error": {"code": 403, "status": "PERMISSION_DENIED",
                                               "message": "API key not valid."}}  # fmt: skip
            elif not self.headers.get("X-Goog-FieldMask"):
                status, data = 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                               "message": "FieldMask is a required parameter"}}  # fmt: skip
            elif state.responses:
                status, data = state.responses.pop(0)
            else:
                status, data = 404, {"error": {"code": 404, "status": "NOT_FOUND"}}
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.EGIDE_PLACES_ENDPOINT = state.base_url
    yield state
    httpd.shutdown()
    httpd.server_close()


# --------------------------------------------------------------------------- helpers


def configure(*, enabled: bool = True, key: str = API_KEY) -> PlacesSettings:
    from wagtail.models import Site

    conf = PlacesSettings.for_site(Site.objects.get(is_default_site=True))
    conf.enabled = enabled
    conf.save()
    if key:
        services.places_api_key_store(conf=conf, api_key=key)
    return conf


def doctor_ready(tag: str):  # type: ignore[no-untyped-def]
    doctor = doctor_with_policy(tag=tag)
    watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="Cabinet des Lilas",
        city="Lyon", specialty="", keywords=[],
    )  # fmt: skip
    return doctor


def followed(tenant, tag):  # type: ignore[no-untyped-def]
    """A doctor following the place, its first scan (baseline) done."""
    with tenant_context(tenant.insurer):
        configure()
        doctor = doctor_ready(tag)
        place = services.place_follow(
            doctor=doctor, place_id=PLACE_ID, http=RecordingSequence([ok(FOLLOW)])
        )
        services.place_scan(place=place, http=RecordingSequence([ok(details(R1, R2))]))
    return doctor, place


# --------------------------------------------------------------------------- the walk


def test_search_pick_baseline_then_one_new_review_one_alert(tenant_a):
    with tenant_context(tenant_a.insurer):
        configure()
        doctor = doctor_ready("9b200001")

        # 1. search by name and address: Text Search (New), key and field mask in headers
        http = RecordingSequence([ok(SEARCH)])
        found = services.places_search(name="Cabinet des Lilas", address="Lyon 3e", http=http)
        assert [c.place_id for c in found] == [PLACE_ID, "ChIJN1t_tDeuEmsRUsoyG83frY4"]
        assert found[0].display_name == "Cabinet des Lilas - Dr Claire Martin"
        method, uri, body, headers = http.calls[0]
        assert (method, uri.split("?")[0]) == (
            "POST", "https://places.googleapis.com/v1/places:searchText",
        )  # fmt: skip
        assert json.loads(body) == {
            "textQuery": "Cabinet des Lilas, Lyon 3e", "languageCode": "fr",
            "regionCode": "FR", "pageSize": 10,
        }  # fmt: skip
        assert headers["X-Goog-Api-Key"] == API_KEY
        assert headers["X-Goog-FieldMask"] == services.SEARCH_FIELDS
        assert API_KEY not in uri and "key=" not in uri

        # 2. pick: the details are read again, the place ID is recorded
        http = RecordingSequence([ok(FOLLOW)])
        place = services.place_follow(doctor=doctor, place_id=PLACE_ID, http=http)
        assert (
            http.calls[0][1].split("?")[0] == f"https://places.googleapis.com/v1/places/{PLACE_ID}"
        )
        assert http.calls[0][3]["X-Goog-FieldMask"] == services.FOLLOW_FIELDS
        assert (place.display_name, place.google_maps_uri) == (
            "Cabinet des Lilas - Dr Claire Martin", PLACE_URI,
        )  # fmt: skip
        assert place.formatted_address == "12 Rue des Lilas, 69003 Lyon, France"

        # 3. first scan: a baseline (one summary), a rating point
        http = RecordingSequence([ok(details(R1, R2))])
        result = services.place_scan(place=place, http=http)
        assert http.calls[0][3]["X-Goog-FieldMask"] == services.DETAILS_FIELDS
        assert "languageCode=fr" in http.calls[0][1]
        assert (result.reviews, result.baseline, result.new) == (2, 2, 0)
        alerts = Alert.objects.filter(profile__doctor=doctor)
        assert list(alerts.values_list("kind", flat=True)) == ["baseline"]
        assert "2 avis" in alerts.get().title
        point = PlaceRatingPoint.objects.get(place=place)
        assert (point.rating, point.count) == (4.5, 2)
        first = PlaceReview.objects.get(name=R1["name"])
        assert first.author_name == "Anne D."
        assert first.author_uri == R1["authorAttribution"]["uri"]
        assert first.relative_time == "il y a 2 semaines"

        # 4. second scan: one new review among those Google shows → one alert
        http = RecordingSequence([ok(details(R3, R1, R2, rating=3.3, count=3))])
        result = services.place_scan(place=place, http=http)
        assert (result.reviews, result.new, result.edited, result.baseline) == (3, 1, 0, 0)
        new = alerts.exclude(kind="baseline")
        assert list(new.values_list("kind", flat=True)) == ["new_review"]
        alert = new.get()
        assert alert.text == "Médecin incompétent, à fuir absolument."
        assert alert.rating == 1.0 and alert.negative
        assert alert.detail["source"] == "google-places"
        assert alert.detail["author"] == "Yves B."
        assert alert.url == R3["googleMapsUri"]
        assert list(
            PlaceRatingPoint.objects.filter(place=place).values_list("rating", "count")
        ) == [(4.5, 2), (3.3, 3)]
        place.refresh_from_db()
        assert (place.rating, place.user_rating_count) == (3.3, 3)

        # 5. third scan: the same answer → nothing new; a review Google stops showing is not
        # « removed » (the API shows five reviews of its choice)
        result = services.place_scan(
            place=place, http=RecordingSequence([ok(details(R3, R1, rating=3.3, count=3))])
        )
        assert (result.new, result.edited) == (0, 0)
        assert alerts.count() == 2
        assert PlaceReview.objects.filter(place=place).count() == 3


def test_an_edited_review_is_reported_once(tenant_a):
    doctor, place = followed(tenant_a, "9b200002")
    with tenant_context(tenant_a.insurer):
        changed = {**R2, "rating": 1, "text": {"text": "Ne recommande plus.", "languageCode": "fr"}}
        result = services.place_scan(
            place=place, http=RecordingSequence([ok(details(R1, changed))])
        )
        assert (result.new, result.edited) == (0, 1)
        alert = Alert.objects.get(profile__doctor=doctor, kind="edited_review")
        assert alert.detail["before"] == {"rating": 4.0, "text": "Ponctuel."}
        assert alert.text == "Ne recommande plus."


# --------------------------------------------------------------------------- portal pages


def test_portal_search_follow_scan_with_google_attribution(tenant_a, places_server):
    with tenant_context(tenant_a.insurer):
        configure()
        doctor = doctor_ready("9b200003")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)
    dashboard = client.get("/veille/").content.decode()
    assert 'href="/veille/google-maps/"' in dashboard

    # a search is billed: a plain link (GET, no CSRF token) does not start one
    assert client.get("/veille/google-maps/rechercher/", {"nom": "Lilas"}).status_code == 405
    assert places_server.requests == []
    places_server.responses = [(200, SEARCH)]
    page = client.post(
        "/veille/google-maps/rechercher/", {"nom": "Cabinet des Lilas", "adresse": "Lyon"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Cabinet des Lilas - Dr Claire Martin" in html and "Centre médical Bellecour" in html
    assert "Résultats fournis par Google" in html
    method, path, headers, body = places_server.requests[-1]
    assert (method, urlsplit(path).path) == ("POST", "/v1/places:searchText")
    assert headers["X-Goog-FieldMask"] == services.SEARCH_FIELDS
    assert API_KEY not in path

    places_server.responses = [(200, FOLLOW)]
    response = client.post("/veille/google-maps/suivre/", {"place_id": PLACE_ID})
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        place = FollowedPlace.objects.get(doctor=doctor)
    places_server.responses = [(200, details(R1, R3, rating=3.0, count=2))]
    response = client.post(f"/veille/google-maps/fiche/{place.pk}/lire/")
    assert response.status_code == 302
    html = client.get("/veille/google-maps/").content.decode()
    assert "Avis fournis par Google" in html
    assert "Google Maps" in html
    # each review names its author, linked to the author's Google profile, and its date
    assert (
        f'<a href="{R3["authorAttribution"]["uri"]}" rel="noopener noreferrer" target="_blank">Yves B.</a>'
        in html
    )
    assert "il y a 1 jour" in html
    assert "Signaler cet avis à Google" in html
    assert f'href="{PLACE_URI.replace("&", "&amp;")}"' in html
    assert "<svg" in html and "Note Google Maps (sur 5)" in html
    assert API_KEY not in html and API_KEY not in dashboard
    for _m, path, _h, _b in places_server.requests:
        assert API_KEY not in path
    assert len(places_server.requests) == 3


def test_api_errors_give_a_clear_message_and_lose_nothing(tenant_a, places_server):
    doctor, place = followed(tenant_a, "9b200004")
    with tenant_context(tenant_a.insurer):
        scans_before = Scan.objects.filter(profile__doctor=doctor).count()
        with pytest.raises(services.PlacesError) as denied:
            services.place_scan(place=place, http=RecordingSequence(
                [error(403, "PERMISSION_DENIED", "Places API (New) has not been used in project")]
            ))  # fmt: skip
        assert "Google a refusé la clé Places API" in str(denied.value)
        assert API_KEY not in str(denied.value)
        with pytest.raises(services.PlacesError) as quota:
            services.place_scan(place=place, http=RecordingSequence(
                [error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")]
            ))  # fmt: skip
        assert "Quota de l'API Google Maps dépassé" in str(quota.value)
        assert Scan.objects.filter(profile__doctor=doctor).count() == scans_before
        assert PlaceRatingPoint.objects.filter(place=place).count() == 1
        assert PlaceReview.objects.filter(place=place).count() == 2
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    places_server.responses = [(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})]
    response = client.post(f"/veille/google-maps/fiche/{place.pk}/lire/", follow=True)
    html = response.content.decode()
    assert "Quota de l&#x27;API Google Maps dépassé" in html
    assert "Très à l&#x27;écoute." in html  # the reviews read before are still shown
    with tenant_context(tenant_a.insurer):
        place.refresh_from_db()
        assert "Quota" in place.last_error
        assert PlaceRatingPoint.objects.filter(place=place).count() == 1
        assert Alert.objects.filter(profile__doctor=doctor).count() == 1


def test_the_outbound_guard_refuses_a_non_public_api_address(tenant_a, places_server, settings):
    settings.EGIDE_FETCH_ALLOWED_NETWORKS = []
    with tenant_context(tenant_a.insurer):
        configure()
        doctor = doctor_ready("9b200005")
        with pytest.raises(services.PlacesError) as refused:
            services.places_search(name="Cabinet des Lilas", address="Lyon")
        assert "refusée" in str(refused.value)
        assert not FollowedPlace.objects.filter(doctor=doctor).exists()
    assert places_server.requests == []  # the key never left


def test_disabled_or_unconfigured_says_so_and_calls_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        configure(enabled=False)
        http = RecordingSequence([ok(SEARCH)])
        with pytest.raises(services.PlacesError, match="pas activé"):
            services.places_search(name="Cabinet des Lilas", address="", http=http)
        assert http.calls == []
        with pytest.raises(services.PlacesError, match="2 caractères"):
            services.places_search(name=" ", address="Lyon", http=http)
        doctor = doctor_ready("9b200006")
        with pytest.raises(services.PlacesError, match="invalide"):
            services.place_follow(doctor=doctor, place_id="../../admin", http=http)
        assert http.calls == []


# --------------------------------------------------------------------------- the key


def test_the_key_is_stored_encrypted_and_never_shown_back(tenant_a):
    from wagtail.models import Site

    from tenants.services import roles_apply

    with tenant_context(tenant_a.insurer):
        roles_apply()  # the role table names the new setting's permission
        conf = configure()
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT row_to_json(s)::text, encode(key_ciphertext, 'escape') "
                "FROM places_reviews_placessettings s WHERE id = %s",
                [conf.pk],
            )
            row_text = " ".join(cursor.fetchone())
        assert API_KEY not in row_text and "AIza" not in row_text
        site = Site.objects.get(is_default_site=True)
        admin = User.objects.get(email=tenant_a.admin_email)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, admin)
    url = f"/admin/settings/places_reviews/placessettings/{site.pk}/"
    page = staff.get(url)
    assert page.status_code == 200
    assert 'name="api_key"' in page.content.decode()
    assert API_KEY not in page.content.decode()
    # saving with the key field left empty keeps the key; a new key replaces it
    response = staff.post(url, {"enabled": "on", "api_key": ""})
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        conf = PlacesSettings.for_site(site)
        assert services._api_key(conf) == API_KEY
    staff.post(url, {"enabled": "on", "api_key": "AIzaSyNEW-key"})
    with tenant_context(tenant_a.insurer):
        conf = PlacesSettings.for_site(site)
        assert services._api_key(conf) == "AIzaSyNEW-key"


# --------------------------------------------------------------------------- who may see


def test_another_doctor_or_insurer_cannot_see_or_scan(tenant_a, tenant_b, places_server):
    doctor, place = followed(tenant_a, "9b200007")
    with tenant_context(tenant_a.insurer):
        other = doctor_ready("9b200008")
        other_client = Client(HTTP_HOST=tenant_a.domain)
        other_client.force_login(other.user)
    assert "Cabinet des Lilas - Dr" not in other_client.get("/veille/google-maps/").content.decode()
    assert other_client.post(f"/veille/google-maps/fiche/{place.pk}/lire/").status_code == 404
    assert other_client.post(f"/veille/google-maps/fiche/{place.pk}/retirer/").status_code == 404

    with tenant_context(tenant_b.insurer):
        configure()
        doctor_b = doctor_ready("9b200009")
        assert not FollowedPlace.objects.exists()
        client_b = Client(HTTP_HOST=tenant_b.domain)
        client_b.force_login(doctor_b.user)
    page_b = client_b.get("/veille/google-maps/").content.decode()
    assert "Cabinet des Lilas - Dr" not in page_b and "Anne D." not in page_b
    assert client_b.post(f"/veille/google-maps/fiche/{place.pk}/lire/").status_code == 404
    assert client_b.post(f"/veille/google-maps/fiche/{place.pk}/retirer/").status_code == 404

    # nothing happened: no call to Google, the place, its points and alerts are unchanged
    assert places_server.requests == []
    with tenant_context(tenant_a.insurer):
        assert FollowedPlace.objects.filter(pk=place.pk, doctor=doctor).exists()
        assert PlaceRatingPoint.objects.filter(place=place).count() == 1
        assert Alert.objects.filter(profile__doctor=doctor).count() == 1
        assert not Alert.objects.filter(profile__doctor=other).exists()


def test_staff_get_403_and_scan_nothing(tenant_a, places_server):
    from tenants.roles import CLAIMS_HANDLER

    _doctor, place = followed(tenant_a, "9b20000a")
    with tenant_context(tenant_a.insurer):
        handler = User.objects.create_user(username="gestion-9b2a", email="g9b2a@exemple.test")
        handler.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
    assert staff.get("/veille/google-maps/").status_code == 403
    assert staff.post(f"/veille/google-maps/fiche/{place.pk}/lire/").status_code == 403
    assert places_server.requests == []
    with tenant_context(tenant_a.insurer):
        assert PlaceRatingPoint.objects.filter(place=place).count() == 1


# --------------------------------------------------------------------------- periodic, caching


def test_periodic_scan_and_content_purge_after_30_days(tenant_a):
    doctor, place = followed(tenant_a, "9b20000b")
    with tenant_context(tenant_a.insurer):
        counts = services.places_scan_all(http=RecordingSequence([ok(details(R1, R2, R3))]))
        assert counts == {"scanned": 1, "failed": 0, "purged": 0}
        alert = Alert.objects.get(profile__doctor=doctor, kind="new_review")
        assert alert.text

        later = timezone.now() + datetime.timedelta(days=31)
        assert services.places_content_purge(now=later) == 3
        purged = PlaceReview.objects.get(name=R3["name"])
        assert (purged.text, purged.author_name, purged.author_uri) == ("", "", "")
        assert purged.flag_content_uri == ""
        assert purged.fingerprint and purged.content_purged_at is not None
        Alert.objects.filter(pk=alert.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=31)
        )
        services.places_content_purge()
        alert.refresh_from_db()
        assert alert.text == ""
        assert FollowedPlace.objects.get(pk=place.pk).place_id == PLACE_ID  # the ID is kept

        # the same reviews returned again: not new, content back
        result = services.place_scan(place=place, http=RecordingSequence([ok(details(R1, R2, R3))]))
        assert (result.new, result.edited) == (0, 0)
        assert PlaceReview.objects.get(name=R3["name"]).text.startswith("Médecin")

        # a failure stays on the place, the others go on
        counts = services.places_scan_all(
            http=RecordingSequence([error(403, "PERMISSION_DENIED", "denied")])
        )
        assert counts["failed"] == 1
        place.refresh_from_db()
        assert "clé Places API" in place.last_error
