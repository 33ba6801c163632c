"""Two-factor login of staff: TOTP (authenticator app) plus single-use recovery codes.

Library: **django-otp** (TOTP and static-token plugins). It is maintained, depends on Django
only, and is a plain layer over ``django.contrib.auth``: devices are ordinary models (so they
live in each insurer's schema next to its users, like everything else under django-tenants), a
verified session is one session key (``otp_device_id``), and it does not replace any login view.
That matters here because we have three login forms we do not own — Wagtail 8's admin login,
Django's admin login on the platform host and the portal's ``LoginView`` — and they all keep
working unchanged: the password step stays theirs, the second step is ours, enforced by
``tenants.two_factor_middleware`` on every URL. django-allauth's MFA was the alternative; it
brings its own account, login and e-mail flows (and templates) that would replace or duplicate
the portal's and Wagtail's, for the same TOTP/recovery-code feature.

Who needs it: staff (superusers, ``is_staff`` and anyone with access to the Wagtail admin:
insurer admins, claims handlers, the platform operator) must have a confirmed device and enter a
code after their password; doctors may enrol one on the portal, and once they have, they enter a
code too. Replayed codes are refused (django-otp remembers the last time step used) and wrong
codes slow down exponentially (django-otp's throttling).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name

# request.user before the login check, or an account.
UserLike = AbstractBaseUser | AnonymousUser

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
RECOVERY_DEVICE_NAME = "Codes de secours"
# The enrolment codes shown once, between the confirmation and the page that shows them.
SESSION_RECOVERY_CODES = "egide_2fa_recovery_codes"


# --- selectors -----------------------------------------------------------------------------


def user_is_staff(*, user: UserLike) -> bool:
    """Staff must use two factors: superusers, ``is_staff`` and Wagtail admin users."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
        return True
    return bool(user.has_perm("wagtailadmin.access_admin"))  # type: ignore[union-attr]


def user_has_device(*, user: UserLike) -> bool:
    """A confirmed authenticator (recovery codes alone never count as enrolled)."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def user_needs_second_factor(*, user: UserLike) -> bool:
    """Staff always; anyone else once they enrolled a device (optional for doctors)."""
    return user_is_staff(user=user) or user_has_device(user=user)


def session_is_verified(*, request: HttpRequest) -> bool:
    """The session passed the second factor (``django_otp.middleware.OTPMiddleware``)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def recovery_codes_left(*, user: UserLike) -> int:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()


# --- enrolment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret: str  # base32, grouped by four for reading
    config_url: str  # otpauth:// URL (what the QR code holds)
    qr_svg: str  # inline <svg> markup


PLATFORM_TOTP_ISSUER = "Égide"


def totp_issuer(*, device: TOTPDevice) -> str:
    """The name the authenticator app shows: the insurer's on its host (white label), the
    platform's on the platform host. ``OTP_TOTP_ISSUER`` calls it for every new device."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return PLATFORM_TOTP_ISSUER
    return str(tenant.name)


def totp_secret(*, device: TOTPDevice) -> str:
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def enrolment_start(*, user: UserLike) -> Enrolment:
    """The user's pending (unconfirmed) authenticator, created on first call, same key after.

    Reloading the page keeps the key the user may already have scanned.
    """
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by(
        "pk"
    ).first() or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    url = device.config_url
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, svgclass="qr-code"
    )
    return Enrolment(
        device=device,
        secret=totp_secret(device=device),
        config_url=url,
        qr_svg=buffer.getvalue().decode("utf-8"),
    )


@transaction.atomic
def enrolment_confirm(*, request: HttpRequest, code: str) -> list[str] | None:
    """Check ``code`` against the pending device; on success confirm it, mark the session
    verified and return new recovery codes (the only time they can be read). ``None`` if the
    code is wrong (nothing changes, the same key stays pending)."""
    user = request.user
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user_id=user.pk, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None or not device.verify_token(_digits(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
    codes = recovery_codes_renew(user=user)
    otp_login(request, device)
    return codes


def recovery_codes_renew(*, user: UserLike) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODE_COUNT`` new single-use ones."""
    StaticDevice.objects.filter(user_id=user.pk).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_device_set(*, user: AbstractBaseUser, key_hex: str) -> TOTPDevice:
    """Give ``user`` a confirmed authenticator with a known key (demo seed, test fixtures)."""
    device = TOTPDevice.objects.filter(user_id=user.pk, name=TOTP_DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice(user=user, name=TOTP_DEVICE_NAME)
    if device.key != key_hex:  # a new key starts a new history (no step used yet)
        device.key, device.last_t, device.drift = key_hex, -1, 0
        device.throttle_reset(commit=False)
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
    return device


# --- verification --------------------------------------------------------------------------


def second_factor_verify(*, request: HttpRequest, code: str) -> bool:
    """Check a 6-digit code or a recovery code; on success mark the session verified.

    A recovery code is used up by the check (django-otp deletes the static token).
    """
    user = request.user
    cleaned = "".join(code.split()).lower()
    if not cleaned:
        return False
    if cleaned.isdigit():
        devices: list = list(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True))
    else:
        devices = list(StaticDevice.objects.filter(user_id=user.pk, confirmed=True))
    for device in devices:
        verified = otp_verify_token(user, device.persistent_id, cleaned)
        if verified is not None:
            otp_login(request, verified)
            return True
    return False


def _digits(code: str) -> str:
    return "".join(code.split())


@transaction.atomic
def second_factor_reset(*, user: AbstractBaseUser) -> int:
    """Remove the user's authenticators and recovery codes (lost phone, lost codes).

    Staff are asked to enrol again at their next login. Returns the number of devices removed.
    """
    devices = (
        TOTPDevice.objects.filter(user_id=user.pk).count()
        + StaticDevice.objects.filter(user_id=user.pk).count()
    )
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    StaticDevice.objects.filter(user_id=user.pk).delete()
    return devices
