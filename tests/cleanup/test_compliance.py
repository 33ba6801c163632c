"""Platform compliance flags F1–F12 (DOMAIN §6.2) and the SignalConso pre-fill (§6.3)."""

from __future__ import annotations

from datetime import date

from cleanup.compliance import (
    FLAGS,
    NOT_CHECKABLE,
    CompanyInfo,
    legal_notice_parse,
    platform_compliance_check,
    signalconso_prefill,
)
from cleanup.extract import reviews_extract
from cleanup.fetch import page_fetch
from tests.cleanup.conftest import LOOPBACK, demo_page, jsonld_page

POOR_REVIEWS = [
    {"id": "1", "author": "Anne", "date": "2024-05-02", "rating": "5",
     "text": "Excellent médecin, je recommande vivement !"},
    {"id": "2", "author": "Bruno", "date": "2024-05-02", "rating": "5",
     "text": "Excellent médecin, je recommande vivement !"},
    {"id": "3", "author": "Chloé", "date": "", "rating": "1", "text": "Jamais à l'heure."},
]  # fmt: skip
POOR_EXTRA = (
    "<div>Trier par : les plus pertinents</div>"
    "<footer><a href='/mentions-legales'>Mentions légales</a> <a href='/cgu'>CGU</a></footer>"
)

GOOD_REVIEWS = [
    {"author": "Denise", "date": "2024-01-15", "rating": "4", "text": "Écoute et clarté."},
    {"author": "Éric", "date": "2024-02-20", "rating": "2", "text": "Retard de 40 minutes."},
]
GOOD_EXTRA = """
<p>Les avis font l'objet d'un contrôle avant publication.</p>
<p>Les avis sont classés par ordre chronologique, du plus récent au plus ancien.</p>
<ul><li>Date de la consultation : 10/01/2024</li><li>Date de la consultation : 18/02/2024</li></ul>
<a href="/fonctionnement-des-avis">Fonctionnement des avis</a>
<button aria-label="Signaler cet avis">⚑</button>
<a href="/mentions-legales">Mentions légales</a>
"""
GOOD_SECTION = """<html><body><h1>Fonctionnement des avis</h1>
<p>Aucune contrepartie n'est accordée en échange d'un avis.</p>
<p>Les avis sont publiés pendant 3 ans puis supprimés.</p>
<p>Chaque avis est lu par une modération humaine sous 48 heures ; les motifs de rejet sont
communiqués à l'auteur.</p>
<p>Nous vérifions que l'auteur a bien pris rendez-vous via la plateforme.</p>
</body></html>"""
GOOD_LEGAL = """<html><body><h1>Mentions légales</h1>
<p>Éditeur : Avis Santé SAS, au capital de 10 000 €</p>
<p>Siège social : 5 rue de la Paix, 75002 Paris</p>
<p>RCS Paris 123 456 789</p>
<p>Directeur de la publication : Jeanne Durand</p>
<p>Hébergeur : Nuage Exemple SARL, 1 quai du Port, 13002 Marseille</p>
</body></html>"""


def _statuses(report):
    return {r.code: r.status for r in report.results}


def _poor_report(review_site):
    url = review_site.put(
        "/plateforme/dr-martin",
        demo_page(reviews=POOR_REVIEWS, rating="3.7", count=3, extra=POOR_EXTRA),
    )
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    extract = reviews_extract(html=page.html, url=url, platform="demo-avis")
    return platform_compliance_check(html=page.html, url=url, extract=extract)


def test_non_compliant_platform_page(review_site):
    # when: only the review page is available
    report = _poor_report(review_site)
    # then
    assert _statuses(report) == {
        "F1": "fail", "F2": "fail", "F3": "fail", "F4": "fail", "F5": "fail",
        "F6": "not_checkable", "F7": "not_checkable", "F8": "not_checkable",
        "F9": "not_checkable", "F10": "fail", "F11": "not_checkable", "F12": "fail",
    }  # fmt: skip
    assert report.result("F1").evidence == ("1 avis sur 3 sans date de publication",)
    assert report.result("F2").evidence == ("aucune date d'expérience pour 3 avis",)
    assert report.result("F11").evidence == ("lien « mentions légales » présent",)
    assert report.result("F12").evidence == (
        "texte identique dans 2 avis : « excellent medecin, je recommande vivement ! »",
    )
    assert report.result("F6").status_label == "Non vérifiable depuis la page"
    assert [r.code for r in report.failures] == ["F1", "F2", "F3", "F4", "F5", "F10", "F12"]
    assert report.company is None


