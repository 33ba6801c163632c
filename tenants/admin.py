"""Platform admin (public schema): the operator onboards and watches insurers."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.stripe import StripeUnavailable
from tenants.billing import (
    BillingError,
    insurer_invoices,
    insurer_stripe_account_ensure,
    insurer_subscription_start,
    insurer_subscription_sync,
    insurer_usage_month,
)
from tenants.models import (
    Domain,
    Insurer,
    InsurerSubscription,
    PlatformPlan,
    StripeEvent,
    UsageReport,
)


class PlatformAdminSite(admin.AdminSite):
    """The operator console: the platform's own models only (shared apps, public schema), with
    a French header; styled like the insurers' Wagtail admin (templates/admin/base_site.html)."""

    site_header = gettext_lazy("Console Égide")
    site_title = gettext_lazy("Console Égide")
    index_title = gettext_lazy("Tableau de bord")
    site_url = "/"


platform_admin = PlatformAdminSite(name="admin")
# Operators' accounts and login lockouts. Authenticators are not listed: django-otp's admin is
# in English, and a lost one is reset with ``manage.py two_factor_reset``.
platform_admin.register(Group, GroupAdmin)
platform_admin.register(get_user_model(), UserAdmin)
platform_admin.register(AccessAttempt, AccessAttemptAdmin)
platform_admin.register(AccessLog, AccessLogAdmin)
platform_admin.register(AccessFailureLog, AccessFailureLogAdmin)


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ("domain", "is_primary")
        labels = {"domain": gettext_lazy("domaine"), "is_primary": gettext_lazy("principal")}


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
    extra = 0
    verbose_name = gettext_lazy("domaine")
    verbose_name_plural = gettext_lazy("domaines")


@admin.register(Insurer, site=platform_admin)
class InsurerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "schema",
        "primary_domain",
        "status",
        "platform_plan",
        "platform_status",
        "stripe_account_status",
        "created_at",
    )
    list_filter = ("status", "stripe_account_status", "platform_subscription__status")
    list_select_related = ("platform_subscription__plan",)
    search_fields = ("name", "schema_name", "domains__domain")
    readonly_fields = (
        "schema",
        "status",
        "created_at",
        "ready_at",
        "stripe_account_id",
        "stripe_account_status",
        "stripe_account_error",
    )
    fields = (
        "name",
        "contact_email",
        "schema",
        "status",
        "created_at",
        "ready_at",
        "stripe_account_id",
        "stripe_account_status",
        "stripe_account_error",
    )
    inlines = [DomainInline]
    actions = ["stripe_account_create", "platform_subscription_refresh"]
    change_form_template = "admin/tenants/insurer/change_form.html"

    @admin.display(description=gettext_lazy("formule Égide"))
    def platform_plan(self, obj: Insurer) -> str:
        subscription = getattr(obj, "platform_subscription", None)
        return subscription.plan.name if subscription else "—"

    @admin.display(description=gettext_lazy("abonnement Égide"))
    def platform_status(self, obj: Insurer) -> str:
        subscription = getattr(obj, "platform_subscription", None)
        return subscription.get_status_display() if subscription else "—"

    @admin.action(description=gettext_lazy("Créer le compte Stripe manquant"))
    def stripe_account_create(self, request, queryset) -> None:
        for insurer in queryset.exclude(schema_name="public"):
            try:
                insurer_stripe_account_ensure(insurer=insurer)
            except StripeUnavailable as exc:
                messages.error(request, f"{insurer.name} : {exc}")
            else:
                messages.success(
                    request,
                    _("%(name)s : compte Stripe %(account)s.")
                    % {"name": insurer.name, "account": insurer.stripe_account_id},
                )

    @admin.action(description=gettext_lazy("Relire l'abonnement Égide chez Stripe"))
    def platform_subscription_refresh(self, request, queryset) -> None:
        for subscription in InsurerSubscription.objects.filter(insurer__in=queryset):
            try:
                insurer_subscription_sync(subscription=subscription)
            except StripeUnavailable as exc:
                messages.error(request, f"{subscription.insurer.name} : {exc}")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The insurer's platform billing next to its record: plan, usage, Stripe invoices."""
        insurer = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if insurer is not None and insurer.schema_name != "public":
            context["platform_subscription"] = (
                InsurerSubscription.objects.filter(insurer=insurer).select_related("plan").first()
            )
            today = timezone.localdate()
            context["usage_month"] = insurer_usage_month(insurer=insurer, day=today)
            context["usage_month_label"] = today.strftime("%m/%Y")
            try:
                context["invoices"] = insurer_invoices(insurer=insurer)
            except StripeUnavailable as exc:
                context["invoices"] = []
                context["invoices_error"] = str(exc)
        return super().change_view(request, object_id, form_url, extra_context=context)

    @admin.display(description=gettext_lazy("schéma"), ordering="schema_name")
    def schema(self, obj: Insurer) -> str:
        return obj.schema_name

    @admin.display(description=gettext_lazy("domaine"))
    def primary_domain(self, obj: Insurer) -> str:
        domain = obj.domains.filter(is_primary=True).first()
        return domain.domain if domain else "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting drops a schema full of legal evidence: not a click in an admin list.
        return False


