"""Four-eyes validation of plans (« validation à quatre yeux »).

Why: a plan is what the insurer sells; some insurers require that no one publishes terms alone.
When their ``ModerationSettings.plan_four_eyes`` is on, the admin who submitted a plan for
moderation, or who changed the version under review, cannot approve it; another admin must.
Wagtail's group approval task stays as it is (shared with pages); the rule is enforced on every
admin path that approves a plan: the edit view's footer action and the workflow action view
(used by the dashboard's « awaiting your review » panel), and the approve button is hidden.
Publishing directly would approve one's own change too: under four-eyes validation « Publier »
is hidden and a posted publish is saved as a draft instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail.models import Site
from wagtail.snippets.action_menu import WorkflowMenuItem
from wagtail.snippets.views.snippets import CreateView, EditView, WorkflowActionView

from cover.models import ModerationSettings, Plan


def moderation_settings_current(*, request: HttpRequest | None = None) -> ModerationSettings:
    """The insurer's moderation settings (its schema has one site)."""
    if request is not None:
        return ModerationSettings.for_request(request)
    site = Site.objects.filter(is_default_site=True).first()
    return ModerationSettings.for_site(site) if site else ModerationSettings()


def plan_approval_refusal(*, plan: Plan, user: User | AnonymousUser, four_eyes: bool) -> str | None:
    """Why ``user`` may not approve ``plan``'s pending version, or ``None`` if they may."""
    if not four_eyes or plan.pk is None:
        return None
    state = plan.current_workflow_state
    if state is None:
        return None
    if state.requested_by_id == user.pk:
        return _(
            "Validation à quatre yeux : vous avez soumis cette formule à validation, vous ne "
            "pouvez donc pas l'approuver. Un autre administrateur doit le faire."
        )
    task_state = state.current_task_state
    submitted = task_state.revision if task_state is not None else None
    since = submitted.created_at if submitted is not None else state.created_at
    if plan.revisions.filter(created_at__gte=since, user_id=user.pk).exists():
        return _(
            "Validation à quatre yeux : vous avez modifié la version soumise de cette formule, "
            "vous ne pouvez donc pas l'approuver. Un autre administrateur doit le faire."
        )
    return None


def plan_publish_refusal(*, four_eyes: bool) -> str | None:
    """With four-eyes validation, nobody publishes a plan directly (that would approve one's
    own change): every change goes through moderation."""
    if not four_eyes:
        return None
    return _(
        "Validation à quatre yeux : une formule ne se publie pas directement. Vos modifications "
        "sont enregistrées comme brouillon ; soumettez-les à validation, un autre "
        "administrateur les approuvera."
    )


def _publish_refusal(request: HttpRequest) -> str | None:
    return plan_publish_refusal(
        four_eyes=moderation_settings_current(request=request).plan_four_eyes
    )


def _publish_as_draft(request: HttpRequest, action: str, *, default: str) -> str:
    """Turn a refused « Publier » into « Enregistrer le brouillon »: nothing typed is lost,
    nothing goes live, and the admin is told why."""
    refusal = _publish_refusal(request) if action == "publish" else None
    if refusal is None:
        return action
    messages.warning(request, refusal)
    return default


def _refusal(request: HttpRequest, plan: Plan) -> str | None:
    four_eyes = moderation_settings_current(request=request).plan_four_eyes
    return plan_approval_refusal(plan=plan, user=request.user, four_eyes=four_eyes)


def plan_action_menu_filter(menu_items: list, request: HttpRequest, context: dict) -> None:
    """``construct_snippet_action_menu`` hook: no « Publier » button under four-eyes
    validation, no « Approuver » button for whom may not approve."""
    if context.get("model") is not Plan:
        return
    hide_publish = _publish_refusal(request) is not None
    instance = context.get("instance")
    hide_approve = isinstance(instance, Plan) and _refusal(request, instance) is not None
    menu_items[:] = [
        item
        for item in menu_items
        if not (hide_publish and item.name == "action-publish")
        and not (hide_approve and isinstance(item, WorkflowMenuItem) and item.name == "approve")
    ]


class PlanCreateView(CreateView):
    """A new plan under four-eyes validation is saved as a draft or submitted, not published."""

    def get_action(self, request: HttpRequest) -> str:
        return _publish_as_draft(request, super().get_action(request), default="create")


class PlanEditView(EditView):
    """The plan editor: says why approval is not offered, and refuses an approval posted by the
    submitter (nothing is saved then)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = _refusal(request, self.object)
        if refusal is not None:
            messages.warning(request, refusal)
        return super().get(request, *args, **kwargs)

    def get_action(self, request: HttpRequest) -> str:
        return _publish_as_draft(request, super().get_action(request), default="edit")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            request.POST.get("action-workflow-action")
            and request.POST.get("workflow-action-name") == "approve"
        ):
            refusal = _refusal(request, self.object)
            if refusal is not None:
                messages.error(request, refusal)
                return redirect(self.get_edit_url())
        return super().post(request, *args, **kwargs)


class PlanWorkflowActionView(WorkflowActionView):
    """Approve / request changes from the dashboard's modal: same four-eyes rule."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.action_name == "approve":
            refusal = _refusal(request, self.object)
            if refusal is not None:
                messages.error(request, refusal)
                if request.headers.get("x-requested-with") == "XMLHttpRequest":
                    return self.render_modal_json(
                        request, {"step": "success", "redirect": self.redirect_url}
                    )
                return redirect(self.redirect_url)
        return super().dispatch(request, *args, **kwargs)
