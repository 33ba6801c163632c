from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Assureurs")


class StaffUsersConfig(WagtailUsersAppConfig):
    """``wagtail.users`` with staff forms that never grant superuser to a non-superuser
    (``tenants.staff_users``; Wagtail's documented way to change its user forms)."""

    user_viewset = "tenants.staff_users.StaffUserViewSet"
