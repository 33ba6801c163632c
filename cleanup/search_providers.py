"""Search-engine adapters for monitoring the results on a doctor's name.

Why: each insurer brings its own search API key (cost and quota are theirs), and the monitor
records the rank of every result for the doctor's name queries so that new results and moves can
be reported. Two real providers are implemented behind one small protocol:

- Google Programmable Search, Custom Search JSON API: GET {base}/customsearch/v1 with key, cx, q,
  num (1–10), start (1-based), lr, gl; results in items[].link / title / snippet.
- Brave Search Web API: GET {base}/res/v1/web/search with header X-Subscription-Token, q, count
  (≤ 20), offset (page index), country, search_lang; results in web.results[].url / title /
  description.

The base URL is a constructor argument so that tests talk to a local fake that speaks the same
protocol. That base URL is set by an insurer admin, and the API key goes wherever it points: every
call goes through the outbound guard (``common.net_guard``), which resolves the host at call time,
refuses non-public addresses (plus ``EGIDE_FETCH_ALLOWED_NETWORKS``) and connects to the address
it checked, so a name re-pointed to ``127.0.0.1`` after the settings were saved is refused.
API keys never appear in exceptions, reprs or logs: httpx logs request URLs at INFO
level, and Google's key travels in the query string, so a filter redacts it on httpx's logger.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from common.net_guard import OutboundGuard, OutboundRefused, guarded_client

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=5.0, pool=5.0)
GOOGLE_BASE_URL = "https://www.googleapis.com"
BRAVE_BASE_URL = "https://api.search.brave.com"
GOOGLE_PAGE_SIZE = 10
GOOGLE_MAX_RESULTS = 100
BRAVE_PAGE_SIZE = 20
BRAVE_MAX_OFFSET = 9
USER_AGENT = "EgideVeille/1.0"

_KEY_IN_URL = re.compile(r"([?&](?:key|api_key|apikey)=)[^&\s\"']+", re.IGNORECASE)


def secret_redact(text: str) -> str:
    """Mask API keys carried in URL query strings."""
    return _KEY_IN_URL.sub(r"\1***", text)


class _RedactKeysFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = secret_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactKeysFilter) for f in _logger.filters):
        _logger.addFilter(_RedactKeysFilter())


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One organic result. `rank` is 1-based across pages."""

    rank: int
    url: str
    title: str
    snippet: str


class SearchProviderError(Exception):
    """Base of search API failures. `retryable` separates a later retry (network, 5xx, rate
    limit) from a configuration problem someone must fix (bad key, bad engine id)."""

    code = "search_error"
    retryable = False

    def __init__(self, message: str, *, provider: str, status_code: int | None = None) -> None:
        super().__init__(f"{provider}: {secret_redact(message)}")
        self.provider = provider
        self.status_code = status_code


class SearchAuthError(SearchProviderError):
    code = "search_auth"


class SearchQuotaError(SearchProviderError):
    code = "search_quota"
    retryable = True


class SearchRequestError(SearchProviderError):
    code = "search_bad_request"


class SearchUnavailableError(SearchProviderError):
    code = "search_unavailable"
    retryable = True


class SearchResponseError(SearchProviderError):
    code = "search_bad_response"


class SearchAddressRefusedError(SearchProviderError):
    """The API's address is not a public one (or not allow-listed): the key is not sent."""

    code = "search_address_refused"


@runtime_checkable
class SearchProvider(Protocol):
    name: str

    def search(self, query: str, *, num: int) -> list[SearchResult]: ...


_TAG = re.compile(r"<[^>]+>")


def _plain(text: Any) -> str:
    # Brave wraps matched words in <strong>; Google's snippet is plain but may hold line breaks.
    return re.sub(r"\s+", " ", _TAG.sub("", str(text or ""))).strip()


