"""Four-eyes validation of plans: when the insurer turns it on, whoever submitted a plan change
cannot approve it; another admin can. Off, an admin may approve their own submission."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.models import ModerationSettings, Plan
from tests.conftest import staff_login
from tests.cover.factories import PlanFactory
from tests.tenants.factories import InsurerAdminFactory

REFUSED = (
    "Validation à quatre yeux : vous avez soumis cette formule à validation, vous ne pouvez "
    "donc pas l&#x27;approuver. Un autre administrateur doit le faire."
)


def _four_eyes(on: bool) -> None:
    settings = ModerationSettings.for_site(Site.objects.get(is_default_site=True))
    settings.plan_four_eyes = on
    settings.save()


def _submitted(slug: str, submitter) -> Plan:
    """A published plan at 19,90 € whose change to 24,90 € ``submitter`` sent to moderation."""
    plan = PlanFactory(slug=slug, price_cents=1990)
    plan.save_revision().publish()
    plan.price_cents = 2490
    plan.save_revision(user=submitter)
    plan.get_workflow().start(plan, submitter)
    return Plan.objects.get(pk=plan.pk)


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    staff_login(client, user)
    return client


def _approve_url(plan: Plan) -> str:
    task_state = plan.current_workflow_task_state
    return f"/admin/snippets/cover/plan/workflow/action/{plan.pk}/approve/{task_state.pk}/"


@pytest.mark.django_db
def test_the_submitter_cannot_approve_and_another_admin_can(tenant_a):
    with tenant_context(tenant_a.insurer):
        _four_eyes(True)
        submitter = InsurerAdminFactory(email="quatre.yeux.a@exemple.fr")
        colleague = InsurerAdminFactory(email="quatre.yeux.b@exemple.fr")
        plan = _submitted("quatre-yeux", submitter)
        revisions = plan.revisions.count()
        client = _client(tenant_a, submitter)
        edit_url = f"/admin/snippets/cover/plan/edit/{plan.pk}/"

        # the editor offers no approval to the submitter, and says why
        editor = client.get(edit_url).content.decode()
        assert 'data-workflow-action-name="approve"' not in editor
        assert REFUSED in editor

        # approving from the dashboard's action view is refused with the same message
        refused = client.post(_approve_url(plan), follow=True)
        assert REFUSED in refused.content.decode()
        # and so is an approval posted through the editor's footer
        refused_edit = client.post(
            edit_url,
            {"action-workflow-action": "1", "workflow-action-name": "approve"},
            follow=True,
        )
        assert refused_edit.redirect_chain == [(edit_url, 302)]
        assert REFUSED in refused_edit.content.decode()

        stored = Plan.objects.get(pk=plan.pk)
        assert (stored.price_cents, stored.workflow_in_progress) == (1990, True)
        assert stored.revisions.count() == revisions

        # another admin sees the approval and approves: the change is published
        other = _client(tenant_a, colleague)
        assert 'data-workflow-action-name="approve"' in other.get(edit_url).content.decode()
        approved = other.post(_approve_url(plan))
        assert approved.status_code == 302
        stored = Plan.objects.get(pk=plan.pk)
        assert (stored.price_cents, stored.workflow_in_progress) == (2490, False)


@pytest.mark.django_db
def test_an_admin_who_changed_the_submitted_version_cannot_approve_it(tenant_a):
    with tenant_context(tenant_a.insurer):
        _four_eyes(True)
        submitter = InsurerAdminFactory(email="quatre.yeux.c@exemple.fr")
        editor = InsurerAdminFactory(email="quatre.yeux.d@exemple.fr")
        plan = _submitted("quatre-yeux-modifiee", submitter)
        # during moderation a second admin changes the version under review
        draft = plan.get_latest_revision_as_object()
        draft.price_cents = 2990
        draft.save_revision(user=editor)

        response = _client(tenant_a, editor).post(_approve_url(plan), follow=True)

        assert "vous avez modifié la version soumise de cette formule" in (
            response.content.decode()
        )
        stored = Plan.objects.get(pk=plan.pk)
        assert (stored.price_cents, stored.workflow_in_progress) == (1990, True)


@pytest.mark.django_db
def test_without_four_eyes_the_submitter_may_approve(tenant_a):
    with tenant_context(tenant_a.insurer):
        _four_eyes(False)
        submitter = InsurerAdminFactory(email="quatre.yeux.e@exemple.fr")
        plan = _submitted("deux-yeux", submitter)
        client = _client(tenant_a, submitter)

        editor = client.get(f"/admin/snippets/cover/plan/edit/{plan.pk}/").content.decode()
        assert 'data-workflow-action-name="approve"' in editor
        assert "Validation à quatre yeux" not in editor
        response = client.post(_approve_url(plan))

        assert response.status_code == 302
        stored = Plan.objects.get(pk=plan.pk)
        assert (stored.price_cents, stored.workflow_in_progress) == (2490, False)


@pytest.mark.django_db
def test_the_setting_is_the_insurers_own(tenant_a, tenant_b):
    with tenant_context(tenant_a.insurer):
        _four_eyes(True)
    with tenant_context(tenant_b.insurer):
        _four_eyes(False)
        submitter = InsurerAdminFactory(email="quatre.yeux.f@exemple.fr")
        plan = _submitted("quatre-yeux-b", submitter)

        response = _client(tenant_b, submitter).post(_approve_url(plan))

        assert response.status_code == 302
        assert Plan.objects.get(pk=plan.pk).price_cents == 2490
    with tenant_context(tenant_a.insurer):
        assert ModerationSettings.for_site(Site.objects.get(is_default_site=True)).plan_four_eyes


@pytest.mark.django_db
def test_with_four_eyes_publish_saves_a_draft_and_goes_live_only_through_moderation(tenant_a):
    from tests.cover.test_money_field import _edit_data

    with tenant_context(tenant_a.insurer):
        _four_eyes(True)
        admin = InsurerAdminFactory(email="quatre.yeux.g@exemple.fr")
        plan = PlanFactory(slug="quatre-yeux-publier", price_cents=1990)
        plan.save_revision().publish()
        client = _client(tenant_a, admin)
        edit_url = f"/admin/snippets/cover/plan/edit/{plan.pk}/"
        assert 'name="action-publish"' not in client.get(edit_url).content.decode()
        form = Plan.snippet_viewset.get_edit_handler().get_form_class()(instance=plan)
        data = {**_edit_data(form), "price_cents": "29,90", "action-publish": "1"}

        response = client.post(edit_url, data, follow=True)

        assert "une formule ne se publie pas directement" in response.content.decode()
        stored = Plan.objects.get(pk=plan.pk)
        assert (stored.price_cents, stored.has_unpublished_changes) == (1990, True)
        assert stored.get_latest_revision_as_object().price_cents == 2990

        # off: the admin publishes directly, as before
        _four_eyes(False)
        assert 'name="action-publish"' in client.get(edit_url).content.decode()
        client.post(edit_url, data)
        assert Plan.objects.get(pk=plan.pk).price_cents == 2990
