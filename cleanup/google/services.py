"""Google Business Profile: OAuth connection, review import and change detection, replies.

- Connection: OAuth 2.0 web flow (``google_auth_oauthlib.flow.Flow``) with the insurer's client
  (``GoogleBusinessSettings``), scope ``business.manage``, offline access, state and PKCE
  verifier kept in the doctor's session. Tokens are encrypted with the envelope encryption of
  ``evidence.keys`` (a data key per connection, wrapped by the master key; the associated data
  binds the ciphertext to its schema and row).
- Calls: the official client (``googleapiclient``) through ``google_auth_httplib2.AuthorizedHttp``,
  which refreshes an expired access token with the refresh token; a refreshed token is stored
  again (encrypted). ``invalid_grant`` means the doctor revoked access (or the token expired):
  the connection becomes « révoquée — reconnectez » and its tokens are deleted.
- Discovery: account management and business information v1 are bundled with the client
  (``static_discovery=True``); the reviews API (My Business v4) is not, so
  ``mybusiness_v4_discovery.json`` is a minimal discovery document covering exactly the three
  methods called here (list, updateReply, deleteReply), loaded with ``build_from_document``.
- Reviews: every review of every location, all pages (``nextPageToken``); the first read of a
  location is a baseline (one summary alert); later reads raise cleanup alerts for new, edited
  (``updateTime``, comment or rating changed) and deleted (absent) reviews.
- Replies: drafted by the reply assistant, checked with the same checks (a blocking issue
  refuses it), approved by the doctor himself (never staff), then posted with ``updateReply``
  by a worker; « Supprimer la réponse » calls ``deleteReply``. Every step is in ``events``.

Every function takes an optional ``http`` (an ``httplib2.Http``-like object): production passes
nothing, tests pass the client's own ``HttpMockSequence``.
"""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httplib2
import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cleanup.google.models import (
    GoogleBusinessSettings,
    GoogleConnection,
    GoogleLocation,
    GoogleReply,
    GoogleReview,
)

SCOPE = "https://www.googleapis.com/auth/business.manage"
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
REDIRECT_PATH = "/veille/google/retour/"
STAR_RATINGS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
HTTP_TIMEOUT_S = 30
LOCATION_READ_MASK = "name,title,metadata"
V4_DISCOVERY = Path(__file__).with_name("mybusiness_v4_discovery.json")


class GoogleBusinessError(Exception):
    """A failure to show the doctor (French message); nothing was lost."""


# --------------------------------------------------------------------------- configuration


def _uri(name: str, default: str) -> str:
    return getattr(settings, name, "") or default


def oauth_uris() -> tuple[str, str, str]:
    """Authorization, token and revocation endpoints (settings may point them elsewhere)."""
    return (
        _uri("EGIDE_GOOGLE_AUTH_URI", AUTH_URI),
        _uri("EGIDE_GOOGLE_TOKEN_URI", TOKEN_URI),
        _uri("EGIDE_GOOGLE_REVOKE_URI", REVOKE_URI),
    )


def google_settings_current() -> GoogleBusinessSettings:
    """The insurer's OAuth client; a French error when it is not configured."""
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    conf = GoogleBusinessSettings.for_site(site) if site is not None else None
    if conf is None or not conf.configured:
        raise GoogleBusinessError(
            _(
                "La connexion à Google Business Profile n'est pas configurée par votre assureur "
                "(identifiant et secret client OAuth)."
            )
        )
    return conf


# --------------------------------------------------------------------------- token storage


def _token_context(connection: GoogleConnection) -> bytes:
    schema = getattr(db_connection, "schema_name", "public")
    return f"egide-google-token:{schema}:{connection.pk}".encode()


def _event(target: GoogleConnection | GoogleReply, step: str, user: Any = None, **extra: Any):
    target.events = [
        *target.events,
        {
            "at": timezone.now().isoformat(),
            "step": step,
            "by": getattr(user, "pk", None),
            **extra,
        },
    ]


def _tokens_store(*, connection: GoogleConnection, tokens: dict[str, Any]) -> None:
    from evidence.keys import seal_key_encrypt

    sealed = seal_key_encrypt(
        key_pem=json.dumps(tokens).encode(), context=_token_context(connection)
    )
    connection.token_ciphertext = sealed.key_ciphertext
    connection.data_key_wrapped = sealed.data_key_wrapped
    connection.master_key_id = sealed.master_key_id


