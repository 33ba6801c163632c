"""Handlers' workspace in the Wagtail admin: the claims queue and files, the letter templates
and the partner directory (snippets)."""

from __future__ import annotations

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cover.claims import (
    admin_detail,
    admin_letters,
    admin_views,
    capture_views,
    cover_admin_views,
)
from cover.claims.models import LetterTemplate, Partner
from cover.money import YesNoColumn

admin_urlpatterns = [
    path("", admin_views.queue, name="queue"),
    path("<int:pk>/", admin_detail.detail, name="detail"),
    path("<int:pk>/attribuer/", admin_views.assign, name="assign"),
    path("<int:pk>/qualifier/", admin_views.qualify, name="qualify"),
    path("<int:pk>/garantie/", admin_views.cover, name="cover"),
    path("<int:pk>/garantie/refus/", cover_admin_views.cover_refuse, name="cover_refuse"),
    path("<int:pk>/garantie/reexamen/", cover_admin_views.cover_reverse, name="cover_reverse"),
    path("<int:pk>/etape/", admin_views.transition, name="transition"),
    path("<int:pk>/evenement/", admin_views.event, name="event"),
    path("<int:pk>/frais/", admin_views.cost, name="cost"),
    path("<int:pk>/preuves/envoi/", admin_views.evidence_send, name="evidence_send"),
    path(
        "<int:pk>/preuves/comparer/",
        capture_views.admin_captures_compare,
        name="captures_compare",
    ),
    path("<int:pk>/preuves/annexe.pdf", capture_views.admin_captures_annex, name="captures_annex"),
    path("<int:pk>/courriers/nouveau/<str:kind>/", admin_letters.letter_new, name="letter_new"),
    path("<int:pk>/courriers/<int:letter_pk>/pdf/", admin_letters.letter_pdf, name="letter_pdf"),
    path(
        "<int:pk>/courriers/<int:letter_pk>/preuve/",
        admin_letters.letter_proof,
        name="letter_proof",
    ),
    path(
        "<int:pk>/courriers/<int:letter_pk>/envoi/", admin_letters.letter_sent, name="letter_sent"
    ),
    path(
        "<int:pk>/courriers/<int:letter_pk>/reception/",
        admin_letters.letter_received,
        name="letter_received",
    ),
    path(
        "<int:pk>/courriers/<int:letter_pk>/suite/",
        admin_letters.letter_follow_up,
        name="letter_follow_up",
    ),
    path("<int:pk>/publication/", admin_views.publication_date, name="publication_date"),
    path("<int:pk>/republication/", admin_views.republication, name="republication"),
    path("<int:pk>/notes/", admin_views.note_add, name="note_add"),
    path("<int:pk>/pieces/", admin_views.attachment_add, name="attachment_add"),
    path(
        "<int:pk>/pieces/<int:attachment_pk>/",
        admin_views.attachment_download,
        name="attachment",
    ),
]


@hooks.register("register_admin_urls")
def claims_admin_urls():
    return [path("sinistres/", include((admin_urlpatterns, "claims_admin")))]


class ClaimsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.PERMISSION)


@hooks.register("register_admin_menu_item")
def claims_menu_item():
    return ClaimsMenuItem(
        _("Sinistres"), reverse("claims_admin:queue"), icon_name="warning", order=150
    )


@hooks.register("construct_homepage_panels")
def claims_dashboard_panel(request, panels):
    if request.user.has_perm(admin_views.PERMISSION):
        panels.append(admin_views.HandlerDashboardPanel(request))


class LetterTemplateViewSet(SnippetViewSet):
    model = LetterTemplate
    icon = "doc-full"
    menu_label = _("Modèles de courrier")
    ordering = ["kind"]
    list_display = ["title", "kind", "updated_at"]


class PartnerViewSet(SnippetViewSet):
    model = Partner
    icon = "group"
    menu_label = _("Partenaires")
    ordering = ["kind", "name"]
    list_display = ["name", "kind", "office", "email", YesNoColumn("active", label=_("Actif"))]
    list_filter = ["kind", "active"]


register_snippet(LetterTemplateViewSet)
register_snippet(PartnerViewSet)
