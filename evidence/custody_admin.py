"""« Journal de possession » in the insurer's Wagtail admin: the insurer's custody log, newest
first, with the verification of the whole chain (``custody_log_verify``) at the top.

Read-only; shown to the staff who may download bundles (``evidence.download_capture``).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from evidence.admin_views import DOWNLOAD_PERMISSION, permission_required
from evidence.custody_log import custody_kind_label, custody_log_entries, custody_log_verify

PER_PAGE = 50
PERMISSION = DOWNLOAD_PERMISSION


@require_GET
@permission_required(PERMISSION)
def custody_log_view(request):
    verification = custody_log_verify()
    page = Paginator(custody_log_entries(), PER_PAGE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.kind_label = custody_kind_label(entry.kind)
    return render(
        request,
        "evidence/admin_custody_log.html",
        {
            "header_title": _("Journal de possession"),
            "page_title": _("Journal de possession"),
            "header_icon": "list-ul",
            "verification": verification,
            "page": page,
        },
    )