class _HttpProvider:
    name = "provider"

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # Default: system resolver, EGIDE_FETCH_ALLOWED_NETWORKS read at each call.
        self._guard = guard or OutboundGuard()

    def _get(self, path: str, *, params: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
        # Redirects are not followed: a search API answers, it does not send the key elsewhere.
        client = guarded_client(guard=self._guard, timeout=self.timeout, follow_redirects=False)
        with client:
            try:
                response = client.get(
                    self.base_url + path,
                    params=dict(params),
                    headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
                    timeout=self.timeout,
                )
            except OutboundRefused as exc:
                raise SearchAddressRefusedError(
                    f"adresse de l'API refusée : {exc.message_fr}", provider=self.name
                ) from None
            except httpx.TimeoutException:
                raise SearchUnavailableError("délai dépassé", provider=self.name) from None
            except httpx.TransportError as exc:
                raise SearchUnavailableError(
                    f"service injoignable ({type(exc).__name__})", provider=self.name
                ) from None
            if response.status_code >= 400:
                raise self._error(response)
            try:
                return response.json()
            except ValueError:
                raise SearchResponseError(
                    "réponse illisible (JSON attendu)", provider=self.name
                ) from None

    def _error(self, response: httpx.Response) -> SearchProviderError:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key=***)"


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class GoogleCse(_HttpProvider):
    """Google Custom Search JSON API. `num` above 10 is served by paging with `start`; the API
    never returns more than 100 results for one query."""

    name = "google-cse"
    # error.errors[].reason → exception class
    REASONS: Mapping[str, type[SearchProviderError]] = {
        "API_KEY_INVALID": SearchAuthError,
        "API_KEY_EXPIRED": SearchAuthError,
        "API_KEY_SERVICE_BLOCKED": SearchAuthError,
        "SERVICE_DISABLED": SearchAuthError,
        "RATE_LIMIT_EXCEEDED": SearchQuotaError,
        "keyInvalid": SearchAuthError,
        "keyExpired": SearchAuthError,
        "forbidden": SearchAuthError,
        "accessNotConfigured": SearchAuthError,
        "dailyLimitExceeded": SearchQuotaError,
        "rateLimitExceeded": SearchQuotaError,
        "userRateLimitExceeded": SearchQuotaError,
        "quotaExceeded": SearchQuotaError,
        "invalid": SearchRequestError,
        "invalidParameter": SearchRequestError,
        "badRequest": SearchRequestError,
    }

    def __init__(
        self,
        *,
        api_key: str,
        cx: str,
        lr: str | None = "lang_fr",
        gl: str | None = "fr",
        base_url: str = GOOGLE_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        guard: OutboundGuard | None = None,
    ) -> None:
        super().__init__(base_url=base_url, timeout=timeout, guard=guard)
        self._api_key = api_key
        self.cx = cx
        self.lr = lr
        self.gl = gl

    def search(self, query: str, *, num: int) -> list[SearchResult]:
        wanted = max(0, min(num, GOOGLE_MAX_RESULTS))
        results: list[SearchResult] = []
        start = 1
        while len(results) < wanted:
            page_size = min(GOOGLE_PAGE_SIZE, wanted - len(results), GOOGLE_MAX_RESULTS + 1 - start)
            if page_size <= 0:
                break
            params: dict[str, Any] = {
                "key": self._api_key,
                "cx": self.cx,
                "q": query,
                "num": page_size,
                "start": start,
            }
            if self.lr:
                params["lr"] = self.lr
            if self.gl:
                params["gl"] = self.gl
            data = self._get("/customsearch/v1", params=params, headers={})
            if not isinstance(data, dict):
                raise SearchResponseError("réponse inattendue", provider=self.name)
            items = data.get("items") or []
            if not isinstance(items, list):
                raise SearchResponseError("champ items inattendu", provider=self.name)
            for offset, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("link"):
                    raise SearchResponseError("résultat sans lien", provider=self.name)
                results.append(
                    SearchResult(
                        rank=start + offset,
                        url=str(item["link"]),
                        title=_plain(item.get("title")),
                        snippet=_plain(item.get("snippet")),
                    )
                )
            if len(items) < page_size:
                break
            start += len(items)
        logger.debug("google-cse: %d results for a name query", len(results))
        return results[:wanted]

    def _error(self, response: httpx.Response) -> SearchProviderError:
        error = _json_or_empty(response).get("error") or {}
        message = str(error.get("message") or f"HTTP {response.status_code}")
        # google.rpc.ErrorInfo reasons (e.g. API_KEY_INVALID, sent with HTTP 400 "badRequest")
        # are more precise than the legacy errors[].reason, so they are looked at first.
        reasons = [d.get("reason", "") for d in error.get("details") or [] if isinstance(d, dict)]
        reasons += [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, dict)]
        for reason in reasons:
            if reason in self.REASONS:
                return self.REASONS[reason](
                    f"{reason} — {message}", provider=self.name, status_code=response.status_code
                )
        return _status_error(response.status_code, message, provider=self.name)