def test_compliant_platform_with_its_section_and_legal_pages(review_site):
    # given
    page_url = review_site.put(
        "/ok/dr-martin",
        jsonld_page(reviews=GOOD_REVIEWS, rating="3", count=2).replace(
            "</body>", GOOD_EXTRA + "</body>"
        ),
    )
    page = page_fetch(url=page_url, allowed_networks=LOOPBACK)
    extract = reviews_extract(html=page.html, url=page_url, platform=None)
    # when
    report = platform_compliance_check(
        html=page.html,
        url=page_url,
        extract=extract,
        section_html=GOOD_SECTION,
        legal_html=GOOD_LEGAL,
    )
    # then
    assert _statuses(report) == {flag.code: "pass" for flag in FLAGS}
    assert report.failures == ()
    evidence = {r.code: r.evidence for r in report.results}
    assert evidence == {
        "F1": ("2 avis datés sur 2",),
        "F2": ("date de l'expérience pour 2 avis sur 2",),
        "F3": ("Les avis font l'objet d'un contrôle avant publication.",),
        "F4": ("Les avis sont classés par ordre chronologique, du plus récent au plus ancien.",),
        "F5": ("fonctionnement des avis → /fonctionnement-des-avis",),
        "F6": ("Aucune contrepartie n'est accordée en échange d'un avis.",),
        "F7": ("Les avis sont publiés pendant 3 ans puis supprimés.",),
        "F8": ("Chaque avis est lu par une modération humaine sous 48 heures ; les motifs de "
               "rejet sont communiqués à l'auteur.",),
        "F9": ("Nous vérifions que l'auteur a bien pris rendez-vous via la plateforme.",),
        "F10": ("⚑ signaler cet avis",),
        "F11": ("éditeur : Avis Santé SAS, au capital de 10 000 €",
                "directeur de la publication : Jeanne Durand",
                "hébergeur : Nuage Exemple SARL, 1 quai du Port, 13002 Marseille"),
        "F12": ("aucun indice relevé",),
    }  # fmt: skip
    assert report.company == CompanyInfo(
        name="Avis Santé SAS, au capital de 10 000 €",
        siren="123456789",
        address="5 rue de la Paix, 75002 Paris",
        publication_director="Jeanne Durand",
        host="Nuage Exemple SARL, 1 quai du Port, 13002 Marseille",
    )


def test_control_features_not_applicable_when_no_control_is_claimed():
    # given: the section says reviews are not checked at all (F9 is then disclosed, F8 moot)
    html = demo_page(reviews=POOR_REVIEWS[:1], rating="5", count=1)
    extract = reviews_extract(html=html, url="https://avis-demo.test/a", platform="demo-avis")
    section = "<p>Nous ne vérifions pas l'identité des auteurs des avis.</p>"
    # when
    report = platform_compliance_check(
        html=html, url="https://avis-demo.test/a", extract=extract, section_html=section
    )
    # then
    assert report.result("F8").status == "not_applicable"
    assert report.result("F9").status == "pass"
    assert report.result("F6").status == "fail"
    assert report.result("F7").status == "fail"


def test_legal_page_missing_the_host_fails_f11():
    html = "<html><body><p>Aucun avis.</p></body></html>"
    extract = reviews_extract(html=html, url="https://x.example/", platform=None)
    legal = "<p>Édité par : Notes Médicales SARL</p><p>Directrice de publication : A. B.</p>"
    report = platform_compliance_check(html=html, url="https://x.example/", extract=extract,
                                       legal_html=legal)  # fmt: skip
    assert report.result("F11").status == "fail"
    assert report.result("F11").evidence == ("absent : hébergeur",)
    assert report.result("F1").status == "unknown"
    assert report.result("F12").status == "unknown"


