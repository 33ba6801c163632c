"""A person opening two insurers' hosts in Chromium sees two different insurers."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, browser_second_factor

pytestmark = pytest.mark.usefixtures("committed_db")


def _url(live_server_url: str, host: str, path: str = "/") -> str:
    port = live_server_url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


def test_two_insurers_two_sites(page, live_server_url, tenant_a, tenant_b):
    page.goto(_url(live_server_url, tenant_a.domain))
    name_a = page.locator(".brand-name").inner_text()
    colour_a = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    logo_a = page.locator("img.brand-logo").count()

    page.goto(_url(live_server_url, tenant_b.domain))
    name_b = page.locator(".brand-name").inner_text()
    colour_b = page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )

    assert name_a == "Assureur test A"
    assert name_b == "Assureur test B"
    assert colour_a == "rgb(11, 79, 108)"
    assert colour_b == "rgb(91, 42, 134)"
    assert logo_a == 0  # the test insurers have no logo; the demo ones do


def test_admin_of_a_signs_in_to_wagtail_on_a_but_not_on_b(
    page, live_server_url, tenant_a, tenant_b
):
    page.goto(_url(live_server_url, tenant_a.domain, "/admin/login/"))
    page.fill("input[name=username]", tenant_a.admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    browser_second_factor(page, tenant_a.admin_email)
    page.wait_for_url("**/admin/")
    assert "Tableau de bord" in page.title()

    page.goto(_url(live_server_url, tenant_b.domain, "/admin/login/"))
    page.fill("input[name=username]", tenant_a.admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/login/")
    assert page.locator("li.error").inner_text() == (
        "Votre nom d’utilisateur et votre mot de passe ne correspondent à aucun utilisateur. "
        "Veuillez essayer de nouveau."
    )
