"""Google Business Profile: connect with OAuth, import every review, detect changes, post the
reply the doctor approved.

The Google APIs are answered by the official client's own ``HttpMockSequence`` (bodies shaped
on Google's published reference); the OAuth token and revocation endpoints by a real HTTP
server on 127.0.0.1 speaking the OAuth 2.0 protocol (settings point the client at it). Nothing
leaves the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.test import Client
from django_tenants.utils import tenant_context
from googleapiclient.http import HttpMockSequence

from cleanup.google.models import GoogleConnection, GoogleReply, GoogleReview
from cleanup.google.services import connection as google_connection
from cleanup.google.services import replies as google_replies
from cleanup.google.services import reviews as google_reviews
from cleanup.models import Alert
from cleanup.services.watch import watch_profile_save
from tests.cleanup.factories import doctor_with_policy
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db

ACCESS = "ya29.a0-fake-access-token-4f1c"
REFRESH = "1//0g-fake-refresh-token-9b2e"
LOCATION = "accounts/123/locations/456"


# --------------------------------------------------------------------------- fakes


class OAuthServer:
    """Token and revocation endpoints of Google's OAuth 2.0 server, on loopback."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.token_responses: list[tuple[int, dict[str, Any]]] = []
        self.base_url = ""


@pytest.fixture
def oauth_server(settings, monkeypatch) -> Iterator[OAuthServer]:
    server_state = OAuthServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            server_state.requests.append((self.path, form))
            if self.path == "/token":
                status, body = (
                    server_state.token_responses.pop(0)
                    if server_state.token_responses
                    else (
                        200,
                        {"access_token": ACCESS, "expires_in": 3599, "refresh_token": REFRESH,
                         "scope": google_connection.SCOPE, "token_type": "Bearer"},
                    )
                )  # fmt: skip
            elif self.path == "/revoke":
                status, body = 200, {}
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server_state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    settings.EGIDE_GOOGLE_AUTH_URI = server_state.base_url + "/auth"
    settings.EGIDE_GOOGLE_TOKEN_URI = server_state.base_url + "/token"
    settings.EGIDE_GOOGLE_REVOKE_URI = server_state.base_url + "/revoke"
    # oauthlib refuses plain http unless told: the fake is on loopback only.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    yield server_state
    httpd.shutdown()
    httpd.server_close()


