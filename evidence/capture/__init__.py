"""Browser capture of one URL into the ``data/`` part of an evidence bundle (EVIDENCE.md).

What a constat on the internet must show (NF Z67-147, DOMAIN.md §7), each as a file:
the page as seen (full-page and first-screen images, PDF, DOM, visible text), every exchange on
the wire (a WARC with the server address of each response), where the machine stood (public IP,
DNS answers and resolver, no proxy), when (clock checked against NTP at start and end), with
what (browser and versions, clean profile) and what was done to the page (actions log).

Safety: the first URL, every redirect and every sub-request (including iframes in other
processes) pass the SSRF guard of ``netguard`` *before* they leave the browser — the guard sits
on a browser-level DevTools ``Fetch`` interception, which, unlike Playwright's ``route``, also
sees redirect hops. A main document that is refused raises ``CaptureBlocked`` and leaves
nothing behind; a refused sub-request is aborted and recorded.

Residual risks (documented, not hidden): DNS can answer differently to the guard and to the
browser (rebinding) — every response's server address is re-checked afterwards and the capture
is discarded if one is not allowed; ``<link rel=preconnect>`` can open a TCP connection (no
request is sent) to a host the guard never saw; with two captures at once, a request from a
frame nested in another process's frame, which neither page can place, is judged and recorded
by both captures' guards (so it is never let through unjudged, but may be listed in both).

Playwright's sync API is used: a capture worker owns its browser and runs up to
``EGIDE_CAPTURE_CONCURRENCY`` captures at once in its browser thread (``evidence.browser``),
each in a fresh context whose request guard keeps to that context's requests. The modules, by
purpose:

- ``run``: ``capture_run`` checks the URL, stages the files and opens the browser context;
- ``session``: a ``CaptureSession`` runs the steps (page, load, interactions, screenshots, PDF,
  DOM, TLS, WARC, result);
- ``settings``: the frozen ``CaptureSettings``, the progress steps and the bundle's folders;
- ``result``: what a capture gives back (``CaptureResult``) or raises (``CaptureBlocked``);
- ``guard``: the browser-wide SSRF guard and raw-body tap (``RequestGuard``);
- ``recording``: every exchange for the WARC, TLS details and chains, the redirect chain;
- ``screenshots``: the first screen with its banner, tall pages in tiles streamed into one PNG;
- ``provenance``: software versions, operating system and container for ``environment.json``.

This module holds only the Chromium command line every capture browser is launched with (the
worker's ``evidence.browser`` and ``capture_run`` alike); it imports nothing heavy.
"""

from __future__ import annotations

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # NF Z67-147: no proxy. Chromium would otherwise honour the *_proxy environment variables.
    "--no-proxy-server",
    # Fewer connections the guard cannot see: DNS prefetch and WebRTC to local addresses.
    "--dns-prefetch-disable",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Memory of a long-lived worker (issue 15.4: ≤ 800 MiB for a worker and its browser): no
    # zygote processes (the sandbox is off anyway), the GPU (software) compositor inside the
    # browser process rather than a process of its own, few renderers at once.
    "--no-zygote",
    "--in-process-gpu",
    "--renderer-process-limit=2",
    # The network service in the browser process instead of a utility process of its own
    # (about 65 MiB less with the same code; Chromium does so on small Android devices).
    "--enable-features=NetworkServiceInProcess2",
)
