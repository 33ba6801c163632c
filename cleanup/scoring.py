"""Score new reviews and mentions: how negative, and which passages a person should look at.

Why: a doctor with hundreds of reviews needs the few that matter first. Negativity comes from the
rating alone (it is what the platform shows). The possible-illicit flags come from a French
lexicon kept as data, one entry per pattern, grouped by the DOMAIN §2.1 content categories
(insult → INJURE, accusation of a precise fact → DIFFAMATION, private facts → PRIVACY,
discrimination → DISCRIMINATORY_SPEECH). Each flag carries the matched passage with its offsets,
because letters must quote the exact passage (DOMAIN §2.2).

A flag is a prompt for a human, never a verdict: a keyword cannot tell an injure from a quoted
word or a negation, nor choose the single qualification per passage that a writ requires. Every
score therefore carries `FLAG_NOTICE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from cleanup.extract import Review, span_unfold, text_fold
from cleanup.search_providers import SearchResult

FLAG_NOTICE = (
    "Repérage automatique par mots-clés, à vérifier par une personne : "
    "ce n'est pas une qualification juridique."
)


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    label: str
    basis: str


CATEGORIES: Mapping[str, CategoryInfo] = MappingProxyType(
    {
        "INJURE": CategoryInfo("Injure possible", "Loi du 29 juillet 1881, art. 29 al. 2"),
        "DIFFAMATION": CategoryInfo(
            "Accusation d'un fait précis (diffamation possible)",
            "Loi du 29 juillet 1881, art. 29 al. 1",
        ),
        "PRIVACY": CategoryInfo("Éléments de vie privée (atteinte possible)", "Code civil, art. 9"),
        "DISCRIMINATORY_SPEECH": CategoryInfo(
            "Propos discriminatoires possibles",
            "Loi du 29 juillet 1881, art. 24, 32 al. 2 et 33 al. 3",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """`pattern` is a regular expression matched on folded text (lower case, accents removed,
    typographic apostrophes made straight)."""

    category: str
    pattern: str


def _entries(category: str, *patterns: str) -> tuple[LexiconEntry, ...]:
    return tuple(LexiconEntry(category, p) for p in patterns)


LEXICON: tuple[LexiconEntry, ...] = (
    *_entries(
        "INJURE",
        r"\bconn(?:ard|arde|asse)s?\b",
        r"\babruti(?:e|es|s)?\b",
        r"\bimbeciles?\b",
        r"\bcretin(?:e|es|s)?\b",
        r"\bidiot(?:e|es|s)?\b",
        r"\bdebiles?\b",
        r"\bsal(?:aud|aude|ope)s?\b",
        r"\bordures?\b",
        r"\benfoire(?:e|es|s)?\b",
        r"\bbatard(?:e|es|s)?\b",
        r"\bminables?\b",
        r"\bcharlatan(?:e|es|s)?\b",
        r"\b(?:un|une|ce|cette|vrai|vraie|veritable) bouch(?:er|ere)\b",
        r"\bguignols?\b",
        r"\btocards?\b",
        r"\bnullard(?:e|es|s)?\b",
        r"\bmenteu(?:r|rs|se|ses)\b",
        r"\bmerd(?:e|eux|euse|ique)s?\b",
        r"\bporcs?\b",
        r"\bpsychopathes?\b",
    ),
    *_entries(
        "DIFFAMATION",
        r"\bescro(?:c|cs|querie|queries)\b",
        r"\bvoleu(?:r|rs|se|ses)\b",
        r"\b(?:m'|l'|nous |les |vous )(?:a|ont|avez) vole(?:e|es|s)?\b",
        r"\bc'est du vol\b",
        r"\barnaqu(?:e|es|er|eur|eurs|euse|euses)\b",
        r"\bfraud(?:e|es|eur|eurs|euse|euses)\b",
        r"\bcharcut(?:e|ee|ees|es|er)\b",
        r"\bsequelles?\b",
        r"\b(?:erreur|faute)s? medicales?\b",
        r"\bfalsifi\w*\b",
        r"\bfaux (?:certificats?|arrets? de travail|documents?|diagnostics?)\b",
        r"\bharcel\w*\b",
        r"\bagress(?:e|ee|ees|er|ion|ions|if|ive)\b",
        r"\battouchements?\b",
        r"\bviol(?:e|ee|er)?\b",
        r"\bdrogu(?:e|ee|es|ees)\b",
        r"\balcooliques?\b",
        r"\bcorrompu(?:e|es|s)?\b",
        r"\bpots?[- ]de[- ]vin\b",
        r"\bdessous[- ]de[- ]table\b",
        r"\bradi(?:e|ee|er)\b",
        r"\bdangers? publics?\b",
        r"\bassassin(?:e|s|at)?\b",
        r"\bnegligences?\b",
        r"\bfaux medecin\b",
    ),
    *_entries(
        "PRIVACY",
        r"\b0[1-9](?:[ .-]?\d{2}){4}\b",
        r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",
        r"\b\d{1,4}(?: ?(?:bis|ter))?,? "
        r"(?:rue|avenue|boulevard|bd|chemin|impasse|allee|place|quai)\b",
        r"\b(?:habite|domicilie(?:e)?|vit) (?:a|au|aux|dans|rue|avenue|chez)\b",
        r"\b(?:sa|son|ses) (?:femme|mari|epouse|epoux|enfants?|fils|fille|compagne|compagnon|"
        r"maitresse|amant|famille|divorce)\b",
        r"\bdivorc(?:e|ee|er|es)\b",
        r"\b(?:il|elle) (?:est|etait|a ete) (?:malade|depressi(?:f|ve)|en depression|"
        r"en burn[- ]?out|alcoolique)\b",
        r"\b(?:cancer|sida|vih|seropositi(?:f|ve))\b",
        r"\benceinte\b",
        r"\b(?:homosexuel(?:le)?|gay|lesbienne|bisexuel(?:le)?)s?\b",
    ),
    *_entries(
        "DISCRIMINATORY_SPEECH",
        r"\bbougnoul\w*\b",
        r"\bnegr(?:e|es|esse|esses)\b",
        r"\byoupin\w*\b",
        r"\bbicots?\b",
        r"\bchinetoques?\b",
        r"\bbamboulas?\b",
        r"\b(?:pedes?|pd|tapettes?|tarlouzes?|gouines?)\b",
        r"\bmongol(?:ien|ienne|s)?\b",
        r"\bgogols?\b",
        r"\btrisos?\b",
        r"\b(?:rentre|retourne)z? (?:chez (?:toi|vous|lui|elle)|dans (?:ton|votre|son) pays|"
        r"au bled)\b",
        r"\b(?:ces|sale|sales) (?:arabes?|noirs?|juifs?|juives?|musulman(?:e|es|s)?|"
        r"etrangers?|etrangeres?|immigres?|africain(?:e|es|s)?|chinois(?:e|es)?|roms?|gitans?|"
        r"femmes?|handicapes?)\b",
        r"\b(?:sa|leur|cette) race\b",
        r"\bvoilee?s?\b",
    ),
)

_COMPILED: tuple[tuple[LexiconEntry, re.Pattern[str]], ...] = tuple(
    (entry, re.compile(entry.pattern)) for entry in LEXICON
)

# Rating bands, highest bound first match; ratings are on the 0–5 scale of `cleanup.extract`.
RATING_BANDS: tuple[tuple[float, str, str, bool], ...] = (
    # (upper bound inclusive, band, French label, counts as negative)
    (1.5, "very_negative", "Très négatif", True),
    (2.5, "negative", "Négatif", True),
    (3.5, "mixed", "Mitigé", False),
    (5.0, "positive", "Positif", False),
)
UNRATED = ("unrated", "Sans note", False)


@dataclass(frozen=True, slots=True)
class IllicitFlag:
    """A possible-illicit passage. `start`/`end` index the matched words in the scored text;
    `passage` is the whole sentence around them, with its own offsets, for highlighting."""

    category: str
    label: str
    basis: str
    term: str
    start: int
    end: int
    passage: str
    passage_start: int
    passage_end: int


@dataclass(frozen=True, slots=True)
class ItemScore:
    negativity: float | None
    band: str
    band_label: str
    negative: bool
    flags: tuple[IllicitFlag, ...]
    notice: str = FLAG_NOTICE

    @property
    def flagged_categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.category for f in self.flags))


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    for m in _SENTENCE.finditer(text):
        if m.start() <= start < m.end():
            s, e = m.start(), max(m.end(), end)
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            return s, e
    return start, end


def text_flags(
    *, text: str, lexicon: Sequence[LexiconEntry] | None = None
) -> tuple[IllicitFlag, ...]:
    """Find lexicon matches in `text`, ordered by position; one flag per (category, span)."""
    compiled = _COMPILED if lexicon is None else tuple((e, re.compile(e.pattern)) for e in lexicon)
    folded, index = text_fold(text=text)
    seen: set[tuple[str, int, int]] = set()
    flags: list[IllicitFlag] = []
    for entry, regex in compiled:
        for m in regex.finditer(folded):
            if m.end() == m.start():
                continue
            start, end = span_unfold(index=index, start=m.start(), end=m.end())
            if (entry.category, start, end) in seen:
                continue
            seen.add((entry.category, start, end))
            p_start, p_end = _sentence_span(text, start, end)
            info = CATEGORIES[entry.category]
            flags.append(
                IllicitFlag(
                    category=entry.category,
                    label=info.label,
                    basis=info.basis,
                    term=text[start:end],
                    start=start,
                    end=end,
                    passage=text[p_start:p_end],
                    passage_start=p_start,
                    passage_end=p_end,
                )
            )
    flags.sort(key=lambda f: (f.start, f.end, f.category))
    return tuple(flags)


def rating_band(*, rating: float | None) -> tuple[str, str, bool]:
    if rating is None:
        return UNRATED
    for upper, band, label, negative in RATING_BANDS:
        if rating <= upper:
            return band, label, negative
    return RATING_BANDS[-1][1:]


def _score(*, rating: float | None, text: str) -> ItemScore:
    band, label, negative = rating_band(rating=rating)
    # 5 → 0.0, 1 → 1.0: the platform's lowest usual rating is 1, not 0.
    negativity = None if rating is None else round(min(max((5.0 - rating) / 4.0, 0.0), 1.0), 2)
    return ItemScore(
        negativity=negativity,
        band=band,
        band_label=label,
        negative=negative,
        flags=text_flags(text=text),
    )


# Wording that makes a review negative whatever its stars: a reviewer who edits « Je
# recommande » into « Je ne recommande plus » often leaves the old rating. Matched on folded
# text; each phrase is unambiguous on its own (no bare « recommande », which negation flips).
NEGATIVE_TEXT_PATTERNS: tuple[str, ...] = (
    r"\bne (?:le |la |vous |te |les )?recommande(?:rai|rais|rons)? (?:pas|plus|jamais|absolument pas)\b",
    r"\bje (?:le |la |vous |te )?deconseille\b",
    r"\ba (?:fuir|eviter|proscrire)\b",
    r"\bfuyez\b",
    r"\bplus jamais\b",
    r"\bne (?:reviendrai|retournerai|remettrai les pieds)\b",
    r"\b(?:tres |vraiment |profondement )?decu(?:e|es|s)?\b",
    r"\bdecevant(?:e|es|s)?\b",
    r"\bdeception\b",
    r"\bincompeten(?:t|te|ts|tes|ce)\b",
    r"\bmeprisant(?:e|es|s)?\b",
    r"\bdesagreable(?:s)?\b",
    r"\bodieu(?:x|se|ses)\b",
    r"\bexecrable(?:s)?\b",
    r"\bcatastroph(?:e|ique|iques)\b",
    r"\bhorrible(?:s)?\b",
    r"\bscandaleu(?:x|se|ses)\b",
    r"\ba (?:la|le) pire\b|\ble pire (?:medecin|cabinet|praticien)\b",
    r"\bmauvais(?:e|es)? (?:medecin|praticien|accueil|experience|diagnostic)\b",
    r"\baucune? (?:ecoute|empathie|consideration|respect)\b",
    r"\bnul(?:le|les|s)?\b",
)  # fmt: skip

_NEGATIVE_TEXT = tuple(re.compile(p) for p in NEGATIVE_TEXT_PATTERNS)
# A text-negative review rated well is at least "negative" (negativity 0.75, the 2-star level).
TEXT_NEGATIVE_BAND = ("negative", "Négatif", True)
TEXT_NEGATIVITY = 0.75


def text_negative(*, text: str) -> bool:
    """Whether the wording itself says the experience was bad (see NEGATIVE_TEXT_PATTERNS)."""
    folded, _index = text_fold(text=text)
    return any(regex.search(folded) for regex in _NEGATIVE_TEXT)


def review_score(*, review: Review) -> ItemScore:
    """Score a review: negativity from its rating, raised to "negative" when its wording is
    plainly negative (an edited text keeps its old stars); flags from its text (offsets index
    `review.text`)."""
    score = _score(rating=review.rating, text=review.text)
    if score.negative or not text_negative(text=review.text):
        return score
    band, label, negative = TEXT_NEGATIVE_BAND
    return ItemScore(
        negativity=max(score.negativity or 0.0, TEXT_NEGATIVITY),
        band=band,
        band_label=label,
        negative=negative,
        flags=score.flags,
    )


def mention_score(*, result: SearchResult) -> ItemScore:
    """Score a search result on the doctor's name: no rating, flags from "title — snippet"
    (offsets index that joined string, see `mention_text`)."""
    return _score(rating=None, text=mention_text(result=result))


def mention_text(*, result: SearchResult) -> str:
    return f"{result.title} — {result.snippet}" if result.snippet else result.title
