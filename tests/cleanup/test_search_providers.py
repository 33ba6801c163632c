"""Search provider adapters against a local fake that speaks the Google CSE and Brave formats."""

from __future__ import annotations

import logging
import socket

import pytest

from cleanup.search_providers import (
    Brave,
    GoogleCse,
    SearchAuthError,
    SearchProvider,
    SearchQuotaError,
    SearchRequestError,
    SearchResponseError,
    SearchResult,
    SearchUnavailableError,
    name_queries,
    search_provider_build,
)
from tests.cleanup.conftest import (
    BRAVE_TOKEN,
    GOOGLE_CX,
    GOOGLE_KEY,
    brave_error,
    google_error,
)

QUERY = '"Claire Martin"'


def _rows(n: int) -> list[tuple[str, str, str]]:
    return [
        (f"https://site{i}.example/page", f"Titre {i}", f"Extrait {i}") for i in range(1, n + 1)
    ]


def _google(api, **kwargs) -> GoogleCse:
    return GoogleCse(api_key=GOOGLE_KEY, cx=GOOGLE_CX, base_url=api.base_url, **kwargs)


def _brave(api, **kwargs) -> Brave:
    return Brave(api_key=BRAVE_TOKEN, base_url=api.base_url, **kwargs)


def test_google_request_format_and_ranks(search_api):
    # given
    search_api.results[QUERY] = _rows(3)
    # when
    results = _google(search_api).search(QUERY, num=10)
    # then
    assert results == [
        SearchResult(1, "https://site1.example/page", "Titre 1", "Extrait 1"),
        SearchResult(2, "https://site2.example/page", "Titre 2", "Extrait 2"),
        SearchResult(3, "https://site3.example/page", "Titre 3", "Extrait 3"),
    ]
    assert [(r["path"], r["params"]) for r in search_api.requests] == [
        (
            "/customsearch/v1",
            {"key": GOOGLE_KEY, "cx": GOOGLE_CX, "q": QUERY, "num": "10", "start": "1",
             "lr": "lang_fr", "gl": "fr"},
        )
    ]  # fmt: skip


def test_google_pages_with_start_beyond_ten_results(search_api):
    # given
    search_api.results[QUERY] = _rows(30)
    # when
    results = _google(search_api, lr=None, gl=None).search(QUERY, num=15)
    # then
    assert [r.rank for r in results] == list(range(1, 16))
    assert results[14] == SearchResult(15, "https://site15.example/page", "Titre 15", "Extrait 15")
    assert [(r["params"]["num"], r["params"]["start"]) for r in search_api.requests] == [
        ("10", "1"),
        ("5", "11"),
    ]
    assert "lr" not in search_api.requests[0]["params"]


def test_google_no_results_gives_an_empty_list(search_api):
    assert _google(search_api).search('"Personne Inconnue"', num=10) == []
    assert len(search_api.requests) == 1


def test_brave_request_format_and_ranks(search_api):
    # given: Brave highlights matched words with <strong>
    search_api.results[QUERY] = [
        ("https://avis.example/martin", "Dr <strong>Claire Martin</strong> - Avis",
         "Lisez les avis sur le Dr <strong>Martin</strong>."),
        ("https://annuaire.example/claire-martin", "Claire Martin, médecin", ""),
    ]  # fmt: skip
    # when
    results = _brave(search_api).search(QUERY, num=10)
    # then
    assert results == [
        SearchResult(1, "https://avis.example/martin", "Dr Claire Martin - Avis",
                     "Lisez les avis sur le Dr Martin."),
        SearchResult(2, "https://annuaire.example/claire-martin", "Claire Martin, médecin", ""),
    ]  # fmt: skip
    request = search_api.requests[0]
    assert request["path"] == "/res/v1/web/search"
    assert request["params"] == {
        "q": QUERY,
        "count": "10",
        "offset": "0",
        "country": "FR",
        "search_lang": "fr",
    }
    assert request["headers"]["X-Subscription-Token"] == BRAVE_TOKEN
    assert request["headers"]["Accept"] == "application/json"


def test_brave_pages_with_offset(search_api):
    # given
    search_api.results[QUERY] = _rows(45)
    # when
    results = _brave(search_api).search(QUERY, num=30)
    # then
    assert [r.rank for r in results] == list(range(1, 31))
    assert results[29].url == "https://site30.example/page"
    assert [(r["params"]["count"], r["params"]["offset"]) for r in search_api.requests] == [
        ("20", "0"),
        ("20", "1"),
    ]


def test_both_adapters_satisfy_the_protocol(search_api):
    assert isinstance(_google(search_api), SearchProvider)
    assert isinstance(_brave(search_api), SearchProvider)


