"""The capture report's HTML comes from its template file, rendered by a standalone engine:
escaped, and the same whatever the project's template, language or number settings."""

from __future__ import annotations

from django.utils import translation

from evidence.report import report_html
from tests.evidence.test_capture_report import HASHES, _capture

HEAD = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
    "<title>Rapport de capture</title><style>\n@page { size: A4;"
)


def test_report_html_is_one_document_with_its_tags_joined() -> None:
    html = report_html(capture=_capture(), file_hashes=HASHES)

    assert html.startswith(HEAD)
    assert html.endswith("</body></html>")
    assert '<h2>9. Journal des interactions</h2><table class="list"><colgroup>' in html
    assert (
        "<tr><th>Hôte de l&#x27;adresse demandée</th><td>avis.example</td></tr>"
        "<tr><th>Réponses DNS</th><td>198.51.100.20</td></tr>"
    ) in html


def test_report_html_escapes_what_the_page_controls() -> None:
    capture = _capture(title="<script>alert('x')</script> & co", error='<b>"panne"</b>')

    html = report_html(capture=capture, file_hashes={"a<b>.html": "<digest>"})

    assert "<script>" not in html
    assert "<b>" not in html
    assert "<td>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co</td>" in html
    assert "<td>&lt;b&gt;&quot;panne&quot;&lt;/b&gt;</td>" in html
    assert '<td>a&lt;b&gt;.html</td><td><span class="mono">&lt;digest&gt;</span></td>' in html


def test_report_html_says_what_is_missing() -> None:
    html = report_html(capture={}, file_hashes={})

    assert "<tr><th>Machine</th><td>non renseigné</td></tr>" in html
    assert "<p>Aucune réponse reçue pour le document principal.</p>" in html
    assert "<p>Aucune requête bloquée.</p>" in html
    assert "<p>Aucune connexion HTTPS.</p>" in html


def test_report_html_ignores_the_project_template_and_locale_settings(settings) -> None:
    expected = report_html(capture=_capture(), file_hashes=HASHES)

    settings.TEMPLATES = []
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("fr"):
        french = report_html(capture=_capture(), file_hashes=HASHES)
    with translation.override("en"):
        english = report_html(capture=_capture(), file_hashes=HASHES)

    assert french == expected
    assert english == expected
    assert "décalage de 0.012 s par rapport au serveur NTP ntp.example:123" in expected
    assert "<td>1366 × 900 px</td>" in expected
