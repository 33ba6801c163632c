"""The Wagtail admin sidebar, cached per user for a minute.

Why: building the sidebar's props runs every menu hook's permission checks (four to five
queries and ~15 ms of CPU on each admin page, measured by ``bench/bench_load.py``), and a
handler's menu does not change from one page to the next. The props carry no active state
(the sidebar script works that out from the address) and no CSRF token, so the same JSON
serves every page. The key holds the user, their groups, superuser flag and language: a
change of role shows at the next page; other changes (a renamed account) within a minute.
The cache key is prefixed with the insurer's schema by the cache's key function.
"""

from __future__ import annotations

import hashlib

from django import template
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from wagtail.admin.templatetags.wagtailadmin_tags import sidebar_props

register = template.Library()

SIDEBAR_SECONDS = 60


def _key(user: User) -> str:
    groups = ",".join(str(pk) for pk in sorted(user.groups.values_list("pk", flat=True)))
    digest = hashlib.sha256(
        f"{user.pk}|{int(user.is_superuser)}|{groups}|{user.get_full_name()}|"
        f"{user.email}|{get_language()}".encode()
    ).hexdigest()[:32]
    return f"admin-sidebar:{digest}"


@register.simple_tag(takes_context=True)
def sidebar_props_cached(context: template.Context) -> SafeString:
    user = context["request"].user
    key = _key(user)
    props = cache.get(key)
    if props is None:
        props = str(sidebar_props(context))
        cache.set(key, props, SIDEBAR_SECONDS)
    return mark_safe(props)  # noqa: S308 - Wagtail's own json_script output
