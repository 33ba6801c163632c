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
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from weasyprint import HTML

from evidence.capture import file_sha256
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

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: "Rapport de capture Égide — page " counter(page)
                         " / " counter(pages); font-size: 8pt; color: #555;
                         font-family: "DejaVu Sans", sans-serif; } }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4mm 0; color: #14213d; }
h2 { font-size: 11.5pt; margin: 6mm 0 2mm 0; color: #14213d; border-bottom: 1px solid #14213d; }
.warning { border: 1.5px solid #8a1c1c; background: #fbeaea; padding: 3mm; margin: 3mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm 0; }
th, td { border: 0.5px solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eef0f5; width: 32%; font-weight: bold; }
table.list { table-layout: fixed; }
table.list th { width: auto; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7.4pt; }
.url { word-break: break-all; }
.small { font-size: 7.8pt; }
"""


def _e(value: Any) -> str:
    if value is None or value == "":
        return html.escape(NOT_RECORDED)
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(item) for item in value) or NOT_RECORDED)
    return html.escape(str(value))


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
        return _e(value)
    utc = moment.astimezone(UTC)
    paris = moment.astimezone(PARIS)
    return html.escape(
        f"{utc:%Y-%m-%d %H:%M:%S} UTC ({paris:%H:%M:%S}, heure de Paris, le {paris:%d/%m/%Y})"
    )


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(
        f"<tr><th>{html.escape(label)}</th><td>{cell}</td></tr>" for label, cell in pairs
    )


def _table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None) -> str:
    """A table with a header row; ``widths`` are column widths in percent."""
    cols = "".join(f'<col style="width:{w}%">' for w in widths or [])
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="list"><colgroup>{cols}</colgroup><tr>{head}</tr>{body}</table>'


def _clock_text(record: Mapping[str, Any] | None) -> str:
    if not record:
        return _e(None)
    status = str(record.get("status", ""))
    if status == "ok":
        delay = record.get("delay_s", record.get("round_trip_s"))
        reference = record.get("reference_time_utc")
        return html.escape(
            f"décalage de {record.get('offset_s')} s par rapport au serveur NTP "
            f"{record.get('server')} ("
            + (f"{record['server_address']}, " if record.get("server_address") else "")
            + f"strate {record.get('stratum')}, aller-retour {delay} s"
            + (f", référence mise à l'heure le {reference}" if reference else "")
            + f") ; heure système {record.get('system_time_utc')}"
        )
    # The per-server reasons are in the status (« aucun serveur NTP n'a répondu (… ; …) »).
    reason = status.removeprefix(UNKNOWN) if status.startswith(UNKNOWN) else status
    return html.escape(
        f"inconnu : {reason} ; heure système {record.get('system_time_utc', NOT_RECORDED)}"
    )


def _clock_check_text(clock: Mapping[str, Any]) -> str:
    """« mesurée : décalage de 0.012 s au début, 0.011 s à la fin » (end only when measured)."""
    start = clock.get("start") or {}
    end = clock.get("end") or {}
    text = f"mesurée : décalage de {start.get('offset_s')} s au début"
    if end.get("status") == "ok":
        text += f", {end.get('offset_s')} s à la fin"
    else:
        text += ", non mesuré à la fin"
    return html.escape(f"{text} (serveur {start.get('server')})")


def _unknown_text(value: Any) -> str:
    text = str(value) if value else NOT_RECORDED
    if text.startswith(UNKNOWN):
        return html.escape("inconnue : " + text.removeprefix(UNKNOWN))
    return html.escape(text)


def _action_detail(entry: Mapping[str, Any]) -> str:
    action = entry.get("action", "")
    if action in ("click", "click-failed"):
        purpose = CLICK_PURPOSES.get(str(entry.get("purpose", "")), entry.get("purpose", ""))
        detail = f"« {entry.get('text', '')} » ({purpose}) — élément {entry.get('selector', '')}"
        if entry.get("error"):
            detail += f" — {entry['error']}"
        return html.escape(detail)
    if action == "scroll-done":
        parts = [f"moteur {entry.get('engine', '')}"]
        if "duration_s" in entry:
            parts.append(f"durée {entry['duration_s']} s")
        if "page_height_px" in entry:
            parts.append(f"hauteur de page {entry['page_height_px']} px")
        return html.escape(", ".join(parts))
    skip = {"at", "action", "messages"}
    fields = {key: value for key, value in entry.items() if key not in skip}
    if not fields:
        return ""
    return html.escape(
        "; ".join(
            f"{key} = {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(fields.items())
        )
    )


def _chain_verification_text(record: Any) -> str:
    """`` — chaîne valide (…)`` or `` — chaîne non validée : …`` after the chain file name."""
    if not isinstance(record, Mapping):
        return ""
    status = str(record.get("status", ""))
    if status == "valide":
        return html.escape(f" — chaîne valide ({record.get('trust', NOT_RECORDED)})")
    return html.escape(" — " + status.removeprefix(UNKNOWN))


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


def report_html(*, capture: Any, file_hashes: Mapping[str, str]) -> str:
    """The report as HTML (rendered to PDF by ``report_render``)."""
    data = _capture_data(capture)
    env = data.get("environment") or {}
    network = data.get("network") or {}
    clock = data.get("clock") or {}
    browser = env.get("browser") or {}
    context = env.get("context") or {}
    software = env.get("software") or {}
    os_info = env.get("os") or {}
    proxy = env.get("proxy") or {}
    dns = network.get("dns") or {}
    resolver = dns.get("resolver") or {}
    egress = network.get("egress") or {}
    blocked = data.get("blocked") or network.get("blocked") or []
    chain = data.get("redirect_chain") or network.get("redirect_chain") or []
    actions = data.get("actions") or []

    proxy_env = proxy.get("environment") or {}
    proxy_text = (
        "variables d'environnement trouvées : "
        + ", ".join(f"{k}={v}" for k, v in sorted(proxy_env.items()))
        if proxy_env
        else "aucune variable de proxy dans l'environnement"
    )
    proxy_text += f" ; navigateur : {proxy.get('browser', NOT_RECORDED)}"
    cookies = context.get("cookies_at_start")
    clean_ok = cookies == 0 and context.get("fresh_context") is True
    clean_text = (
        f"contexte de navigation neuf, {cookies} cookie au démarrage, cache "
        f"{context.get('cache', NOT_RECORDED)}, service workers {context.get('service_workers')}"
    )
    behaviors = software.get("behaviors") or {}
    versions = ", ".join(
        f"{name} {version}"
        for name, version in sorted(software.items())
        if isinstance(version, str)
    )

    what = _rows(
        [
            ("Adresse demandée", f'<span class="url">{_e(data.get("url"))}</span>'),
            ("Adresse finale", f'<span class="url">{_e(data.get("final_url"))}</span>'),
            ("Titre de la page", _e(data.get("title"))),
            ("Statut HTTP", _e(data.get("http_status"))),
            ("Erreur", html.escape(data.get("error") or "aucune")),
        ]
    )
    when = _rows(
        [
            ("Début de la capture", _when(data.get("started_at"))),
            ("Fin de la capture", _when(data.get("finished_at"))),
            ("Horloge au début", _clock_text(clock.get("start"))),
            ("Horloge à la fin", _clock_text(clock.get("end"))),
        ]
    )
    where = _rows(
        [
            ("Adresse IP publique de sortie", _unknown_text(egress.get("ip"))),
            ("Service interrogé", _e(egress.get("source") or egress.get("sources"))),
            ("Hôte de l'adresse demandée", _e(dns.get("host"))),
            ("Réponses DNS", _e(dns.get("answers") or dns.get("error"))),
            ("Résolveur (serveurs DNS)", _e(resolver.get("nameservers"))),
            ("Ordre de résolution (nsswitch)", _e(resolver.get("nsswitch_hosts"))),
            ("Source de la configuration", _e(resolver.get("source"))),
        ]
    )
    how = _rows(
        [
            ("Navigateur", _e(f"{browser.get('name', '')} {browser.get('version', '')}".strip())),
            ("Mode", "sans interface (headless)" if browser.get("headless") else _e(None)),
            ("User-Agent", f'<span class="mono">{_e(browser.get("user_agent"))}</span>'),
            ("Extensions", _e(browser.get("extensions"))),
            (
                "Fenêtre",
                _e(
                    f"{(context.get('viewport') or {}).get('width')} × "
                    f"{(context.get('viewport') or {}).get('height')} px"
                ),
            ),
            ("Langue et fuseau", _e(f"{context.get('locale')} — {context.get('timezone_id')}")),
            ("Profil", html.escape(clean_text)),
            ("Proxy", html.escape(proxy_text)),
            ("Système", _e(f"{os_info.get('name', '')} ({os_info.get('platform', '')})")),
            ("Machine", _e(os_info.get("hostname"))),
            ("Logiciels", _e(versions)),
            (
                "Comportements injectés",
                _e(
                    f"{behaviors.get('name')} {behaviors.get('version')} "
                    f"(sha256 {behaviors.get('sha256')}, licence {behaviors.get('licence')})"
                    if behaviors
                    else None
                ),
            ),
        ]
    )
    clock_start = (clock.get("start") or {}).get("status", "")
    egress_ip = str(egress.get("ip") or "")
    checks = _table(
        ["Contrôle", "Résultat"],
        widths=[32, 68],
        rows=[
            [
                "Profil vierge (cache et cookies)",
                "conforme" if clean_ok else html.escape(f"non vérifié : {clean_text}"),
            ],
            [
                "Absence de proxy",
                "conforme"
                if not proxy.get("proxy_found")
                else html.escape(
                    "proxy configuré sur la machine, non utilisé par le navigateur : " + proxy_text
                ),
            ],
            [
                "Synchronisation de l'horloge",
                _clock_check_text(clock)
                if clock_start == "ok"
                else _clock_text(clock.get("start")),
            ],
            [
                "Adresse IP publique",
                "relevée" if not egress_ip.startswith(UNKNOWN) else _unknown_text(egress_ip),
            ],
            [
                "Filtrage des adresses non publiques",
                html.escape(
                    f"{len(blocked)} requête(s) bloquée(s) ; liste d'autorisation : "
                    + (", ".join((network.get("guard") or {}).get("allow_list", [])) or "vide")
                ),
            ],
        ],
    )
    chain_rows = [
        [
            f'<span class="url">{_e(hop.get("url"))}</span>',
            _e(hop.get("status")),
            _e(hop.get("server_ip")),
            f'<span class="url">{_e(hop.get("location"))}</span>' if hop.get("location") else "",
        ]
        for hop in chain
    ]
    blocked_rows = [
        [
            f'<span class="url">{_e(item.get("url"))}</span>',
            _e(item.get("addresses")),
            _e(item.get("reason")),
            _when(item.get("at")),
        ]
        for item in blocked
    ]
    tls_rows = [
        [
            _e(host),
            _e(", ".join(str(v) for v in (info.get("protocol"), info.get("cipher")) if v)),
            _e(info.get("issuer")),
            _e(_validity(info)),
            _e(info.get("chain_file") or info.get("chain"))
            + _chain_verification_text(info.get("chain_verification")),
        ]
        for host, info in sorted((network.get("tls_by_host") or {}).items())
    ]
    action_rows = [
        [
            f'<span class="mono">{html.escape(str(entry.get("at", "")))}</span>',
            html.escape(ACTION_LABELS.get(str(entry.get("action")), str(entry.get("action")))),
            f'<span class="small">{_action_detail(entry)}</span>',
        ]
        for entry in actions
    ]
    hash_rows = [
        [html.escape(path), f'<span class="mono">{html.escape(digest)}</span>']
        for path, digest in sorted(file_hashes.items())
    ]

    sections = [
        "<h1>Rapport de capture d'une page internet</h1>",
        f'<div class="warning"><strong>Avertissement.</strong> {html.escape(DISCLAIMER)}</div>',
        "<h2>1. Objet de la capture</h2>",
        f"<table>{what}</table>",
        "<h2>2. Date et heure</h2>",
        f"<table>{when}</table>",
        "<h2>3. Provenance réseau</h2>",
        f"<table>{where}</table>",
        "<h2>4. Moyens employés</h2>",
        f"<table>{how}</table>",
        "<h2>5. Contrôles et résultats</h2>",
        checks,
        "<h2>6. Chaîne de redirections</h2>",
        _table(["Adresse", "Statut", "IP du serveur", "Redirige vers"], chain_rows, [46, 9, 17, 28])
        if chain_rows
        else "<p>Aucune réponse reçue pour le document principal.</p>",
        "<h2>7. Requêtes bloquées</h2>",
        _table(["Adresse", "Adresses résolues", "Motif", "Heure"], blocked_rows, [36, 16, 26, 22])
        if blocked_rows
        else "<p>Aucune requête bloquée.</p>",
        "<h2>8. Connexions chiffrées (TLS)</h2>",
        _table(
            ["Hôte", "Protocole et chiffrement", "Émetteur", "Validité", "Chaîne"],
            tls_rows,
            [18, 22, 22, 16, 22],
        )
        if tls_rows
        else "<p>Aucune connexion HTTPS.</p>",
        "<h2>9. Journal des interactions</h2>",
        _table(["Heure (UTC)", "Action", "Détail"], action_rows, [24, 22, 54]),
        "<h2>10. Empreintes SHA-256 des fichiers</h2>",
        _table(["Fichier", "SHA-256"], hash_rows, [38, 62]),
        "<p class='small'>Vérification : <span class='mono'>sha256sum fichier</span> doit "
        "redonner l'empreinte indiquée ; le manifeste du paquet (manifest-sha256.txt) est "
        "horodaté (RFC 3161) et scellé.</p>",
    ]
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>Rapport de capture</title><style>{_CSS}</style></head><body>"
        + "".join(sections)
        + "</body></html>"
    )


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