class RecordingSequence(HttpMockSequence):
    """The client's HttpMockSequence, also keeping what was asked (method, uri, body)."""

    def __init__(self, iterable: list[tuple[dict[str, str], str]]) -> None:
        super().__init__(iterable)
        self.calls: list[tuple[str, str, Any]] = []

    def request(self, uri, method="GET", body=None, headers=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append((method, uri, body))
        return super().request(uri, method, body, headers, *args, **kwargs)


def ok(body: dict[str, Any]) -> tuple[dict[str, str], str]:
    return ({"status": "200", "content-type": "application/json"}, json.dumps(body))


def review(rid: str, *, stars: str, comment: str, updated: str, author: str, reply: str = ""):  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {
        "name": f"{LOCATION}/reviews/{rid}",
        "reviewId": rid,
        "reviewer": {"displayName": author, "profilePhotoUrl": "https://lh3.example/p.jpg"},
        "starRating": stars,
        "comment": comment,
        "createTime": "2026-10-01T09:00:00.000Z",
        "updateTime": updated,
    }
    if reply:
        data["reviewReply"] = {"comment": reply, "updateTime": "2026-10-02T09:00:00Z"}
    return data


ACCOUNTS = ok(
    {
        "accounts": [
            {
                "name": "accounts/123",
                "accountName": "Cabinet des Lilas",
                "type": "LOCATION_GROUP",
                "role": "PRIMARY_OWNER",
            }
        ]
    }  # fmt: skip
)
LOCATIONS = ok(
    {
        "locations": [
            {
                "name": "locations/456",
                "title": "Cabinet des Lilas",
                "metadata": {
                    "mapsUri": "https://maps.google.com/maps?cid=456",
                    "placeId": "ChIJfakePlace",
                },
            }
        ]
    }  # fmt: skip
)
R1 = review("r1", stars="FIVE", comment="Très bon accueil.", updated="2026-10-01T09:00:00Z",
            author="Yves B.", reply="Merci pour votre message.")  # fmt: skip
R2 = review("r2", stars="FOUR", comment="Bien.", updated="2026-10-01T09:00:00Z", author="Léa M.")
R3 = review("r3", stars="THREE", comment="Correct.", updated="2026-10-01T09:00:00Z",
            author="Paul D.")  # fmt: skip


def first_scan_responses() -> list[tuple[dict[str, str], str]]:
    return [
        ACCOUNTS,
        LOCATIONS,
        ok(
            {
                "reviews": [R1, R2],
                "averageRating": 4.0,
                "totalReviewCount": 3,
                "nextPageToken": "page-2",
            }
        ),  # fmt: skip
        ok({"reviews": [R3], "averageRating": 4.0, "totalReviewCount": 3}),
    ]


def second_scan_responses() -> list[tuple[dict[str, str], str]]:
    edited = {**R2, "comment": "Bien, mais attente interminable.", "starRating": "TWO",
              "updateTime": "2026-11-20T10:00:00Z"}  # fmt: skip
    new = review("r4", stars="ONE", comment="Accueil désagréable, je ne recommande pas.",
                 updated="2026-11-21T08:00:00Z", author="Nina K.")  # fmt: skip
    return [
        ACCOUNTS,
        LOCATIONS,
        ok({"reviews": [R1, edited, new], "averageRating": 2.7, "totalReviewCount": 3}),
    ]


def configure(client_id: str = "egide-test.apps.googleusercontent.com") -> None:
    from wagtail.models import Site

    from cleanup.google.models import GoogleBusinessSettings

    conf = GoogleBusinessSettings.for_site(Site.objects.get(is_default_site=True))
    conf.client_id = client_id
    conf.client_secret = "GOCSPX-fake-secret"  # noqa: S105
    conf.save()


def doctor_ready(tag: str):  # type: ignore[no-untyped-def]
    doctor = doctor_with_policy(tag=tag)
    watch_profile_save(
        doctor=doctor, name_variants=["Claire Martin"], practice_name="Cabinet des Lilas",
        city="Lyon", specialty="", keywords=[],
    )  # fmt: skip
    return doctor


def connect(client: Client, oauth_server: OAuthServer) -> dict[str, list[str]]:
    """The doctor clicks « Connecter », Google redirects back with a code."""
    response = client.post("/veille/google/connecter/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert response["Location"].startswith(oauth_server.base_url + "/auth")
    query = parse_qs(location.query)
    back = client.get(
        "/veille/google/retour/", {"code": "4/0fake-code", "state": query["state"][0]}
    )
    assert back.status_code == 302
    return query


def connected(tenant, oauth_server, tag):  # type: ignore[no-untyped-def]
    with tenant_context(tenant.insurer):
        configure()
        doctor = doctor_ready(tag)
        client = Client(HTTP_HOST=tenant.domain)
        client.force_login(doctor.user)
    connect(client, oauth_server)
    with tenant_context(tenant.insurer):
        conn = GoogleConnection.objects.get(doctor=doctor)
    return doctor, client, conn


# --------------------------------------------------------------------------- the walk


def test_connect_import_detect_draft_check_approve_post(
    tenant_a, oauth_server, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a.insurer):
        configure()
        doctor = doctor_ready("9a100001")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    # 1. connect: offline access to business.manage, PKCE, state checked at the return
    query = connect(client, oauth_server)
    assert query["scope"] == [google_connection.SCOPE]
    assert query["access_type"] == ["offline"]
    assert query["redirect_uri"] == [f"http://{tenant_a.domain}/veille/google/retour/"]
    assert query["code_challenge_method"] == ["S256"]
    path, form = oauth_server.requests[-1]
    assert path == "/token"
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == ["4/0fake-code"]
    assert form["code_verifier"][0]

    with tenant_context(tenant_a.insurer):
        conn = GoogleConnection.objects.get(doctor=doctor)
        assert conn.status == "active"
        assert (
            google_connection.google_connection_tokens(connection=conn)["refresh_token"] == REFRESH
        )
        # tokens are not in clear anywhere in the row
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT row_to_json(c)::text, encode(token_ciphertext, 'escape') "
                "FROM google_reviews_googleconnection c WHERE id = %s",
                [conn.pk],
            )
            row_text = " ".join(cursor.fetchone())
        assert ACCESS not in row_text and REFRESH not in row_text
        assert "ya29" not in row_text and "1//" not in row_text

        # 2. all reviews imported (two pages), the first read is a baseline
        http = RecordingSequence(first_scan_responses())
        result = google_reviews.google_reviews_scan(connection=conn, http=http)
        assert (result.locations, result.reviews, result.baseline) == (1, 3, 3)
        assert [c[1].split("?")[0] for c in http.calls] == [
            "https://mybusinessaccountmanagement.googleapis.com/v1/accounts",
            "https://mybusinessbusinessinformation.googleapis.com/v1/accounts/123/locations",
            f"https://mybusiness.googleapis.com/v4/{LOCATION}/reviews",
            f"https://mybusiness.googleapis.com/v4/{LOCATION}/reviews",
        ]
        assert "pageToken=page-2" in http.calls[3][1]
        assert "readMask=" in http.calls[1][1]
        assert GoogleReview.objects.get(review_id="r1").reply_comment == "Merci pour votre message."
        alerts = Alert.objects.filter(profile__doctor=doctor)
        assert list(alerts.values_list("kind", flat=True)) == ["baseline"]

        # 3. next scan: one new, one edited, one deleted
        result = google_reviews.google_reviews_scan(
            connection=conn, http=RecordingSequence(second_scan_responses())
        )
        assert (result.new, result.edited, result.deleted) == (1, 1, 1)
        kinds = set(alerts.exclude(kind="baseline").values_list("kind", flat=True))
        assert kinds == {"new_review", "edited_review", "removed_review"}
        edited = GoogleReview.objects.get(review_id="r2")
        assert edited.star_rating == 2 and edited.edits[0]["before"]["text"] == "Bien."
        assert GoogleReview.objects.get(review_id="r3").deleted_at is not None
        new = GoogleReview.objects.get(review_id="r4")
        new_alert = alerts.get(kind="new_review")
        assert new.alert == new_alert and new_alert.negative

    # the doctor sees the link from the monitoring dashboard, the locations and reviews
    assert "/veille/google/" in client.get("/veille/").content.decode()
    listing = client.get("/veille/google/").content.decode()
    assert "Cabinet des Lilas" in listing and "Nina K." in listing
    assert "Merci pour votre message." in listing

    # 4. the doctor opens the reply page: the assistant's secrecy-safe proposal
    page = client.get(f"/veille/google/avis/{new.pk}/reponse/").content.decode()
    assert "Dans le respect du secret médical" in page
    # a draft breaking medical secrecy is refused by the check and cannot be approved
    client.post(
        f"/veille/google/avis/{new.pk}/reponse/",
        {"action": "verifier", "reponse": "",
         "texte": "Nina, je me souviens de votre consultation du 3 mars pour votre eczéma."},
    )  # fmt: skip
    with tenant_context(tenant_a.insurer):
        bad = GoogleReply.objects.get(review=new)
        assert bad.status == "refused" and bad.issues
    client.post(
        f"/veille/google/avis/{new.pk}/reponse/", {"action": "approuver", "reponse": bad.pk}
    )
    with tenant_context(tenant_a.insurer):
        bad.refresh_from_db()
        assert bad.status == "refused" and bad.approved_by is None
        good_text = google_replies.google_reply_suggest(review=new)["text"]

    # checked, then approved by the doctor himself; the post is queued after commit
    client.post(
        f"/veille/google/avis/{new.pk}/reponse/",
        {"action": "verifier", "reponse": bad.pk, "texte": good_text},
    )
    with tenant_context(tenant_a.insurer):
        bad.refresh_from_db()
        assert bad.status == "checked", bad.issues
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/veille/google/avis/{new.pk}/reponse/", {"action": "approuver", "reponse": bad.pk}
        )
    assert response.status_code == 302
    assert len(queued) == 1  # the worker's google_reply_post_task, after commit
    with tenant_context(tenant_a.insurer):
        reply = GoogleReply.objects.get(pk=bad.pk)
        assert reply.status == "approved" and reply.approved_by == doctor.user

        # 5. posted with updateReply (what the worker runs)
        http = RecordingSequence([ok({"comment": good_text, "updateTime": "2026-11-22T10:00:00Z"})])
        google_replies.google_reply_post(reply=reply, http=http)
        method, uri, body = http.calls[0]
        assert method == "PUT"
        assert uri.startswith(f"https://mybusiness.googleapis.com/v4/{LOCATION}/reviews/r4/reply")
        assert json.loads(body) == {"comment": good_text}
        reply.refresh_from_db()
        new.refresh_from_db()
        assert reply.status == "posted" and new.reply_comment == good_text
        assert [e["step"] for e in reply.events] == ["draft", "check", "check", "approve", "post"]

        # 6. « Supprimer la réponse » calls deleteReply
        http = RecordingSequence([ok({})])
        google_replies.google_reply_delete(review=new, user=doctor.user, http=http)
        assert http.calls[0][0] == "DELETE"
        assert http.calls[0][1].startswith(
            f"https://mybusiness.googleapis.com/v4/{LOCATION}/reviews/r4/reply"
        )
        reply.refresh_from_db()
        new.refresh_from_db()
        assert reply.status == "deleted" and new.reply_comment == ""