class Brave(_HttpProvider):
    """Brave Search Web API. Pages of up to 20 results; `offset` counts pages, at most 9."""

    name = "brave"
    CODES: Mapping[str, type[SearchProviderError]] = {
        "SUBSCRIPTION_TOKEN_INVALID": SearchAuthError,
        "SUBSCRIPTION_NOT_FOUND": SearchAuthError,
        "RATE_LIMITED": SearchQuotaError,
        "QUOTA_LIMITED": SearchQuotaError,
        "VALIDATION": SearchRequestError,
    }

    def __init__(
        self,
        *,
        api_key: str,
        country: str | None = "FR",
        search_lang: str | None = "fr",
        base_url: str = BRAVE_BASE_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        guard: OutboundGuard | None = None,
    ) -> None:
        super().__init__(base_url=base_url, timeout=timeout, guard=guard)
        self._api_key = api_key
        self.country = country
        self.search_lang = search_lang

    def search(self, query: str, *, num: int) -> list[SearchResult]:
        wanted = max(0, min(num, BRAVE_PAGE_SIZE * (BRAVE_MAX_OFFSET + 1)))
        page_size = min(BRAVE_PAGE_SIZE, wanted)
        results: list[SearchResult] = []
        page = 0
        while len(results) < wanted and page <= BRAVE_MAX_OFFSET:
            params: dict[str, Any] = {"q": query, "count": page_size, "offset": page}
            if self.country:
                params["country"] = self.country
            if self.search_lang:
                params["search_lang"] = self.search_lang
            data = self._get(
                "/res/v1/web/search",
                params=params,
                headers={"X-Subscription-Token": self._api_key},
            )
            if not isinstance(data, dict):
                raise SearchResponseError("réponse inattendue", provider=self.name)
            web = data.get("web") or {}
            if not isinstance(web, dict):
                raise SearchResponseError("champ web inattendu", provider=self.name)
            items = web.get("results") or []
            if not isinstance(items, list):
                raise SearchResponseError("champ web.results inattendu", provider=self.name)
            for item in items:
                if not isinstance(item, dict) or not item.get("url"):
                    raise SearchResponseError("résultat sans URL", provider=self.name)
                results.append(
                    SearchResult(
                        rank=len(results) + 1,
                        url=str(item["url"]),
                        title=_plain(item.get("title")),
                        snippet=_plain(item.get("description")),
                    )
                )
            more = (data.get("query") or {}).get("more_results_available")
            if len(items) < page_size or more is False:
                break
            page += 1
        logger.debug("brave: %d results for a name query", len(results))
        return results[:wanted]

    def _error(self, response: httpx.Response) -> SearchProviderError:
        error = _json_or_empty(response).get("error") or {}
        code = str(error.get("code") or "")
        message = str(error.get("detail") or f"HTTP {response.status_code}")
        if code in self.CODES:
            return self.CODES[code](
                f"{code} — {message}", provider=self.name, status_code=response.status_code
            )
        return _status_error(response.status_code, message, provider=self.name)


# HTTP status → exception when the body names no known reason.
STATUS_ERRORS: Mapping[int, type[SearchProviderError]] = {
    400: SearchRequestError,
    401: SearchAuthError,
    403: SearchAuthError,
    422: SearchRequestError,
    429: SearchQuotaError,
}


def _status_error(status: int, message: str, *, provider: str) -> SearchProviderError:
    cls = STATUS_ERRORS.get(status) or (
        SearchUnavailableError if status >= 500 else SearchProviderError
    )
    return cls(f"HTTP {status} — {message}", provider=provider, status_code=status)


PROVIDERS: Mapping[str, type[_HttpProvider]] = {GoogleCse.name: GoogleCse, Brave.name: Brave}


def search_provider_build(*, provider: str, settings: Mapping[str, Any]) -> SearchProvider:
    """Build an insurer's configured provider from its stored settings (api_key plus the
    provider's own options such as cx, base_url)."""
    try:
        cls = PROVIDERS[provider]
    except KeyError:
        raise ValueError(f"fournisseur de recherche inconnu : {provider!r}") from None
    return cls(**settings)  # type: ignore[return-value]


def name_queries(*, first_name: str, last_name: str, city: str | None = None) -> list[str]:
    """The queries a person would type for a doctor (CNOM guide: monthly keyword searches on
    one's own name)."""
    full = f"{first_name} {last_name}".strip()
    queries = [f'"{full}"', f'"Dr {full}"', f"docteur {last_name}"]
    if city:
        queries.append(f"docteur {last_name} {city}")
    return queries
