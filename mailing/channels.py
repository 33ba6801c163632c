"""Notifications through Apprise (Slack, Teams, SMS gateways, webhooks…) next to the e-mail.

E-mail keeps leaving through Django's mail (``mailing.services``); a channel only adds another
way to reach the same person (a doctor's channel) or the insurer's team (a channel without
owner), for the kinds it subscribes to, with the same digest rules.

Safety:
- the Apprise URL holds secrets: encrypted at rest (``common.keys`` envelope), shown masked;
- only the schemes of ``EGIDE_NOTIFY_SCHEMES`` are accepted (no file, local desktop or raw
  socket plugins);
- every HTTP request Apprise makes while we send goes through the outbound guard
  (``common.net_guard.OutboundGuard``): the host is resolved once, every address must be public
  (or inside ``EGIDE_FETCH_ALLOWED_NETWORKS``) and the TCP connection is opened to exactly those
  addresses (a connection to any other host is refused). The same guard is checked at save time
  on the host the URL names (or the service's fixed host);
- links that are secrets themselves (account activation, evidence download) never go to a
  channel: only ``CHANNEL_KINDS`` can be subscribed.
"""

from __future__ import annotations

import contextvars
import logging
import socket
import threading
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests.adapters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from urllib3.util import connection as urllib3_connection

from common.keys import seal_key_decrypt, seal_key_encrypt
from common.net_guard import OutboundGuard, OutboundRefused
from common.tasks import task_enqueue_on_commit
from mailing.kinds import MAIL_KINDS, MailKind
from mailing.models import NotificationChannel

logger = logging.getLogger(__name__)

# Kinds a channel may receive. Account e-mails and evidence shares carry links that are
# credentials; the digest kind is internal.
CHANNEL_KINDS: tuple[MailKind, ...] = (
    MailKind.CLAIM_UPDATE,
    MailKind.COVER_DECISION,
    MailKind.CLAIM_ASSIGNED,
    MailKind.DEADLINE_REMINDER,
    MailKind.MONITORING_ALERTS,
    MailKind.CAPTURE_DONE,
    MailKind.REMOVAL_REQUEST_UPDATE,
    MailKind.CANCELLATION_CONFIRMATION,
)

# scheme -> the fixed host the service posts to ("" = the host written in the URL).
DEFAULT_NOTIFY_SCHEMES: dict[str, str] = {
    "json": "",
    "jsons": "",
    "xml": "",
    "xmls": "",
    "form": "",
    "forms": "",
    "ntfy": "",
    "ntfys": "",
    "gotify": "",
    "gotifys": "",
    "mmost": "",
    "mmosts": "",
    "slack": "hooks.slack.com",
    "workflow": "",
    "workflows": "",
    "msteams": "",
    "discord": "discord.com",
    "tgram": "api.telegram.org",
    "twilio": "api.twilio.com",
    "vonage": "api.nexmo.com",
    "nexmo": "api.nexmo.com",
    "clicksend": "rest.clicksend.com",
    "brevo": "api.brevo.com",
}

SMS_SCHEMES = frozenset({"twilio", "vonage", "nexmo", "clicksend", "brevo"})

REQUEST_TIMEOUT_S = 10.0


class ChannelInvalid(ValueError):
    """A channel URL we refuse; the message is French and can be shown as is."""


def notify_schemes() -> dict[str, str]:
    configured = getattr(settings, "EGIDE_NOTIFY_SCHEMES", None)
    return dict(configured) if configured is not None else dict(DEFAULT_NOTIFY_SCHEMES)


def _apprise_plugin(url: str) -> Any:
    import apprise  # lazy: heavy (hundreds of plugins), only where a channel is used

    box = apprise.Apprise()
    if not url or not box.add(url):
        raise ChannelInvalid(
            _(
                "Adresse non reconnue par Apprise : vérifiez sa forme (par exemple "
                "json://exemple.fr/webhook ou slack://jeton/jeton/jeton)."
            )
        )
    return box[0]


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].strip().lower()