# --------------------------------------------------------------------------- tokens


def test_expired_access_token_is_refreshed_and_stored_encrypted(tenant_a, oauth_server):
    doctor, _client, conn = connected(tenant_a, oauth_server, "9a100002")
    with tenant_context(tenant_a.insurer):
        google_connection._tokens_store(
            connection=conn,
            tokens={"access_token": "ya29.old", "refresh_token": REFRESH,
                    "expiry": "2026-01-01T00:00:00"},
        )  # fmt: skip
        conn.save()
        refreshed = ok({"access_token": "ya29.refreshed-4411", "expires_in": 3599,
                        "scope": google_connection.SCOPE, "token_type": "Bearer"})  # fmt: skip
        http = RecordingSequence([refreshed, *first_scan_responses()])
        google_reviews.google_reviews_scan(connection=conn, http=http)
        method, uri, body = http.calls[0]
        assert (method, uri) == ("POST", oauth_server.base_url + "/token")
        form = parse_qs(body.decode() if isinstance(body, bytes) else body)
        assert form["grant_type"] == ["refresh_token"]
        assert form["refresh_token"] == [REFRESH]
        conn.refresh_from_db()
        tokens = google_connection.google_connection_tokens(connection=conn)
        assert tokens["access_token"] == "ya29.refreshed-4411"
        assert tokens["refresh_token"] == REFRESH
        assert b"ya29.refreshed" not in bytes(conn.token_ciphertext)
        assert "refresh" in [e["step"] for e in conn.events]


