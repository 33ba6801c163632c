"""The insurer's go-live checklist on its Wagtail admin home, and the « open my site » action."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from wagtail.admin.ui.components import Component

from cover import documents

# Those who may fill the legal information may open the site (insurer admins).
PERMISSION = "cover.change_insurerlegalinfo"


class GoLivePanel(Component):
    """Checklist with a link to each item's screen; once complete, the button opening the site.
    After the opening it stays as a reminder when an item regresses (a plan without conditions)."""

    name = "golive_checklist"
    order = 10
    template_name = "cover/admin_golive_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        items = documents.golive_checklist()
        return {
            "items": items,
            "complete": all(item.done for item in items),
            "opened_at": documents.site_opened_at(),
            "request": self.request,
            "csrf_token": get_token(self.request),
        }


def golive_panel_add(request, panels) -> None:
    if request.user.has_perm(PERMISSION):
        opened = documents.site_is_open()
        if not opened or not documents.golive_checklist_complete():
            panels.append(GoLivePanel(request))


@require_POST
def site_open_view(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    try:
        documents.site_open()
    except documents.GoLiveError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, documents.site_open_message())
    return redirect("wagtailadmin_home")
