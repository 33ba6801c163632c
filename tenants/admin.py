"""Platform admin (public schema): the operator onboards and watches insurers."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tenants.forms import InsurerOnboardForm
from tenants.models import Domain, Insurer
from tenants.services import OnboardingError, insurer_onboard


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Insurer)
class InsurerAdmin(admin.ModelAdmin):
    list_display = ("name", "schema_name", "primary_domain", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "schema_name", "domains__domain")
    readonly_fields = ("schema_name", "status", "created_at", "ready_at")
    fields = ("name", "contact_email", "schema_name", "status", "created_at", "ready_at")
    inlines = [DomainInline]

    @admin.display(description=_("domaine"))
    def primary_domain(self, obj: Insurer) -> str:
        domain = obj.domains.filter(is_primary=True).first()
        return domain.domain if domain else "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting drops a schema full of legal evidence: not a click in an admin list.
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Adding an insurer is onboarding: the same service as the command and the demo."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
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
