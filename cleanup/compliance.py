"""Review-platform compliance flags (DOMAIN §6.2) and the SignalConso pre-fill (§6.3).

Why: review platforms owe consumers "une information loyale, claire et transparente" on how
reviews are published and handled (C. conso L111-7-2, décret 2017-1436, Omnibus L121-3/L121-4).
When a platform hosting a doctor's reviews falls short, the insurer can report it to the DGCCRF.
The monitor already downloads the platform's pages, so it computes the flags F1–F12 that can be
read from them and drafts the report text.

The flag table is data (`FLAGS`); each flag names a checker from `CHECKERS` and the pages it
needs. A flag whose page was not supplied is "non vérifiable depuis la page", never guessed. The
text patterns are French phrasings seen on review platforms; a match is evidence for a human to
confirm, and every result carries the matched text or link.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from extruct.utils import parse_html

from cleanup.extract import PageExtract, span_unfold, text_fold

PASS, FAIL, UNKNOWN, NOT_APPLICABLE, NOT_CHECKABLE = (
    "pass",
    "fail",
    "unknown",
    "not_applicable",
    "not_checkable",
)
STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        PASS: "Conforme",
        FAIL: "Non conforme",
        UNKNOWN: "À vérifier",
        NOT_APPLICABLE: "Sans objet",
        NOT_CHECKABLE: "Non vérifiable depuis la page",
    }
)
# Pages a flag can be read from.
PAGE, SECTION, LEGAL = "page", "section", "legal"


@dataclass(frozen=True, slots=True)
class ComplianceFlag:
    """One line of DOMAIN §6.2. `sources` are the pages where the information may appear;
    `failure_text` is the neutral French sentence used in the SignalConso description."""

    code: str
    label: str
    basis: str
    checker: str
    sources: tuple[str, ...]
    failure_text: str
    patterns: tuple[str, ...] = ()


FLAGS: tuple[ComplianceFlag, ...] = (
    ComplianceFlag(
        "F1",
        "Chaque avis affiche sa date de publication",
        "C. conso D111-17",
        "review_dates",
        (PAGE,),
        "la date de publication n'est pas indiquée pour chaque avis",
    ),
    ComplianceFlag(
        "F2",
        "Chaque avis affiche la date de l'expérience",
        "C. conso D111-17",
        "experience_dates",
        (PAGE,),
        "la date de l'expérience de consommation n'est pas indiquée pour chaque avis",
        (
            r"date de (?:la |l')?(?:consultation|experience|visite|rendez-vous|soin)",
            r"(?:consultation|experience|visite|rendez-vous) (?:du|le|en date du)\b",
            r"\bconsulte(?:e)? le\b",
        ),
    ),
    ComplianceFlag(
        "F3",
        "Mention, près des avis, de l'existence ou non d'un contrôle",
        "C. conso D111-17",
        "text",
        (PAGE,),
        "aucune mention n'indique, à proximité des avis, s'ils font l'objet d'un contrôle",
        (
            r"avis (?:ne )?(?:sont|font)(?: pas)? (?:l'objet d'(?:un|une) )?"
            r"(?:controles?|moderes?|moderation|verifies?|verification)",
            r"(?:procedure|processus) de (?:controle|moderation|verification)",
            r"(?:sans|aucun) controle",
            r"avis (?:controles|moderes|verifies)",
        ),
    ),
    ComplianceFlag(
        "F4",
        "Critères de classement des avis indiqués",
        "C. conso D111-17",
        "text",
        (PAGE,),
        "les critères de classement des avis ne sont pas indiqués",
        (
            r"criteres? de (?:classement|tri)",
            r"(?:classes?|tries?|affiches?) (?:par |selon l'|dans l')ordre chronologique",
            r"(?:classes?|tries?|affiches?) (?:par date|du plus recent|des plus recents)",
        ),
    ),
    ComplianceFlag(
        "F5",
        "Rubrique dédiée aux avis, facilement accessible",
        "C. conso D111-18 (numéro non vérifié)",
        "links",
        (PAGE,),
        "aucune rubrique dédiée au fonctionnement des avis n'est accessible depuis la page",
        (
            r"(?:fonctionnement|charte|politique|moderation|gestion|traitement) des avis",
            r"(?:a propos|en savoir plus) (?:des|sur les) avis",
            r"comment (?:sont|fonctionnent) (?:publies |geres |moderes )?(?:les )?avis",
        ),
    ),
    ComplianceFlag(
        "F6",
        "La rubrique indique si une contrepartie est fournie pour un avis",
        "C. conso D111-18 (numéro non vérifié)",
        "text",
        (PAGE, SECTION),
        "la rubrique n'indique pas si une contrepartie est fournie en échange d'un avis",
        (r"contreparties?", r"(?:aucune|sans) (?:remuneration|compensation|recompense)"),
    ),
    ComplianceFlag(
        "F7",
        "La rubrique indique la durée maximale de publication et de conservation",
        "C. conso D111-18 (numéro non vérifié)",
        "text",
        (PAGE, SECTION),
        "la rubrique n'indique pas la durée maximale de publication et de conservation des avis",
        (
            r"duree (?:maximale )?de (?:publication|conservation)",
            r"(?:publies?|conserves?|affiches?) (?:pendant|durant) (?:une duree de )?"
            r"(?:\d+|un|une|deux|trois|cinq|dix) (?:ans?|annees?|mois)",
        ),
    ),
    ComplianceFlag(
        "F8",
        "Si les avis sont contrôlés : principales caractéristiques du contrôle",
        "C. conso D111-18 (numéro non vérifié)",
        "control_features",
        (PAGE, SECTION),
        "les avis sont présentés comme contrôlés sans que les caractéristiques du contrôle soient"
        " décrites",
        (
            r"(?:controle|moderation|verification) (?:manuelle|humaine|automatique|automatisee)",
            r"(?:par|via) (?:un algorithme|un logiciel|nos moderateurs|une equipe|un prestataire)",
            r"(?:delai|criteres?|motifs?) de (?:controle|moderation|rejet|refus)",
        ),
    ),
    ComplianceFlag(
        "F9",
        "Indique si et comment les avis proviennent de consommateurs réels",
        "C. conso L121-3 et L121-4 27° (Omnibus)",
        "text",
        (PAGE, SECTION),
        "rien n'indique si ni comment la plateforme s'assure que les avis proviennent de"
        " personnes ayant réellement consulté",
        (
            r"verifi\w* que (?:les avis|l'auteur|chaque avis|les auteurs)",
            r"(?:issus|proviennent|emanent) de (?:patients|consommateurs|clients|utilisateurs)"
            r" (?:reels|ayant)",
            r"ne (?:verifions|controlons|verifie|controle) pas",
            r"avis (?:certifies|verifies) (?:par|apres|grace)",
        ),
    ),
    ComplianceFlag(
        "F10",
        "Mécanisme électronique de signalement de contenu illicite accessible",
        "DSA art. 16 §1",
        "links",
        (PAGE,),
        "aucun moyen électronique de signaler un avis ou un contenu illicite n'est visible",
        (r"\bsignaler\b", r"\bsignalement\b", r"contenu illicite"),
    ),
    ComplianceFlag(
        "F11",
        "Mentions légales : éditeur, directeur de la publication, hébergeur",
        "LCEN art. 1-1",
        "legal_notice",
        (LEGAL,),
        "les mentions légales n'identifient pas l'éditeur, le directeur de la publication et"
        " l'hébergeur",
    ),
    ComplianceFlag(
        "F12",
        "Indices d'avis faux ou incités",
        "C. conso L121-4 28°",
        "fake_patterns",
        (PAGE,),
        "la page présente des indices d'avis faux ou obtenus contre une contrepartie",
        (
            r"en echange (?:de|d'un) (?:votre )?avis",
            r"(?:bon|code) de reduction (?:pour|contre) (?:un|votre) avis",
            r"(?:offert|cadeau|recompense) pour (?:tout|chaque|votre) avis",
        ),
    ),
)
FLAGS_BY_CODE: Mapping[str, ComplianceFlag] = MappingProxyType({f.code: f for f in FLAGS})

# Reviews published the same day with a top rating, from this many on, look like a campaign.
BURST_MIN_REVIEWS = 5
BURST_MIN_RATING = 4.5
DUPLICATE_MIN_CHARS = 20
# Words on a page claiming that reviews are checked (makes F8 applicable).
CONTROL_CLAIM = (
    r"avis (?:sont )?(?:controles|moderes|verifies)",
    r"avis font l'objet d'(?:un|une) (?:controle|moderation|verification)",
    r"(?:procedure|processus) de (?:controle|moderation|verification)",
)

LEGAL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "name": r"(?:raison sociale|denomination(?: sociale)?|editeur(?: du site)?|edite par)",
        "director": r"(?:directeur|directrice) de (?:la )?publication",
        "host": r"(?:hebergeur|heberge par|hebergement)",
        "address": r"(?:siege social|adresse)",
    }
)


@dataclass(frozen=True, slots=True)
class FlagResult:
    code: str
    label: str
    basis: str
    status: str
    evidence: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """Identity of the platform's operator, read from its mentions légales."""

    name: str | None = None
    siren: str | None = None
    address: str | None = None
    publication_director: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    url: str
    results: tuple[FlagResult, ...]
    company: CompanyInfo | None = None

    @property
    def failures(self) -> tuple[FlagResult, ...]:
        return tuple(r for r in self.results if r.status == FAIL)

    def result(self, code: str) -> FlagResult:
        return next(r for r in self.results if r.code == code)


