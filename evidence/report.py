"""The capture report (``data/report.pdf``): a French account of the capture for a commissaire
de justice and a lawyer.

It answers, in the order a constat follows NF Z67-147 (DOMAIN.md §7): what was captured, when
(UTC and Paris time, with the clock check), from where (public IP, DNS answers, resolver), how
(browser, versions, clean profile, no proxy), the checks and their results, each interaction
with the page, the redirect chain, and the SHA-256 of every file — and it says plainly that it
does not replace a constat. Missing facts are printed with the reason they are missing
("inconnu : …"), never left blank.

The report is French only on purpose: it is a document for French legal professionals, not a
screen of the application. It is built from the capture's provenance data alone, so it can be
rendered again later from the files of a bundle.

The layout is the template ``templates/evidence/report/report.html``; this module turns the
provenance data into the plain strings it shows (``report_context``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.template import Context, Engine
from weasyprint import HTML

from evidence.capture.result import file_sha256
from evidence.prechecks import UNKNOWN

PARIS = ZoneInfo("Europe/Paris")
NOT_RECORDED = "non renseigné"

DISCLAIMER = (
    "Ce rapport décrit une capture automatisée réalisée par le logiciel Égide. Il ne remplace "
    "pas un procès-verbal de constat dressé par un commissaire de justice selon la norme "
    "AFNOR NF Z67-147 ; il fixe le contenu au plus tôt et fournit des éléments vérifiables "
    "pouvant venir au soutien d'un tel constat."
)

ACTION_LABELS: dict[str, str] = {
    "capture-start": "Début de la capture",
    "prechecks": "Vérifications préalables",
    "profile-clean": "Profil de navigation vierge",
    "navigate": "Navigation vers l'adresse",
    "navigate-done": "Page chargée",
    "navigate-timeout": "Délai de chargement dépassé",
    "navigate-error": "Erreur de chargement",
    "wait": "Attente de fin d'activité réseau",
    "wait-timeout": "Activité réseau encore en cours à l'échéance",
    "click": "Clic",
    "click-failed": "Clic impossible",
    "navigation-after-click": "Navigation provoquée par un clic",
    "consent-none": "Aucun bandeau de consentement reconnu",
    "consent-search-failed": "Recherche du bandeau de consentement impossible",
    "consent-banner": "Bandeau de consentement rencontré (vue conservée avant le clic)",
    "consent-banner-still-shown": "Bandeau de consentement toujours affiché après le clic",
    "link-not-followed": "Lien non suivi (navigation annulée)",
    "scroll-stable": "Défilement de chaque cadre jusqu'à stabilité de la page",
    "scroll-start": "Début du défilement",
    "scroll-done": "Fin du défilement",
    "scroll-engine-failed": "Échec du moteur de défilement (repli)",
    "scroll-top": "Retour en haut de page",
    "expand-done": "Fin du déploiement des textes tronqués",
    "expand-search-failed": "Recherche des textes tronqués impossible",
    "interactions-skipped": "Interactions non réalisées",
    "screenshot": "Capture d'écran",
    "pdf": "Impression PDF",
    "dom-saved": "Enregistrement du HTML et du texte",
    "warc-written": "Écriture de l'archive WARC",
    "capture-end": "Fin de la capture",
}

CLICK_PURPOSES: dict[str, str] = {
    "consent-refuse": "bandeau de consentement — refus",
    "consent-accept": "bandeau de consentement — acceptation",
    "expand": "déploiement d'un texte tronqué",
    "load-more": "chargement d'avis supplémentaires",
    "reviews-tab": "ouverture de l'onglet des avis",
}

_TEMPLATES = Path(__file__).resolve().parent / "templates"

# A standalone engine, not the project's ``TEMPLATES``: the report renders the same in the worker,
# in a shell and offline from a bundle's files. The template only receives plain strings (no
# numbers or dates), so neither localisation nor settings ever change its text.
_ENGINE = Engine(dirs=[str(_TEMPLATES)], autoescape=True, debug=False, file_charset="utf-8")
_TEMPLATE_NAME = "evidence/report/report.html"


def _text(value: Any) -> str:
    """A fact as text; a missing one says so (« non renseigné »)."""
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or NOT_RECORDED
    return str(value)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _when(value: Any) -> str:
    """``2025-03-14 09:26:53 UTC (10:26:53, heure de Paris, le 14/03/2025)``."""
    moment = _as_datetime(value)
    if moment is None:
        return _text(value)
    utc = moment.astimezone(UTC)
    paris = moment.astimezone(PARIS)
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC ({paris:%H:%M:%S}, heure de Paris, le {paris:%d/%m/%Y})"


def _clock_text(record: Mapping[str, Any] | None) -> str:
    if not record:
        return _text(None)
    status = str(record.get("status", ""))
    if status == "ok":
        delay = record.get("delay_s", record.get("round_trip_s"))
        reference = record.get("reference_time_utc")
        return (
            f"décalage de {record.get('offset_s')} s par rapport au serveur NTP "
            f"{record.get('server')} ("
            + (f"{record['server_address']}, " if record.get("server_address") else "")
            + f"strate {record.get('stratum')}, aller-retour {delay} s"
            + (f", référence mise à l'heure le {reference}" if reference else "")
            + f") ; heure système {record.get('system_time_utc')}"
        )
    # The per-server reasons are in the status (« aucun serveur NTP n'a répondu (… ; …) »).
    reason = status.removeprefix(UNKNOWN) if status.startswith(UNKNOWN) else status
    return f"inconnu : {reason} ; heure système {record.get('system_time_utc', NOT_RECORDED)}"


def _clock_check_text(clock: Mapping[str, Any]) -> str:
    """« mesurée : décalage de 0.012 s au début, 0.011 s à la fin » (end only when measured)."""
    start = clock.get("start") or {}
    end = clock.get("end") or {}
    text = f"mesurée : décalage de {start.get('offset_s')} s au début"
    if end.get("status") == "ok":
        text += f", {end.get('offset_s')} s à la fin"
    else:
        text += ", non mesuré à la fin"
    return f"{text} (serveur {start.get('server')})"


def _unknown_text(value: Any) -> str:
    text = str(value) if value else NOT_RECORDED
    if text.startswith(UNKNOWN):
        return "inconnue : " + text.removeprefix(UNKNOWN)
    return text


def _action_detail(entry: Mapping[str, Any]) -> str:
    action = entry.get("action", "")
    if action in ("click", "click-failed"):
        purpose = CLICK_PURPOSES.get(str(entry.get("purpose", "")), entry.get("purpose", ""))
        detail = f"« {entry.get('text', '')} » ({purpose}) — élément {entry.get('selector', '')}"
        if entry.get("error"):
            detail += f" — {entry['error']}"
        return detail
    if action == "scroll-done":
        parts = [f"moteur {entry.get('engine', '')}"]
        if "duration_s" in entry:
            parts.append(f"durée {entry['duration_s']} s")
        if "page_height_px" in entry:
            parts.append(f"hauteur de page {entry['page_height_px']} px")
        return ", ".join(parts)
    skip = {"at", "action", "messages"}
    fields = {key: value for key, value in entry.items() if key not in skip}
    return "; ".join(
        f"{key} = {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in sorted(fields.items())
    )


def _chain_verification_text(record: Any) -> str:
    """`` — chaîne valide (…)`` or `` — chaîne non validée : …`` after the chain file name."""
    if not isinstance(record, Mapping):
        return ""
    status = str(record.get("status", ""))
    if status == "valide":
        return f" — chaîne valide ({record.get('trust', NOT_RECORDED)})"
    return " — " + status.removeprefix(UNKNOWN)


def _validity(info: Mapping[str, Any]) -> str:
    start = info.get("validFrom", info.get("valid_from"))
    end = info.get("validTo", info.get("valid_to"))
    if not start and not end:
        return ""
    return f"{_epoch_or_text(start)} → {_epoch_or_text(end)}"


def _epoch_or_text(value: Any) -> str:
    """Certificate dates come as Unix seconds from the browser; show them as UTC dates."""
    if isinstance(value, (int, float)):
        return f"{datetime.fromtimestamp(value, tz=UTC):%Y-%m-%d %H:%M} UTC"
    return str(value or "?")


def _capture_data(capture: Any) -> dict:
    if hasattr(capture, "to_dict"):
        return capture.to_dict()
    return dict(capture)


def _what(data: Mapping[str, Any]) -> dict[str, str]:
    """Section 1: the page asked for and the page obtained."""
    return {
        "url": _text(data.get("url")),
        "final_url": _text(data.get("final_url")),
        "title": _text(data.get("title")),
        "http_status": _text(data.get("http_status")),
        "error": data.get("error") or "aucune",
    }


def _when_facts(data: Mapping[str, Any], clock: Mapping[str, Any]) -> dict[str, str]:
    """Section 2: start and end in UTC and Paris time, and the clock at both ends."""
    return {
        "started_at": _when(data.get("started_at")),
        "finished_at": _when(data.get("finished_at")),
        "clock_start": _clock_text(clock.get("start")),
        "clock_end": _clock_text(clock.get("end")),
    }


def _where(network: Mapping[str, Any]) -> dict[str, str]:
    """Section 3: the public IP, the DNS answers and the resolver."""
    dns = network.get("dns") or {}
    resolver = dns.get("resolver") or {}
    egress = network.get("egress") or {}
    return {
        "egress_ip": _unknown_text(egress.get("ip")),
        "egress_source": _text(egress.get("source") or egress.get("sources")),
        "host": _text(dns.get("host")),
        "answers": _text(dns.get("answers") or dns.get("error")),
        "nameservers": _text(resolver.get("nameservers")),
        "nsswitch_hosts": _text(resolver.get("nsswitch_hosts")),
        "resolver_source": _text(resolver.get("source")),
    }


def _proxy_text(proxy: Mapping[str, Any]) -> str:
    proxy_env = proxy.get("environment") or {}
    text = (
        "variables d'environnement trouvées : "
        + ", ".join(f"{k}={v}" for k, v in sorted(proxy_env.items()))
        if proxy_env
        else "aucune variable de proxy dans l'environnement"
    )
    return text + f" ; navigateur : {proxy.get('browser', NOT_RECORDED)}"


def _profile_text(context: Mapping[str, Any]) -> str:
    return (
        f"contexte de navigation neuf, {context.get('cookies_at_start')} cookie au démarrage, "
        f"cache {context.get('cache', NOT_RECORDED)}, "
        f"service workers {context.get('service_workers')}"
    )


def _how(env: Mapping[str, Any]) -> dict[str, str]:
    """Section 4: browser, window, profile, proxy, system and software versions."""
    browser = env.get("browser") or {}
    context = env.get("context") or {}
    software = env.get("software") or {}
    os_info = env.get("os") or {}
    viewport = context.get("viewport") or {}
    behaviors = software.get("behaviors") or {}
    versions = ", ".join(
        f"{name} {version}"
        for name, version in sorted(software.items())
        if isinstance(version, str)
    )
    return {
        "browser": _text(f"{browser.get('name', '')} {browser.get('version', '')}".strip()),
        "mode": "sans interface (headless)" if browser.get("headless") else _text(None),
        "user_agent": _text(browser.get("user_agent")),
        "extensions": _text(browser.get("extensions")),
        "window": f"{viewport.get('width')} × {viewport.get('height')} px",
        "locale": f"{context.get('locale')} — {context.get('timezone_id')}",
        "profile": _profile_text(context),
        "proxy": _proxy_text(env.get("proxy") or {}),
        "system": f"{os_info.get('name', '')} ({os_info.get('platform', '')})",
        "machine": _text(os_info.get("hostname")),
        "software": _text(versions),
        "behaviors": _text(
            f"{behaviors.get('name')} {behaviors.get('version')} "
            f"(sha256 {behaviors.get('sha256')}, licence {behaviors.get('licence')})"
            if behaviors
            else None
        ),
    }


def _checks(
    env: Mapping[str, Any], network: Mapping[str, Any], clock: Mapping[str, Any], blocked: list
) -> dict[str, str]:
    """Section 5: each check of the capture and its result."""
    context = env.get("context") or {}
    proxy = env.get("proxy") or {}
    clean_ok = context.get("cookies_at_start") == 0 and context.get("fresh_context") is True
    egress_ip = str((network.get("egress") or {}).get("ip") or "")
    allow_list = (network.get("guard") or {}).get("allow_list", [])
    return {
        "profile": "conforme" if clean_ok else f"non vérifié : {_profile_text(context)}",
        "proxy": "conforme"
        if not proxy.get("proxy_found")
        else "proxy configuré sur la machine, non utilisé par le navigateur : "
        + _proxy_text(proxy),
        "clock": _clock_check_text(clock)
        if (clock.get("start") or {}).get("status", "") == "ok"
        else _clock_text(clock.get("start")),
        "egress_ip": "relevée" if not egress_ip.startswith(UNKNOWN) else _unknown_text(egress_ip),
        "filtering": f"{len(blocked)} requête(s) bloquée(s) ; liste d'autorisation : "
        + (", ".join(allow_list) or "vide"),
    }


def _redirects(chain: list) -> list[dict[str, str]]:
    """Section 6: each response on the way to the main document."""
    return [
        {
            "url": _text(hop.get("url")),
            "status": _text(hop.get("status")),
            "server_ip": _text(hop.get("server_ip")),
            "location": _text(hop.get("location")) if hop.get("location") else "",
        }
        for hop in chain
    ]


def _blocked(blocked: list) -> list[dict[str, str]]:
    """Section 7: each request the network guard refused."""
    return [
        {
            "url": _text(item.get("url")),
            "addresses": _text(item.get("addresses")),
            "reason": _text(item.get("reason")),
            "at": _when(item.get("at")),
        }
        for item in blocked
    ]


def _tls(network: Mapping[str, Any]) -> list[dict[str, str]]:
    """Section 8: each HTTPS host, its protocol, certificate and verified chain."""
    return [
        {
            "host": _text(host),
            "protocol": _text(
                ", ".join(str(v) for v in (info.get("protocol"), info.get("cipher")) if v)
            ),
            "issuer": _text(info.get("issuer")),
            "validity": _text(_validity(info)),
            "chain": _text(info.get("chain_file") or info.get("chain"))
            + _chain_verification_text(info.get("chain_verification")),
        }
        for host, info in sorted((network.get("tls_by_host") or {}).items())
    ]


def _actions(actions: list) -> list[dict[str, str]]:
    """Section 9: the interactions log, one row per recorded action."""
    return [
        {
            "at": str(entry.get("at", "")),
            "label": ACTION_LABELS.get(str(entry.get("action")), str(entry.get("action"))),
            "detail": _action_detail(entry),
        }
        for entry in actions
    ]


def report_context(*, capture: Any, file_hashes: Mapping[str, str]) -> dict[str, Any]:
    """The facts of the report as plain strings, by section, for the template."""
    data = _capture_data(capture)
    env = data.get("environment") or {}
    network = data.get("network") or {}
    clock = data.get("clock") or {}
    blocked = data.get("blocked") or network.get("blocked") or []
    return {
        "disclaimer": DISCLAIMER,
        "what": _what(data),
        "when": _when_facts(data, clock),
        "where": _where(network),
        "how": _how(env),
        "checks": _checks(env, network, clock, blocked),
        "redirects": _redirects(data.get("redirect_chain") or network.get("redirect_chain") or []),
        "blocked": _blocked(blocked),
        "tls": _tls(network),
        "actions": _actions(data.get("actions") or []),
        "hashes": [
            {"path": path, "digest": digest} for path, digest in sorted(file_hashes.items())
        ],
    }


def report_html(*, capture: Any, file_hashes: Mapping[str, str]) -> str:
    """The report as HTML (rendered to PDF by ``report_render``), from its template file."""
    context = report_context(capture=capture, file_hashes=file_hashes)
    html = _ENGINE.get_template(_TEMPLATE_NAME).render(Context(context, autoescape=True))
    # The template is laid out for reading; ``{% spaceless %}`` joins its tags, the final
    # newline of the file goes too.
    return html.strip()


def report_render(*, capture: Any, file_hashes: Mapping[str, str], out_path: Path) -> Path:
    """Write the French capture report as PDF at ``out_path``.

    ``capture`` is a ``CaptureResult`` or a dict of the same shape (``CaptureResult.to_dict``).
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=report_html(capture=capture, file_hashes=file_hashes)).write_pdf(out_path)
    return out_path


def data_file_hashes(*, data_dir: Path, extra: Mapping[str, Path] | None = None) -> dict[str, str]:
    """SHA-256 of every file under ``data_dir`` (except the report itself), plus ``extra``.

    ``extra`` maps a label to a file outside ``data/`` (the WARC before it is packed).
    """
    hashes = {
        path.relative_to(data_dir).as_posix(): file_sha256(path)
        for path in sorted(Path(data_dir).rglob("*"))
        if path.is_file() and path.name != "report.pdf"
    }
    for label, path in (extra or {}).items():
        hashes[label] = file_sha256(path)
    return hashes
