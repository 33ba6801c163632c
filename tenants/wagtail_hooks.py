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


# Help items that lead to wagtail.org (« Guide du rédacteur », « Nouveautés de Wagtail »): the
# insurer's admin carries its own brand and makes no call to third parties. Keyboard shortcuts stay.
WAGTAIL_HELP_ITEMS_HIDDEN = ("editor-guide", "whats-new-in-wagtail-")


@hooks.register("construct_help_menu")
def help_menu_without_wagtail_links(request, menu_items: list) -> None:
    menu_items[:] = [
        item for item in menu_items if not item.name.startswith(WAGTAIL_HELP_ITEMS_HIDDEN)
    ]