def test_burst_of_top_ratings_and_incentive_wording_are_fake_review_signs():
    # given: five 5-star reviews the same day, and an offer in exchange for a review
    reviews = [
        {"id": str(i), "author": f"P{i}", "date": "2024-09-09", "rating": "5", "text": f"Top {i}"}
        for i in range(5)
    ]
    html = demo_page(reviews=reviews, rating="5", count=5,
                     extra="<p>Un bon de réduction pour votre avis !</p>")  # fmt: skip
    extract = reviews_extract(html=html, url="https://avis-demo.test/b", platform="demo-avis")
    # when
    result = platform_compliance_check(html=html, url="https://avis-demo.test/b", extract=extract)
    # then
    assert result.result("F12").status == "fail"
    assert result.result("F12").evidence == (
        "5 avis très positifs publiés le 09/09/2024",
        "Un bon de réduction pour votre avis !",
    )


def test_legal_notice_parse_reads_labelled_lines():
    assert legal_notice_parse(html=GOOD_LEGAL).siren == "123456789"
    assert legal_notice_parse(html="<p>Rien ici</p>") == CompanyInfo()


def test_signalconso_prefill_lists_the_failures_in_french(review_site):
    # given
    report = _poor_report(review_site)
    company = CompanyInfo(name="Plateforme Démo SAS", siren="987654321", address="1 rue A, Paris")
    # when
    draft = signalconso_prefill(report=report, found_on=date(2024, 6, 3), company=company)
    # then
    assert dict(draft.fields) == {
        "Secteur": "Santé",
        "Type de problème": "Avis en ligne : informations obligatoires absentes ou incomplètes",
        "Date du constat": "03/06/2024",
        "Nom de l'entreprise": "Plateforme Démo SAS",
        "SIREN": "987654321",
        "Adresse de l'entreprise": "1 rue A, Paris",
        "Site internet": report.url,
        "Je travaille dans cette entreprise": "Non",
        "Rester anonyme vis-à-vis de l'entreprise": "Oui",
    }
    assert draft.description == "\n".join(
        [
            f"Le 03/06/2024, sur la page {report.url}, j'ai constaté que les informations prévues"
            " pour les sites qui publient des avis en ligne (article L111-7-2 et articles D111-16"
            " et suivants du Code de la consommation) ne sont pas fournies ou sont incomplètes :",
            "- la date de publication n'est pas indiquée pour chaque avis [C. conso D111-17]"
            " (1 avis sur 3 sans date de publication).",
            "- la date de l'expérience de consommation n'est pas indiquée pour chaque avis"
            " [C. conso D111-17] (aucune date d'expérience pour 3 avis).",
            "- aucune mention n'indique, à proximité des avis, s'ils font l'objet d'un contrôle"
            " [C. conso D111-17].",
            "- les critères de classement des avis ne sont pas indiqués [C. conso D111-17].",
            "- aucune rubrique dédiée au fonctionnement des avis n'est accessible depuis la page"
            " [C. conso D111-18 (numéro non vérifié)].",
            "- aucun moyen électronique de signaler un avis ou un contenu illicite n'est visible"
            " [DSA art. 16 §1].",
            "- la page présente des indices d'avis faux ou obtenus contre une contrepartie"
            " [C. conso L121-4 28°] (texte identique dans 2 avis : « excellent medecin, je"
            " recommande vivement ! »).",
            "Je vous remercie de bien vouloir examiner ces éléments.",
        ]
    )
    assert len(draft.attachments) == 7
    assert draft.attachments[0] == f"Capture de la page {report.url} du 03/06/2024 (F1)"
    assert len(draft.warnings) == 3
    assert draft.warnings[1].startswith("À vérifier : SignalConso est conçu pour les consommateurs")


def test_signalconso_prefill_without_failures_or_company_warns():
    html = "<html><body></body></html>"
    extract = reviews_extract(html=html, url="https://x.example/", platform=None)
    report = platform_compliance_check(html=html, url="https://x.example/", extract=extract)
    report = type(report)(url=report.url, results=tuple(
        r for r in report.results if r.status == NOT_CHECKABLE))  # fmt: skip
    draft = signalconso_prefill(report=report, found_on=date(2024, 6, 3), anonymous=False)
    assert draft.warnings[-2:] == (
        "Aucun manquement relevé : rien à signaler.",
        "Entreprise non identifiée : compléter depuis les mentions légales.",
    )
    assert draft.fields["Rester anonyme vis-à-vis de l'entreprise"] == "Non"
    assert draft.attachments == ()
