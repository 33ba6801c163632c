"""The reply check: DOMAIN §5.4 hard blocks and warnings, with a French language pipeline.

Three layers, each adding findings:

1. patterns on the folded text (lower case, no accents): fixed phrases that need no analysis
   (« je me souviens », « faute de quoi », « nulle trace de votre nom », dates, « le meilleur »);
2. token rules on the spaCy analysis (``fr_core_news_md``): lemmas, person, tense and mood let
   one rule cover every conjugation and person (« vous avez été reçue », « cette personne a bien
   été reçue », « je vous avais pourtant expliqué »), named entities find a name that is not the
   signature, and word vectors widen the health and insult vocabularies;
3. doubt: what the rules cannot decide (a word close to health vocabulary, a narration in the
   past addressed to the reader, a person's name) is a « à faire relire » warning, never silence.

Offsets refer to the text after Unicode NFC normalisation (what a browser sends).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cover.reply_check.findings import MESSAGES, SEVERITY, ReplyIssue, ReplyIssueCode, ReplySeverity
from cover.reply_check.lexicons import (
    ACCUSE_LEMMAS,
    INSULT_WORDS,
    MOVE_LEMMAS,
    PERSON_NOUNS,
    PRACTICE_WORDS,
    PRAISE_LEMMAS,
    RECEIVE_LEMMAS,
    TELL_LEMMAS,
    WITHDRAW_LEMMAS,
    fold,
    health_terms,
    phrase_pattern,
    vector_indexes,
)
from cover.reply_check.model import nlp_get
from cover.reply_check.patterns import (
    CARE_LEMMAS,
    CARE_PAST,
    CIVILITY,
    CLITIC_OBJECTS,
    COMPILED_PATTERNS,
    DEADLINE,
    EMOJI,
    HEALTH_SIM,
    HEALTH_SIM_REVIEW,
    INSULT_SIM_REVIEW,
    MAX_REPLY_CHARS,
    MSG_REVIEW_HEALTH,
    MSG_REVIEW_INSULT,
    MSG_REVIEW_NAME,
    MSG_REVIEW_NARRATION,
    MSG_REVIEW_UNAVAILABLE,
    NAME_CANDIDATE,
    PAST_TENSES,
    PLACE,
    SECOND_PERSON,
    SENTENCE,
    SOMEONE,
    THIRD_PERSON_REF,
    THRESHOLD_TOKENS,
    TIME,
    TITLES,
    WITHDRAW_WORD,
    I,
    identifier_patterns,
)

_fold_word = functools.lru_cache(maxsize=65536)(fold)


@dataclass
class _Collector:
    text: str
    found: dict[tuple[ReplyIssueCode, int, int], ReplyIssue]

    def add(self, code: ReplyIssueCode, start: int, end: int, message: str | None = None) -> None:
        key = (code, start, end)
        if key not in self.found:
            self.found[key] = ReplyIssue(
                code=code,
                severity=SEVERITY[code],
                message=str(message if message is not None else MESSAGES[code]),
                start=start,
                end=end,
                match=self.text[start:end],
            )


def _sentences(folded: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SENTENCE.finditer(folded)]


def _person_linked(sentence: str) -> bool:
    return bool(SECOND_PERSON.search(sentence) or THIRD_PERSON_REF.search(sentence))


# --------------------------------------------------------------------------------------------
# Layer 2: token rules
# --------------------------------------------------------------------------------------------


def _lemma(token: Any) -> str:
    return _fold_word(token.lemma_)


def _is_past(token: Any) -> bool:
    tenses = token.morph.get("Tense")
    forms = token.morph.get("VerbForm")
    return bool(set(tenses) & PAST_TENSES) or "Part" in forms


def _person_of(token: Any) -> set[str]:
    return set(token.morph.get("Person"))


def _clitic_before(tokens: Sequence[Any], index: int, window: int = 4) -> Any | None:
    """A clitic object pronoun (vous, te, l', la, le) just before the verb or its auxiliary."""
    for j in range(index - 1, max(-1, index - 1 - window), -1):
        tok = tokens[j]
        low = tok.lower_.replace("\u2019", "'")
        if tok.pos_ in {"AUX", "ADV"} or low in {"ne", "n'", "pas", "jamais", "bien", "deja"}:
            continue
        if tok.pos_ == "PRON" and low in CLITIC_OBJECTS:
            return tok
        if tok.pos_ == "PRON" and low in {"nous", "je", "j'", "on", "il", "elle"}:
            continue
        return None
    return None


@dataclass(frozen=True)
class _Sentence:
    """What the token rules know of one sentence: its folded text and who it speaks of."""

    folded: str
    lemmas: list[str]
    lowers: list[str]
    person_nouns: bool
    second_person: bool
    per_entity: bool
    identifiers_seen: bool
    someone: bool
    first_person: bool
    third_pronoun: bool
    public: bool


def _sentence_of(
    *, tokens: Sequence[Any], sentence_folded: str, identifiers_seen: bool, public: bool
) -> _Sentence:
    lemmas = [_lemma(t) for t in tokens]
    lowers = [_fold_word(t.text) for t in tokens]
    person_nouns = any(
        (lem in PERSON_NOUNS or low in PERSON_NOUNS) and t.pos_ in {"NOUN", "PROPN"}
        for t, lem, low in zip(tokens, lemmas, lowers, strict=True)
    )
    second_person = bool(SECOND_PERSON.search(sentence_folded))
    per_entity = any(t.ent_type_ == "PER" and t.pos_ == "PROPN" for t in tokens)
    return _Sentence(
        folded=sentence_folded,
        lemmas=lemmas,
        lowers=lowers,
        person_nouns=person_nouns,
        second_person=second_person,
        per_entity=per_entity,
        identifiers_seen=identifiers_seen,
        someone=person_nouns or second_person or per_entity or identifiers_seen,
        first_person=any(low in {"je", "j'", "nous", "j"} for low in lowers),
        third_pronoun=any(low in {"il", "elle", "ils", "elles"} for low in lowers),
        public=public,
    )


def _token_rules(
    *,
    tokens: Sequence[Any],
    sentence_folded: str,
    out: _Collector,
    identifiers_seen: bool,
    public: bool,
) -> None:
    s = _sentence_of(
        tokens=tokens,
        sentence_folded=sentence_folded,
        identifiers_seen=identifiers_seen,
        public=public,
    )
    for index, tok in enumerate(tokens):
        lem = s.lemmas[index]
        if (
            lem == "souvenir" and tok.pos_ == "NOUN" and s.first_person
        ):  # « j'en garde le souvenir »
            out.add(I.RECOLLECTION, tok.idx, tok.idx + len(tok.text))
        if tok.pos_ not in {"VERB", "AUX"} and lem not in MOVE_LEMMAS | RECEIVE_LEMMAS:
            continue
        _patient_status_rules(s=s, tokens=tokens, index=index, out=out)
        _speech_rules(s=s, tokens=tokens, index=index, out=out)


def _patient_status_rules(
    *, s: _Sentence, tokens: Sequence[Any], index: int, out: _Collector
) -> None:
    """Confirming or denying that someone came, was seen or treated, in any person."""
    tok, lem = tokens[index], s.lemmas[index]
    past = _is_past(tok)
    clitic = _clitic_before(tokens, index)
    span = (tok.idx, tok.idx + len(tok.text))
    if lem in RECEIVE_LEMMAS and past and tok.pos_ in {"VERB", "ADJ"}:
        following = tokens[index + 1 : index + 4]
        person_after = any(
            _lemma(t) in PERSON_NOUNS or (t.ent_type_ == "PER" and t.pos_ == "PROPN")
            for t in following
        )
        passive = "Pass" in tok.morph.get("Voice") or any(
            s.lemmas[j] == "etre" for j in range(max(0, index - 3), index)
        )
        if (clitic is not None and clitic.lower_ in {"vous", "te", "t'"}) or (
            clitic is not None and s.someone
        ):
            out.add(I.PATIENT_STATUS, *span)
        elif passive and (s.someone or s.third_pronoun):
            out.add(I.PATIENT_STATUS, *span)
        elif person_after or (clitic is not None and lem in CARE_LEMMAS):
            out.add(I.PATIENT_STATUS, *span)
        elif lem in CARE_LEMMAS and s.first_person and s.someone:  # « que j'ai soignée »
            out.add(I.PATIENT_STATUS, *span)
        elif s.public and s.someone and _person_of(tok) & {"2"}:
            out.add(I.PATIENT_STATUS, *span)
    if lem in MOVE_LEMMAS and past and tok.pos_ == "VERB":
        subject_person = s.second_person or s.person_nouns or s.per_entity or s.identifiers_seen
        if subject_person and lem != "passer" or re.search(PLACE, s.folded):
            out.add(I.PATIENT_STATUS, *span)
    if lem == "connaitre" and clitic is not None and re.search(r"\b(?:ne|n')\b", s.folded):
        out.add(I.PATIENT_STATUS, *span)
    if (
        lem in RECEIVE_LEMMAS | CARE_LEMMAS
        and "Inf" in tok.morph.get("VerbForm")
        and clitic is not None
        and clitic.lower_ in {"vous", "te", "t'"}
        and any(_is_past(t) and t.pos_ in {"AUX", "VERB"} for t in tokens[:index])
    ):
        out.add(I.PATIENT_STATUS, *span)  # « nous avons été heureux de vous accueillir »
    if lem == "consulter" and past and not s.first_person and (s.someone or s.third_pronoun):
        out.add(I.PATIENT_STATUS, *span)


def _speech_rules(*, s: _Sentence, tokens: Sequence[Any], index: int, out: _Collector) -> None:
    """Threats, recollections, accusations and praise put in the patients' mouths."""
    tok, lem, lowers = tokens[index], s.lemmas[index], s.lowers
    past = _is_past(tok)
    span = (tok.idx, tok.idx + len(tok.text))
    if lem in WITHDRAW_LEMMAS and re.search(
        r"\b(?:avis|commentaire|message|publication|post|propos)\b", s.folded
    ):
        out.add(I.THREAT, *span)  # asking the author to withdraw: the lawyer's job
    # Recollection, any tense: se souvenir, se rappeler, se remémorer.
    if lem in {"souvenir", "rememorer"} and tok.pos_ == "VERB":
        out.add(I.RECOLLECTION, *span)
    if lem == "rappeler" and index and lowers[index - 1] in {"me", "m'", "nous", "se", "s'"}:
        if lowers[index - 1] != "nous" or (index > 1 and lowers[index - 2] == "nous"):
            out.add(I.RECOLLECTION, *span)
    # "Je vous avais pourtant expliqué…": what was said to the reader, in the past.
    if lem in TELL_LEMMAS and past and s.first_person:
        clitic = _clitic_before(tokens, index)
        if clitic is not None and clitic.lower_ in {"vous", "te", "t'", "l'", "la", "le"}:
            out.add(I.RECOLLECTION, *span)
    # Demands to withdraw the review, in the imperative: a threat in public.
    if lem in WITHDRAW_LEMMAS and "Imp" in tok.morph.get("Mood"):
        out.add(I.THREAT, *span)
    if lem == "exiger" and s.first_person:
        out.add(I.THREAT, *span)
    # Accusing the author: vous mentez, il a menti, cette personne invente…
    if lem in ACCUSE_LEMMAS and (_person_of(tok) & {"2", "3"} or (past and s.someone)):
        out.add(I.ACCUSATION_OR_THREAT, *span)
    # Praise put in the patients' mouths: « nos patients nous recommandent ».
    if lem in PRAISE_LEMMAS and re.search(r"\b(?:nos|mes|les) patient", s.folded):
        out.add(I.PROMOTION, *span)


def _health_and_tone(
    *,
    tokens: Sequence[Any],
    sentence_folded: str,
    singles: frozenset[str],
    extra: frozenset[str],
    nlp: Any,
    out: _Collector,
    linked: bool,
) -> None:
    health_index, insult_index = vector_indexes(nlp)
    for tok in tokens:
        if not tok.is_alpha and "-" not in tok.text:
            continue
        low = _fold_word(tok.text)
        lem = _lemma(tok)
        span = (tok.idx, tok.idx + len(tok.text))
        bare = re.sub(r"[sx]$", "", low)
        if low in INSULT_WORDS or lem in INSULT_WORDS:
            out.add(I.INSULT, *span)
            continue
        if low in PRACTICE_WORDS or lem in PRACTICE_WORDS or tok.pos_ in THRESHOLD_TOKENS:
            continue
        if tok.is_stop or len(low) < 4 and low not in singles | extra:
            continue
        in_lexicon = bool({low, lem, bare} & (singles | extra))
        similarity = 0.0 if in_lexicon else health_index.similarity(tok)
        if in_lexicon or similarity >= HEALTH_SIM:
            out.add(I.MEDICAL_DETAIL if linked else I.MEDICAL_TERM, *span)
            continue
        if similarity >= HEALTH_SIM_REVIEW and linked:
            out.add(I.NEEDS_REVIEW, *span, MSG_REVIEW_HEALTH % {"word": tok.text})
            continue
        if tok.pos_ in {"ADJ", "NOUN"} and insult_index.similarity(tok) >= INSULT_SIM_REVIEW:
            out.add(I.NEEDS_REVIEW, *span, MSG_REVIEW_INSULT % {"word": tok.text})


def _names(*, doc: Any, folded: str, out: _Collector, signature_start: int) -> None:
    """People named in the reply: a civility followed by a name blocks; another person's name
    (not the doctor's, not in the signature) asks for a second reading."""
    tokens = list(doc)
    for index, tok in enumerate(tokens):
        if CIVILITY.match(fold(tok.text)) and index + 1 < len(tokens):
            nxt = tokens[index + 1]
            if nxt.text[:1].isupper() and nxt.pos_ in {"PROPN", "NOUN", "ADJ", "X"}:
                end = nxt.idx + len(nxt.text)
                if index + 2 < len(tokens) and tokens[index + 2].text == ".":
                    end += 1
                out.add(I.PATIENT_IDENTIFIER, tok.idx, end)
    for ent in doc.ents:
        if ent.label_ != "PER" or ent.start_char >= signature_start:
            continue
        if not any(t.pos_ == "PROPN" for t in ent):
            continue
        before = fold(doc[ent.start - 1].text).rstrip(".") if ent.start else ""
        first = fold(ent[0].text).rstrip(".")
        if before in TITLES or first in TITLES or CIVILITY.match(before):
            continue
        out.add(I.NEEDS_REVIEW, ent.start_char, ent.end_char, MSG_REVIEW_NAME % {"word": ent.text})


def _narration(*, tokens: Sequence[Any], out: _Collector) -> None:
    """A past-tense verb whose subject is the reader (« vous avez attendu », « vous étiez »)."""
    lowers = [_fold_word(t.text) for t in tokens]
    for index, tok in enumerate(tokens):
        if tok.pos_ not in {"VERB", "AUX"} or "Fin" not in tok.morph.get("VerbForm"):
            continue
        if "2" not in tok.morph.get("Person") or not index or lowers[index - 1] != "vous":
            continue
        tense = set(tok.morph.get("Tense"))
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        compound = (
            tok.pos_ == "AUX"
            and nxt is not None
            and "Part" in nxt.morph.get("VerbForm")
            and nxt.pos_ == "VERB"
        )
        if tense & PAST_TENSES or compound:
            end = nxt.idx + len(nxt.text) if compound and nxt is not None else tok.idx + len(tok)
            out.add(I.NEEDS_REVIEW, tokens[index - 1].idx, end, MSG_REVIEW_NARRATION)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def check_text(
    *,
    text: str,
    reviewer_identifiers: Iterable[str] = (),
    extra_medical_terms: Iterable[str] = (),
    public: bool = True,
) -> list[ReplyIssue]:
    """Every finding of ``text`` sorted by position; any BLOCK finding rejects it.

    ``reviewer_identifiers``: the author's name and pseudonym as shown on the review (never
    echoed back, nor their initials). ``public``: a reply shown to everyone (a review reply, a
    droit de réponse); False for a letter sent to one addressee, where names and the past are
    expected and only secrecy matters to the caller.
    """
    text = unicodedata.normalize("NFC", text)
    folded = fold(text)
    out = _Collector(text=text, found={})

    identifiers_seen = _identifiers(folded=folded, identifiers=reviewer_identifiers, out=out)
    for code, patterns in COMPILED_PATTERNS.items():
        for pattern in patterns:
            for m in pattern.finditer(folded):
                out.add(code, m.start(), m.end())

    singles, phrases = health_terms()
    extra = frozenset(fold(t).strip() for t in extra_medical_terms if t.strip())
    extra_phrases = tuple(t for t in extra if " " in t)
    sentences = _sentences(folded)
    _sentence_patterns(
        folded=folded,
        sentences=sentences,
        phrases=(*phrases, *extra_phrases),
        identifiers_seen=identifiers_seen,
        out=out,
    )

    nlp = nlp_get()
    if nlp is None:
        out.add(I.NEEDS_REVIEW, 0, 0, MSG_REVIEW_UNAVAILABLE)
    else:
        _language_rules(
            nlp=nlp,
            text=text,
            folded=folded,
            sentences=sentences,
            health=(singles, extra),
            identifiers_seen=identifiers_seen,
            public=public,
            out=out,
        )

    for m in EMOJI.finditer(text):
        out.add(I.EMOJI, m.start(), m.end())
    if len(text) > MAX_REPLY_CHARS:
        out.add(I.TOO_LONG, MAX_REPLY_CHARS, len(text))
    return _prune(sorted(out.found.values(), key=lambda i: (i.start, i.end, i.code.value)))


def _identifiers(*, folded: str, identifiers: Iterable[str], out: _Collector) -> bool:
    """Every echo of the reviewer's name or pseudonym; True when the text names them."""
    seen = False
    for identifier in identifiers:
        for pattern in identifier_patterns(identifier):
            for m in pattern.finditer(folded):
                seen = True
                out.add(I.PATIENT_IDENTIFIER, m.start(), m.end())
    return seen


def _sentence_patterns(
    *,
    folded: str,
    sentences: list[tuple[int, int]],
    phrases: tuple[str, ...],
    identifiers_seen: bool,
    out: _Collector,
) -> None:
    """Layer 1 sentence by sentence: health phrases, care in the past, deadlines, times."""
    for start, end in sentences:
        sentence = folded[start:end]
        linked = _person_linked(sentence) or identifiers_seen
        for phrase in phrases:
            for m in phrase_pattern(phrase).finditer(sentence):
                code = I.MEDICAL_DETAIL if linked else I.MEDICAL_TERM
                out.add(code, start + m.start(), start + m.end())
        if linked or SOMEONE.search(sentence):
            for m in CARE_PAST.finditer(sentence):
                out.add(I.PATIENT_STATUS, start + m.start(), start + m.end())
        if WITHDRAW_WORD.search(sentence):
            for m in DEADLINE.finditer(sentence):
                out.add(I.THREAT, start + m.start(), start + m.end())
        for m in TIME.finditer(sentence):
            linked_time = bool(SECOND_PERSON.search(sentence)) or identifiers_seen
            code = I.VISIT_DATE_OR_TIME if linked_time else I.TIME_MENTION
            out.add(code, start + m.start(), start + m.end())


def _language_rules(
    *,
    nlp: Any,
    text: str,
    folded: str,
    sentences: list[tuple[int, int]],
    health: tuple[frozenset[str], frozenset[str]],
    identifiers_seen: bool,
    public: bool,
    out: _Collector,
) -> None:
    """Layers 2 and 3 on the spaCy analysis, sentence by sentence (the signature excepted),
    then the names of the whole text."""
    singles, extra = health
    signature = re.search(r"(?:^|\s)[—–-]{1,2}\s*[^\s—–-][^\n]*$", text)
    signature_start = signature.start() if signature else len(text)
    doc = _analyse(nlp, text, names=bool(NAME_CANDIDATE.search(text[:signature_start])))
    tokens_all = list(doc)
    cursor = 0
    for start, end in sentences:
        sentence_tokens = []
        while cursor < len(tokens_all) and tokens_all[cursor].idx < end:
            if tokens_all[cursor].idx >= start:
                sentence_tokens.append(tokens_all[cursor])
            cursor += 1
        if not sentence_tokens:
            continue
        sentence = folded[start:end]
        scoped = [t for t in sentence_tokens if t.idx < signature_start]
        linked = _person_linked(sentence) or identifiers_seen
        _token_rules(
            tokens=scoped,
            sentence_folded=sentence,
            out=out,
            identifiers_seen=identifiers_seen,
            public=public,
        )
        _health_and_tone(
            tokens=scoped,
            sentence_folded=sentence,
            singles=singles,
            extra=extra,
            nlp=nlp,
            out=out,
            linked=linked,
        )
        _narration(tokens=scoped, out=out)
    _names(doc=doc, folded=folded, out=out, signature_start=signature_start)


def _analyse(nlp: Any, text: str, *, names: bool) -> Any:
    """Run the pipeline; the entity recogniser (a third of the time) only when a capitalised
    word stands inside a sentence, the only place a name can hide. Calling the components one
    by one leaves the shared pipeline untouched (thread-safe)."""
    doc = nlp.make_doc(text)
    for name, component in nlp.pipeline:
        if name == "ner" and not names:
            continue
        doc = component(doc)
    return doc


def _prune(issues: list[ReplyIssue]) -> list[ReplyIssue]:
    """Drop what adds nothing: a warning whose span overlaps a blocking finding's, and a
    finding inside a wider one of the same category (the pattern and the token rule often see
    the same words). Every echo of a reviewer identifier is kept."""
    blocks = [i for i in issues if i.severity is ReplySeverity.BLOCK]
    kept = []
    for issue in issues:
        if issue.severity is ReplySeverity.WARN and issue.code is not I.TOO_LONG:
            if any(b.start < issue.end and issue.start < b.end for b in blocks):
                continue
        if issue.code is not I.PATIENT_IDENTIFIER and any(
            other.code is issue.code
            and other is not issue
            and other.start <= issue.start
            and issue.end <= other.end
            and (other.end - other.start) > (issue.end - issue.start)
            for other in issues
        ):
            continue
        kept.append(issue)
    return kept