def _host_url(plugin: Any, scheme: str) -> str:
    """An http(s) URL naming the host this channel posts to, for the save-time guard."""
    fixed = notify_schemes().get(scheme, "")
    if fixed:
        return f"https://{fixed}/"
    host = str(getattr(plugin, "host", "") or "")
    if not host:
        return ""
    if scheme in ("msteams",):
        return f"https://{host}.webhook.office.com/"
    port = getattr(plugin, "port", None)
    secure = bool(getattr(plugin, "secure", False))
    bracketed = f"[{host.strip('[]')}]" if ":" in host else host
    return f"{'https' if secure else 'http'}://{bracketed}{f':{port}' if port else ''}/"


def channel_url_check(*, url: str) -> tuple[str, str]:
    """(scheme, masked URL) of a URL we accept; ``ChannelInvalid`` otherwise."""
    url = (url or "").strip()
    scheme = _scheme(url)
    schemes = notify_schemes()
    if scheme not in schemes:
        raise ChannelInvalid(
            _("Service « %(scheme)s » non autorisé. Services acceptés : %(allowed)s.")
            % {"scheme": scheme or "?", "allowed": ", ".join(sorted(schemes))}
        )
    plugin = _apprise_plugin(url)
    target = _host_url(plugin, scheme)
    if target:
        try:
            OutboundGuard().check(target)
        except OutboundRefused as exc:
            raise ChannelInvalid(
                _("Destination refusée : %(reason)s.") % {"reason": exc.message_fr}
            ) from None
    return scheme, channel_url_mask(url=url, plugin=plugin)


def channel_url_mask(*, url: str, plugin: Any = None) -> str:
    """``scheme://host/…``: enough to recognise a channel, never its tokens."""
    plugin = plugin or _apprise_plugin(url)
    private = str(plugin.url(privacy=True)).split("?", 1)[0]
    scheme, _sep, rest = private.partition("://")
    host, slash, _path = rest.partition("/")
    return f"{scheme}://{host}{'/…' if slash else ''}"[:300]


# --------------------------------------------------------------------------- encryption


def _context(channel: NotificationChannel) -> bytes:
    schema = getattr(connection, "schema_name", "public")
    return f"egide-notification-channel:{schema}:{channel.public_id}".encode()


def _url_store(*, channel: NotificationChannel, url: str) -> None:
    sealed = seal_key_encrypt(key_pem=url.encode(), context=_context(channel))
    channel.url_ciphertext = sealed.key_ciphertext
    channel.data_key_wrapped = sealed.data_key_wrapped
    channel.master_key_id = sealed.master_key_id


def _url_load(*, channel: NotificationChannel) -> str:
    return seal_key_decrypt(
        key_ciphertext=bytes(channel.url_ciphertext),
        data_key_wrapped=bytes(channel.data_key_wrapped),
        master_key_id=channel.master_key_id,
        context=_context(channel),
    ).decode()


# --------------------------------------------------------------------------- reads


def channels_for_owner(*, owner: User | None) -> list[NotificationChannel]:
    """A doctor's channels (``owner`` a user) or the insurer's (``owner=None``)."""
    if owner is None:
        return list(NotificationChannel.objects.filter(owner__isnull=True))
    return list(NotificationChannel.objects.filter(owner=owner))


def channel_get_for_owner(*, public_id: Any, owner: User | None) -> NotificationChannel | None:
    """One channel of that owner only (another doctor's, or the insurer's, is ``None``)."""
    query = NotificationChannel.objects.filter(public_id=public_id)
    query = query.filter(owner__isnull=True) if owner is None else query.filter(owner=owner)
    return query.first()


def _channels_subscribed(*, recipients: Iterable[str], kinds: set[str]) -> list[Any]:
    emails = [r.strip().lower() for r in recipients if r]
    users = get_user_model().objects.filter(email__in=emails)
    channels = NotificationChannel.objects.filter(enabled=True).filter(
        Q(owner__isnull=True) | Q(owner__in=users)
    )
    return [c for c in channels if kinds & set(c.kinds)]


# --------------------------------------------------------------------------- writes


def _kinds_clean(kinds: Iterable[str]) -> list[str]:
    allowed = {k.value for k in CHANNEL_KINDS}
    chosen = [str(k) for k in kinds]
    if not chosen:
        raise ChannelInvalid(_("Choisissez au moins un type de nouvelles."))
    unknown = [k for k in chosen if k not in allowed]
    if unknown:
        raise ChannelInvalid(_("Type de nouvelles non autorisé : %s.") % ", ".join(unknown))
    return [k.value for k in CHANNEL_KINDS if k.value in chosen]


