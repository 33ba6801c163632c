"""« Changer de carte » in the doctor portal (thin: the work is in ``cover.card_change``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cover import card_change, selectors
from cover.models import Policy


def _own_policy(request, number: str) -> Policy:
    """The logged-in doctor's policy of that number, or 404 (another doctor's included)."""
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_for_doctor_by_number(doctor=doctor, number=number) if doctor else None
    if policy is None:
        raise Http404
    return policy


@login_required
@require_http_methods(["POST"])
def policy_card_change(request, number: str):
    """Off to Stripe's page that saves a new card for this policy."""
    policy = _own_policy(request, number)
    back = reverse("portal:policy-card-return", args=[policy.number])
    try:
        url = card_change.policy_card_change_start(
            policy=policy,
            success_url=request.build_absolute_uri(back) + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(reverse("portal:policy")),
        )
    except card_change.CardChangeError as exc:
        messages.error(request, str(exc))
        return redirect("portal:policy")
    return HttpResponseRedirect(url, status=303)


@login_required
def policy_card_changed(request, number: str):
    """Back from Stripe: the new card is saved, and whether the premium due was paid."""
    policy = _own_policy(request, number)
    try:
        result = card_change.policy_card_change_complete(
            policy=policy, session_id=request.GET.get("session_id", "")
        )
    except card_change.CardChangeError as exc:
        messages.error(request, str(exc))
        return redirect("portal:policy")
    return render(request, "portal/card_change_return.html", {"policy": policy, "result": result})
