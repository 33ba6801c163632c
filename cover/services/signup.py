"""Doctors becoming users of the insurer's site: sign-up with e-mail verification, profile,
invitations of the doctors imported from the insurer's portfolio."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from cover.documents import site_is_open
from cover.models import Doctor, Policy
from mailing.kinds import MailKind
from mailing.services import mail_send
from tenants.db import connection
from tenants.models import Insurer
from tenants.roles import INSURED_DOCTOR
from tenants.selectors import tenant_base_url


class SignupError(Exception):
    """A sign-up refused; the message is French and safe to show."""


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """One-use link proving the address: it stops working once the account is active.

    The schema is part of the hash so a link made for one insurer never works at another,
    even where user ids coincide.
    """

    key_salt = "cover.services.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{connection.schema_name}:{user.pk}:{user.is_active}:{user.email}:{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def doctor_signup(
    *, email: str, first_name: str, last_name: str, password: str, base_url: str
) -> User | None:
    """Create an inactive doctor account and e-mail the link that activates it.

    Signing up again with an address never verified refreshes the account and resends the
    link. An address already in use by an active account changes nothing: its owner gets an
    e-mail saying so, and the caller sees exactly what a new sign-up sees (the page must not
    tell a visitor which addresses have an account). Returns the new or refreshed user, or
    ``None`` for an existing account.
    """
    if not site_is_open():
        raise SignupError(_("L'inscription en ligne n'est pas encore ouverte."))
    email = email.strip().lower()
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(username=email).first()
        existing = user is not None and user.is_active
        if existing:
            make_password(password)  # the same work as a real sign-up: no timing difference
        else:
            if user is None:
                user = user_model(username=email, email=email, is_staff=False, is_active=False)
            user.first_name, user.last_name = first_name.strip(), last_name.strip()
            user.set_password(password)
            user.full_clean(exclude=["password"])
            user.save()
            user.groups.add(Group.objects.get(name=INSURED_DOCTOR))
    assert user is not None  # found active, or created above
    if existing:
        _signup_existing_notify(user=user, base_url=base_url)
        return None
    doctor_verification_send(user=user, base_url=base_url)
    return user


def _signup_existing_notify(*, user: User, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse("portal:login")
    mail_send(to=user.email, kind=MailKind.ACCOUNT_EXISTS, context={}, link_path=link)


def doctor_verification_send(*, user: User, base_url: str) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token.make_token(user)
    link = base_url.rstrip("/") + reverse("portal:verify", args=[uid, token])
    mail_send(to=user.email, kind=MailKind.ACCOUNT_VERIFICATION, context={}, link_path=link)


def doctor_verify_email(*, uidb64: str, token: str) -> User | None:
    """Activate the account the link was made for; ``None`` when the link is not valid."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not email_verification_token.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def doctor_profile_save(
    *,
    user: User,
    rpps: str,
    specialty: str,
    practice_name: str = "",
    practice_address: str = "",
    city: str = "",
    phone: str = "",
) -> Doctor:
    """Create or update the doctor's professional identity (RPPS checked for format only)."""
    doctor = Doctor.objects.filter(user=user).first() or Doctor(user=user)
    doctor.rpps = rpps.strip()
    doctor.specialty = specialty.strip()
    doctor.practice_name = practice_name.strip()
    doctor.practice_address = practice_address.strip()
    doctor.city = city.strip()
    doctor.phone = phone.strip()
    doctor.full_clean()
    doctor.save()
    return doctor


def doctor_invitations_send(*, user_ids: Iterable[int]) -> int:
    """E-mail imported doctors a link, on the insurer's own domain, to claim their account.

    Skips accounts that already chose a password, so a retried job sends nothing twice.
    """
    insurer = Insurer.objects.get(schema_name=connection.schema_name)
    base = tenant_base_url(insurer)
    sent = 0
    users = get_user_model().objects.filter(pk__in=list(user_ids)).select_related("doctor")
    for user in users:
        if user.has_usable_password():
            continue
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = base + reverse("portal:password-set", args=[uid, token])
        policy = Policy.objects.filter(doctor__user=user).order_by("-created_at").first()
        mail_send(
            to=user.email,
            kind=MailKind.ACCOUNT_INVITATION,
            context={"numero_contrat": policy.number if policy else ""},
            link_path=link,
        )
        sent += 1
    return sent
