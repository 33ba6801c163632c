"""Fetching watched pages: charsets, limits, clear errors, address guard, browser fallback."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from cleanup.fetch import (
    BlockedAddressError,
    FetchLimits,
    HttpStatusError,
    MalformedUrlError,
    NotHtmlError,
    TooLargeError,
    TooManyRedirectsError,
    UnreachableError,
    address_allowed,
    page_fetch,
    url_check,
)
from cleanup.render import page_scan
from tests.cleanup.conftest import JS_APP, JS_SHELL_PAGE, LOOPBACK, SCAN1_REVIEWS, jsonld_page

LATIN1_HTML = "<html><body><p>Très déçu par l'accueil, médecin pressé.</p></body></html>"


def test_utf8_page_is_decoded_and_described(review_site):
    # given
    url = review_site.put("/ok", "<html><body><p>Médecin à l'écoute</p></body></html>")
    # when
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # then
    assert page.html == "<html><body><p>Médecin à l'écoute</p></body></html>"
    assert page.encoding == "utf-8"
    assert page.status_code == 200
    assert page.content_type == "text/html"
    assert page.size == len("<html><body><p>Médecin à l'écoute</p></body></html>".encode())
    assert page.final_url == url
    assert page.rendered is False


def test_latin1_page_declared_in_http_header_is_decoded(review_site):
    # given: the bytes are ISO-8859-1, the header says so
    url = review_site.put(
        "/latin1", LATIN1_HTML.encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
    )
    # when
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # then: ISO-8859-1 is read as its WHATWG superset windows-1252
    assert page.html == LATIN1_HTML
    assert page.encoding == "cp1252"


def test_latin1_page_declared_only_in_meta_is_decoded(review_site):
    # given
    html = '<html><head><meta charset="iso-8859-1"></head><body>Désagréable</body></html>'
    url = review_site.put("/meta", html.encode("latin-1"), content_type="text/html")
    # when
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # then
    assert page.html == html
    assert page.encoding == "cp1252"


def test_undeclared_non_utf8_page_falls_back_to_windows_1252(review_site):
    # given: no charset anywhere, bytes that are not valid UTF-8 (’ is 0x92 in cp1252)
    html = "<html><body>L’attente était très longue</body></html>"
    url = review_site.put("/undeclared", html.encode("cp1252"), content_type="text/html")
    # when
    page = page_fetch(url=url, allowed_networks=LOOPBACK)
    # then
    assert page.html == html
    assert page.encoding == "cp1252"


@pytest.mark.parametrize(
    "url",
    ["127.0.0.1/page", "ftp://127.0.0.1/page", "http://[::1/page", "http:///page", ""],
)
def test_malformed_url_is_refused_before_any_request(url, review_site):
    # when / then
    with pytest.raises(MalformedUrlError) as caught:
        page_fetch(url=url, allowed_networks=LOOPBACK)
    assert caught.value.code == "malformed_url"
    assert caught.value.retryable is False
    assert review_site.requests == []


def test_closed_port_is_reported_unreachable_and_retryable():
    # given: a port that was just released, so nothing listens on it
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    # when / then
    with pytest.raises(UnreachableError) as caught:
        page_fetch(url=f"http://127.0.0.1:{port}/", allowed_networks=LOOPBACK)
    assert caught.value.code == "unreachable"
    assert caught.value.retryable is True


def test_slow_page_hits_the_read_timeout(review_site):
    # given
    url = review_site.put("/slow", "<html></html>", delay_s=1.0)
    limits = FetchLimits(read_s=0.2)
    # when / then
    with pytest.raises(UnreachableError) as caught:
        page_fetch(url=url, limits=limits, allowed_networks=LOOPBACK)
    assert str(caught.value) == "Délai dépassé en contactant 127.0.0.1"


def test_pdf_is_not_html(review_site):
    # given
    url = review_site.put("/avis.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
    # when / then
    with pytest.raises(NotHtmlError) as caught:
        page_fetch(url=url, allowed_networks=LOOPBACK)
    assert caught.value.content_type == "application/pdf"
    assert str(caught.value) == "Ce n'est pas une page HTML (type application/pdf)"


def test_body_without_content_type_is_sniffed(review_site):
    # given
    html_url = review_site.put(
        "/sniff-html", "<!DOCTYPE html><html><body>ok</body></html>", content_type=None
    )
    binary_url = review_site.put("/sniff-bin", b"\x89PNG\r\n\x1a\n", content_type=None)
    # when
    page = page_fetch(url=html_url, allowed_networks=LOOPBACK)
    # then
    assert page.html == "<!DOCTYPE html><html><body>ok</body></html>"
    with pytest.raises(NotHtmlError) as caught:
        page_fetch(url=binary_url, allowed_networks=LOOPBACK)
    assert caught.value.content_type == ""


@pytest.mark.parametrize(
    ("status", "retryable"), [(404, False), (410, False), (503, True), (429, True)]
)
def test_http_error_status_is_reported_with_retryability(status, retryable, review_site):
    # given
    url = review_site.put("/err", "<html>erreur</html>", status=status)
    # when / then
    with pytest.raises(HttpStatusError) as caught:
        page_fetch(url=url, allowed_networks=LOOPBACK)
    assert caught.value.status_code == status
    assert caught.value.retryable is retryable
    assert str(caught.value) == f"Le site a répondu HTTP {status}"


def test_size_cap_applies_to_announced_length(review_site):
    # given
    url = review_site.put("/big", "<html>" + "x" * 2000 + "</html>")
    # when / then
    with pytest.raises(TooLargeError) as caught:
        page_fetch(url=url, limits=FetchLimits(max_bytes=1000), allowed_networks=LOOPBACK)
    assert str(caught.value) == "Page trop volumineuse : 2013 octets annoncés (limite 1000)"


def test_size_cap_applies_while_streaming_without_length(review_site):
    # given: no Content-Length, the body ends when the connection closes
    url = review_site.put("/big-stream", "<html>" + "x" * 5000 + "</html>", send_length=False)
    # when / then
    with pytest.raises(TooLargeError) as caught:
        page_fetch(url=url, limits=FetchLimits(max_bytes=1000), allowed_networks=LOOPBACK)
    assert str(caught.value) == "Page trop volumineuse : plus de 1000 octets"


def test_redirect_is_followed_and_final_url_recorded(review_site):
    # given
    target = review_site.put("/medecin/martin", "<html><body>fiche</body></html>")
    start = review_site.put("/m/42", b"", status=301, headers={"Location": "/medecin/martin"})
    # when
    page = page_fetch(url=start, allowed_networks=LOOPBACK)
    # then
    assert page.url == start
    assert page.final_url == target
    assert review_site.requests == ["/m/42", "/medecin/martin"]


def test_redirect_loop_stops(review_site):
    # given
    review_site.put("/a", b"", status=302, headers={"Location": "/b"})
    url = review_site.put("/b", b"", status=302, headers={"Location": "/a"})
    # when / then
    with pytest.raises(TooManyRedirectsError):
        page_fetch(url=url, limits=FetchLimits(max_redirects=3), allowed_networks=LOOPBACK)
    assert len(review_site.requests) == 4


def test_loopback_is_refused_without_allow_list(review_site):
    # given
    url = review_site.put("/ok", "<html></html>")
    # when / then
    with pytest.raises(BlockedAddressError) as caught:
        page_fetch(url=url)
    assert str(caught.value) == "Adresse non publique refusée pour 127.0.0.1 : 127.0.0.1"
    assert review_site.requests == []


def test_redirect_to_a_non_allowed_address_is_refused(review_site):
    # given: 127.0.0.2 is loopback but outside the allow-list (127.0.0.1/32)
    url = review_site.put(
        "/jump", b"", status=302, headers={"Location": "http://127.0.0.2:9/admin"}
    )
    # when / then
    with pytest.raises(BlockedAddressError):
        page_fetch(url=url, allowed_networks=LOOPBACK)
    assert review_site.requests == ["/jump"]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_address_classifier(address, allowed):
    assert address_allowed(address=address) is allowed


def test_allow_list_opens_only_its_network():
    nets = (ipaddress.ip_network("127.0.0.1/32"),)
    assert address_allowed(address="127.0.0.1", allowed_networks=nets) is True
    assert address_allowed(address="127.0.0.2", allowed_networks=nets) is False
    assert address_allowed(address="::ffff:127.0.0.1", allowed_networks=nets) is True


def test_name_resolving_to_any_private_address_is_refused():
    # given: a resolver standing in for DNS (no query leaves the machine)
    def resolver(host, port):
        return {"avis.example": ["93.184.216.34", "10.0.0.7"]}[host]

    # when / then
    with pytest.raises(BlockedAddressError) as caught:
        url_check(url="https://avis.example/medecin", resolver=resolver)
    assert str(caught.value) == "Adresse non publique refusée pour avis.example : 10.0.0.7"


def test_unknown_name_is_unreachable():
    def resolver(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(UnreachableError) as caught:
        url_check(url="https://nulle-part.example/", resolver=resolver)
    assert str(caught.value) == (
        "Nom de domaine introuvable : nulle-part.example ([Errno -2] Name or service not known)"
    )


def test_scan_of_a_static_page_does_not_start_a_browser(review_site):
    # given
    url = review_site.put("/static", jsonld_page(reviews=SCAN1_REVIEWS, rating="2.7", count=3))
    # when
    page, extract = page_scan(url=url, platform=None, allowed_networks=LOOPBACK)
    # then
    assert page.rendered is False
    assert len(extract.reviews) == 3
    assert review_site.requests == ["/static"]


def test_scan_of_a_javascript_shell_renders_it_in_chromium(review_site):
    # given: reviews exist only after /app.js runs
    url = review_site.put("/spa", JS_SHELL_PAGE)
    review_site.put("/app.js", JS_APP, content_type="application/javascript")
    # when
    page, extract = page_scan(url=url, platform="demo-avis", allowed_networks=LOOPBACK)
    # then
    assert page.rendered is True
    assert extract.needs_javascript is False
    assert extract.source == "fallback"
    assert [(r.review_id, r.author, r.rating, r.text) for r in extract.reviews] == [
        ("demo-avis:js-1", "Zoé M.", 2.0, "Rendez-vous annulé sans prévenir.")
    ]
    assert (extract.aggregate.rating, extract.aggregate.count) == (2.0, 1)
    assert review_site.requests.count("/spa") == 2
    assert review_site.requests.count("/app.js") == 1