def test_invalid_grant_marks_the_connection_revoked(tenant_a, oauth_server):
    doctor, client, conn = connected(tenant_a, oauth_server, "9a100003")
    with tenant_context(tenant_a.insurer):
        google_connection._tokens_store(
            connection=conn,
            tokens={"access_token": "ya29.old", "refresh_token": REFRESH,
                    "expiry": "2026-01-01T00:00:00"},
        )  # fmt: skip
        conn.save()
        invalid = (
            {"status": "400", "content-type": "application/json"},
            json.dumps({"error": "invalid_grant",
                        "error_description": "Token has been expired or revoked."}),
        )  # fmt: skip
        with pytest.raises(google_connection.GoogleBusinessError, match="reconnectez"):
            google_reviews.google_reviews_scan(connection=conn, http=RecordingSequence([invalid]))
        conn.refresh_from_db()
        assert conn.status == "revoked" and not conn.has_tokens
        assert not GoogleReview.objects.filter(location__connection=conn).exists()
    page = client.get("/veille/google/").content.decode()
    assert "Accès révoqué — reconnectez votre compte Google." in page


def test_disconnect_revokes_at_google_and_deletes_tokens(tenant_a, oauth_server):
    doctor, client, conn = connected(tenant_a, oauth_server, "9a100004")
    response = client.post("/veille/google/deconnecter/")
    assert response.status_code == 302
    path, form = oauth_server.requests[-1]
    assert path == "/revoke" and form["token"] == [REFRESH]
    with tenant_context(tenant_a.insurer):
        conn.refresh_from_db()
        assert conn.status == "disconnected" and not conn.has_tokens
        assert conn.token_ciphertext is None and conn.master_key_id == ""


