"""The data the interactions run on: consent managers and their buttons, the phrases of
consent, "load more", expander and review-tab controls. Extend these tables, not the code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentManager:
    """A consent manager (CMP): where its banner lives and which of its buttons refuse/accept.

    ``containers`` are CSS selectors of its banner (searched in the document and in open shadow
    roots); ``frame_hints`` are substrings of the URL of an iframe that *is* its banner.
    ``refuse``/``accept`` are searched inside the banner only. When none matches, the banner's
    buttons are read by their labels (``CONSENT_BUTTON_PHRASES``).
    """

    name: str
    containers: tuple[str, ...]
    refuse: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    frame_hints: tuple[str, ...] = ()


CONSENT_MANAGERS: tuple[ConsentManager, ...] = (
    ConsentManager(
        "Didomi",
        containers=("#didomi-host", "#didomi-notice", "#didomi-popup"),
        refuse=("#didomi-notice-disagree-button", ".didomi-continue-without-agreeing"),
        accept=("#didomi-notice-agree-button",),
    ),
    ConsentManager(
        "OneTrust",
        containers=("#onetrust-banner-sdk", "#onetrust-consent-sdk", "#onetrust-pc-sdk"),
        refuse=("#onetrust-reject-all-handler", ".ot-pc-refuse-all-handler"),
        accept=("#onetrust-accept-btn-handler", "#accept-recommended-btn-handler"),
    ),
    ConsentManager(
        "Axeptio",
        containers=("#axeptio_overlay", ".axeptio_widget", ".axeptio_mount"),
        refuse=("#axeptio_btn_dismiss",),
        accept=("#axeptio_btn_acceptAll",),
    ),
    ConsentManager("Sirdata", containers=("#sd-cmp", "[id^='sd-cmp-']")),
    ConsentManager(
        "Cookiebot",
        containers=("#CybotCookiebotDialog",),
        refuse=("#CybotCookiebotDialogBodyButtonDecline",),
        accept=(
            "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll",
            "#CybotCookiebotDialogBodyButtonAccept",
        ),
    ),
    ConsentManager(
        "Quantcast Choice",
        containers=("#qc-cmp2-container", ".qc-cmp2-container", "#qc-cmp2-ui"),
        accept=(".qc-cmp2-summary-buttons button[mode='primary']",),
    ),
    ConsentManager(
        "Usercentrics",
        containers=("#usercentrics-root", "#usercentrics-cmp-ui"),
        refuse=("[data-testid='uc-deny-all-button']",),
        accept=("[data-testid='uc-accept-all-button']",),
    ),
    ConsentManager(
        "TrustArc",
        containers=("#truste-consent-track", "#truste-consent-content", ".truste_box_overlay"),
        refuse=("#truste-consent-required",),
        accept=("#truste-consent-button",),
        frame_hints=("consent-pref.trustarc.com", "consent.trustarc.com", "/truste/"),
    ),
    ConsentManager(
        "tarteaucitron",
        containers=("#tarteaucitronRoot", "#tarteaucitronAlertBig"),
        refuse=("#tarteaucitronAllDenied2", ".tarteaucitronDeny"),
        accept=("#tarteaucitronPersonalize2", "#tarteaucitronAllAllowed"),
    ),
    ConsentManager(
        "Sourcepoint",
        containers=("[id^='sp_message_container']",),
        refuse=("button.sp_choice_type_13",),
        accept=("button.sp_choice_type_11",),
        frame_hints=("sp_message_iframe", "/privacy-manager", "message_id="),
    ),
    ConsentManager(
        "consentmanager.net",
        containers=("#cmpbox", "#cmpwrapper"),
        refuse=(".cmpboxbtnno",),
        accept=(".cmpboxbtnyes",),
    ),
    ConsentManager(
        "Commanders Act",
        containers=("#footer_tc_privacy", "#popin_tc_privacy"),
    ),
)

# Button labels of consent banners, by choice; CONSENT_PREFERENCE says which choice to try first.
# Labels are compared whole, after lower-casing, unifying apostrophes and trimming punctuation,
# arrows and ellipses at both ends: « Continuer sans accepter → » is a refusal, « Continuer »
# alone an acceptance.
CONSENT_BUTTON_PHRASES: dict[str, tuple[str, ...]] = {
    "refuse": (
        "tout refuser",
        "refuser tout",
        "refuser",
        "je refuse",
        "refuser et fermer",
        "refuser les cookies",
        "refuser tous les cookies",
        "continuer sans accepter",
        "continuer sans consentir",
        "non merci",
        "reject all",
        "refuse all",
        "decline",
        "decline all",
        "reject",
        "continue without accepting",
        "continue without agreeing",
    ),
    "accept": (
        "tout accepter",
        "accepter tout",
        "accepter",
        "j'accepte",
        "accepter et fermer",
        "accepter et continuer",
        "accepter les cookies",
        "accepter tous les cookies",
        "ok pour moi",
        "c'est ok pour moi",
        "ok, j'accepte",
        "oui, j'accepte",
        "continuer",
        "j'ai compris",
        "accept all",
        "accept",
        "accept cookies",
        "accept all cookies",
        "agree and proceed",
        "agree and close",
        "i agree",
        "agree",
        "allow all",
        "got it",
        "ok",
    ),
}
CONSENT_PREFERENCE: tuple[str, ...] = ("refuse", "accept")

# A generic consent button counts only inside something that looks like a consent banner: an
# ancestor named like one, a dialog or a fixed/sticky box speaking of cookies, or a small frame
# speaking of cookies.
CONSENT_CONTAINER_HINTS: tuple[str, ...] = (
    "cookie",
    "consent",
    "gdpr",
    "rgpd",
    "didomi",
    "onetrust",
    "axeptio",
    "tarteaucitron",
    "usercentrics",
    "sp_message",
    "qc-cmp",
    "cmp",
    "traceurs",
)
CONSENT_TEXT_PATTERN = (
    r"cookie|traceur|consentement|consent|rgpd|gdpr|vie privée|privacy|données personnelles"
    r"|partenaires"
)

# Click once: reveal the rest of a text.
EXPAND_PHRASES: tuple[str, ...] = (
    "lire la suite",
    "lire plus",
    "en lire plus",
    "voir plus",
    "voir la suite",
    "afficher plus",
    "afficher la suite",
    "afficher le texte complet",
    "voir l'avis complet",
    "afficher l'avis complet",
    "lire l'avis complet",
    "plus de détails",
    "read more",
    "show more",
    "see more",
)
# Raw labels (lower-cased, trimmed) that are expanders too: « … plus », « ...plus », « + plus ».
EXPAND_PATTERNS: tuple[str, ...] = (r"^(\.\.\.|…|\+)\s*(plus|more|la suite)$",)

# Click again while each click adds elements: more reviews.
LOAD_MORE_PHRASES: tuple[str, ...] = (
    "voir plus d'avis",
    "afficher plus d'avis",
    "charger plus d'avis",
    "plus d'avis",
    "d'autres avis",
    "voir d'autres avis",
    "afficher d'autres avis",
    "charger plus",
    "charger la suite",
    "voir tous les avis",
    "afficher tous les avis",
    "lire tous les avis",
    "tous les avis",
    "avis suivants",
    "afficher les avis suivants",
    "voir les avis suivants",
    "afficher la suite des avis",
    "voir plus de commentaires",
    "afficher plus de commentaires",
    "plus de commentaires",
    "load more",
    "load more reviews",
    "show more reviews",
    "see more reviews",
    "see all reviews",
    "show all reviews",
    "more reviews",
    "next reviews",
)
# Ambiguous expanders (« Voir plus ») are clicked again too while each click adds elements.
REPEATABLE_EXPAND_PHRASES: tuple[str, ...] = ("voir plus", "afficher plus", "show more", "see more")

# Tabs that hold the reviews: « Avis (7) », « Avis 7 », « 7 avis », « Reviews », « Commentaires ».
REVIEW_TAB_PATTERNS: tuple[str, ...] = (
    r"^(les |tous les )?(avis|avis des patients|avis patients|reviews?|commentaires|évaluations"
    r"|evaluations|témoignages|notes et avis|avis clients|opinions)\s*(\(?\s*\d[\d\s.,k]*\)?)?$",
    r"^\d[\d\s.,]*\s+(avis|reviews?|commentaires|évaluations)$",
)
