from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from mailing import views
from mailing.models import MailTemplate


class MailTemplateViewSet(SnippetViewSet):
    model = MailTemplate
    icon = "mail"
    menu_label = _("Modèles d'e-mail")
    ordering = ["kind"]
    list_display = ["__str__", "kind", "updated_at"]


register_snippet(MailTemplateViewSet)


admin_urlpatterns = [
    path("", views.admin_channels, name="list"),
    path("<uuid:public_id>/<str:action>/", views.admin_channel_action, name="action"),
]


@hooks.register("register_admin_urls")
def notification_admin_urls():
    return [path("notifications/", include((admin_urlpatterns, "notifications_admin")))]


class NotificationMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(views.ADMIN_PERMISSION)


@hooks.register("register_settings_menu_item")
def notification_menu_item():
    return NotificationMenuItem(
        _("Notifications (Slack, Teams, SMS…)"),
        reverse("notifications_admin:list"),
        icon_name="mail",
        order=720,
    )