def test_a_forged_state_is_refused_and_no_token_is_asked(tenant_a, oauth_server):
    with tenant_context(tenant_a.insurer):
        configure()
        doctor = doctor_ready("9a100005")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)
    client.post("/veille/google/connecter/")
    response = client.get("/veille/google/retour/", {"code": "4/0x", "state": "forged"})
    assert response.status_code == 302
    assert oauth_server.requests == []
    with tenant_context(tenant_a.insurer):
        assert not GoogleConnection.objects.filter(doctor=doctor).exists()


def test_client_secret_is_never_shown_back_and_kept_when_left_empty(tenant_a):
    from wagtail.models import Site

    from cleanup.google.models import GoogleBusinessSettings

    with tenant_context(tenant_a.insurer):
        configure()
        site = Site.objects.get(is_default_site=True)
        admin = User.objects.get(email=tenant_a.admin_email)
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, admin)
    page = staff.get(f"/admin/settings/google_reviews/googlebusinesssettings/{site.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "egide-test.apps.googleusercontent.com" in html
    assert "GOCSPX-fake-secret" not in html
    with tenant_context(tenant_a.insurer):
        conf = GoogleBusinessSettings.for_site(site)
        conf.client_secret = ""
        conf.save()
        conf.refresh_from_db()
        assert conf.client_secret == "GOCSPX-fake-secret"  # noqa: S105


def test_periodic_read_scans_active_connections_only(tenant_a, oauth_server):
    doctor, _client, conn = connected(tenant_a, oauth_server, "9a10000a")
    with tenant_context(tenant_a.insurer):
        revoked = doctor_ready("9a10000b")
        GoogleConnection.objects.create(doctor=revoked, status="revoked")
        http = RecordingSequence(first_scan_responses())
        assert google_reviews.google_reviews_scan_all(http=http) == {"scanned": 1, "failed": 0}
        assert len(http.calls) == 4
        assert GoogleReview.objects.filter(location__connection=conn).count() == 3
        conn.refresh_from_db()
        assert conn.last_scan_at is not None


# --------------------------------------------------------------------------- who may do what


def _checked_reply(tenant, oauth_server, tag):  # type: ignore[no-untyped-def]
    doctor, client, conn = connected(tenant, oauth_server, tag)
    with tenant_context(tenant.insurer):
        google_reviews.google_reviews_scan(
            connection=conn, http=RecordingSequence(first_scan_responses())
        )
        target = GoogleReview.objects.get(location__connection=conn, review_id="r2")
        reply = google_replies.google_reply_draft(review=target, user=doctor.user)
        reply = google_replies.google_reply_check(reply=reply, text=reply.text, user=doctor.user)
        assert reply.status == "checked"
    return doctor, target, reply


def test_staff_cannot_approve_a_reply_in_the_doctors_name(tenant_a, oauth_server):
    from tenants.roles import CLAIMS_HANDLER

    doctor, target, reply = _checked_reply(tenant_a, oauth_server, "9a100006")
    with tenant_context(tenant_a.insurer):
        handler = User.objects.create_user(username="gestion-9a16", email="g9a16@exemple.test")
        handler.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
        staff = Client(HTTP_HOST=tenant_a.domain)
        staff_login(staff, handler)
        with pytest.raises(PermissionDenied):
            google_replies.google_reply_approve(reply=reply, user=handler)
    response = staff.post(
        f"/veille/google/avis/{target.pk}/reponse/", {"action": "approuver", "reponse": reply.pk}
    )
    assert response.status_code == 403
    with tenant_context(tenant_a.insurer):
        reply.refresh_from_db()
        assert reply.status == "checked" and reply.approved_by is None
        assert [e["step"] for e in reply.events] == ["draft", "check"]
        with pytest.raises(google_connection.GoogleBusinessError):
            google_replies.google_reply_post(reply=reply, http=RecordingSequence([]))


def test_another_doctor_or_insurer_cannot_see_or_approve(tenant_a, tenant_b, oauth_server):
    doctor, target, reply = _checked_reply(tenant_a, oauth_server, "9a100007")
    with tenant_context(tenant_a.insurer):
        other = doctor_ready("9a100008")
        other_client = Client(HTTP_HOST=tenant_a.domain)
        other_client.force_login(other.user)
    url = f"/veille/google/avis/{target.pk}/reponse/"
    assert other_client.get(url).status_code == 404
    assert other_client.post(url, {"action": "approuver", "reponse": reply.pk}).status_code == 404
    assert "Cabinet des Lilas" not in other_client.get("/veille/google/").content.decode()
    with tenant_context(tenant_a.insurer):
        with pytest.raises(PermissionDenied):
            google_replies.google_reply_approve(reply=reply, user=other.user)

    with tenant_context(tenant_b.insurer):
        doctor_b = doctor_ready("9a100009")
        assert not GoogleReview.objects.exists()
        assert not GoogleConnection.objects.exists()
        client_b = Client(HTTP_HOST=tenant_b.domain)
        client_b.force_login(doctor_b.user)
    assert client_b.get(url).status_code == 404
    assert client_b.post(url, {"action": "approuver", "reponse": reply.pk}).status_code == 404
    assert "Yves B." not in client_b.get("/veille/google/").content.decode()
    with tenant_context(tenant_a.insurer):
        reply.refresh_from_db()
        assert reply.status == "checked" and reply.approved_by is None


def test_a_first_review_on_an_empty_location_is_new_not_baseline(tenant_a, oauth_server):
    doctor, _client, conn = connected(tenant_a, oauth_server, "9a10000c")
    with tenant_context(tenant_a.insurer):
        empty = [ACCOUNTS, LOCATIONS, ok({})]
        result = google_reviews.google_reviews_scan(connection=conn, http=RecordingSequence(empty))
        assert (result.locations, result.reviews) == (1, 0)
        first = [ACCOUNTS, LOCATIONS, ok({"reviews": [R2], "totalReviewCount": 1})]
        result = google_reviews.google_reviews_scan(connection=conn, http=RecordingSequence(first))
        assert (result.new, result.baseline) == (1, 0)
        kinds = list(Alert.objects.filter(profile__doctor=doctor).values_list("kind", flat=True))
        assert kinds == ["new_review"]
