"""Insurer admin (Wagtail): the offer's plans under moderation, doctors and policies to consult,
and the portfolio import."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cover.figures import PERIOD_LABELS, figures_cards, insurer_figures, period_resolve
from cover.forms import PortfolioImportForm
from cover.golive_admin import golive_panel_add, site_open_view
from cover.models import Doctor, GuidePage, Plan, Policy
from cover.money import EuroColumn, EuroFormMixin, YesNoColumn
from cover.onboarding import onboarding_guide_read
from cover.plan_moderation import (
    PlanCreateView,
    PlanEditView,
    PlanWorkflowActionView,
    plan_action_menu_filter,
)
from cover.services.portfolio import portfolio_import

IMPORT_PERMISSION = "cover.add_policy"


class PlanAdminForm(EuroFormMixin, WagtailAdminModelForm):
    """Prices, ceilings, sub-ceilings, deductible and threshold are typed in euros."""

    euro_fields = (
        "price_cents",
        "per_claim_ceiling_cents",
        "annual_ceiling_cents",
        "deductible_cents",
        "intervention_threshold_cents",
        "cleanup_subceiling_cents",
        "lawyer_subceiling_cents",
        "constat_subceiling_cents",
    )


class PlanViewSet(SnippetViewSet):
    """Plans with drafts, preview, locking and the moderation workflow: a change goes live only
    once approved, and never alters a policy already sold (it keeps its plan version)."""

    model = Plan
    icon = "doc-full-inverse"
    menu_label = _("Formules")
    menu_order = 200
    add_to_admin_menu = True
    list_display = [
        "name",
        "slug",
        EuroColumn("price_cents", label=_("Prix TTC")),
        "billing_period",
        YesNoColumn("published", label=_("Proposée à la souscription"), sort_key="published"),
        YesNoColumn("terms_to_review", label=_("Conditions à revoir")),
    ]
    add_view_class = PlanCreateView
    edit_view_class = PlanEditView
    workflow_action_view_class = PlanWorkflowActionView
    search_fields = ["name", "summary"]
    ordering = ["sort_order", "name"]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("name"),
                    FieldPanel("slug"),
                    FieldPanel("summary"),
                    FieldPanel("published"),
                    FieldPanel("sort_order"),
                    MultiFieldPanel(
                        [FieldPanel("price_cents"), FieldPanel("billing_period")],
                        heading=_("Prix"),
                    ),
                    FieldPanel("general_conditions"),
                ],
                heading=_("Formule"),
            ),
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("monitoring_frequency"),
                            FieldPanel("max_keywords"),
                            FieldPanel("max_watched_pages"),
                        ],
                        heading=_("Veille"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("removal_requests_per_year"),
                            FieldPanel("positive_content_campaigns_per_year"),
                        ],
                        heading=_("Nettoyage et contenus positifs"),
                    ),
                ],
                heading=_("Veille et nettoyage"),
            ),
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("per_claim_ceiling_cents"),
                            FieldPanel("annual_ceiling_cents"),
                            FieldPanel("deductible_cents"),
                            FieldPanel("intervention_threshold_cents"),
                        ],
                        heading=_("Plafonds et franchise"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("cleanup_subceiling_cents"),
                            FieldPanel("lawyer_subceiling_cents"),
                            FieldPanel("constat_subceiling_cents"),
                        ],
                        heading=_("Sous-plafonds par service (par sinistre)"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("terms_review_note"),
                            FieldPanel("waiting_period_days"),
                            FieldPanel("anteriority"),
                            FieldPanel("anteriority_years"),
                            FieldRowPanel(
                                [
                                    FieldPanel("declaration_delay_amount"),
                                    FieldPanel("declaration_delay_unit"),
                                ]
                            ),
                            FieldPanel("territory_scope"),
                        ],
                        heading=_("Conditions de garantie"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("provider_obligation"),
                            FieldPanel("free_choice_of_lawyer"),
                            FieldPanel("exclusions"),
                        ],
                        heading=_("Engagements et exclusions"),
                    ),
                ],
                heading=_("Protection juridique"),
            ),
        ],
        base_form_class=PlanAdminForm,
    )


register_snippet(PlanViewSet)
hooks.register("construct_snippet_action_menu", plan_action_menu_filter)


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Staff consult doctors and policies here; they change through sign-up, import and Stripe."""

    def user_has_permission(self, user, action):
        if action != "view" or not user.is_active:
            return False
        meta = self.model._meta
        return user.has_perm(f"{meta.app_label}.view_{meta.model_name}")

    def user_has_any_permission(self, user, actions):
        return "view" in actions and self.user_has_permission(user, "view")

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(actions if "view" in actions else ())