@admin.register(PlatformPlan, site=platform_admin)
class PlatformPlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "monthly_price_cents",
        "included_doctors",
        "included_captures",
        "max_doctors",
        "max_captures_per_month",
    )
    # The cached Stripe ids are shown read-only under French labels, never edited by hand.
    exclude = (
        "stripe_product_id",
        "stripe_price_base_id",
        "stripe_price_doctors_id",
        "stripe_price_captures_id",
    )
    readonly_fields = (
        "stripe_product",
        "stripe_price_base",
        "stripe_price_doctors",
        "stripe_price_captures",
    )

    @admin.display(description=gettext_lazy("produit Stripe"))
    def stripe_product(self, obj: PlatformPlan) -> str:
        return obj.stripe_product_id or "—"

    @admin.display(description=gettext_lazy("prix Stripe de l'abonnement"))
    def stripe_price_base(self, obj: PlatformPlan) -> str:
        return obj.stripe_price_base_id or "—"

    @admin.display(description=gettext_lazy("prix Stripe par médecin"))
    def stripe_price_doctors(self, obj: PlatformPlan) -> str:
        return obj.stripe_price_doctors_id or "—"

    @admin.display(description=gettext_lazy("prix Stripe par constat"))
    def stripe_price_captures(self, obj: PlatformPlan) -> str:
        return obj.stripe_price_captures_id or "—"


class InsurerSubscriptionAddForm(forms.ModelForm):
    class Meta:
        model = InsurerSubscription
        fields = ("insurer", "plan")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        insurer_field = self.fields["insurer"]
        assert isinstance(insurer_field, forms.ModelChoiceField)
        insurer_field.queryset = Insurer.objects.exclude(schema_name="public").filter(
            platform_subscription__isnull=True
        )


@admin.register(InsurerSubscription, site=platform_admin)
class InsurerSubscriptionAdmin(admin.ModelAdmin):
    """Subscribing an insurer opens a Stripe Checkout; its link is shown until it is paid."""

    list_display = ("insurer", "plan", "status", "current_period_end", "stripe_customer_id")
    list_filter = ("status", "plan")
    readonly_fields = (
        "insurer",
        "plan",
        "status",
        "stripe_customer_id",
        "stripe_subscription_id",
        "checkout_url",
        "current_period_end",
        "created_at",
        "updated_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InsurerSubscriptionAddForm
            kwargs["fields"] = ("insurer", "plan")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("insurer", "plan")
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        try:
            subscription = insurer_subscription_start(
                insurer=form.cleaned_data["insurer"], plan=form.cleaned_data["plan"]
            )
        except (StripeUnavailable, BillingError) as exc:
            messages.error(request, str(exc))
            raise _SubscriptionRefused from exc
        obj.pk = subscription.pk
        obj.refresh_from_db()

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _SubscriptionRefused:
            return HttpResponseRedirect(reverse("admin:tenants_insurersubscription_add"))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class _SubscriptionRefused(Exception):
    pass


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UsageReport, site=platform_admin)
class UsageReportAdmin(_ReadOnlyAdmin):
    list_display = ("insurer", "meter", "day", "quantity", "billable", "sent_at")
    list_filter = ("meter", "insurer")
    date_hierarchy = "day"


@admin.register(StripeEvent, site=platform_admin)
class StripeEventAdmin(_ReadOnlyAdmin):
    list_display = ("id", "type", "account", "schema", "received_at", "processed_at", "attempts")
    list_filter = ("type", "schema")
    search_fields = ("id", "account", "type")
    readonly_fields = (
        "id",
        "type",
        "account",
        "schema",
        "received_at",
        "processed_at",
        "attempts",
        "error",
        "payload",
    )
