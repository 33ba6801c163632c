"""Where each person lands after signing in or choosing a password.

- On the platform host (public schema): the operator console (Django admin index).
- On an insurer's host: its admin → the Wagtail admin dashboard; a claims handler → the claims
  queue; anyone else (an insured doctor) → the portal.

A safe ``next`` (same host, see ``django.utils.http.url_has_allowed_host_and_scheme``) still
wins everywhere; only Wagtail's own default (the admin dashboard, which its login form always
posts) is treated as « no ``next`` ».
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.urls import reverse
from django_tenants.utils import get_public_schema_name
from wagtail.admin.views.account import LoginView as WagtailLoginView

# Permissions that tell the roles apart (tenants.roles): only insurer admins edit the branding,
# only handlers (and admins through superuser) handle claims.
INSURER_ADMIN_PERMISSION = "cover.change_branding"
CLAIMS_HANDLER_PERMISSION = "claims.handle_claim"


def user_home_url(*, user: User | AnonymousUser | None) -> str:
    """The page a signed-in ``user`` starts on, on the current host."""
    if getattr(connection, "schema_name", None) == get_public_schema_name():
        return reverse("admin:index")
    if not isinstance(user, User):  # nobody yet, or an anonymous visitor
        return reverse("portal:login")
    if user.is_superuser or user.has_perm(INSURER_ADMIN_PERMISSION):
        return reverse("wagtailadmin_home")
    if user.has_perm(CLAIMS_HANDLER_PERMISSION):
        return reverse("claims_admin:queue")
    if user.has_perm("wagtailadmin.access_admin"):
        return reverse("wagtailadmin_home")
    return reverse("portal:home")


class StaffLoginView(WagtailLoginView):
    """Wagtail's admin login (same form, template and checks), landing on the role's home."""

    def get_success_url(self) -> str:
        target = self.get_redirect_url()
        if target and target != reverse("wagtailadmin_home"):
            return target
        return user_home_url(user=self.request.user)


class PortalLoginView(auth_views.LoginView):
    """The portal's login: doctors land on the portal, staff on their admin home."""

    template_name = "portal/login.html"

    def get_default_redirect_url(self) -> str:
        return user_home_url(user=self.request.user)


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The invitation link: choose a password, then go straight to one's own home.

    The person is signed in by the password step (the link proved the e-mail address); staff
    then pass the second factor (enrolment on a first visit) before any admin page.
    """

    template_name = "portal/password_set.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def get_success_url(self) -> str:
        return user_home_url(user=self.user)