def _tokens_load(*, connection: GoogleConnection) -> dict[str, Any]:
    from evidence.keys import SealKeyDecryptError, seal_key_decrypt

    if not connection.has_tokens or connection.status != GoogleConnection.Status.ACTIVE:
        raise GoogleBusinessError(_("Compte Google non connecté : connectez-le d'abord."))
    try:
        plain = seal_key_decrypt(
            key_ciphertext=bytes(connection.token_ciphertext or b""),
            data_key_wrapped=bytes(connection.data_key_wrapped or b""),
            master_key_id=connection.master_key_id,
            context=_token_context(connection),
        )
    except SealKeyDecryptError as exc:
        raise GoogleBusinessError(
            _("Jetons Google illisibles (%(reason)s) : reconnectez votre compte.") % {"reason": exc}
        ) from exc
    data: dict[str, Any] = json.loads(plain)
    return data


def _tokens_clear(connection: GoogleConnection) -> None:
    connection.token_ciphertext = None
    connection.data_key_wrapped = None
    connection.master_key_id = ""


def google_connection_tokens(*, connection: GoogleConnection) -> dict[str, Any]:
    """The decrypted tokens (in memory only; for the API calls and the tests)."""
    return _tokens_load(connection=connection)


# --------------------------------------------------------------------------- OAuth connection


def _flow(
    *, conf: GoogleBusinessSettings, redirect_uri: str, state: str | None = None,
    code_verifier: str | None = None,
):  # type: ignore[no-untyped-def]  # fmt: skip
    from google_auth_oauthlib.flow import Flow

    auth_uri, token_uri, _revoke = oauth_uris()
    config = {
        "web": {
            "client_id": conf.client_id,
            "client_secret": conf.client_secret,
            "auth_uri": auth_uri,
            "token_uri": token_uri,
            "redirect_uris": [redirect_uri],
        }
    }
    return Flow.from_client_config(
        config,
        scopes=[SCOPE],
        state=state,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        autogenerate_code_verifier=code_verifier is None,
    )


@dataclass(frozen=True)
class ConnectStart:
    url: str
    state: str
    code_verifier: str


def google_connect_start(*, redirect_uri: str) -> ConnectStart:
    """Where to send the doctor to grant access, and what to keep in the session."""
    conf = google_settings_current()
    flow = _flow(conf=conf, redirect_uri=redirect_uri, state=secrets.token_urlsafe(32))
    url, state = flow.authorization_url(
        access_type="offline", include_granted_scopes="true", prompt="consent"
    )
    return ConnectStart(url=url, state=state, code_verifier=flow.code_verifier or "")


def _expiry_text(expiry: datetime.datetime | None) -> str:
    """google.auth keeps expiries as naive UTC datetimes."""
    if expiry is None:
        return ""
    if expiry.tzinfo is not None:
        expiry = expiry.astimezone(datetime.UTC).replace(tzinfo=None)
    return expiry.isoformat()


def google_connect_finish(
    *, doctor: Any, user: Any, redirect_uri: str, code: str, state: str, expected_state: str,
    code_verifier: str,
) -> GoogleConnection:  # fmt: skip
    """Exchange the authorization code for tokens (state checked first) and store them."""
    if not expected_state or not state or not secrets.compare_digest(state, expected_state):
        raise GoogleBusinessError(
            _("Réponse de Google refusée : jeton de sécurité absent ou différent. Recommencez.")
        )
    if not code:
        raise GoogleBusinessError(_("Google n'a pas donné d'autorisation. Recommencez."))
    conf = google_settings_current()
    flow = _flow(
        conf=conf, redirect_uri=redirect_uri, state=expected_state, code_verifier=code_verifier
    )
    try:
        flow.fetch_token(code=code)
    except Exception as exc:  # oauthlib / requests errors: the message is for the log
        raise GoogleBusinessError(
            _("Google a refusé l'échange du code d'autorisation (%(reason)s). Recommencez.")
            % {"reason": exc.__class__.__name__}
        ) from exc
    credentials = flow.credentials
    with transaction.atomic():
        connection, _created = GoogleConnection.objects.select_for_update().get_or_create(
            doctor=doctor
        )
        refresh_token = credentials.refresh_token
        if not refresh_token and connection.has_tokens:
            refresh_token = _tokens_load(connection=connection).get("refresh_token")
        if not refresh_token:
            raise GoogleBusinessError(
                _("Google n'a pas fourni d'accès hors ligne (refresh token). Recommencez.")
            )
        _tokens_store(
            connection=connection,
            tokens={
                "access_token": credentials.token,
                "refresh_token": refresh_token,
                "expiry": _expiry_text(credentials.expiry),
            },
        )
        connection.status = GoogleConnection.Status.ACTIVE
        connection.scopes = list(credentials.granted_scopes or credentials.scopes or [SCOPE])
        connection.connected_at = timezone.now()
        connection.last_error = ""
        _event(connection, "connect", user)
        connection.save()
    return connection