# --------------------------------------------------------------------------- page reading


def _fold(text: str) -> str:
    return text_fold(text=text)[0]


_BLOCKS = {"p", "div", "li", "br", "tr", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
           "section", "article", "header", "footer", "address", "td", "th"}  # fmt: skip


@dataclass
class _Page:
    """Text (one block per line), folded text and actionable elements of one HTML page."""

    text: str
    folded: str
    actions: list[tuple[str, str]] = field(default_factory=list)  # (folded label, href)

    def lines(self) -> Iterator[tuple[str, str, list[int]]]:
        """(original line, folded line, fold index) for each line of text."""
        for line in self.text.splitlines():
            folded, index = text_fold(text=line)
            yield line, folded, index


def _page_read(html: str | None) -> _Page | None:
    if html is None:
        return None
    if not html.strip():
        return _Page("", "")
    tree = parse_html(re.sub(r"^\s*<\?xml[^>]*\?>", "", html), encoding="UTF-8")
    for junk in tree.xpath("//script|//style|//noscript|//template"):
        junk.drop_tree()
    actions: list[tuple[str, str]] = []
    for el in tree.xpath("//a|//button|//*[@role='button']|//input[@type='submit']"):
        label = " ".join(
            filter(
                None, (el.text_content(), el.get("aria-label"), el.get("title"), el.get("value"))
            )
        )
        actions.append((_fold(re.sub(r"\s+", " ", label)), el.get("href") or ""))
    for el in tree.iter():
        # Source line breaks inside a paragraph are not lines of text; block ends are.
        if el.text:
            el.text = re.sub(r"\s+", " ", el.text)
        if el.tail:
            el.tail = re.sub(r"\s+", " ", el.tail)
        if isinstance(el.tag, str) and el.tag in _BLOCKS:
            el.tail = "\n" + (el.tail or "")
    text = "\n".join(
        line for line in (re.sub(r"[ \t\u00a0]+", " ", ln).strip()
                          for ln in tree.text_content().splitlines()) if line
    )  # fmt: skip
    return _Page(text=text, folded=_fold(text), actions=actions)


