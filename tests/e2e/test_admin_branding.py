"""The insurer's Wagtail admin wears the insurer's brand, never Wagtail's nor Égide's (Chromium).

Insurer A's admin signs in (password, then second factor) on A's host: the login page, the
dashboard and the branding form show A's name and colour, no Wagtail bird, no « Wagtail » nor
« Égide » text, no link to wagtail.org and no Gravatar request; nothing of insurer B appears.
The branding form has colour pickers and a live preview. A claims handler lands on the claims
queue.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tests.browser import expect
from tests.conftest import PASSWORD, browser_second_factor
from tests.tenants.factories import ClaimsHandlerFactory

pytestmark = pytest.mark.usefixtures("committed_db")

A_COLOUR_RGB = (11, 79, 108)  # #0b4f6c, insurer A's primary colour (tests/conftest.py)
B_COLOUR = "rgb(91, 42, 134)"  # #5b2a86, insurer B's


def _base(live_server_url: str, host: str) -> str:
    return f"http://{host}:{live_server_url.rsplit(':', 1)[1]}"


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", css)[:3])


def _close(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return len(actual) == 3 and all(abs(a - e) <= 1 for a, e in zip(actual, expected, strict=True))


def _no_foreign_brand(page) -> None:
    text = page.locator("body").inner_text()
    html = page.content()
    assert "Wagtail" not in text
    assert "Égide" not in text
    assert "Assureur test B" not in html
    assert "wagtail.org" not in html
    assert page.locator("svg.icon-wagtail").count() == 0


def test_insurer_a_admin_sees_a_brand_only(page, live_server_url, tenant_a, tenant_b):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    base = _base(live_server_url, tenant_a.domain)

    page.goto(f"{base}/admin/login/")
    expect(page.locator("h1")).to_have_text("Connexion à l'espace de gestion Assureur test A")
    assert page.title() == "Connexion - Assureur test A"
    _no_foreign_brand(page)

    page.fill("#id_username", tenant_a.admin_email)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator(".site-header .brand-name")).to_have_text("Assureur test A")
    browser_second_factor(page, tenant_a.admin_email)
    page.wait_for_url(f"{base}/admin/")  # an insurer admin lands on the dashboard

    expect(page.locator("#wagtail-sidebar .egide-brand-name")).to_have_text("Assureur test A")
    expect(page.locator("h1")).to_contain_text("Espace de gestion Assureur test A")
    assert page.title() == "Tableau de bord - Assureur test A"
    sidebar = page.evaluate("getComputedStyle(document.querySelector('.sidebar')).backgroundColor")
    assert _close(_rgb(sidebar), A_COLOUR_RGB), sidebar
    _no_foreign_brand(page)

    # The branding form: colour pickers, and a preview that follows them before saving.
    page.goto(f"{base}/admin/settings/cover/branding/")
    pickers = page.locator("input[type=color]")
    expect(pickers).to_have_count(2)
    assert page.input_value("[name=primary_colour]") == "#0b4f6c"
    header = page.locator("[data-preview-header]")
    expect(page.locator("[data-preview-name]")).to_have_text("Assureur test A")
    assert _close(_rgb(header.evaluate("e => getComputedStyle(e).backgroundColor")), A_COLOUR_RGB)
    page.fill("[name=primary_colour]", "#ff0000")
    page.fill("[name=display_name]", "Nom essayé")
    expect(page.locator("[data-preview-name]")).to_have_text("Nom essayé")
    expect(header).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(page.locator("[data-preview-button]")).to_be_visible()
    _no_foreign_brand(page)
    assert B_COLOUR not in page.content()

    assert [url for url in requests if "gravatar" in url] == []
    assert [url for url in requests if not url.startswith("http://")] == []
    assert all(f":{live_server_url.rsplit(':', 1)[1]}/" in url for url in requests)


def test_insurer_b_admin_login_shows_b_not_a(page, live_server_url, tenant_a, tenant_b):
    page.goto(f"{_base(live_server_url, tenant_b.domain)}/admin/login/")

    expect(page.locator("h1")).to_have_text("Connexion à l'espace de gestion Assureur test B")
    assert "Assureur test A" not in page.content()
    assert page.locator("svg.icon-wagtail").count() == 0


def test_a_claims_handler_lands_on_the_claims_queue(page, live_server_url, tenant_a, unique):
    email = f"gestion.{unique}@exemple.fr"
    with tenant_context(tenant_a.insurer):
        ClaimsHandlerFactory(email=email)
    base = _base(live_server_url, tenant_a.domain)
    try:
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", PASSWORD)
        page.click("form button[type=submit]")
        browser_second_factor(page, email)
        page.wait_for_url(f"{base}/admin/sinistres/")
        expect(page.locator("#wagtail-sidebar .egide-brand-name")).to_have_text("Assureur test A")
        _no_foreign_brand(page)
    finally:
        with tenant_context(tenant_a.insurer):
            get_user_model().objects.filter(username=email).delete()
