"""The doctor puts the portal's first-steps checklist away (thin: the write is in onboarding)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from cover.onboarding import onboarding_dismiss
from cover.selectors import doctor_for_user


@login_required
@require_POST
def onboarding_hide(request):
    doctor = doctor_for_user(user=request.user)
    if doctor is None:
        raise Http404
    onboarding_dismiss(doctor=doctor)
    return redirect("portal:home")