def google_disconnect(*, connection: GoogleConnection, user: Any) -> GoogleConnection:
    """« Déconnecter Google »: revoke the grant at Google, then delete the tokens.

    The tokens are deleted even when Google cannot be reached; the doctor is then told to
    remove the access from their Google account (the message says where)."""
    _doctor_only(connection=connection, user=user)
    _auth, _token, revoke_uri = oauth_uris()
    outcome = "no-token"
    if connection.has_tokens and connection.status == GoogleConnection.Status.ACTIVE:
        tokens = _tokens_load(connection=connection)
        token = tokens.get("refresh_token") or tokens.get("access_token")
        try:
            response = requests.post(
                revoke_uri,
                data={"token": token},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=HTTP_TIMEOUT_S,
            )
            # 400 invalid_token: already revoked on Google's side, which is what we want.
            outcome = "revoked" if response.status_code in (200, 400) else "error"
        except requests.RequestException:
            outcome = "error"
    _tokens_clear(connection)
    connection.status = GoogleConnection.Status.DISCONNECTED
    connection.last_error = (
        _(
            "Google n'a pas confirmé la révocation : retirez l'accès accordé à ce service dans votre compte "
            "Google (myaccount.google.com/permissions)."
        )
        if outcome == "error"
        else ""
    )
    _event(connection, "disconnect", user, revoke=outcome)
    connection.save()
    return connection


def _doctor_only(*, connection: GoogleConnection, user: Any) -> None:
    if user is None or connection.doctor.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Seul le médecin titulaire du compte Google peut faire cela."))


# --------------------------------------------------------------------------- API access


