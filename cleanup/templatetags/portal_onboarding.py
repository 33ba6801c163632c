"""The portal's first-steps checklist (``cover.onboarding``), fed with the monitoring state that
only ``cleanup`` knows: the checklist lives in cover, monitoring here, above it."""

from __future__ import annotations

from typing import Any

from django import template

from cleanup.selectors import watch_profile_for_doctor
from cover.onboarding import onboarding_checklist

register = template.Library()


@register.inclusion_tag("portal/_onboarding.html", takes_context=True)
def portal_onboarding(context: Any) -> dict[str, Any]:
    doctor = context.get("doctor")
    monitoring = doctor is not None and watch_profile_for_doctor(doctor=doctor) is not None
    return {
        "csrf_token": context.get("csrf_token"),
        "items": onboarding_checklist(
            doctor=doctor, policy=context.get("policy"), monitoring_set_up=monitoring
        ),
    }
