"""Onboarding: one service makes a complete, ready insurer, or nothing at all."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from saas.onboarding import insurer_onboard
from tenants.models import Domain, Insurer
from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR, INSURER_ADMIN
from tenants.services import OnboardingError

pytestmark = pytest.mark.django_db


def test_onboarding_clones_the_template_and_fixes_wagtail_defaults(
    django_capture_on_commit_callbacks,
):
    from wagtail.models import Page, Site

    from cover.models import Branding, HomePage

    with django_capture_on_commit_callbacks(execute=True):
        insurer = insurer_onboard(
            name="Mutuelle Témoin", domain="temoin.localhost", admin_email="Admin@Temoin.fr"
        )

    assert insurer.status == Insurer.Status.READY
    assert insurer.schema_name == "mutuelle_temoin"
    assert schema_exists("mutuelle_temoin")
    assert list(Domain.objects.filter(tenant=insurer).values_list("domain", "is_primary")) == [
        ("temoin.localhost", True)
    ]
    with tenant_context(insurer):
        site = Site.objects.get()
        assert (site.hostname, site.site_name, site.is_default_site) == (
            "temoin.localhost",
            "Mutuelle Témoin",
            True,
        )
        assert isinstance(site.root_page.specific, HomePage)
        assert site.root_page.live is True
        # Wagtail's "Welcome" page is gone: the only page under the root is the home page.
        assert list(Page.objects.filter(depth=2).values_list("title", flat=True)) == [
            "Mutuelle Témoin"
        ]
        assert Branding.for_site(site).display_name == "Mutuelle Témoin"
        assert sorted(Group.objects.values_list("name", flat=True)) == sorted(
            [INSURER_ADMIN, CLAIMS_HANDLER, INSURED_DOCTOR]
        )
        admin = get_user_model().objects.get()
        assert (admin.email, admin.is_staff, admin.has_usable_password()) == (
            "admin@temoin.fr",
            True,
            False,
        )
        assert list(admin.groups.values_list("name", flat=True)) == [INSURER_ADMIN]
    # The invitation link is on the insurer's own domain, not WAGTAILADMIN_BASE_URL.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@temoin.fr"]
    assert "http://temoin.localhost/compte/mot-de-passe/" in mail.outbox[0].body


def test_staff_groups_have_exactly_the_permissions_of_their_role(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin_perms = set(
            Group.objects.get(name=INSURER_ADMIN).permissions.values_list(
                "content_type__app_label", "codename"
            )
        )
        handler_perms = set(
            Group.objects.get(name=CLAIMS_HANDLER).permissions.values_list(
                "content_type__app_label", "codename"
            )
        )
        doctor_perms = Group.objects.get(name=INSURED_DOCTOR).permissions.count()
        from wagtail.models import GroupPagePermission

        admin_page_perms = sorted(
            GroupPagePermission.objects.filter(group__name=INSURER_ADMIN).values_list(
                "permission__codename", flat=True
            )
        )
        handler_page_perms = GroupPagePermission.objects.filter(group__name=CLAIMS_HANDLER).count()
    from tenants.roles import ROLES

    declared = {
        role.name: {tuple(code.split(".", 1)) for code in role.model_permissions} for role in ROLES
    }
    assert admin_perms == declared[INSURER_ADMIN]
    assert handler_perms == declared[CLAIMS_HANDLER]
    assert ("wagtailadmin", "access_admin") in handler_perms
    assert ("cover", "change_branding") in admin_perms
    assert ("auth", "add_user") in admin_perms
    assert ("cover", "change_branding") not in handler_perms
    assert ("auth", "add_user") not in handler_perms
    assert doctor_perms == 0
    assert admin_page_perms == [
        "add_page",
        "change_page",
        "lock_page",
        "publish_page",
        "unlock_page",
    ]
    assert handler_page_perms == 0


def test_a_taken_domain_leaves_no_half_made_tenant(tenant_a):
    before = Insurer.objects.count()

    with pytest.raises(OnboardingError, match="déjà utilisé"):
        insurer_onboard(name="Doublon", domain=tenant_a.domain, admin_email="x@doublon.fr")

    assert Insurer.objects.count() == before
    assert not Insurer.objects.filter(name="Doublon").exists()
    assert not schema_exists("doublon")
    assert Domain.objects.filter(domain=tenant_a.domain).get().tenant == tenant_a.insurer


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "domain": "ok.localhost", "admin_email": "a@b.fr"}, "nom"),
        ({"name": "X", "domain": "pas un domaine", "admin_email": "a@b.fr"}, "Domaine invalide"),
        ({"name": "X", "domain": "x.localhost", "admin_email": "pas-un-email"}, "e-mail invalide"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_creates_nothing(kwargs, message):
    before = Insurer.objects.count()

    with pytest.raises(OnboardingError, match=message):
        insurer_onboard(**kwargs)

    assert Insurer.objects.count() == before
    assert not schema_exists("x")


def test_create_insurer_command_uses_the_same_service(django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "create_insurer",
            name="Prévoyance Cmd",
            domain="cmd.localhost",
            admin_email="admin@cmd.fr",
        )

    insurer = Insurer.objects.get(name="Prévoyance Cmd")
    assert insurer.is_ready
    assert "Assureur « Prévoyance Cmd » prêt (schéma prevoyance_cmd)" in capsys.readouterr().out
    assert mail.outbox[-1].to == ["admin@cmd.fr"]
    with pytest.raises(CommandError, match="déjà utilisé"):
        call_command(
            "create_insurer", name="Autre", domain="cmd.localhost", admin_email="a@autre.fr"
        )
    assert not Insurer.objects.filter(name="Autre").exists()


def test_the_template_schema_is_not_a_tenant():
    from django.conf import settings

    assert schema_exists(settings.TENANT_BASE_SCHEMA)
    assert not Insurer.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).exists()
    assert connection.schema_name == "public"
