"""An insurer admin changes a plan in the Wagtail admin and submits it for moderation; nothing
is sold on the new terms until a second admin approves, which publishes it (real Chromium)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from cover.models import Plan
from tests.conftest import PASSWORD, browser_second_factor
from tests.cover.factories import PlanFactory
from tests.tenants.factories import InsurerAdminFactory


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    browser_second_factor(page, email)
    page.wait_for_url(f"{base}/admin/")


def test_a_plan_change_is_published_only_once_a_second_admin_approves_it(
    committed_db, live_server_url, browser, tenant_a, unique
):
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://{tenant_a.domain}:{port}"
    editor_email, moderator_email = f"redac.{unique}@exemple.fr", f"valid.{unique}@exemple.fr"
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug=f"mod-{unique}", name=f"Modérée {unique}", price_cents=1990)
        plan.save_revision().publish()
        InsurerAdminFactory(email=editor_email)
        InsurerAdminFactory(email=moderator_email)
    editor_ctx, moderator_ctx = (
        browser.new_context(locale="fr-FR"),
        browser.new_context(locale="fr-FR"),
    )
    try:
        editor = editor_ctx.new_page()
        _login(editor, base, editor_email)
        editor.goto(f"{base}/admin/snippets/cover/plan/edit/{plan.pk}/")
        editor.fill("#id_price_cents", "24,90")
        editor.click("footer .w-dropdown__toggle")
        with editor.expect_navigation():
            editor.click("button[name='action-submit']")

        with tenant_context(tenant_a.insurer):
            stored = Plan.objects.get(pk=plan.pk)
            assert (stored.price_cents, stored.has_unpublished_changes) == (1990, True)
            assert stored.workflow_in_progress is True
        offer = editor_ctx.new_page()
        offer.goto(f"{base}/formules/")
        assert "19,90&nbsp;€ par mois" in offer.content()

        moderator = moderator_ctx.new_page()
        _login(moderator, base, moderator_email)
        moderator.goto(f"{base}/admin/snippets/cover/plan/edit/{plan.pk}/")
        moderator.click("footer .w-dropdown__toggle")
        with moderator.expect_navigation():
            moderator.click(
                "button[data-workflow-action-name='approve']:not([data-workflow-action-modal-url])"
            )

        with tenant_context(tenant_a.insurer):
            stored = Plan.objects.get(pk=plan.pk)
            assert (stored.price_cents, stored.has_unpublished_changes) == (2490, False)
            assert stored.workflow_in_progress is False
        offer.goto(f"{base}/formules/")
        assert "24,90&nbsp;€ par mois" in offer.content()
    finally:
        editor_ctx.close()
        moderator_ctx.close()
        with tenant_context(tenant_a.insurer):
            from wagtail.models import WorkflowState

            WorkflowState.objects.filter(
                base_content_type__model="plan", object_id=str(plan.pk)
            ).delete()
            plan.versions.all().delete()
            Plan.objects.filter(pk=plan.pk).delete()
            get_user_model().objects.filter(username__in=[editor_email, moderator_email]).delete()
