"""Escalation ladder of DOMAIN §3.2 as a state machine: states, transitions and guards as data.

Why: the order of steps protects the claim. A notice sent before the constat can get the content
removed and destroy the proof; a waiting window (GDPR 1 + 2 months...) left to run past the loi
1881 deadline loses the case; a doctor must seek conciliation with a colleague before suing
(R4127-56). ``ladder_check_transition`` is pure: it says whether a move is allowed and why not,
so admin views, the API and background reminders all apply the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from common.formatting import date_short
from cover.deadlines import (
    ClaimEvent,
    Deadline,
    DeadlineStatus,
    clock_worst_case_end,
    deadlines_compute,
    deadlines_press_limit,
)
from cover.rules import (
    CATEGORY_RULES,
    LITIGATION_PLAUSIBLE_CATEGORIES,
    PRESS_LIMITATION_CLOCK_IDS,
    ROUTE_RULES,
    ClaimEventKind,
    ClaimFact,
    ClockRule,
    ContentCategory,
    Route,
    RouteRule,
    _,
    clock_rules_with_overrides,
)


class LadderState(StrEnum):
    INTAKE = "INTAKE"
    EVIDENCE = "EVIDENCE"
    REPLY_CONTACT = "REPLY_CONTACT"
    PLATFORM = "PLATFORM"
    MISE_EN_DEMEURE = "MISE_EN_DEMEURE"
    LITIGATION = "LITIGATION"
    DAMAGES = "DAMAGES"
    CLOSED = "CLOSED"


STATE_LABELS: Mapping[LadderState, str] = {
    LadderState.INTAKE: _("0 — Ouverture"),
    LadderState.EVIDENCE: _("1 — Preuve"),
    LadderState.REPLY_CONTACT: _("2 — Réponse / contact"),
    LadderState.PLATFORM: _("3 — Plateforme"),
    LadderState.MISE_EN_DEMEURE: _("4 — Mise en demeure"),
    LadderState.LITIGATION: _("5 — Contentieux (avocat)"),
    LadderState.DAMAGES: _("6 — Dommages-intérêts / exécution"),
    LadderState.CLOSED: _("Clos"),
}

# INTAKE ──> EVIDENCE ──> (choose) ──> AMICABLE ──> PRE-LITIGATION ──> LITIGATION ──> DAMAGES.
# Escalation only moves forward; a state with routes can also be re-entered to take another
# route (a second notice, a GDPR request after a DSA notice...).
TRANSITIONS: Mapping[LadderState, frozenset[LadderState]] = {
    LadderState.INTAKE: frozenset({LadderState.EVIDENCE, LadderState.CLOSED}),
    LadderState.EVIDENCE: frozenset(
        {
            LadderState.REPLY_CONTACT,
            LadderState.PLATFORM,
            LadderState.MISE_EN_DEMEURE,
            LadderState.LITIGATION,
            LadderState.CLOSED,
        }
    ),
    LadderState.REPLY_CONTACT: frozenset(
        {
            LadderState.PLATFORM,
            LadderState.MISE_EN_DEMEURE,
            LadderState.LITIGATION,
            LadderState.CLOSED,
        }
    ),
    LadderState.PLATFORM: frozenset(
        {LadderState.MISE_EN_DEMEURE, LadderState.LITIGATION, LadderState.CLOSED}
    ),
    LadderState.MISE_EN_DEMEURE: frozenset({LadderState.LITIGATION, LadderState.CLOSED}),
    LadderState.LITIGATION: frozenset({LadderState.DAMAGES, LadderState.CLOSED}),
    LadderState.DAMAGES: frozenset({LadderState.CLOSED}),
    LadderState.CLOSED: frozenset(),
}

STATE_ROUTES: Mapping[LadderState, tuple[Route, ...]] = {
    LadderState.INTAKE: (),
    LadderState.EVIDENCE: (Route.CONSTAT,),
    LadderState.REPLY_CONTACT: (Route.NO_ACTION, Route.REPLY, Route.CONTACT_AUTHOR),
    LadderState.PLATFORM: (
        Route.DSA_NOTICE,
        Route.GDPR_OBJECTION_ERASURE,
        Route.DEREFERENCING,
        Route.DROIT_DE_REPONSE,
        Route.PLATFORM_REPORT_TOS,
        Route.SIGNALCONSO,
    ),
    LadderState.MISE_EN_DEMEURE: (Route.MISE_EN_DEMEURE, Route.CONCILIATION_ORDINALE),
    LadderState.LITIGATION: (
        Route.IDENTIFICATION_REQUETE_145,
        Route.PAF_LCEN_6_3,
        Route.REFERE_835,
        Route.REFERE_ART9,
        Route.CITATION_DIRECTE,
        Route.PLAINTE_CPC,
        Route.ASSIGNATION_FOND,
        Route.CNIL_COMPLAINT,
    ),
    LadderState.DAMAGES: (),
    LadderState.CLOSED: (),
}

# The step each route belongs to: taking a route is moving to (or staying in) that step.
ROUTE_STATES: Mapping[Route, LadderState] = {
    route: state for state, routes in STATE_ROUTES.items() for route in routes
}
# Gathering proof is never refused for coming late: a constat can be ordered at any step after
# intake (the constat-first guard may demand one before a later removal step).
ROUTES_AT_ANY_STEP: frozenset[Route] = frozenset({Route.CONSTAT})

AMICABLE_STATES: frozenset[LadderState] = frozenset(
    {LadderState.REPLY_CONTACT, LadderState.PLATFORM, LadderState.MISE_EN_DEMEURE}
)
# Routes of the LITIGATION state that do not need an avocat (DOMAIN §4.3: CNIL complaint).
LITIGATION_ROUTES_WITHOUT_LAWYER: frozenset[Route] = frozenset({Route.CNIL_COMPLAINT})


class GuardSeverity(StrEnum):
    BLOCK = "BLOCK"
    WARN = "WARN"


@dataclass(frozen=True)
class GuardContext:
    from_state: LadderState
    to_state: LadderState
    route: Route | None
    categories: frozenset[ContentCategory]
    facts: frozenset[ClaimFact]
    event_kinds: frozenset[ClaimEventKind]
    today: date
    deadlines: tuple[Deadline, ...]
    clock_rules: Mapping[str, ClockRule]

    @property
    def route_rule(self) -> RouteRule | None:
        return ROUTE_RULES[self.route] if self.route is not None else None

    def deadline(self, clock_id: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.clock_id == clock_id), None)


# A check returns None when the guard passes, or the values to format its message.
GuardCheck = Callable[[GuardContext], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Guard:
    id: str
    severity: GuardSeverity
    message: str
    basis: str
    check: GuardCheck


@dataclass(frozen=True)
class GuardFailure:
    guard_id: str
    severity: GuardSeverity
    message: str
    basis: str


@dataclass(frozen=True)
class TransitionCheck:
    allowed: bool
    blocked: tuple[GuardFailure, ...]
    warnings: tuple[GuardFailure, ...]


def _transition_exists(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.to_state in TRANSITIONS[ctx.from_state]:
        return None
    if ctx.to_state == ctx.from_state and ctx.route is not None:
        if STATE_ROUTES[ctx.to_state] or _route_at_any_step(ctx):
            return None
    return {"from_state": STATE_LABELS[ctx.from_state], "to_state": STATE_LABELS[ctx.to_state]}


def _route_at_any_step(ctx: GuardContext) -> bool:
    return ctx.route in ROUTES_AT_ANY_STEP and ctx.to_state not in {
        LadderState.INTAKE,
        LadderState.CLOSED,
    }


def _route_in_state(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is None or ctx.route in STATE_ROUTES[ctx.to_state] or _route_at_any_step(ctx):
        return None
    return {"route": ROUTE_RULES[ctx.route].label, "to_state": STATE_LABELS[ctx.to_state]}


def _classified(ctx: GuardContext) -> Mapping[str, Any] | None:
    leaving = ctx.from_state is LadderState.INTAKE and ctx.to_state is not LadderState.CLOSED
    return {} if leaving and not ctx.categories else None


def _insurer_notified(ctx: GuardContext) -> Mapping[str, Any] | None:
    leaving = ctx.from_state is LadderState.INTAKE and ctx.to_state is not LadderState.CLOSED
    if leaving and ClaimEventKind.INSURER_NOTIFIED not in ctx.event_kinds:
        return {}
    return None


def _capture_done(ctx: GuardContext) -> Mapping[str, Any] | None:
    leaving = ctx.from_state is LadderState.EVIDENCE and ctx.to_state not in {
        LadderState.EVIDENCE,
        LadderState.CLOSED,
    }
    if leaving and ClaimEventKind.CAPTURE_DONE not in ctx.event_kinds:
        return {}
    return None


def _litigation_plausible(ctx: GuardContext) -> bool:
    return bool(ctx.categories & LITIGATION_PLAUSIBLE_CATEGORIES) or (
        ClaimFact.LITIGATION_PLAUSIBLE in ctx.facts
    )


def _constat_before_removal(ctx: GuardContext) -> Mapping[str, Any] | None:
    rule = ctx.route_rule
    if rule is not None:
        removal = rule.may_cause_removal
    else:
        removal = any(ROUTE_RULES[r].may_cause_removal for r in STATE_ROUTES[ctx.to_state])
    if (
        removal
        and _litigation_plausible(ctx)
        and ClaimEventKind.CONSTAT_DONE not in ctx.event_kinds
    ):
        return {}
    return None


def _proof_before_removal(ctx: GuardContext) -> Mapping[str, Any] | None:
    # Leaving EVIDENCE, CAPTURE_DONE already says it; this covers every other starting step.
    if ctx.from_state is LadderState.EVIDENCE or ClaimEventKind.CAPTURE_DONE in ctx.event_kinds:
        return None
    rule = ctx.route_rule
    if rule is not None:
        removal = rule.may_cause_removal
    else:
        removal = any(ROUTE_RULES[r].may_cause_removal for r in STATE_ROUTES[ctx.to_state])
    press_clock_runs = any(
        d.clock_id in PRESS_LIMITATION_CLOCK_IDS and d.status is not DeadlineStatus.DONE
        for d in ctx.deadlines
    )
    return {} if removal and press_clock_runs else None


def _no_public_reply_on_illicit(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route not in {Route.REPLY, Route.CONTACT_AUTHOR}:
        return None
    illicit = any(CATEGORY_RULES[c].illicit for c in ctx.categories)
    if illicit and ClaimEventKind.LAWYER_ENGAGED not in ctx.event_kinds:
        return {}
    return None


def _direct_reply_excludes_ddr(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is Route.DROIT_DE_REPONSE and ClaimFact.DIRECT_REPLY_AVAILABLE in ctx.facts:
        return {}
    return None


def _ddr_window_open(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is not Route.DROIT_DE_REPONSE:
        return None
    window = ctx.deadline("DROIT_DE_REPONSE_REQUEST_3M")
    if window is not None and window.status is DeadlineStatus.OVERDUE:
        return {"due": date_short(window.due_date)}
    return None


def _cnil_after_controller(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is not Route.CNIL_COMPLAINT:
        return None
    exercised = {ClaimEventKind.GDPR_REQUEST_SENT, ClaimEventKind.DEREFERENCING_REQUEST_SENT}
    return None if exercised & ctx.event_kinds else {}


def _identification_if_anonymous(ctx: GuardContext) -> Mapping[str, Any] | None:
    anonymous = ClaimFact.AUTHOR_ANONYMOUS in ctx.facts
    return {} if ctx.route is Route.IDENTIFICATION_REQUETE_145 and not anonymous else None


def _conciliation_only_between_doctors(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is Route.CONCILIATION_ORDINALE and ClaimFact.AUTHOR_IS_DOCTOR not in ctx.facts:
        return {}
    return None


def _conciliation_before_litigation(ctx: GuardContext) -> Mapping[str, Any] | None:
    if (
        ctx.to_state is LadderState.LITIGATION
        and ClaimFact.AUTHOR_IS_DOCTOR in ctx.facts
        and ClaimEventKind.CONCILIATION_REQUESTED not in ctx.event_kinds
    ):
        return {}
    return None


def _lawyer_for_litigation(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.to_state is not LadderState.LITIGATION:
        return None
    if ctx.route in LITIGATION_ROUTES_WITHOUT_LAWYER:
        return None
    return None if ClaimEventKind.LAWYER_ENGAGED in ctx.event_kinds else {}


def _lawyer_by_day_60(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.to_state not in AMICABLE_STATES:
        return None
    milestone = ctx.deadline("PRESS_LAWYER_D60")
    if milestone is not None and milestone.status is DeadlineStatus.OVERDUE:
        return {"due": date_short(milestone.due_date)}
    return None


def route_wait_end(
    *,
    route: Route,
    start: date,
    facts: Iterable[ClaimFact],
    clock_rules: Mapping[str, ClockRule],
) -> date | None:
    """Worst-case end of the waiting that follows a route taken on ``start`` (None: no wait).

    Waiting windows run one after the other; for a droit de réponse through the host of an
    anonymous non-professional editor, the host's forwarding comes before the 3-day insertion.
    """
    clock_ids = list(ROUTE_RULES[route].wait_clock_ids)
    if route is Route.DROIT_DE_REPONSE and ClaimFact.PUBLISHER_ANONYMOUS_NON_PRO in set(facts):
        clock_ids.insert(0, "DROIT_DE_REPONSE_HOST_FORWARD")
    if not clock_ids:
        return None
    end = start
    for clock_id in clock_ids:
        end = clock_worst_case_end(rule=clock_rules[clock_id], start=end)
    return end


def _wait_within_press_deadline(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.route is None:
        return None
    press = deadlines_press_limit(deadlines=ctx.deadlines)
    if press is None:
        return None
    end = route_wait_end(
        route=ctx.route, start=ctx.today, facts=ctx.facts, clock_rules=ctx.clock_rules
    )
    if end is not None and end > press.due_date:
        return {
            "route": ROUTE_RULES[ctx.route].label,
            "wait_end": date_short(end),
            "press_due": date_short(press.due_date),
        }
    return None


def _press_limit_passed(ctx: GuardContext) -> Mapping[str, Any] | None:
    if ctx.to_state is not LadderState.LITIGATION:
        return None
    # A republication opens a new clock of the same id: the action is lost only when every
    # clock of that id is overdue (one still running or done keeps the action possible).
    by_clock: dict[str, list[Deadline]] = {}
    for d in ctx.deadlines:
        if d.clock_id in PRESS_LIMITATION_CLOCK_IDS:
            by_clock.setdefault(d.clock_id, []).append(d)
    for group in by_clock.values():
        if all(d.status is DeadlineStatus.OVERDUE for d in group):
            return {"due": date_short(max(d.due_date for d in group))}
    return None


LADDER_GUARDS: tuple[Guard, ...] = (
    Guard(
        "TRANSITION_EXISTS",
        GuardSeverity.BLOCK,
        _("Le passage de « {from_state} » à « {to_state} » n'est pas prévu par l'échelle."),
        _("DOMAIN §3.2"),
        _transition_exists,
    ),
    Guard(
        "ROUTE_IN_STATE",
        GuardSeverity.BLOCK,
        _("La démarche « {route} » n'appartient pas à l'étape « {to_state} »."),
        _("DOMAIN §3.2"),
        _route_in_state,
    ),
    Guard(
        "CLASSIFIED",
        GuardSeverity.BLOCK,
        _("Qualifiez chaque passage (questionnaire) avant de poursuivre."),
        _("DOMAIN §2.2 et §3.2 étape 0"),
        _classified,
    ),
    Guard(
        "INSURER_NOTIFIED",
        GuardSeverity.WARN,
        _(
            "Le sinistre n'a pas été déclaré à l'assureur : le délai de déclaration dépend du "
            "contrat."
        ),
        _("DOMAIN §3.2 étape 0 ; conditions générales"),
        _insurer_notified,
    ),
    Guard(
        "CAPTURE_DONE",
        GuardSeverity.BLOCK,
        _("Faites d'abord la capture logicielle (le contenu peut disparaître)."),
        _("DOMAIN §3.2 étape 1 et §7.3"),
        _capture_done,
    ),
    Guard(
        "CONSTAT_BEFORE_REMOVAL",
        GuardSeverity.BLOCK,
        _(
            "Un contentieux est plausible : faites établir le constat par un commissaire de "
            "justice avant toute démarche pouvant entraîner le retrait du contenu (risque de "
            "perdre la preuve)."
        ),
        _("DOMAIN §3.2 étape 1 ; TGI Paris 10 avr. 2013 (capture insuffisante)"),
        _constat_before_removal,
    ),
    Guard(
        "PROOF_BEFORE_REMOVAL",
        GuardSeverity.BLOCK,
        _(
            "La prescription de la loi de 1881 court : aucune démarche pouvant entraîner le "
            "retrait du contenu avant une capture terminée (la preuve)."
        ),
        _("Loi du 29 juillet 1881, art. 65 ; DOMAIN §3.2 étape 1 et §7.3"),
        _proof_before_removal,
    ),
    Guard(
        "NO_PUBLIC_REPLY_ON_ILLICIT",
        GuardSeverity.BLOCK,
        _(
            "Contenu illicite : pas de réponse ni de contact avec l'auteur sans avis de "
            "l'avocat (une réponse peut valoir acquiescement et ajoute de la visibilité)."
        ),
        _("DOMAIN §3.2 étape 2 et §5.4"),
        _no_public_reply_on_illicit,
    ),
    Guard(
        "DIRECT_REPLY_EXCLUDES_DROIT_DE_REPONSE",
        GuardSeverity.BLOCK,
        _(
            "Le site permet de répondre directement : la procédure de droit de réponse n'est "
            "pas ouverte."
        ),
        _("Décret n° 2007-1527, art. 1 al. 2"),
        _direct_reply_excludes_ddr,
    ),
    Guard(
        "DROIT_DE_REPONSE_WINDOW_OPEN",
        GuardSeverity.BLOCK,
        _("Le délai de 3 mois pour demander un droit de réponse a expiré le {due}."),
        _("LCEN art. 1-1-III (ex-6-IV)"),
        _ddr_window_open,
    ),
    Guard(
        "CNIL_AFTER_CONTROLLER",
        GuardSeverity.BLOCK,
        _(
            "Exercez d'abord le droit auprès du responsable de traitement (demande RGPD ou de "
            "déréférencement) et gardez-en la preuve avant de saisir la CNIL."
        ),
        _("RGPD art. 77 ; DOMAIN §4.3"),
        _cnil_after_controller,
    ),
    Guard(
        "IDENTIFICATION_IF_ANONYMOUS",
        GuardSeverity.BLOCK,
        _("La requête en identification ne se justifie que si l'auteur est anonyme."),
        _("CPC art. 145 ; DOMAIN §3.2 étape 5"),
        _identification_if_anonymous,
    ),
    Guard(
        "CONCILIATION_BETWEEN_DOCTORS",
        GuardSeverity.BLOCK,
        _("La conciliation ordinale concerne un différend entre médecins."),
        _("CSP art. R4127-56"),
        _conciliation_only_between_doctors,
    ),
    Guard(
        "CONCILIATION_BEFORE_LITIGATION",
        GuardSeverity.BLOCK,
        _(
            "L'auteur est un médecin : une conciliation doit être recherchée, au besoin par "
            "l'intermédiaire du conseil départemental de l'Ordre, avant tout contentieux."
        ),
        _("CSP art. R4127-56"),
        _conciliation_before_litigation,
    ),
    Guard(
        "LAWYER_FOR_LITIGATION",
        GuardSeverity.BLOCK,
        _("Le contentieux passe par un avocat : enregistrez sa saisine."),
        _("DOMAIN §3.2 étape 5"),
        _lawyer_for_litigation,
    ),
    Guard(
        "LAWYER_BY_DAY_60",
        GuardSeverity.BLOCK,
        _(
            "L'avocat devait être saisi au plus tard le {due} (60 jours après la publication) : plus de "
            "démarche amiable sans avocat."
        ),
        _("DOMAIN §3.1 ; loi du 29 juillet 1881, art. 65"),
        _lawyer_by_day_60,
    ),
    Guard(
        "WAIT_WITHIN_PRESS_DEADLINE",
        GuardSeverity.BLOCK,
        _(
            "L'attente liée à « {route} » peut durer jusqu'au {wait_end}, après l'échéance de "
            "prescription du {press_due} : les démarches amiables n'interrompent pas la "
            "prescription, engagez l'action avant cette date."
        ),
        _("Loi du 29 juillet 1881, art. 65 ; DOMAIN §3.2 étape 3"),
        _wait_within_press_deadline,
    ),
    Guard(
        "PRESS_LIMIT_PASSED",
        GuardSeverity.WARN,
        _(
            "L'échéance de prescription de la loi de 1881 ({due}) est dépassée : l'action sur "
            "ce fondement est probablement prescrite."
        ),
        _("Loi du 29 juillet 1881, art. 65 et 65-3"),
        _press_limit_passed,
    ),
)


def ladder_check_transition(
    *,
    from_state: LadderState,
    to_state: LadderState,
    publication_date: date,
    categories: Iterable[ContentCategory],
    today: date,
    route: Route | None = None,
    facts: Iterable[ClaimFact] = (),
    events: Iterable[ClaimEvent] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> TransitionCheck:
    """Check a move on the ladder (optionally taking ``route`` in the target state).

    Every guard is evaluated so the user sees all the reasons at once; the move is allowed when
    no BLOCK guard fails. ``overrides`` are the clock overrides of ``deadlines_compute``.
    """
    ctx = _guard_context(
        from_state=from_state,
        to_state=to_state,
        publication_date=publication_date,
        categories=categories,
        today=today,
        route=route,
        facts=facts,
        events=events,
        overrides=overrides,
    )
    return _guards_evaluate(ctx=ctx, guards=LADDER_GUARDS)


def _guard_context(
    *,
    from_state: LadderState,
    to_state: LadderState,
    publication_date: date,
    categories: Iterable[ContentCategory],
    today: date,
    route: Route | None,
    facts: Iterable[ClaimFact],
    events: Iterable[ClaimEvent],
    overrides: Mapping[str, Mapping[str, Any]] | None,
) -> GuardContext:
    category_set = frozenset(categories)
    fact_set = frozenset(facts)
    event_list = tuple(events)
    deadlines = deadlines_compute(
        publication_date=publication_date,
        categories=category_set,
        events=event_list,
        today=today,
        overrides=overrides,
        facts=fact_set,
    )
    clock_rules, _changed = clock_rules_with_overrides(overrides=overrides)
    return GuardContext(
        from_state=from_state,
        to_state=to_state,
        route=route,
        categories=category_set,
        facts=fact_set,
        event_kinds=frozenset(e.kind for e in event_list),
        today=today,
        deadlines=tuple(deadlines),
        clock_rules=clock_rules,
    )


def _guards_evaluate(*, ctx: GuardContext, guards: Iterable[Guard]) -> TransitionCheck:
    blocked: list[GuardFailure] = []
    warnings: list[GuardFailure] = []
    for guard in guards:
        values = guard.check(ctx)
        if values is None:
            continue
        failure = GuardFailure(
            guard_id=guard.id,
            severity=guard.severity,
            message=guard.message.format(**values),
            basis=guard.basis,
        )
        (blocked if guard.severity is GuardSeverity.BLOCK else warnings).append(failure)
    return TransitionCheck(allowed=not blocked, blocked=tuple(blocked), warnings=tuple(warnings))


CLAIM_CLOSED_FAILURE = GuardFailure(
    guard_id="CLAIM_OPEN",
    severity=GuardSeverity.BLOCK,
    message=_("Le dossier est clos : aucune démarche n'est plus possible."),
    basis=_("DOMAIN §3.2"),
)


def ladder_act_state(*, from_state: LadderState, route: Route) -> LadderState:
    """The step in which taking ``route`` from ``from_state`` happens."""
    home = ROUTE_STATES[route]
    if route in ROUTES_AT_ANY_STEP and from_state not in {
        LadderState.INTAKE,
        LadderState.CLOSED,
        home,
    }:
        return from_state
    return home


def ladder_check_act(
    *,
    from_state: LadderState,
    route: Route | None,
    publication_date: date,
    categories: Iterable[ContentCategory],
    today: date,
    facts: Iterable[ClaimFact] = (),
    events: Iterable[ClaimEvent] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> TransitionCheck:
    """Check an act on a claim (a letter generated or sent...) as the move it amounts to.

    Taking ``route`` is moving to the route's step (or staying in it), so a letter is refused
    exactly where ``ladder_check_transition`` refuses the same route, with the same reasons.
    ``route`` None: an act outside the ladder (declaring the claim to the insurer), refused
    only once the claim is closed.
    """
    if route is None:
        if from_state is LadderState.CLOSED:
            return TransitionCheck(allowed=False, blocked=(CLAIM_CLOSED_FAILURE,), warnings=())
        return TransitionCheck(allowed=True, blocked=(), warnings=())
    return ladder_check_transition(
        from_state=from_state,
        to_state=ladder_act_state(from_state=from_state, route=route),
        publication_date=publication_date,
        categories=categories,
        today=today,
        route=route,
        facts=facts,
        events=events,
        overrides=overrides,
    )


# A public reply is not a move on the ladder: the doctor may answer a lawful review at any step
# before closing. Only the ladder's guards about replying apply to its approval.
REPLY_GUARD_IDS: frozenset[str] = frozenset({"NO_PUBLIC_REPLY_ON_ILLICIT"})


def ladder_check_reply(
    *,
    from_state: LadderState,
    publication_date: date,
    categories: Iterable[ContentCategory],
    today: date,
    facts: Iterable[ClaimFact] = (),
    events: Iterable[ClaimEvent] = (),
) -> TransitionCheck:
    """Check the approval of a public reply with the same guard and reasons as the REPLY route."""
    if from_state is LadderState.CLOSED:
        return TransitionCheck(allowed=False, blocked=(CLAIM_CLOSED_FAILURE,), warnings=())
    ctx = _guard_context(
        from_state=from_state,
        to_state=ROUTE_STATES[Route.REPLY],
        publication_date=publication_date,
        categories=categories,
        today=today,
        route=Route.REPLY,
        facts=facts,
        events=events,
        overrides=None,
    )
    return _guards_evaluate(ctx=ctx, guards=(g for g in LADDER_GUARDS if g.id in REPLY_GUARD_IDS))
