"""Every page a doctor or an insurer admin sees reads as French written for them.

Insurer A gets the demo's data (site pages, plans, the doctor's policy and claim, a monitoring
profile); the pages are rendered by the real app and their visible text (text nodes outside
script/style, and the attributes a person reads: placeholder, title, alt, aria-label, button
values) must not contain: « (e) » forms, English strings left untranslated, amounts « en
centimes », the raw DOMAIN tags « [UNVERIFIED] » / « [CONFLICT] », or the names « Wagtail » and
« Égide » (the insurer's brand only). One report lists every finding, page by page.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from tests.conftest import staff_login
from tests.cover.claims_factories import doctor_create, handler_create

pytestmark = pytest.mark.django_db

# Gender-inclusive brackets (« un(e) », « sûr(e) », « ce(tte) », « Le(la) », « nouveau(elle) »).
GENDER_FORM = re.compile(
    r"\w\((?:e|es|le|la|elle|tte|ne|euse|rice|trice)\)|\b(?:le/la|il/elle|ce/cette|un/une)\b",
    re.IGNORECASE,
)
# Untranslated English seen in Wagtail/Django screens; whole words, case-sensitive.
ENGLISH = (
    "Save",
    "Delete",
    "Dashboard",
    "Not available",
    "True",
    "False",
    "None",
    "Schema name",
    "Edit",
    "Cancel",
    "Submit",
    "Settings",
    "Search",
    "Sign out",
    "Log out",
    "Log in",
    "Username",
    "Password",
    "Required",
    "Loading",
    "Close",
    "Previous",
    "Next",
    "Status",
    "Created",
    "Updated",
    "Unknown",
    "Choose",
    "Upload",
    "Help",
    "Page not found",
    "Server error",
    "is required",
    "This field",
)
# Product names that are English on purpose (the search providers an insurer chooses from).
PROPER_NAMES = re.compile(r"Brave Search|Programmable Search")
ENGLISH_RE = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w-])")
FORBIDDEN = (
    (re.compile(r"centimes?", re.IGNORECASE), "montant en centimes"),
    (re.compile(r"\[(?:UNVERIFIED|CONFLICT)\]|\bUNVERIFIED\b|\bCONFLICT\b"), "étiquette DOMAIN"),
    (re.compile(r"wagtail", re.IGNORECASE), "marque Wagtail"),
    (re.compile(r"[ÉE]gide\b"), "marque Égide"),
)
READ_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label")


def visible_texts(html: str) -> list[str]:
    """Text a person reads: text nodes outside script/style/template and ``hidden`` elements
    (Wagtail's empty counters say « None » until its script fills them), and read attributes."""
    tree = lxml.html.fromstring(html)
    hidden = [e for e in tree.iter() if isinstance(e.tag, str) and e.get("hidden") is not None]
    for element in [*tree.iter("script", "style", "template", "noscript"), *hidden]:
        if element.getparent() is not None:
            element.drop_tree()
    texts = [t.strip() for t in tree.itertext() if t and t.strip()]
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in READ_ATTRIBUTES:
            value = element.get(name)
            if value and value.strip():
                texts.append(value.strip())
        if element.tag in ("input", "button") and element.get("type") in ("submit", "button"):
            if element.get("value"):
                texts.append(element.get("value").strip())
    return texts


def findings(html: str) -> list[str]:
    found: list[str] = []
    for text in visible_texts(html):
        if GENDER_FORM.search(text):
            found.append(f"forme « (e) » : {text[:120]!r}")
        match = ENGLISH_RE.search(PROPER_NAMES.sub("", text))
        if match:
            found.append(f"anglais « {match.group(0)} » : {text[:120]!r}")
        for pattern, why in FORBIDDEN:
            if pattern.search(text):
                found.append(f"{why} : {text[:120]!r}")
    return sorted(set(found))


def check_pages(
    client: Client, pages: dict[str, tuple[str, str]], *, keep: Path
) -> dict[str, list[str]]:
    """GET each page: it must answer 200 with its expected text and no finding; returns what
    is wrong, page by page (a page that does not open is a finding too)."""
    report: dict[str, list[str]] = {}
    for name, (url, expected) in pages.items():
        response = client.get(url)
        if response.status_code != 200:
            report[f"{name} ({url})"] = [
                f"HTTP {response.status_code} {response.get('Location', '')}".strip()
            ]
            continue
        html = response.content.decode()
        found = [] if expected in html else [f"« {expected} » absent de la page"]
        found += findings(html)
        if found:
            saved = keep / (re.sub(r"\W+", "-", name).strip("-") + ".html")
            saved.write_text(html)
            report[f"{name} ({url}) [{saved}]"] = found
    return report


def format_report(report: dict[str, list[str]]) -> str:
    return "\n".join(
        f"{page}\n" + "\n".join(f"    - {line}" for line in lines) for page, lines in report.items()
    )


def demo_like_insurer_a(tenant_a):
    """Insurer A with what the demo seeds: site pages, plans, a doctor with policy, claim and
    monitoring profile."""
    from cleanup.services.watch import watch_profile_save
    from cover.claims.demo import claims_demo_seed
    from cover.demo import demo_offer_seed

    doctor = doctor_create(email="dr.francais@exemple.fr", last_name="Martin")
    demo_offer_seed(doctor_email=doctor.user.username)
    claim = claims_demo_seed(doctor_email=doctor.user.username)
    assert claim is not None
    watch_profile_save(
        doctor=doctor,
        name_variants=["Dr Claire Martin"],
        practice_name="Cabinet du Dr Martin",
        city="Paris",
        specialty="Dermatologie",
        keywords=[],
    )
    return doctor, claim


def test_the_checks_catch_what_they_are_meant_to():
    html = (
        "<html><head><script>var Save = true; // Wagtail</script><style>.False{}</style></head>"
        "<body data-x='Delete'><p>Ajouter un(e) formule</p><button>Save</button>"
        "<p>Prix TTC (centimes)</p><p>[UNVERIFIED] délai</p><p>Powered by Wagtail</p>"
        "<input placeholder='Search'><p>Égide</p><p>Contrat : Impayé</p></body></html>"
    )
    found = findings(html)
    assert found == sorted(
        [
            "forme « (e) » : 'Ajouter un(e) formule'",
            "anglais « Save » : 'Save'",
            "montant en centimes : 'Prix TTC (centimes)'",
            "étiquette DOMAIN : '[UNVERIFIED] délai'",
            "marque Wagtail : 'Powered by Wagtail'",
            "anglais « Search » : 'Search'",
            "marque Égide : 'Égide'",
        ]
    )
    assert findings("<p>Enregistrer</p><p>Supprimer</p><p>Contrat n° 12 : En vigueur</p>") == []
    assert findings("<p>Verrouillez le/la</p>") == ["forme « (e) » : 'Verrouillez le/la'"]
    assert findings("<option>Brave Search API</option>") == []
    assert findings("<div hidden>None</div><p>Statut</p>") == []


def test_the_doctor_pages_read_as_french(tenant_a, tmp_path):
    with tenant_context(tenant_a.insurer):
        doctor, claim = demo_like_insurer_a(tenant_a)
        client = Client(HTTP_HOST=tenant_a.domain)
        public = check_pages(
            client,
            {
                "accueil": ("/", "9,90\u00a0€ par mois"),
                "formules": ("/formules/", "Sérénité"),
                "guides": ("/guides/", "Guides de prévention"),
                "guide": ("/guides/veille/", "Surveiller sa réputation"),
                "FAQ": ("/faq/", "Questions fréquentes"),
                "mentions légales": ("/mentions-legales/", "Mentions légales"),
                "connexion": (reverse("portal:login"), "Se connecter"),
                "inscription": (reverse("portal:signup") + "?formule=serenite", "Sérénité"),
            },
            keep=tmp_path,
        )
        client.force_login(doctor.user)
        policy = doctor.policies.get()
        portal = check_pages(
            client,
            {
                "espace assuré": (reverse("portal:home"), policy.number),
                "contrat": (reverse("portal:policy"), policy.number),
                "profil": (reverse("portal:profile"), "Martin"),
                "sinistres": (reverse("claims:list"), claim.reference),
                "sinistre": (reverse("claims:detail", args=[claim.pk]), claim.reference),
                "déclarer un sinistre": (reverse("claims:new"), "<form"),
                "veille": (reverse("cleanup:dashboard"), "Veille e-réputation"),
                "profil de veille": (reverse("cleanup:profile"), "Dr Claire Martin"),
                "demandes de suppression": (reverse("cleanup:requests"), "<h1"),
                "plan de publication": (reverse("cleanup:content"), "<h1"),
            },
            keep=tmp_path,
        )
    report = {**public, **portal}
    assert not report, "Pages du médecin :\n" + format_report(report)


def test_the_insurer_staff_pages_read_as_french(tenant_a, tmp_path):
    from django.contrib.auth import get_user_model
    from wagtail.contrib.settings.registry import registry
    from wagtail.models import Site

    from cover.models import Plan

    with tenant_context(tenant_a.insurer):
        _doctor, claim = demo_like_insurer_a(tenant_a)
        admin = get_user_model().objects.get(username=tenant_a.admin_email)
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        site = Site.objects.get(is_default_site=True)
        plan = Plan.objects.get(slug="serenite")
        pages = {
            "tableau de bord": ("/admin/", "<main"),
            "pages": (f"/admin/pages/{site.root_page_id}/", site.root_page.title),
            "page d'accueil (édition)": (
                f"/admin/pages/{site.root_page_id}/edit/",
                'name="headline"',
            ),
            "formules": ("/admin/snippets/cover/plan/", "Sérénité"),
            "formule (édition)": (f"/admin/snippets/cover/plan/edit/{plan.pk}/", "Sérénité"),
            "formule (ajout)": ("/admin/snippets/cover/plan/add/", "<form"),
            "compte": ("/admin/account/", "<form"),
        }
        for model in registry:
            meta = model._meta
            pages[f"réglages : {meta.verbose_name}"] = (
                reverse("wagtailsettings:edit", args=[meta.app_label, meta.model_name, site.pk]),
                "<form",
            )
        report = check_pages(client, pages, keep=tmp_path)
        # The claim pages of the insurer's admin are the handlers' (the admin is sent away).
        handler_client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(handler_client, handler_create())
        report |= check_pages(
            handler_client,
            {
                "sinistres": (reverse("claims_admin:queue"), claim.reference),
                "sinistre": (reverse("claims_admin:detail", args=[claim.pk]), claim.reference),
                "tableau de bord du gestionnaire": ("/admin/", "<main"),
            },
            keep=tmp_path,
        )
    assert not report, "Administration de l'assureur :\n" + format_report(report)
