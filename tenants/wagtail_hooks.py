"""Wagtail admin entries of the accounts app: staff reach their recovery codes from the menu."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from tenants import two_factor


class RecoveryCodesMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return two_factor.user_has_device(user=request.user)


@hooks.register("register_admin_menu_item")
def recovery_codes_menu_item() -> MenuItem:
    return RecoveryCodesMenuItem(
        _("Codes de secours"),
        f"{reverse('two_factor:codes_renew')}?next=/admin/",
        icon_name="key",
        order=10000,
    )
