"""Google Business Profile: OAuth connection, token storage and API access.

The review import lives in ``cleanup.google.services.reviews``, replies in
``cleanup.google.services.replies``.

- Connection: OAuth 2.0 web flow (``google_auth_oauthlib.flow.Flow``) with the insurer's client
  (``GoogleBusinessSettings``), scope ``business.manage``, offline access, state and PKCE
  verifier kept in the doctor's session. Tokens are encrypted with the envelope encryption of
  ``common.keys`` (a data key per connection, wrapped by the master key; the associated data
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httplib2
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build, build_from_document
from googleapiclient.errors import HttpError
from wagtail.models import Site

from cleanup.google.models import GoogleBusinessSettings, GoogleConnection, GoogleReply
from common.keys import SealKeyDecryptError, seal_key_decrypt, seal_key_encrypt

SCOPE = "https://www.googleapis.com/auth/business.manage"
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
REDIRECT_PATH = "/veille/google/retour/"
HTTP_TIMEOUT_S = 30
V4_DISCOVERY = Path(__file__).parent.with_name("mybusiness_v4_discovery.json")


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


def google_event_record(
    target: GoogleConnection | GoogleReply, step: str, user: User | None = None, **extra: Any
) -> None:
    """Append a step (who, when, details) to the connection's or reply's audit trail."""
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
    sealed = seal_key_encrypt(
        key_pem=json.dumps(tokens).encode(), context=_token_context(connection)
    )
    connection.token_ciphertext = sealed.key_ciphertext
    connection.data_key_wrapped = sealed.data_key_wrapped
    connection.master_key_id = sealed.master_key_id


def _tokens_load(*, connection: GoogleConnection) -> dict[str, Any]:
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
):  # fmt: skip
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
    *, doctor: Any, user: User, redirect_uri: str, code: str, state: str, expected_state: str,
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
        google_event_record(connection, "connect", user)
        connection.save()
    return connection


def google_disconnect(*, connection: GoogleConnection, user: User) -> GoogleConnection:
    """« Déconnecter Google »: revoke the grant at Google, then delete the tokens.

    The tokens are deleted even when Google cannot be reached; the doctor is then told to
    remove the access from their Google account (the message says where)."""
    google_doctor_only_check(connection=connection, user=user)
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
    google_event_record(connection, "disconnect", user, revoke=outcome)
    connection.save()
    return connection


def google_doctor_only_check(*, connection: GoogleConnection, user: User | None) -> None:
    if user is None or connection.doctor.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Seul le médecin titulaire du compte Google peut faire cela."))


# --------------------------------------------------------------------------- API access


class GoogleApi:
    """The three API clients over one authorized HTTP object, and the credentials to save
    again after a refresh."""

    def __init__(self, *, connection: GoogleConnection, http: Any = None) -> None:
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
        google_event_record(connection, "revoked", None, reason=str(exc)[:200])
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
        google_event_record(self.connection, "refresh")
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