def _search(patterns: Sequence[str], page: _Page) -> str | None:
    """The first line of the page matching any pattern (blocks are lines, so a statement is
    quoted whole as evidence)."""
    for p in patterns:
        if re.search(p, page.folded):
            for line, folded, _index in page.lines():
                if re.search(p, folded):
                    return line[:200]
    return None


# --------------------------------------------------------------------------- checkers


@dataclass(frozen=True, slots=True)
class _Context:
    extract: PageExtract
    pages: Mapping[str, _Page | None]


def _in_sources(flag: ComplianceFlag, ctx: _Context, patterns: Sequence[str]) -> tuple[str, ...]:
    for source in flag.sources:
        page = ctx.pages.get(source)
        if page is not None and (hit := _search(patterns, page)):
            return (hit,)
    return ()


def _missing_source(flag: ComplianceFlag, ctx: _Context) -> bool:
    return any(ctx.pages.get(s) is None for s in flag.sources)


def _check_text(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    if evidence := _in_sources(flag, ctx, flag.patterns):
        return _result(flag, PASS, evidence)
    return _result(flag, NOT_CHECKABLE if _missing_source(flag, ctx) else FAIL)


def _check_links(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    page = ctx.pages.get(PAGE)
    assert page is not None
    for label, href in page.actions:
        if any(re.search(p, label) or re.search(p, _fold(href)) for p in flag.patterns):
            return _result(flag, PASS, (f"{label} → {href}" if href else label,))
    return _result(flag, FAIL)


def _check_review_dates(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    reviews = ctx.extract.reviews
    if not reviews:
        return _result(flag, UNKNOWN, ("aucun avis lu sur la page",))
    missing = sum(1 for r in reviews if r.date is None)
    if missing:
        return _result(flag, FAIL, (f"{missing} avis sur {len(reviews)} sans date de publication",))
    return _result(flag, PASS, (f"{len(reviews)} avis datés sur {len(reviews)}",))


def _check_experience_dates(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    reviews = ctx.extract.reviews
    if not reviews:
        return _result(flag, UNKNOWN, ("aucun avis lu sur la page",))
    page = ctx.pages.get(PAGE)
    assert page is not None
    dated = sum(1 for r in reviews if r.experience_date is not None)
    mentions = sum(len(re.findall(p, page.folded)) for p in flag.patterns)
    shown = max(dated, mentions)
    if shown >= len(reviews):
        return _result(
            flag, PASS, (f"date de l'expérience pour {len(reviews)} avis sur {len(reviews)}",)
        )
    if shown == 0:
        return _result(flag, FAIL, (f"aucune date d'expérience pour {len(reviews)} avis",))
    return _result(
        flag, UNKNOWN, (f"date de l'expérience repérée {shown} fois pour {len(reviews)} avis",)
    )


def _check_control_features(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    claims = _in_sources(flag, ctx, CONTROL_CLAIM)
    if not claims:
        return _result(flag, NOT_CHECKABLE if _missing_source(flag, ctx) else NOT_APPLICABLE)
    if evidence := _in_sources(flag, ctx, flag.patterns):
        return _result(flag, PASS, evidence)
    if _missing_source(flag, ctx):
        return _result(flag, NOT_CHECKABLE, claims)
    return _result(flag, FAIL, claims)


def _legal_field(label: str, page: _Page) -> str | None:
    for line, folded, index in page.lines():
        if m := re.search(label + r"\s*:?\s*(.+)", folded):
            start, end = span_unfold(index=index, start=m.start(1), end=m.end(1))
            return line[start:end].strip(" :-–")[:200] or None
    return None


def legal_notice_parse(*, html: str) -> CompanyInfo:
    """Read the operator's identity from a mentions légales page (label: value lines)."""
    page = _page_read(html)
    assert page is not None
    siren = None
    if m := re.search(r"(?:siren|siret|rcs)[^0-9\n]{0,40}(\d{3}) ?(\d{3}) ?(\d{3})", page.folded):
        siren = m[1] + m[2] + m[3]
    return CompanyInfo(
        name=_legal_field(LEGAL_LABELS["name"], page),
        siren=siren,
        address=_legal_field(LEGAL_LABELS["address"], page),
        publication_director=_legal_field(LEGAL_LABELS["director"], page),
        host=_legal_field(LEGAL_LABELS["host"], page),
    )


def _check_legal_notice(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    legal = ctx.pages.get(LEGAL)
    if legal is None:
        page = ctx.pages.get(PAGE)
        linked = page is not None and any("mentions legales" in label for label, _ in page.actions)
        note = "lien « mentions légales » présent" if linked else "aucun lien « mentions légales »"
        return _result(flag, NOT_CHECKABLE, (note,))
    checks = {
        "éditeur": _legal_field(LEGAL_LABELS["name"], legal),
        "directeur de la publication": _legal_field(LEGAL_LABELS["director"], legal),
        "hébergeur": _legal_field(LEGAL_LABELS["host"], legal),
    }
    missing = [k for k, v in checks.items() if not v]
    if missing:
        return _result(flag, FAIL, tuple(f"absent : {k}" for k in missing))
    return _result(flag, PASS, tuple(f"{k} : {v}" for k, v in checks.items()))


def _check_fake_patterns(flag: ComplianceFlag, ctx: _Context) -> FlagResult:
    evidence: list[str] = []
    reviews = ctx.extract.reviews
    texts = Counter(
        " ".join(_fold(r.text).split()) for r in reviews if len(r.text) >= DUPLICATE_MIN_CHARS
    )
    for text, n in texts.items():
        if n > 1:
            evidence.append(f"texte identique dans {n} avis : « {text[:80]} »")
    bursts = Counter(
        r.date for r in reviews if r.date and r.rating is not None and r.rating >= BURST_MIN_RATING
    )
    for day, n in sorted(bursts.items()):
        if n >= BURST_MIN_REVIEWS:
            evidence.append(f"{n} avis très positifs publiés le {day:%d/%m/%Y}")
    evidence.extend(_in_sources(flag, ctx, flag.patterns))
    if evidence:
        return _result(flag, FAIL, tuple(evidence))
    if not reviews:
        return _result(flag, UNKNOWN, ("aucun avis lu sur la page",))
    return _result(flag, PASS, ("aucun indice relevé",))


CHECKERS: Mapping[str, Callable[[ComplianceFlag, _Context], FlagResult]] = MappingProxyType(
    {
        "text": _check_text,
        "links": _check_links,
        "review_dates": _check_review_dates,
        "experience_dates": _check_experience_dates,
        "control_features": _check_control_features,
        "legal_notice": _check_legal_notice,
        "fake_patterns": _check_fake_patterns,
    }
)


def _result(flag: ComplianceFlag, status: str, evidence: tuple[str, ...] = ()) -> FlagResult:
    return FlagResult(flag.code, flag.label, flag.basis, status, evidence)


def platform_compliance_check(
    *,
    html: str,
    url: str,
    extract: PageExtract,
    section_html: str | None = None,
    legal_html: str | None = None,
) -> ComplianceReport:
    """Compute F1–F12 for a review page. `section_html` is the platform's dedicated page on how
    reviews work (F5's link target), `legal_html` its mentions légales; flags that need a page
    that was not supplied come back as "not_checkable"."""
    ctx = _Context(
        extract=extract,
        pages={
            PAGE: _page_read(html),
            SECTION: _page_read(section_html),
            LEGAL: _page_read(legal_html),
        },
    )
    results = tuple(CHECKERS[flag.checker](flag, ctx) for flag in FLAGS)
    company = legal_notice_parse(html=legal_html) if legal_html is not None else None
    return ComplianceReport(url=url, results=results, company=company)


# --------------------------------------------------------------------------- SignalConso


@dataclass(frozen=True, slots=True)
class SignalConsoDraft:
    """Fields to copy into the SignalConso form, the description text and warnings for the
    person who files it."""

    fields: Mapping[str, str]
    description: str
    attachments: tuple[str, ...]
    warnings: tuple[str, ...]


SIGNALCONSO_WARNINGS: tuple[str, ...] = (
    "SignalConso n'est pas une plainte formelle auprès de la DGCCRF : l'entreprise est informée"
    " du signalement et peut y répondre.",
    "À vérifier : SignalConso est conçu pour les consommateurs ; si le signalement est fait par"
    " un professionnel de santé, un courrier à la DGCCRF ou à la DDPP peut être préférable.",
    "Vérifier chaque point à l'écran avant l'envoi : ces constats sont calculés automatiquement.",
)


def signalconso_prefill(
    *,
    report: ComplianceReport,
    found_on: date,
    company: CompanyInfo | None = None,
    anonymous: bool = True,
) -> SignalConsoDraft:
    """Draft a SignalConso report listing the failed flags, in neutral French (DOMAIN §6.3)."""
    company = company or report.company or CompanyInfo()
    when = f"{found_on:%d/%m/%Y}"
    lines = [
        f"Le {when}, sur la page {report.url}, j'ai constaté que les informations prévues pour"
        " les sites qui publient des avis en ligne (article L111-7-2 et articles D111-16 et"
        " suivants du Code de la consommation) ne sont pas fournies ou sont incomplètes :",
    ]
    for result in report.failures:
        flag = FLAGS_BY_CODE[result.code]
        detail = f" ({'; '.join(result.evidence)})" if result.evidence else ""
        lines.append(f"- {flag.failure_text} [{flag.basis}]{detail}.")
    lines.append("Je vous remercie de bien vouloir examiner ces éléments.")
    fields = {
        "Secteur": "Santé",
        "Type de problème": "Avis en ligne : informations obligatoires absentes ou incomplètes",
        "Date du constat": when,
        "Nom de l'entreprise": company.name or "",
        "SIREN": company.siren or "",
        "Adresse de l'entreprise": company.address or "",
        "Site internet": report.url,
        "Je travaille dans cette entreprise": "Non",
        "Rester anonyme vis-à-vis de l'entreprise": "Oui" if anonymous else "Non",
    }
    attachments = tuple(
        f"Capture de la page {report.url} du {when} ({r.code})" for r in report.failures
    )
    warnings = (
        SIGNALCONSO_WARNINGS
        + (("Aucun manquement relevé : rien à signaler.",) if not report.failures else ())
        + (
            ("Entreprise non identifiée : compléter depuis les mentions légales.",)
            if not company.name
            else ()
        )
    )
    return SignalConsoDraft(
        fields=MappingProxyType(fields),
        description="\n".join(lines),
        attachments=attachments,
        warnings=warnings,
    )
