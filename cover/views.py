"""Doctor portal views (thin: reads go through selectors, writes through services)."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cover import cancellation, documents, payments, selectors
from cover.forms import DoctorProfileForm, PlanChoiceForm, SignupForm
from cover.services.policies import PolicyError, certificate_render, policy_checkout_start
from cover.services.signup import (
    SignupError,
    doctor_profile_save,
    doctor_signup,
    doctor_verify_email,
)
from tenants import two_factor

SESSION_PLAN = "cover_signup_plan"


@login_required
def portal_home(request):
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_latest(doctor=doctor) if doctor else None
    return render(
        request,
        "portal/home.html",
        {
            "user": request.user,
            "doctor": doctor,
            "policy": policy,
            "two_factor_enabled": two_factor.user_has_device(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def signup(request):
    if not documents.site_is_open():
        # Nothing is created before the insurer has opened its site (go-live checklist).
        return render(request, "cover/coming_soon.html", status=200)
    plan_slug = request.GET.get("formule", "")
    if plan_slug and selectors.plan_published_by_slug(slug=plan_slug):
        request.session[SESSION_PLAN] = plan_slug
    if request.user.is_authenticated:
        return redirect("portal:plan-choice")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            doctor_signup(
                email=form.cleaned_data["email"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
                base_url=request.build_absolute_uri("/"),
            )
        except SignupError as exc:
            form.add_error("email", str(exc))
        else:
            request.session["cover_signup_email"] = form.cleaned_data["email"].lower()
            return redirect("portal:signup-sent")
    plan = selectors.plan_published_by_slug(slug=request.session.get(SESSION_PLAN, ""))
    return render(request, "portal/signup.html", {"form": form, "plan": plan})


def signup_sent(request):
    return render(
        request, "portal/signup_sent.html", {"email": request.session.get("cover_signup_email")}
    )


def verify_email(request, uidb64: str, token: str):
    user = doctor_verify_email(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "portal/verify_invalid.html", status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Adresse e-mail confirmée. Complétez votre profil."))
    return redirect("portal:profile")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    doctor = selectors.doctor_for_user(user=request.user)
    form = DoctorProfileForm(request.POST or None, instance=doctor)
    if request.method == "POST" and form.is_valid():
        doctor_profile_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("Profil enregistré."))
        if doctor is None or selectors.policy_latest(doctor=doctor) is None:
            return redirect("portal:plan-choice")
        return redirect("portal:home")
    return render(request, "portal/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def plan_choice(request):
    if not documents.site_is_open():
        return render(request, "cover/coming_soon.html", status=200)
    doctor = selectors.doctor_for_user(user=request.user)
    if doctor is None:
        messages.info(request, _("Complétez d'abord votre profil professionnel."))
        return redirect("portal:profile")
    chosen = selectors.plan_published_by_slug(slug=request.session.get(SESSION_PLAN, ""))
    form = PlanChoiceForm(request.POST or None, initial={"plan": chosen})
    if request.method == "POST" and form.is_valid():
        try:
            url = policy_checkout_start(
                doctor=doctor,
                plan=form.cleaned_data["plan"],
                success_url=_checkout_success_url(request),
                cancel_url=request.build_absolute_uri(reverse("portal:plan-choice")),
            )
        except PolicyError as exc:
            messages.error(request, str(exc))
        else:
            request.session.pop(SESSION_PLAN, None)
            return HttpResponseRedirect(url)
    plans = list(selectors.plans_published())
    return render(request, "portal/plan_choice.html", {"form": form, "plans": plans})


def _checkout_success_url(request) -> str:
    success = request.build_absolute_uri(reverse("portal:checkout-return"))
    return f"{success}?session_id={{CHECKOUT_SESSION_ID}}"


@login_required
def checkout_return(request):
    """Where Stripe Checkout sends the doctor back: paid, declined, or still being confirmed."""
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_latest(doctor=doctor) if doctor else None
    outcome = payments.policy_payment_outcome(policy=policy) if policy else None
    return render(request, "portal/checkout_return.html", {"policy": policy, "outcome": outcome})


@login_required
@require_http_methods(["POST"])
def policy_pay(request, number: str):
    """« Payer à nouveau » / « Régler ma cotisation »: off to the Stripe page that settles it."""
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_for_doctor_by_number(doctor=doctor, number=number) if doctor else None
    if policy is None:
        raise Http404
    try:
        url = payments.policy_payment_retry(
            policy=policy,
            success_url=_checkout_success_url(request),
            cancel_url=request.build_absolute_uri(reverse("portal:policy")),
        )
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("portal:policy")
    return HttpResponseRedirect(url, status=303)


@login_required
def policy_detail(request):
    doctor = selectors.doctor_for_user(user=request.user)
    if doctor is None:
        return redirect("portal:profile")
    policies = [
        (policy, selectors.policy_invoices(policy=policy), selectors.policy_terms(policy=policy))
        for policy in selectors.policies_for_doctor(doctor=doctor)
    ]
    current = selectors.policy_current(doctor=doctor, on=timezone.localdate())
    return render(
        request,
        "portal/policy.html",
        {"doctor": doctor, "policies": policies, "current": current},
    )


def _own_policy(request, number: str):
    """The logged-in doctor's policy of that number, or 404 (another doctor's included)."""
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_for_doctor_by_number(doctor=doctor, number=number) if doctor else None
    if policy is None:
        raise Http404
    return policy


@login_required
@require_http_methods(["GET", "POST"])
def policy_cancel(request, number: str):
    """« Résilier mon contrat »: the effective date, then « Confirmer la résiliation »."""
    policy = _own_policy(request, number)
    if policy.cancel_requested_at is not None:
        return redirect("portal:policy-cancelled", number=policy.number)
    try:
        if request.method == "POST":
            cancellation.policy_cancel(policy=policy)
            return redirect("portal:policy-cancelled", number=policy.number)
        terms = cancellation.policy_cancellation_terms(policy=policy, on=timezone.localdate())
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("portal:policy")
    return render(
        request,
        "portal/policy_cancel.html",
        {"policy": policy, "terms": terms, "plan": selectors.policy_terms(policy=policy)},
    )


@login_required
def policy_cancelled(request, number: str):
    """The confirmation: the cancellation is recorded and takes effect on its date."""
    policy = _own_policy(request, number)
    if policy.cancel_requested_at is None:
        return redirect("portal:policy")
    return render(request, "portal/policy_cancelled.html", {"policy": policy})


@login_required
def certificate(request, number: str):
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_for_doctor_by_number(doctor=doctor, number=number) if doctor else None
    if policy is None:
        raise Http404
    try:
        pdf = certificate_render(policy=policy, on=timezone.localdate())
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("portal:policy")
    return FileResponse(
        io.BytesIO(pdf),
        as_attachment=True,
        filename=f"attestation-{policy.number}.pdf",
        content_type="application/pdf",
    )


def _pdf(content: bytes, *, filename: str) -> FileResponse:
    return FileResponse(
        io.BytesIO(content), as_attachment=False, filename=filename, content_type="application/pdf"
    )


def plan_ipid(request, slug: str):
    """The IPID of a plan on sale (offer page), from its current terms."""
    plan = selectors.plan_published_by_slug(slug=slug) if documents.site_is_open() else None
    if plan is None:
        raise Http404
    pdf = documents.ipid_render(terms=selectors.plan_terms(plan=plan))
    return _pdf(pdf, filename=f"document-information-{plan.slug}.pdf")


def _doctor_policy(request, number: str):
    doctor = selectors.doctor_for_user(user=request.user)
    policy = selectors.policy_for_doctor_by_number(doctor=doctor, number=number) if doctor else None
    if policy is None:
        raise Http404
    return policy


@login_required
def policy_ipid(request, number: str):
    """The IPID of the plan version the doctor's policy was sold with."""
    policy = _doctor_policy(request, number)
    pdf = documents.ipid_render(
        terms=selectors.policy_terms(policy=policy), version_number=policy.plan_version.number
    )
    return _pdf(pdf, filename=f"document-information-{policy.number}.pdf")


@login_required
def policy_conditions(request, number: str):
    """The general conditions of the policy's own plan version (its archived copy)."""
    policy = _doctor_policy(request, number)
    frozen = documents.plan_version_conditions(version=policy.plan_version)
    if frozen is None:
        raise Http404
    content = documents.frozen_document_bytes(frozen=frozen)
    return _pdf(content, filename=f"conditions-generales-{policy.number}.pdf")