def channel_create(
    *, owner: User | None, label: str, url: str, kinds: Iterable[str]
) -> NotificationChannel:
    """Check and save a channel (encrypted URL). Nothing is saved when the URL is refused."""
    label = (label or "").strip()
    if not label:
        raise ChannelInvalid(_("Donnez un nom à ce canal."))
    kinds_clean = _kinds_clean(kinds)
    scheme, masked = channel_url_check(url=url)
    channel = NotificationChannel(
        owner=owner, label=label[:100], scheme=scheme, url_masked=masked, kinds=kinds_clean
    )
    _url_store(channel=channel, url=url.strip())
    channel.save()
    return channel


def channel_delete(*, channel: NotificationChannel) -> None:
    channel.delete()


# --------------------------------------------------------------------------- guarded sending


class _GuardState:
    def __init__(self, guard: Any) -> None:
        self.guard = guard
        self.pins: dict[str, list[str]] = {}
        self.refused = ""


# A context variable, not a thread-local: Apprise sends from its own thread pool, in a copy of
# the caller's context (``contextvars.copy_context().run``).
_active: contextvars.ContextVar[_GuardState | None] = contextvars.ContextVar(
    "egide_notify_guard", default=None
)
_install_lock = threading.Lock()
_installed = False


class _GuardRefused(OSError):
    pass