class _Api:
    """The three API clients over one authorized HTTP object, and the credentials to save
    again after a refresh."""

    def __init__(self, *, connection: GoogleConnection, http: Any = None) -> None:
        from google.oauth2.credentials import Credentials
        from google_auth_httplib2 import AuthorizedHttp
        from googleapiclient.discovery import build, build_from_document

        conf = google_settings_current()
        tokens = _tokens_load(connection=connection)
        _auth, token_uri, _revoke = oauth_uris()
        expiry = tokens.get("expiry") or ""
        self.connection = connection
        self.tokens = tokens
        self.credentials = Credentials(
            token=tokens.get("access_token"),
            refresh_token=tokens.get("refresh_token"),
            token_uri=token_uri,
            client_id=conf.client_id,
            client_secret=conf.client_secret,
            scopes=[SCOPE],
            expiry=datetime.datetime.fromisoformat(expiry) if expiry else None,
        )
        authed = AuthorizedHttp(
            self.credentials, http=http or httplib2.Http(timeout=HTTP_TIMEOUT_S)
        )
        common = {"http": authed, "cache_discovery": False}
        self.accounts = build("mybusinessaccountmanagement", "v1", static_discovery=True, **common)
        self.info = build("mybusinessbusinessinformation", "v1", static_discovery=True, **common)
        self.reviews = build_from_document(V4_DISCOVERY.read_text(), http=authed)

    def execute(self, request: Any) -> dict[str, Any]:
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        try:
            result: dict[str, Any] = request.execute(num_retries=0) or {}
        except RefreshError as exc:
            self._revoked(exc)
            raise GoogleBusinessError(
                _("Accès Google révoqué ou expiré : reconnectez votre compte Google.")
            ) from exc
        except HttpError as exc:
            raise GoogleBusinessError(
                _("Google a répondu par une erreur %(status)s : %(reason)s")
                % {"status": exc.status_code, "reason": exc.reason}
            ) from exc
        except (httplib2.HttpLib2Error, OSError) as exc:
            raise GoogleBusinessError(
                _("Google est injoignable pour le moment (%(reason)s). Réessayez plus tard.")
                % {"reason": exc.__class__.__name__}
            ) from exc
        self._save_refreshed()
        return result

    def _revoked(self, exc: Exception) -> None:
        connection = self.connection
        _tokens_clear(connection)
        connection.status = GoogleConnection.Status.REVOKED
        connection.last_error = _("Accès révoqué — reconnectez votre compte Google.")
        _event(connection, "revoked", None, reason=str(exc)[:200])
        connection.save()

    def _save_refreshed(self) -> None:
        creds = self.credentials
        if creds.token == self.tokens.get("access_token"):
            return
        self.tokens = {
            "access_token": creds.token,
            "refresh_token": creds.refresh_token or self.tokens.get("refresh_token"),
            "expiry": _expiry_text(creds.expiry),
        }
        _tokens_store(connection=self.connection, tokens=self.tokens)
        _event(self.connection, "refresh")
        self.connection.save()

    last_body: dict[str, Any]

    def pages(self, method: Any, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated list (``nextPageToken``), and the last page's body."""
        items: list[dict[str, Any]] = []
        token = None
        while True:
            body = self.execute(method(**params, **({"pageToken": token} if token else {})))
            items.extend(body.get(key, []))
            token = body.get("nextPageToken")
            if not token:
                self.last_body = body
                return items


# --------------------------------------------------------------------------- review import


@dataclass
class GoogleScanResult:
    locations: int = 0
    reviews: int = 0
    baseline: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    scan_id: int | None = None


def _review_values(data: dict[str, Any]) -> dict[str, Any]:
    reviewer = data.get("reviewer") or {}
    reply = data.get("reviewReply") or {}
    return {
        "name": data.get("name", ""),
        "reviewer": "" if reviewer.get("isAnonymous") else reviewer.get("displayName", ""),
        "star_rating": STAR_RATINGS.get(data.get("starRating", "")),
        "comment": data.get("comment", ""),
        "create_time": data.get("createTime", ""),
        "update_time": data.get("updateTime", ""),
        "reply_comment": reply.get("comment", ""),
        "reply_update_time": reply.get("updateTime", ""),
    }


def _alert(*, scan: Any, kind: str, review: GoogleReview, detail: dict[str, Any]) -> Any:
    from cleanup.extract import Review as ExtractedReview
    from cleanup.models import Alert
    from cleanup.scoring import review_score

    score = None
    if kind != Alert.Kind.REMOVED_REVIEW:
        score = review_score(
            review=ExtractedReview(
                review_id=review.review_id, author=review.reviewer or None, date=None,
                rating=float(review.star_rating) if review.star_rating else None,
                text=review.comment, source="google-business", id_from_markup=True,
            )
        )  # fmt: skip
    title = _("%(author)s sur Google (%(place)s)") % {
        "author": review.reviewer or _("Auteur anonyme"),
        "place": review.location.title or review.location.name,
    }
    alert = Alert.objects.create(
        profile=scan.profile,
        scan=scan,
        kind=kind,
        url=review.location.maps_uri or "https://business.google.com/reviews",
        title=title[:500],
        text=review.comment,
        rating=float(review.star_rating) if review.star_rating else None,
        negativity=score.negativity if score else None,
        band=score.band if score else "",
        negative=score.negative if score else False,
        flags=[asdict(f) for f in score.flags] if score else [],
        detail={"source": "google-business", "google_review": review.pk, **detail},
    )  # fmt: skip
    review.alert = alert
    review.save(update_fields=["alert"])
    return alert


def _location_sync(
    *, scan: Any, location: GoogleLocation, baseline: bool, listed: list[dict[str, Any]],
    body: dict[str, Any], now: datetime.datetime, result: GoogleScanResult,
) -> None:  # fmt: skip
    from cleanup.models import Alert

    location.average_rating = body.get("averageRating")
    location.total_reviews = body.get("totalReviewCount", len(listed))
    location.reviews_read_at = now
    location.save(update_fields=["average_rating", "total_reviews", "reviews_read_at"])
    known = {r.review_id: r for r in location.reviews.all()}
    seen: set[str] = set()
    for data in listed:
        review_id = data.get("reviewId") or data.get("name", "").rsplit("/", 1)[-1]
        if not review_id or review_id in seen:
            continue
        seen.add(review_id)
        values = _review_values(data)
        result.reviews += 1
        review = known.get(review_id)
        if review is None:
            review = GoogleReview.objects.create(
                location=location, review_id=review_id, first_seen=now, last_seen=now, **values
            )
            if baseline:
                result.baseline += 1
            else:
                result.new += 1
                _alert(scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review, detail={})
            continue
        changed = [
            field
            for field in ("comment", "star_rating", "update_time")
            if getattr(review, field) != values[field]
        ]
        reply_changed = (review.reply_comment, review.reply_update_time) != (
            values["reply_comment"],
            values["reply_update_time"],
        )
        if changed == ["update_time"] and reply_changed:
            changed = []  # only the owner's reply moved (ours, or one made on Google)
        came_back = review.deleted_at is not None
        before = {"text": review.comment, "rating": review.star_rating,
                  "update_time": review.update_time}  # fmt: skip
        for key, value in values.items():
            setattr(review, key, value)
        review.last_seen = now
        review.deleted_at = None
        if changed:
            review.edits = [
                *review.edits,
                {"at": now.isoformat(), "fields": changed, "before": before},
            ]
        review.save()
        if came_back:
            result.new += 1
            _alert(scan=scan, kind=Alert.Kind.NEW_REVIEW, review=review,
                   detail={"reappeared": True})  # fmt: skip
        elif changed:
            result.edited += 1
            _alert(scan=scan, kind=Alert.Kind.EDITED_REVIEW, review=review,
                   detail={"fields": changed, "before": before})  # fmt: skip
    for review_id, review in known.items():
        if review_id in seen or review.deleted_at is not None:
            continue
        review.deleted_at = now
        review.save(update_fields=["deleted_at"])
        result.deleted += 1
        _alert(scan=scan, kind=Alert.Kind.REMOVED_REVIEW, review=review, detail={})
    if baseline and listed:
        Alert.objects.create(
            profile=scan.profile, scan=scan, kind=Alert.Kind.BASELINE,
            url=location.maps_uri or "https://business.google.com/reviews",
            title=(_("Relevé initial Google : %(n)s avis sur %(place)s")
                   % {"n": len(seen), "place": location.title or location.name})[:500],
            band="", detail={"source": "google-business", "count": len(seen)},
        )  # fmt: skip


def google_reviews_scan(*, connection: GoogleConnection, http: Any = None) -> GoogleScanResult:
    """List the locations of every account, then all their reviews; record what changed.

    Needs the doctor's monitoring profile (alerts belong to it). One cleanup ``Scan`` row
    records the run (it is what alerts hang on)."""
    from cleanup.models import Scan, WatchProfile

    profile = WatchProfile.objects.filter(doctor=connection.doctor).first()
    if profile is None:
        raise GoogleBusinessError(_("Enregistrez d'abord votre profil de veille."))
    api = _Api(connection=connection, http=http)
    now = timezone.now()
    result = GoogleScanResult()
    accounts = api.pages(api.accounts.accounts().list, "accounts")
    # Everything is read first, then written in one transaction: a failure half-way through
    # (quota, network, revoked access) records nothing and the next read starts again.
    listed: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = []
    for account in accounts:
        for loc in api.pages(
            api.info.accounts().locations().list,
            "locations",
            parent=account["name"],
            readMask=LOCATION_READ_MASK,
            pageSize=100,
        ):
            parent = f"{account['name']}/{loc['name']}"
            reviews = api.pages(
                api.reviews.accounts().locations().reviews().list,
                "reviews",
                parent=parent,
                pageSize=50,
            )
            listed.append((account["name"], loc, reviews, getattr(api, "last_body", {})))
    with transaction.atomic():
        scan = Scan.objects.create(
            profile=profile, status=Scan.Status.RUNNING, started_at=now,
            notes=_("Avis Google Business Profile (API officielle)."),
        )  # fmt: skip
        seen_names = set()
        for account_name, loc, reviews, body in listed:
            location, _created = GoogleLocation.objects.get_or_create(
                connection=connection,
                name=loc["name"],
                defaults={"account_name": account_name},
            )
            baseline = location.reviews_read_at is None
            location.account_name = account_name
            location.title = loc.get("title", "")[:300]
            location.maps_uri = (loc.get("metadata") or {}).get("mapsUri", "")[:1000]
            location.active = True
            location.save()
            seen_names.add(location.name)
            result.locations += 1
            _location_sync(
                scan=scan, location=location, baseline=baseline, listed=reviews, body=body,
                now=now, result=result,
            )  # fmt: skip
        connection.locations.exclude(name__in=seen_names).update(active=False)
        scan.status = Scan.Status.DONE
        scan.finished_at = timezone.now()
        scan.progress = 100
        scan.new_reviews, scan.edited_reviews = result.new, result.edited
        scan.removed_reviews, scan.baseline_reviews = result.deleted, result.baseline
        scan.alerts_count = scan.alerts.count()
        scan.save()
        connection.refresh_from_db(fields=["token_ciphertext", "data_key_wrapped",
                                           "master_key_id", "events"])  # fmt: skip
        connection.last_scan_at = now
        connection.last_error = ""
        _event(connection, "scan", None, new=result.new, edited=result.edited,
               deleted=result.deleted, baseline=result.baseline)  # fmt: skip
        connection.save()
    result.scan_id = scan.pk
    return result


def google_reviews_scan_all(*, http: Any = None) -> dict[str, int]:
    """The periodic read, in one insurer's schema: every active connection whose doctor has
    a monitoring profile. A failure is kept on the connection (shown to the doctor) and does
    not stop the others."""
    counts = {"scanned": 0, "failed": 0}
    connections = GoogleConnection.objects.filter(
        status=GoogleConnection.Status.ACTIVE, doctor__watch_profile__isnull=False
    ).select_related("doctor")
    for connection in connections:
        if not connection.has_tokens:
            continue
        try:
            google_reviews_scan(connection=connection, http=http)
        except GoogleBusinessError as exc:
            connection.refresh_from_db()
            connection.last_error = str(exc)
            connection.save(update_fields=["last_error"])
            counts["failed"] += 1
        else:
            counts["scanned"] += 1
    return counts


# --------------------------------------------------------------------------- replies


def _connection_of(review: GoogleReview) -> GoogleConnection:
    return review.location.connection


def google_reply_suggest(*, review: GoogleReview) -> dict[str, Any]:
    """The reply assistant's proposal (secrecy-safe wording, DOMAIN §5.3), not saved."""
    from cleanup.services import alert_reply_draft
    from cover.reply_rules import reply_propose

    if review.alert is not None:
        draft = alert_reply_draft(alert=review.alert)
        return {"text": draft["text"], "caveats": draft["caveats"], "default": draft["default"]}
    doctor = _connection_of(review).doctor
    signature = _("Cabinet du Dr %(name)s") % {"name": doctor.user.last_name or str(doctor)}
    return {"text": reply_propose(signature=signature), "caveats": [], "default": ""}


def google_reply_draft(*, review: GoogleReview, user: Any) -> GoogleReply:
    """A recorded draft from the reply assistant."""
    _doctor_only(connection=_connection_of(review), user=user)
    suggestion = google_reply_suggest(review=review)
    reply = GoogleReply(review=review, text=suggestion["text"])
    _event(reply, "draft", user, caveats=suggestion["caveats"])
    reply.save()
    return reply


def google_reply_check(*, reply: GoogleReply, text: str, user: Any) -> GoogleReply:
    """Run the reply checks on the (possibly edited) text; a blocking issue refuses it."""
    from cover.reply_rules import reply_blocking_issues, reply_check

    _doctor_only(connection=_connection_of(reply.review), user=user)
    if reply.status in (GoogleReply.Status.POSTED, GoogleReply.Status.DELETED):
        raise GoogleBusinessError(_("Cette réponse est déjà publiée : rédigez-en une nouvelle."))
    text = (text or "").strip()
    if not text:
        raise GoogleBusinessError(_("La réponse est vide."))
    issues = reply_check(
        text=text,
        reviewer_identifiers=[reply.review.reviewer] if reply.review.reviewer else [],
    )
    blocking = reply_blocking_issues(issues=issues)
    reply.text = text
    reply.issues = [
        {"code": str(i.code), "severity": str(i.severity), "message": str(i.message)}
        for i in issues
    ]
    reply.status = GoogleReply.Status.REFUSED if blocking else GoogleReply.Status.CHECKED
    reply.approved_by, reply.approved_at = None, None
    _event(reply, "check", user, blocking=len(blocking), issues=len(issues))
    reply.save()
    return reply


def google_reply_approve(*, reply: GoogleReply, user: Any) -> GoogleReply:
    """The doctor himself approves the checked text (staff cannot: it is his public word).
    Posting then happens in a worker (``cleanup.google.tasks``)."""
    from cover.reply_rules import reply_blocking_issues, reply_check

    _doctor_only(connection=_connection_of(reply.review), user=user)
    if reply.status != GoogleReply.Status.CHECKED:
        raise GoogleBusinessError(_("Faites d'abord vérifier la réponse (sans blocage)."))
    issues = reply_check(
        text=reply.text,
        reviewer_identifiers=[reply.review.reviewer] if reply.review.reviewer else [],
    )
    if reply_blocking_issues(issues=issues):
        raise GoogleBusinessError(_("La vérification bloque cette réponse : corrigez-la."))
    reply.status = GoogleReply.Status.APPROVED
    reply.approved_by = user
    reply.approved_at = timezone.now()
    _event(reply, "approve", user)
    reply.save()
    return reply


def google_reply_post(*, reply: GoogleReply, http: Any = None) -> GoogleReply:
    """Publish an approved reply with ``updateReply`` (what the worker runs)."""
    connection = _connection_of(reply.review)
    if reply.status != GoogleReply.Status.APPROVED or (
        reply.approved_by_id != connection.doctor.user_id
    ):
        raise GoogleBusinessError(_("Seule une réponse approuvée par le médecin est publiée."))
    api = _Api(connection=connection, http=http)
    method = api.reviews.accounts().locations().reviews().updateReply
    try:
        body = api.execute(method(name=reply.review.name, body={"comment": reply.text}))
    except GoogleBusinessError as exc:
        reply.status = GoogleReply.Status.FAILED
        reply.error = str(exc)
        _event(reply, "post-failed", None, reason=str(exc))
        reply.save()
        raise
    review = reply.review
    review.reply_comment = body.get("comment", reply.text)
    review.reply_update_time = body.get("updateTime", "")
    review.save(update_fields=["reply_comment", "reply_update_time"])
    reply.status = GoogleReply.Status.POSTED
    reply.posted_at = timezone.now()
    reply.error = ""
    _event(reply, "post", None, update_time=review.reply_update_time)
    reply.save()
    return reply


def google_reply_post_enqueue(*, reply: GoogleReply) -> None:
    """Queue the publication once the approval is committed (bound to this schema)."""
    from cleanup.google.tasks import google_reply_post_task
    from tenants.services import task_enqueue_on_commit

    task_enqueue_on_commit(actor=google_reply_post_task, kwargs={"reply_id": reply.pk})


def google_reply_delete(*, review: GoogleReview, user: Any, http: Any = None) -> GoogleReview:
    """« Supprimer la réponse »: ``deleteReply`` at Google, recorded on the posted reply."""
    connection = _connection_of(review)
    _doctor_only(connection=connection, user=user)
    api = _Api(connection=connection, http=http)
    api.execute(api.reviews.accounts().locations().reviews().deleteReply(name=review.name))
    review.reply_comment = ""
    review.reply_update_time = ""
    review.save(update_fields=["reply_comment", "reply_update_time"])
    for reply in review.replies.filter(status=GoogleReply.Status.POSTED):
        reply.status = GoogleReply.Status.DELETED
        reply.deleted_at = timezone.now()
        _event(reply, "delete", user)
        reply.save()
    return review
