"""Staff screens of the monitoring guarantee in the insurer's Wagtail admin: alerts to review,
removal requests and their deadlines, and the positive-content plans proposed to doctors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import CreateView, EditView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

import cleanup.figures  # noqa: F401 - registers the monitoring figure of « Chiffres clés »
from cleanup.models import Alert, ContentPlanItem, RemovalRequest, WatchProfile
from cleanup.selectors import alerts_open, content_events, content_rank_chart
from cleanup.services import content


class AlertViewSet(ModelViewSet):
    name = "cleanup_alerts"
    url_prefix = "veille/alertes"
    model = Alert
    icon = "warning"
    menu_label = _("Alertes")
    list_display = ["title", "kind", "profile", "band", "created_at", "read_at"]
    list_filter = ["kind", "negative", "band"]
    search_fields = ["title", "text", "url"]
    ordering = ["-created_at"]
    inspect_view_enabled = True
    form_fields = ["read_at", "dismissed_at"]


class RemovalRequestViewSet(ModelViewSet):
    name = "cleanup_requests"
    url_prefix = "veille/demandes"
    model = RemovalRequest
    icon = "mail"
    menu_label = _("Demandes de suppression")
    list_display = ["recipient_name", "kind", "profile", "status", "sent_on", "due_on",
                    "cnil_proposed_on"]  # fmt: skip
    list_filter = ["kind", "status"]
    search_fields = ["recipient_name"]
    ordering = ["-created_at"]
    inspect_view_enabled = True
    form_fields = ["status", "sent_on", "received_on", "extension_notified_on", "due_on",
                   "answered_on", "cnil_proposed_on", "notes"]  # fmt: skip


class ContentCreateView(CreateView):
    """Staff draft an item: saved through the workflow service (logged, always « brouillon »);
    the form has no status field, so approval stays the doctor's."""

    def save_instance(self):
        item = self.form.save(commit=False)
        content.content_plan_item_staff_save(item=item, actor=self.request.user, creating=True)
        return item


class ContentEditView(EditView):
    """An edit after approval sends the item back to the doctor (service)."""

    def save_instance(self):
        item = self.form.save(commit=False)
        content.content_plan_item_staff_save(item=item, actor=self.request.user, creating=False)
        return item


def content_follow_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff follow-up of one item: its body, its log (who, when), the rank chart around its
    publication, and the two steps staff may take: propose it to the doctor, and record that an
    approved directory entry is online. Approval itself is never offered here."""
    if not request.user.has_perm("cleanup.change_contentplanitem"):
        raise PermissionDenied
    item = get_object_or_404(ContentPlanItem.objects.select_related("profile__doctor__user"), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "propose":
                content.content_plan_item_propose(item=item, actor=request.user)
                messages.success(request, _("Contenu proposé au médecin."))
            elif action == "mark_published":
                content.content_plan_item_mark_published(item=item, actor=request.user)
                messages.success(request, _("Publication sur l'annuaire enregistrée."))
            else:
                raise PermissionDenied
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("cleanup_content:follow", pk=item.pk)
    return TemplateResponse(
        request,
        "cleanup/admin/content_follow.html",
        {
            "item": item,
            "events": content_events(item=item),
            "rank_chart": content_rank_chart(profile=item.profile),
            "edit_url": reverse("cleanup_content:edit", args=[item.pk]),
            "index_url": reverse("cleanup_content:index"),
        },
    )


def _follow_link(item: ContentPlanItem) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("cleanup_content:follow", args=[item.pk]), _("Suivi")
    )


class ContentPlanItemViewSet(ModelViewSet):
    name = "cleanup_content"
    url_prefix = "veille/contenus"
    model = ContentPlanItem
    icon = "doc-full"
    menu_label = _("Plan de publication")
    list_display = ["title", "profile", "channel", "planned_for", "status",
                    Column("follow", label=_("Suivi"), accessor=_follow_link)]  # fmt: skip
    list_filter = ["channel", "status"]
    add_view_class = ContentCreateView
    edit_view_class = ContentEditView
    # No status field: staff cannot approve or publish on the doctor's behalf.
    panels = [
        FieldPanel("profile"),
        FieldPanel("title"),
        FieldPanel("summary"),
        FieldPanel("channel"),
        FieldPanel("planned_for"),
        FieldPanel("body"),
    ]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("suivi/<int:pk>/", content_follow_view, name="follow"),
        ]


class WatchProfileViewSet(ModelViewSet):
    name = "cleanup_profiles"
    url_prefix = "veille/profils"
    model = WatchProfile
    icon = "view"
    menu_label = _("Profils de veille")
    list_display = ["doctor", "city", "last_scan_at"]
    inspect_view_enabled = True
    form_fields = ["name_variants", "practice_name", "city", "specialty", "keywords"]


class MonitoringGroup(ViewSetGroup):
    menu_label = _("Veille")
    menu_icon = "view"
    menu_order = 300
    items = (AlertViewSet, RemovalRequestViewSet, ContentPlanItemViewSet, WatchProfileViewSet)


@hooks.register("register_admin_viewset")
def register_monitoring_viewsets():
    return MonitoringGroup()


class NewAlertsPanel(Component):
    """On the admin home, next to the claims dashboard: the newest unread monitoring alerts
    (ten at most), each linking to its page."""

    name = "monitoring_new_alerts"
    order = 60
    limit = 10

    def render_html(self, parent_context=None):
        alerts = list(
            alerts_open().filter(read_at__isnull=True).order_by("-created_at", "-pk")[: self.limit]
        )
        rows = format_html_join(
            "",
            '<li data-alert="{}"><a href="{}">{}</a> — {} — {}</li>',
            (
                (
                    alert.pk,
                    reverse("cleanup_alerts:inspect", args=[alert.pk]),
                    alert.title,
                    alert.get_kind_display(),
                    alert.profile.doctor,
                )
                for alert in alerts
            ),
        )
        body = (
            format_html("<ul>{}</ul>", rows)
            if alerts
            else format_html("<p>{}</p>", _("Aucune nouvelle alerte."))
        )
        return format_html(
            '<section class="w-panel w-panel--dashboard" id="monitoring-new-alerts">'
            '<h2 class="w-panel__heading">{}</h2><div class="w-panel__content">{}{}</div></section>',
            _("Nouvelles alertes de veille"),
            body,
            format_html(
                '<p><a href="{}">{}</a></p>',
                reverse("cleanup_alerts:index"),
                _("Toutes les alertes"),
            ),
        )


@hooks.register("construct_homepage_panels")
def monitoring_alerts_panel(request, panels):
    if request.user.has_perm("cleanup.view_alert"):
        panels.append(NewAlertsPanel())
