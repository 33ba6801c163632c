"""The plain-French DNS guidance shown under the sender address in « E-mails ».

Égide does not look the records up: it only says which ones the insurer's IT must publish for
the sender's domain, so that mail from the platform is not flagged as spoofed.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from wagtail.admin.panels import Panel


def sender_domain(*, sender_address: str) -> str:
    """The domain the insurer's e-mails are sent from (its primary domain by default)."""
    if sender_address and "@" in sender_address:
        return sender_address.rsplit("@", 1)[1].lower()
    tenant = getattr(connection, "tenant", None)
    if tenant is None or not hasattr(tenant, "get_primary_domain"):
        return ""
    domain = tenant.get_primary_domain()
    return domain.domain if domain is not None else ""


class DnsGuidancePanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "mailing/dns_guidance.html"

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context = super().get_context_data(parent_context)
            address = getattr(self.instance, "sender_address", "") or ""
            context["domain"] = sender_domain(sender_address=address)
            return context