register_permission_policy(Doctor, ReadOnlyPermissionPolicy(Doctor), exact_class=True)
register_permission_policy(Policy, ReadOnlyPermissionPolicy(Policy), exact_class=True)


class DoctorViewSet(ModelViewSet):
    model = Doctor
    icon = "user"
    menu_label = _("Médecins assurés")
    menu_order = 210
    add_to_admin_menu = True
    inspect_view_enabled = True
    list_display = ["__str__", "rpps", "specialty", "city"]
    search_fields = ["rpps", "user__last_name", "user__email", "city"]
    list_filter = ["specialty"]
    form_fields = ["rpps", "specialty", "practice_name", "practice_address", "city", "phone"]


class PolicyViewSet(ModelViewSet):
    model = Policy
    icon = "doc-full"
    menu_label = _("Contrats")
    menu_order = 220
    add_to_admin_menu = True
    inspect_view_enabled = True
    list_display = ["number", "doctor", "plan_version", "status", "start_date", "source"]
    search_fields = ["number", "doctor__rpps", "doctor__user__last_name"]
    list_filter = ["status", "source"]
    form_fields = ["status"]


@hooks.register("register_admin_viewset")
def register_viewsets():
    return [DoctorViewSet("doctors"), PolicyViewSet("policies")]


def portfolio_import_view(request):
    """Upload the portfolio CSV: checked first (every bad line listed), imported only when clean."""
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied
    report = None
    form = PortfolioImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = portfolio_import(
            content=form.cleaned_data["file"].read(),
            dry_run=not form.cleaned_data["confirm"],
        )
    return render(
        request,
        "cover/admin_portfolio_import.html",
        {"form": form, "report": report, "page_title": _("Import du portefeuille")},
    )


@hooks.register("register_admin_urls")
def register_import_url():
    return [path("portefeuille/import/", portfolio_import_view, name="cover_portfolio_import")]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(IMPORT_PERMISSION)


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        _("Import du portefeuille"),
        reverse("cover_portfolio_import"),
        icon_name="upload",
        order=230,
    )


@hooks.register("construct_homepage_panels")
def golive_checklist_panel(request, panels):
    golive_panel_add(request, panels)


@hooks.register("register_admin_urls")
def register_golive_url():
    return [path("mise-en-ligne/ouvrir/", site_open_view, name="cover_site_open")]


FIGURES_PERMISSION = "cover.view_figures"


def figures_view(request):
    """« Chiffres clés »: the insurer admin's figures over a chosen period, each with how it is
    computed. Other apps add theirs through the ``insurer_figures`` hook."""
    if not request.user.has_perm(FIGURES_PERMISSION):
        raise PermissionDenied
    today = timezone.localdate()
    period = period_resolve(key=request.GET.get("periode"), today=today)
    cards = figures_cards(figures=insurer_figures(period=period, today=today))
    for hook in hooks.get_hooks("insurer_figures"):
        cards.append(hook(period=period, today=today))
    return render(
        request,
        "cover/admin_figures.html",
        {
            "page_title": _("Chiffres clés"),
            "period": period,
            "periods": [(key, _(label)) for key, label in PERIOD_LABELS.items()],
            "cards": cards,
        },
    )


@hooks.register("register_admin_urls")
def register_figures_url():
    return [path("chiffres-cles/", figures_view, name="cover_figures")]


class FiguresMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(FIGURES_PERMISSION)


@hooks.register("register_admin_menu_item")
def register_figures_menu_item():
    return FiguresMenuItem(
        _("Chiffres clés"), reverse("cover_figures"), icon_name="table", order=190
    )


@hooks.register("before_serve_page")
def onboarding_guide_read_record(page, request, serve_args, serve_kwargs):
    """Opening a prevention guide ticks « Lire le guide de prévention » on the doctor's portal."""
    if page.specific_class is GuidePage and request.user.is_authenticated:
        onboarding_guide_read(user=request.user)
