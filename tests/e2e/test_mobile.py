"""On a phone (375 × 812), the public site, the doctor's portal and the monitoring pages fit the
screen: no element's box runs past the viewport's right edge (nothing to scroll sideways).

Boxes are read with Playwright locators (the pages' CSP forbids eval, and the test keeps the
CSP); a full-page screenshot of each page is kept in the test's temporary directory.
"""

from __future__ import annotations

import contextlib

import pytest
from django.db.models import ProtectedError
from django_tenants.utils import tenant_context

from tests.cleanup.factories import doctor_cleanup, doctor_with_policy
from tests.conftest import PASSWORD
from tests.cover.factories import PlanFactory

pytestmark = pytest.mark.usefixtures("committed_db")

WIDTH, HEIGHT = 375, 812
LONG_URL = "https://avis.example.test/medecins/" + "dermatologue-paris-11e-" * 6 + "avis-1234"


def _url(live_server_url: str, host: str, path: str) -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


def overflowing(page) -> list[str]:
    """Elements whose box goes past the viewport's edges, described by tag/id/class/text."""
    found = []
    for element in page.locator("body *").all():
        box = element.bounding_box()
        if box is None or box["width"] == 0:
            continue
        if box["x"] < -1 or box["x"] + box["width"] > WIDTH + 1:
            ident = element.get_attribute("id") or element.get_attribute("class") or ""
            text = (element.text_content() or "").strip().replace("\n", " ")[:50]
            found.append(f"{ident!r} x={box['x']:.0f} w={box['width']:.0f} « {text} »")
    return found


def _seed(tenant_a, unique: str):
    """Plans on sale, a doctor with a policy, a monitoring profile with a long alert."""
    from cleanup.models import Alert, Scan
    from cleanup.services.watch import watch_profile_save
    from cover.services.site import plan_workflow_ensure

    with tenant_context(tenant_a.insurer):
        plan_workflow_ensure()
        plans = [
            PlanFactory(
                name=f"Formule {name} {unique}",
                slug=f"mobile-{slug}-{unique}",
                summary="Veille, nettoyage et prise en charge du constat par un commissaire de "
                "justice.",
                price_cents=price,
                billing_period=period,
                territory_scope="eu",
            )
            for name, slug, price, period in (
                ("Essentielle", "essentielle", 990, "month"),
                ("Sérénité", "serenite", 1990, "month"),
                ("Intégrale", "integrale", 34_900, "year"),
            )
        ]
        for plan in plans:
            plan.save_revision().publish()
        doctor = doctor_with_policy(password=PASSWORD, tag=unique)
        profile = watch_profile_save(
            doctor=doctor,
            name_variants=["Dr Claire Martin"],
            practice_name="Cabinet du Dr Martin",
            city="Lyon",
            specialty="Dermatologie",
            keywords=["dermatologue lyon"],
        )
        scan = Scan.objects.create(profile=profile)
        Alert.objects.create(
            profile=profile,
            scan=scan,
            kind="new_review",
            url=LONG_URL,
            title="Avis Santé — " + LONG_URL,
            text="Un avis très long " * 30,
            rating=1.0,
            band="negative",
            negative=True,
        )
    return plans, doctor


def _cleanup(tenant_a, plans, doctor) -> None:
    with tenant_context(tenant_a.insurer), contextlib.suppress(ProtectedError):
        doctor_cleanup(doctor)
        for plan in plans:
            plan.refresh_from_db()
            plan.versions.all().delete()
            plan.delete()


def test_the_site_portal_and_monitoring_fit_a_phone(
    browser, live_server_url, tenant_a, unique, tmp_path
):
    plans, doctor = _seed(tenant_a, unique)
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="fr-FR")
    page = context.new_page()
    try:
        public = {"accueil": "/", "formules": "/formules/", "guides": "/guides/"}
        private = {
            "espace": "/portail/",
            "contrat": "/portail/contrat/",
            "sinistres": "/portail/sinistres/",
            "veille": "/veille/",
            "profil-de-veille": "/veille/profil/",
        }
        report: dict[str, list[str]] = {}

        def visit(name: str, path: str) -> None:
            response = page.goto(_url(live_server_url, tenant_a.domain, path))
            assert response is not None and response.status == 200, (name, path)
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            found = overflowing(page)
            if found:
                report[f"{name} ({path})"] = found

        for name, path in public.items():
            visit(name, path)
            if name == "accueil":
                # the home page sells: plans with their price and a sign-up button, on screen
                assert page.locator(f"[data-plan='{plans[0].slug}'] .plan-price").inner_text() == (
                    "9,90\u00a0€ par mois"
                )
                assert page.locator("#home-signup").is_visible()
            if name == "formules":
                cell = page.locator("td[data-label]", has_text="349,00\u00a0€ par an").first
                assert cell.is_visible()
        page.goto(_url(live_server_url, tenant_a.domain, "/compte/connexion/"))
        page.fill("input[name=username]", doctor.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/compte/connexion/" not in url)
        for name, path in private.items():
            visit(name, path)
            if name == "veille":
                assert page.locator("#alerts article").count() == 1

        details = "\n".join(f"{where}\n  " + "\n  ".join(lines) for where, lines in report.items())
        assert not report, f"Débordements à 375 px (captures : {tmp_path}) :\n{details}"
        assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
            f"{n}.png" for n in {**public, **private}
        )
    finally:
        context.close()
        _cleanup(tenant_a, plans, doctor)
