"""The platform admin's onboarding page: adding an insurer runs ``saas.onboarding``.

``tenants.admin`` builds the operator console; onboarding calls every app's provisioning step,
so the page that runs it is registered here, above the apps (Django's admin autodiscovery
imports this module after ``tenants.admin``'s registrations).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from saas.onboarding import insurer_onboard
from tenants.admin import InsurerAdmin, platform_admin
from tenants.forms import InsurerOnboardForm
from tenants.models import Insurer
from tenants.services import OnboardingError


class InsurerOnboardingAdmin(InsurerAdmin):
    def add_view(self, request, form_url="", extra_context=None):
        """Adding an insurer is onboarding: the same service as the command and the demo."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))
        form = InsurerOnboardForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                insurer = insurer_onboard(**form.cleaned_data)
            except OnboardingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Assureur « %(name)s » créé ; une invitation a été envoyée à %(email)s.")
                    % {"name": insurer.name, "email": form.cleaned_data["admin_email"]},
                )
                return HttpResponseRedirect(
                    reverse("admin:tenants_insurer_change", args=[insurer.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Nouvel assureur"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/insurer/onboard.html", context)


platform_admin.unregister(Insurer)
platform_admin.register(Insurer, InsurerOnboardingAdmin)
