"""Evidence in the insurer's Wagtail admin: the captures menu and screens (``admin_views``)."""

from __future__ import annotations

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from evidence import admin_views, custody_admin, seal_admin

admin_urlpatterns = [
    path("", admin_views.capture_list, name="list"),
    path("<int:capture_id>/", admin_views.capture_detail, name="detail"),
    path("<int:capture_id>/etat.json", admin_views.capture_status, name="status"),
    path("<int:capture_id>/relancer/", admin_views.capture_recapture, name="recapture"),
    path("<int:capture_id>/capture.png", admin_views.capture_thumbnail, name="thumbnail"),
    path("<int:capture_id>/telecharger/", admin_views.capture_download, name="download"),
    path(
        "<int:capture_id>/renouvellements.zip",
        admin_views.capture_renewals_download,
        name="renewals-download",
    ),
    path("<int:capture_id>/envoyer/", admin_views.capture_share, name="share"),
]


@hooks.register("register_admin_urls")
def evidence_admin_urls():
    return [path("preuves/", include((admin_urlpatterns, "evidence_admin")))]


class EvidenceMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.VIEW_PERMISSION)


@hooks.register("register_admin_menu_item")
def evidence_menu_item():
    return EvidenceMenuItem(
        _("Preuves"), reverse("evidence_admin:list"), icon_name="doc-full", order=160
    )


@hooks.register("register_admin_urls")
def evidence_custody_log_urls():
    return [
        path(
            "preuves/journal/",
            custody_admin.custody_log_view,
            name="evidence_custody_log",
        )
    ]


class CustodyLogMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(custody_admin.PERMISSION)


@hooks.register("register_admin_menu_item")
def evidence_custody_log_menu_item():
    return CustodyLogMenuItem(
        _("Journal de possession"),
        reverse("evidence_custody_log"),
        icon_name="list-ul",
        order=161,
    )


@hooks.register("register_admin_urls")
def evidence_seal_admin_urls():
    return [path("cachet-electronique/", seal_admin.seal_view, name="evidence_seal")]


class SealMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(seal_admin.SEAL_PERMISSION)


@hooks.register("register_settings_menu_item")
def evidence_seal_menu_item():
    return SealMenuItem(
        _("Cachet électronique"), reverse("evidence_seal"), icon_name="key", order=900
    )
