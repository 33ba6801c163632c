"""The watch profile stays within the plan: keywords and watched pages, with a clear French
message when over, and nothing saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context

from cleanup.models import SearchQuery, WatchedPage, WatchProfile
from cleanup.services.watch import watch_profile_save, watched_page_add
from tests.cleanup.factories import doctor_with_policy

pytestmark = pytest.mark.django_db


def test_too_many_keywords_is_refused_and_nothing_saved(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_keywords=2, tag="11a10001")

        with pytest.raises(ValidationError) as exc:
            watch_profile_save(
                doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="Lyon",
                specialty="", keywords=["cabinet Lyon", "médecin Lyon 3", "généraliste Lyon"],
            )  # fmt: skip

        assert exc.value.message_dict == {
            "keywords": [
                "Votre formule « Veille 11a10001 » permet de surveiller 2 mots-clés ; vous en "
                "avez saisi 3. Retirez-en 1 ou passez à une formule supérieure."
            ]
        }
        assert WatchProfile.objects.filter(doctor=doctor).count() == 0


def test_profile_within_limits_creates_its_name_queries(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_keywords=2, tag="11a10002")

        profile = watch_profile_save(
            doctor=doctor, name_variants=["Dr Claire Martin", "Claire Martin", "claire martin"],
            practice_name="Cabinet des Lilas", city="Lyon", specialty="", keywords=["cabinet Lyon"],
        )  # fmt: skip

        assert profile.name_variants == ["Dr Claire Martin", "Claire Martin"]
        assert list(SearchQuery.objects.filter(profile=profile).values_list("text", "active")) == [
            ('"Dr Claire Martin"', True),
            ('"Claire Martin"', True),
            ('"Cabinet des Lilas"', True),
            ('"Dr Claire Martin" cabinet Lyon', True),
            ('"Cabinet des Lilas" cabinet Lyon', True),
        ]


def test_a_keyword_is_never_searched_alone(tenant_a):
    """« escroc » alone returns the whole web: each keyword goes with the doctor's main name
    and the practice name; changing the keywords retires the old queries (history kept)."""
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_keywords=2, tag="11a10005")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Dr Paul Durand", "Paul Durand"], practice_name="",
            city="", specialty="", keywords=["escroc", "arnaque"],
        )  # fmt: skip
        active = set(
            SearchQuery.objects.filter(profile=profile, active=True).values_list("text", flat=True)
        )
        assert active == {
            '"Dr Paul Durand"',
            '"Paul Durand"',
            '"Dr Paul Durand" escroc',
            '"Dr Paul Durand" arnaque',
        }
        assert not {"escroc", "arnaque"} & active

        watch_profile_save(
            doctor=doctor, name_variants=["Dr Paul Durand"], practice_name="Cabinet Durand",
            city="", specialty="", keywords=["escroc"],
        )  # fmt: skip
        queries = dict(SearchQuery.objects.filter(profile=profile).values_list("text", "active"))
        assert queries == {
            '"Dr Paul Durand"': True,
            '"Paul Durand"': False,
            '"Dr Paul Durand" escroc': True,
            '"Dr Paul Durand" arnaque': False,
            '"Cabinet Durand"': True,
            '"Cabinet Durand" escroc': True,
        }


def test_watched_pages_are_capped_by_the_plan(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_watched_pages=1, tag="11a10003")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
            specialty="", keywords=[],
        )  # fmt: skip
        watched_page_add(profile=profile, url="https://avis.example/dr-martin")

        with pytest.raises(ValidationError) as exc:
            watched_page_add(profile=profile, url="https://autre.example/dr-martin")

        assert exc.value.message_dict == {
            "url": [
                "Votre formule « Veille 11a10003 » permet de surveiller 1 pages et vous en "
                "surveillez déjà 1. Retirez une page ou passez à une formule supérieure."
            ]
        }
        assert list(WatchedPage.objects.filter(profile=profile).values_list("url", flat=True)) == [
            "https://avis.example/dr-martin"
        ]


def test_no_active_policy_means_no_monitoring(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(tag="11a10004")
        doctor.policies.update(status="cancelled")

        with pytest.raises(ValidationError) as exc:
            watch_profile_save(
                doctor=doctor, name_variants=["Claire Martin"], practice_name="", city="",
                specialty="", keywords=[],
            )  # fmt: skip

        assert exc.value.messages == [
            "Aucun contrat actif : la veille e-réputation fait partie de votre garantie."
        ]
        assert WatchProfile.objects.count() == 0


def test_portal_form_shows_the_limit_message(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_keywords=1, tag="11a10005")
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(doctor.user)

    response = client.post(
        "/veille/profil/",
        {"name_variants": "Dr Claire Martin", "keywords": "un\ndeux", "city": "Lyon"},
    )

    assert response.status_code == 200
    assert (
        "Votre formule « Veille 11a10005 » permet de surveiller 1 mots-clés ; vous en avez "
        "saisi 2." in response.content.decode()
    )
    with tenant_context(tenant_a.insurer):
        assert WatchProfile.objects.filter(doctor=doctor).count() == 0


def test_profiles_saved_before_get_their_keywords_with_the_name(tenant_a):
    """The migration recomputes the queries of profiles saved when keywords went alone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cleanup.migrations.0004_keyword_queries_with_name")
    with tenant_context(tenant_a.insurer):
        doctor = doctor_with_policy(max_keywords=2, tag="11a10006")
        profile = watch_profile_save(
            doctor=doctor, name_variants=["Dr Anne Roux"], practice_name="", city="",
            specialty="", keywords=["escroc"],
        )  # fmt: skip
        # as saved before: the keyword alone, active
        SearchQuery.objects.filter(profile=profile).exclude(text='"Dr Anne Roux"').delete()
        SearchQuery.objects.create(profile=profile, text="escroc")

        migration.queries_recompute(apps, None)

        assert dict(SearchQuery.objects.filter(profile=profile).values_list("text", "active")) == {
            '"Dr Anne Roux"': True,
            "escroc": False,
            '"Dr Anne Roux" escroc': True,
        }