def test_invalid_google_key_is_an_auth_error_without_the_key(search_api, caplog):
    # given
    provider = GoogleCse(api_key="AIza-wrong-secret", cx=GOOGLE_CX, base_url=search_api.base_url)
    caplog.set_level(logging.DEBUG)
    # when
    with pytest.raises(SearchAuthError) as caught:
        provider.search(QUERY, num=10)
    # then
    assert str(caught.value) == (
        "google-cse: API_KEY_INVALID — API key not valid. Please pass a valid API key."
    )
    assert caught.value.status_code == 400
    assert caught.value.retryable is False
    assert search_api.requests[0]["params"]["key"] == "AIza-wrong-secret"
    assert "AIza-wrong-secret" not in repr(provider)
    logged = [r.getMessage() for r in caplog.records]
    assert any("key=***" in m for m in logged)
    assert not any("AIza-wrong-secret" in m for m in logged)


def test_invalid_brave_token_is_an_auth_error(search_api):
    provider = Brave(api_key="BSA-wrong-secret", base_url=search_api.base_url)
    with pytest.raises(SearchAuthError) as caught:
        provider.search(QUERY, num=10)
    assert str(caught.value) == (
        "brave: SUBSCRIPTION_TOKEN_INVALID — The provided subscription token is invalid."
    )
    assert "BSA-wrong-secret" not in repr(provider)


def test_google_invalid_engine_id_is_a_request_error(search_api):
    provider = GoogleCse(api_key=GOOGLE_KEY, cx="wrong", base_url=search_api.base_url)
    with pytest.raises(SearchRequestError) as caught:
        provider.search(QUERY, num=10)
    assert str(caught.value) == "google-cse: invalid — Request contains an invalid argument."


@pytest.mark.parametrize("adapter", ["google", "brave"])
def test_quota_exhaustion_is_retryable(adapter, search_api):
    # given
    search_api.fail_next.append(
        (429, google_error(429, "Quota exceeded for quota metric 'Queries'.",
                           "rateLimitExceeded", "RESOURCE_EXHAUSTED"))
        if adapter == "google"
        else (429, brave_error(429, "RATE_LIMITED", "Request rate limit exceeded."))
    )  # fmt: skip
    provider = _google(search_api) if adapter == "google" else _brave(search_api)
    # when / then
    with pytest.raises(SearchQuotaError) as caught:
        provider.search(QUERY, num=5)
    assert caught.value.retryable is True
    assert caught.value.status_code == 429


@pytest.mark.parametrize("adapter", ["google", "brave"])
def test_server_error_is_unavailable(adapter, search_api):
    search_api.fail_next.append((502, b"<html>Bad Gateway</html>"))
    provider = _google(search_api) if adapter == "google" else _brave(search_api)
    with pytest.raises(SearchUnavailableError) as caught:
        provider.search(QUERY, num=5)
    assert str(caught.value) == f"{provider.name}: HTTP 502 — HTTP 502"
    assert caught.value.retryable is True


@pytest.mark.parametrize("adapter", ["google", "brave"])
def test_malformed_json_is_a_response_error(adapter, search_api):
    search_api.fail_next.append((200, b"{not json"))
    provider = _google(search_api) if adapter == "google" else _brave(search_api)
    with pytest.raises(SearchResponseError) as caught:
        provider.search(QUERY, num=5)
    assert str(caught.value) == f"{provider.name}: réponse illisible (JSON attendu)"


def test_unreachable_api_is_unavailable_and_names_no_key():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    provider = GoogleCse(api_key=GOOGLE_KEY, cx=GOOGLE_CX, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(SearchUnavailableError) as caught:
        provider.search(QUERY, num=5)
    assert str(caught.value) == "google-cse: service injoignable (ConnectError)"
    assert caught.value.__cause__ is None


def test_provider_built_from_insurer_settings(search_api):
    search_api.results[QUERY] = _rows(1)
    provider = search_provider_build(
        provider="brave", settings={"api_key": BRAVE_TOKEN, "base_url": search_api.base_url}
    )
    assert provider.search(QUERY, num=1) == [
        SearchResult(1, "https://site1.example/page", "Titre 1", "Extrait 1")
    ]
    with pytest.raises(ValueError, match="fournisseur de recherche inconnu : 'bing'"):
        search_provider_build(provider="bing", settings={})


def test_name_queries():
    assert name_queries(first_name="Claire", last_name="Martin", city="Créteil") == [
        '"Claire Martin"',
        '"Dr Claire Martin"',
        "docteur Martin",
        "docteur Martin Créteil",
    ]
