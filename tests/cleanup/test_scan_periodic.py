"""The periodic job scans, for every ready tenant and only in its own schema, the profiles
that are due under their plan's frequency (real broker, real worker thread)."""

from __future__ import annotations

import dramatiq
from django.utils import timezone
from django_tenants.utils import tenant_context

from cleanup.models import Review, Scan
from cleanup.services.watch import watch_profile_save, watched_page_add
from cleanup.tasks import QUEUE, scans_due_all_tenants_task
from tests.cleanup.conftest import SCAN1_REVIEWS, demo_page, jsonld_page
from tests.cleanup.factories import doctor_cleanup, doctor_with_policy


def _drain() -> None:
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        for _round in range(3):  # the fan-out enqueues scans, which run in a later round
            broker.join(QUEUE, timeout=60_000)
            worker.join()
    finally:
        worker.stop()


def _watching(url, tag, **kwargs):
    doctor = doctor_with_policy(tag=tag, **kwargs)
    profile = watch_profile_save(
        doctor=doctor, name_variants=[f"Dr {tag}"], practice_name="", city="", specialty="",
        keywords=[],
    )  # fmt: skip
    watched_page_add(profile=profile, url=url)
    return doctor, profile


def test_periodic_scan_runs_per_tenant_in_its_own_schema(
    committed_db, tenant_a, tenant_b, review_site, unique
):
    page_a = review_site.put(
        f"/a-{unique}", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3)
    )
    page_b = review_site.put(
        f"/b-{unique}",
        demo_page(reviews=[{"id": "b1", "author": "Bruno Z.", "date": "2024-01-02",
                            "rating": "4", "text": "Bon accueil."}], rating="4", count=1),
    )  # fmt: skip
    created = []
    try:
        with tenant_context(tenant_a.insurer):
            doctor_a, profile_a = _watching(page_a, f"a{unique}"[:8])
            idle_doctor, idle_profile = _watching(page_a + "?idle", f"c{unique}"[:8])
            idle_profile.last_scan_at = timezone.now()  # monthly plan, scanned just now
            idle_profile.save(update_fields=["last_scan_at"])
            created += [(tenant_a, doctor_a), (tenant_a, idle_doctor)]
        with tenant_context(tenant_b.insurer):
            doctor_b, profile_b = _watching(page_b, f"b{unique}"[:8], frequency="daily")
            profile_b.pages.update(platform="demo-avis")
            created.append((tenant_b, doctor_b))

        # when the hourly job fires (in the public schema) and the worker drains the queue
        scans_due_all_tenants_task()
        _drain()

        # then each tenant scanned its own due profile, from its own page, and nothing else
        with tenant_context(tenant_a.insurer):
            scans = list(Scan.objects.filter(profile=profile_a).values_list("trigger", "status"))
            assert scans == [("scheduled", "done")]
            assert Scan.objects.filter(profile=idle_profile).count() == 0
            assert sorted(
                Review.objects.filter(page__profile=profile_a).values_list("author", flat=True)
            ) == ["Julie P.", "Marc D.", "Sophie L."]
            assert Review.objects.filter(author="Bruno Z.").count() == 0
        with tenant_context(tenant_b.insurer):
            scans = list(Scan.objects.filter(profile=profile_b).values_list("trigger", "status"))
            assert scans == [("scheduled", "done")]
            assert list(
                Review.objects.filter(page__profile=profile_b).values_list("author", flat=True)
            ) == ["Bruno Z."]
            assert Review.objects.filter(author="Sophie L.").count() == 0
        assert sorted(p for p in review_site.requests if unique in p) == [
            f"/a-{unique}", f"/b-{unique}",
        ]  # fmt: skip
    finally:
        for tenant, doctor in created:
            with tenant_context(tenant.insurer):
                doctor_cleanup(doctor)