def _guard_install() -> None:
    """Wrap ``requests``' adapter and urllib3's connect, active only inside ``_guarded()`` (and
    the threads Apprise runs in its context): every request is checked, every connection pinned
    to the checked addresses, any other connection refused."""
    global _installed
    with _install_lock:
        if _installed:
            return
        # Apprise's HTTP stack, patched once, only in processes that send to a channel.
        adapter_send = requests.adapters.HTTPAdapter.send
        create_connection = urllib3_connection.create_connection

        def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            state = _active.get()
            if state is not None:
                try:
                    addresses = state.guard.check(request.url)
                except OutboundRefused as exc:
                    state.refused = exc.message_fr
                    raise requests.exceptions.ConnectionError(exc.message_fr) from None
                host = (urlsplit(request.url).hostname or "").lower().strip("[]")
                state.pins[host] = addresses
            return adapter_send(self, request, *args, **kwargs)

        def connect(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            state = _active.get()
            if state is None:
                return create_connection(address, *args, **kwargs)
            host, port = address[0], address[1]
            pinned = state.pins.get(str(host).lower().strip("[]"))
            if not pinned:
                state.refused = f"connexion non vérifiée refusée ({host})"
                raise _GuardRefused(state.refused)
            last: OSError | None = None
            for ip in pinned:
                try:
                    return create_connection((ip, port), *args, **kwargs)
                except OSError as exc:
                    last = exc
            assert last is not None
            raise last

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
        urllib3_connection.create_connection = connect
        _installed = True


class _guarded:
    def __enter__(self) -> _GuardState:
        _guard_install()
        self.state = _GuardState(OutboundGuard())
        self.token = _active.set(self.state)
        return self.state

    def __exit__(self, *exc: object) -> None:
        _active.reset(self.token)


class ChannelSendFailed(Exception):
    """A channel could not be reached; ``retry`` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def channel_message_send(*, channel: NotificationChannel, title: str, body: str) -> None:
    """Send one message now, through the guard; records the outcome on the channel and raises
    ``ChannelSendFailed`` (French message) when it did not leave."""
    import apprise  # lazy: see _apprise_plugin

    try:
        url = _url_load(channel=channel)
    except Exception:  # noqa: BLE001 - unknown master key or altered ciphertext
        _failure_record(channel, _("Adresse illisible : enregistrez à nouveau ce canal."))
        raise ChannelSendFailed(channel.last_error, retry=False) from None
    if _scheme(url) not in notify_schemes():
        _failure_record(channel, _("Service non autorisé : enregistrez un autre canal."))
        raise ChannelSendFailed(channel.last_error, retry=False)
    # One URL per box: sent sequentially (the guard follows through the context either way).
    box = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    box.add(url)
    with apprise.LogCapture(level=logging.WARNING) as log, _guarded() as guard:
        ok = box.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if ok:
        NotificationChannel.objects.filter(pk=channel.pk).update(last_sent_at=timezone.now())
        channel.last_sent_at = timezone.now()
        return
    if guard.refused:
        message = _("Destination refusée : %(reason)s.") % {"reason": guard.refused}
        _failure_record(channel, message)
        raise ChannelSendFailed(message, retry=False)
    detail = " ".join(line.strip() for line in log.getvalue().splitlines()[-2:])[:300]
    message = _("Échec de l'envoi (%(service)s) : %(detail)s") % {
        "service": channel.scheme,
        "detail": detail or _("le service n'a pas accepté le message"),
    }
    _failure_record(channel, message)
    raise ChannelSendFailed(message, retry=True)


def _failure_record(channel: NotificationChannel, message: str) -> None:
    now = timezone.now()
    NotificationChannel.objects.filter(pk=channel.pk).update(last_error=message, last_error_at=now)
    channel.last_error, channel.last_error_at = message, now


def channel_test_send(*, channel: NotificationChannel, insurer_name: str) -> None:
    """« Envoyer un essai »: one short message, now."""
    channel_message_send(
        channel=channel,
        title=_("Essai de notification – %(insurer)s") % {"insurer": insurer_name},
        body=_("Ce canal recevra les nouvelles choisies : %(kinds)s.")
        % {"kinds": ", ".join(channel.kind_labels())},
    )


# --------------------------------------------------------------------------- from mail_send


def _short_text(*, channel: NotificationChannel, kind: MailKind, body: str, link: str) -> str:
    """SMS: the kind's label and the link only. Others: the e-mail's text (it holds the link)."""
    if channel.scheme in SMS_SCHEMES:
        return f"{MAIL_KINDS[kind].label}\n{link}".strip()
    text = body.strip()
    if len(text) > 1500:
        text = text[:1500].rstrip() + "…"
    if link and link not in text:
        text += f"\n{link}"
    return text


def channels_notify(
    *, recipients: Sequence[str], kind: MailKind, subject: str, body: str, link: str
) -> int:
    """Queue one message per subscribed channel (sent by a task after commit). Never raises:
    the e-mail path must not break because a channel is misconfigured."""
    try:
        channels = _channels_subscribed(recipients=recipients, kinds={kind.value})
        for channel in channels:
            _enqueue(
                channel=channel,
                title=subject,
                body=_short_text(channel=channel, kind=kind, body=body, link=link),
            )
        return len(channels)
    except Exception:  # noqa: BLE001
        logger.exception("notification channels: could not queue %s", kind)
        return 0


def channels_digest_notify(*, recipient: str, notices: Sequence[Any], title: str) -> int:
    """One message per subscribed channel for one digest (never one per notice)."""
    try:
        kinds = {n.kind for n in notices}
        channels = _channels_subscribed(recipients=[recipient], kinds=kinds)
        for channel in channels:
            mine = [n for n in notices if n.kind in channel.kinds]
            if channel.scheme in SMS_SCHEMES:
                lines = [str(MAIL_KINDS[MailKind(n.kind)].label) for n in mine[:3]]
                links = [n.link for n in mine if n.link][:1]
                text = "\n".join([*lines, *links])
            else:
                text = "\n".join(f"* {n.subject}\n  {n.link}".rstrip() for n in mine)
            _enqueue(channel=channel, title=title, body=text)
        return len(channels)
    except Exception:  # noqa: BLE001
        logger.exception("notification channels: could not queue a digest")
        return 0


def _enqueue(*, channel: NotificationChannel, title: str, body: str) -> None:
    from mailing.tasks import notification_deliver_task  # lazy: the task <-> service pair

    task_enqueue_on_commit(
        actor=notification_deliver_task,
        kwargs={"channel_id": channel.pk, "title": title[:250], "body": body},
    )


def notification_deliver_run(*, channel_id: int, title: str, body: str) -> None:
    """The task's body: send, record; re-raise only what a retry may fix."""
    channel = NotificationChannel.objects.filter(pk=channel_id, enabled=True).first()
    if channel is None:
        return
    try:
        channel_message_send(channel=channel, title=title, body=body)
    except ChannelSendFailed as exc:
        if exc.retry:
            raise
