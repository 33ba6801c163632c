"""The journeys of the live stage, each as a person does it in Chromium (see ``stage``).

Every journey gets a fresh browser context (no cookies) and the ``Run``; it raises
``StageFailed`` with what it saw when the product does not do what the person expects.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from saas.totp_code import totp_code
from tests.live.review_site import DEFAMATORY, NEW_REVIEW
from tests.live.stage import (
    NEW_PASSWORD,
    PASSWORD,
    VERIFY_BUNDLE_SH,
    Run,
    StageFailed,
    check,
    mail_link,
)

HOST_A = "assureur-a.localhost"
HOST_B = "assureur-b.localhost"
PLATFORM = "localhost"


def wait_for(predicate: Callable[[], Any], *, timeout_s: float, what: str, every_s: float = 1):
    deadline = time.monotonic() + timeout_s
    while True:
        if value := predicate():
            return value
        if time.monotonic() > deadline:
            raise StageFailed(f"{what} : rien après {timeout_s:.0f} s")
        time.sleep(every_s)


def shot(page, run: Run, name: str) -> None:
    assert run.shots is not None
    page.screenshot(path=str(run.shots / f"{name}.png"), full_page=True)


def login_portal(page, run: Run, host: str, email: str, password: str = PASSWORD) -> None:
    page.goto(run.url(host, "/compte/connexion/"))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/portail/**")


def goto_settled(page, url: str) -> None:
    """``page.goto``, once more if a navigation still under way (a redirect after a login, the
    monitoring page reloading itself when a scan ends) aborted it."""
    for attempt in range(5):
        try:
            page.goto(url)
            return
        except Exception as exc:  # noqa: BLE001 - Playwright's Error; only ERR_ABORTED is retried
            if "ERR_ABORTED" not in str(exc) or attempt == 4:
                raise
            time.sleep(1)


# Where staff land (tenants.landing): the admin home, or the claims queue for a handler.
ADMIN_HOME = r"/admin/(sinistres/)?$"


def login_admin(page, run: Run, host: str, email: str) -> None:
    page.goto(run.url(host, "/admin/login/"))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("[type=submit]").first.click()
    # Staff have a second factor: the demo's published TOTP secret, as an authenticator app.
    page.wait_for_url(re.compile(r".*/compte/double-authentification/\?"))
    for attempt in range(2):
        page.fill("input[name=code]", totp_code())
        page.locator("#two-factor-verify [type=submit]").click()
        page.wait_for_load_state()
        if re.search(ADMIN_HOME, page.url) or attempt:
            break
        # A code is good once: if this account logged in during this 30 s step, use the next.
        time.sleep(30 - time.time() % 30 + 1)
    page.wait_for_url(re.compile(f".*{ADMIN_HOME}"))


def fetch_bytes(page, href: str) -> tuple[str, bytes]:
    """GET ``href`` from the page, with its session: content type and body.

    Done by the browser itself (fetch), which resolves *.localhost as a person's browser does.
    """
    status, kind, body = page.evaluate(
        """async (href) => {
            const response = await fetch(href);
            const bytes = new Uint8Array(await response.arrayBuffer());
            let binary = "";
            for (const b of bytes) binary += String.fromCharCode(b);
            return [response.status, response.headers.get("content-type") || "", btoa(binary)];
        }""",
        href,
    )
    check(status == 200, f"{href} : HTTP {status}")
    return kind, base64.b64decode(body)


def pdf_text(data: bytes) -> str:
    out = subprocess.run(  # noqa: S603
        ["pdftotext", "-enc", "UTF-8", "-", "-"],  # noqa: S607
        input=data,
        capture_output=True,
        check=True,
    )
    return re.sub(r"\s+", " ", out.stdout.decode())


# --- visitor -----------------------------------------------------------------------------------


def visitor_sees_two_insurers(page, run: Run) -> None:
    seen = {}
    for host, name in ((HOST_A, "Mutuelle Asclépios"), (HOST_B, "Hygie Assurances")):
        response = page.goto(run.url(host, "/"))
        check(response is not None and response.ok, f"{host} : pas de page d'accueil")
        text = page.locator("body").inner_text()
        check(name in text, f"{host} ne montre pas « {name} »")
        seen[host] = (page.title(), page.locator("header").first.inner_html())
        shot(page, run, f"accueil-{host.split('.')[0]}")
    check(seen[HOST_A] != seen[HOST_B], "les deux assureurs montrent le même site")
    other = "Hygie Assurances"
    page.goto(run.url(HOST_A, "/formules/"))
    check(other not in page.locator("body").inner_text(), "l'assureur A montre le nom de B")
    check(page.locator("a[data-plan]").count() > 0, "aucune formule publiée chez l'assureur A")


# --- doctors: subscription ---------------------------------------------------------------------


def _sign_up(page, run: Run, email: str, *, last_name: str) -> None:
    page.goto(run.url(HOST_A, "/formules/"))
    page.locator("a[data-plan]").first.click()
    page.fill("#id_first_name", "Claire")
    page.fill("#id_last_name", last_name)
    page.fill("#id_email", email)
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.check("#id_accept_terms")
    page.click("main button[type=submit]")
    check(
        page.locator("h1").inner_text() == "Vérifiez votre messagerie",
        f"après l'inscription : « {page.locator('h1').inner_text()} »",
    )
    page.goto(mail_link(run, email, rf"http://{re.escape(HOST_A)}:\d+/compte/verification/\S+"))
    page.fill("#id_rpps", f"1{uuid.uuid4().int % 10**10:010d}")
    page.fill("#id_specialty", "Médecine générale")
    page.fill("#id_city", "Lyon")
    page.click("main button[type=submit]")
    page.wait_for_url("**/portail/souscrire/")
    page.locator("input[name=plan]").first.check()
    page.check("#id_accept_conditions")
    page.click("main button[type=submit]")


def _pay(page, card: str) -> None:
    page.wait_for_selector("input[name=card_number]")
    page.fill("input[name=card_number]", card)
    if page.locator("input[name=cardholder_name]").count():
        page.fill("input[name=cardholder_name]", "Claire Martin")
    page.click("button:has-text('Payer')")


def _policy_in_force(page, run: Run) -> str:
    """Reload the contract page until the policy is « En vigueur »; its number."""

    def in_force() -> str | None:
        page.goto(run.url(HOST_A, "/portail/contrat/"))
        status = page.locator("[id^=status-]").first
        if status.count() and status.inner_text() == "En vigueur":
            return (status.get_attribute("id") or "").removeprefix("status-")
        return None

    return wait_for(in_force, timeout_s=60, what="contrat en vigueur (webhooks Stripe)")


def doctor_subscribes(page, run: Run) -> None:
    email = f"dr.live-{uuid.uuid4().hex[:6]}@exemple.fr"
    run.subscriber_email = email
    _sign_up(page, run, email, last_name="Durand")
    _pay(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/portail/souscrire/retour/"))
    number = _policy_in_force(page, run)
    with page.expect_download() as download_info:
        page.click("text=Télécharger mon attestation (PDF)")
    download = download_info.value
    path = Path(download.path())
    check(path.read_bytes().startswith(b"%PDF-"), "l'attestation n'est pas un PDF")
    check(number in pdf_text(path.read_bytes()), "l'attestation ne porte pas le n° du contrat")
    shot(page, run, "contrat-en-vigueur")


def doctor_cancels_in_three_clicks(page, run: Run) -> None:
    """The doctor who just subscribed cancels online: contract page, « Résilier », confirm."""
    check(run.subscriber_email is not None, "pas de contrat souscrit à l'étape précédente")
    login_portal(page, run, HOST_A, run.subscriber_email, password=NEW_PASSWORD)
    clicks = 0
    page.goto(run.url(HOST_A, "/portail/contrat/"))
    link = page.locator("a.cancel-link").first
    check(link.count() == 1, "pas de lien « Résilier mon contrat » sur la page du contrat")
    link.click()
    clicks += 1
    page.wait_for_url(re.compile(r".*/resilier/$"))
    announced = page.locator("#cancel-effective-date").get_attribute("data-date")
    check(announced, "la date d'effet n'est pas annoncée avant de confirmer")
    shot(page, run, "resiliation-formulaire")
    page.locator("#cancel-confirm").click()
    clicks += 1
    expect(page.locator("#cancel-done")).to_be_visible(timeout=30_000)
    done = page.locator("#cancel-done #cancel-effective-date").get_attribute("data-date")
    check(done == announced, f"date d'effet annoncée {announced}, confirmée {done}")
    check(clicks <= 3, f"résiliation en {clicks} clics")
    mail_link(run, run.subscriber_email, r"prend effet le \d{2}/\d{2}/\d{4}")
    page.goto(run.url(HOST_A, "/portail/contrat/"))
    notice = page.locator("[id^=cancel-notice-]").first
    check(notice.count() == 1, "la page du contrat ne dit pas que la résiliation est demandée")
    day = dt.date.fromisoformat(done).strftime("%d/%m/%Y")
    check(day in notice.inner_text(), f"la page du contrat ne donne pas la date de fin {day}")
    shot(page, run, "resiliation-faite")


def doctor_declined_pays_again(page, run: Run) -> None:
    email = f"dr.refus-{uuid.uuid4().hex[:6]}@exemple.fr"
    _sign_up(page, run, email, last_name="Petit")
    _pay(page, "4000 0000 0000 0002")
    page.wait_for_url(re.compile(r"/portail/souscrire/retour/"))
    outcome = wait_for(
        lambda: (page.reload() and None)
        or (o if (o := page.locator("#checkout-outcome").get_attribute("data-outcome"))
            in ("declined", "unfinished") else None),
        timeout_s=60,
        what="page « Paiement refusé »",
        every_s=2,
    )  # fmt: skip
    check(outcome == "declined", f"issue du paiement : {outcome}")
    check(page.locator("h1").inner_text() == "Paiement refusé", "pas de « Paiement refusé »")
    shot(page, run, "paiement-refuse")
    # « Changer de carte »: the new card becomes the subscription's default and pays what is due.
    page.get_by_role("button", name="Changer de carte").click()
    page.wait_for_selector("input[name=card_number]")
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.get_by_role("button", name="Enregistrer la carte").click()
    page.wait_for_url(re.compile(r"/carte/retour/"))
    heading = page.locator("h1").inner_text()
    check(heading == "Votre nouvelle carte est enregistrée", f"après le changement : {heading}")
    check(page.locator("#card-change-paid").count() == 1, "la cotisation due n'est pas réglée")
    shot(page, run, "carte-changee")
    _policy_in_force(page, run)


# --- insurer admin: its own qualified seal -------------------------------------------------------

SEAL_P12_PASSWORD = "cachet-live-2026"  # noqa: S105
SEAL_SUBJECT = "Cachet qualifié de l'étape live"


def _p12_qualified_seal() -> bytes:
    """What a trust service provider delivers: root CA → seal certificate (non-repudiation),
    with its key, in a password-protected PKCS#12."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    usages = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mutuelle Asclépios"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def certificate(subject, key, issuer, issuer_key, *, ca: bool, **usage: bool):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3 * 365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**{**usages, **usage}), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = name("Racine de confiance de l'étape live")
    root = certificate(root_name, root_key, root_name, root_key, ca=True, key_cert_sign=True)
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal = certificate(
        name(SEAL_SUBJECT), seal_key, root_name, root_key, ca=False, content_commitment=True
    )
    return pkcs12.serialize_key_and_certificates(
        b"cachet",
        seal_key,
        seal,
        [root],
        serialization.BestAvailableEncryption(SEAL_P12_PASSWORD.encode()),
    )


def insurer_admin_imports_seal(page, run: Run) -> None:
    """The insurer seals its evidence with its own qualified e-seal: the next bundle says so."""
    login_admin(page, run, HOST_A, "admin@assureur-a.localhost")
    page.goto(run.url(HOST_A, "/admin/cachet-electronique/"))
    page.set_input_files(
        "input[name=p12]",
        files=[
            {
                "name": "cachet-qualifie.p12",
                "mimeType": "application/x-pkcs12",
                "buffer": _p12_qualified_seal(),
            }
        ],
    )
    page.fill("input[name=password]", SEAL_P12_PASSWORD)
    page.click("#seal-import-form button[type=submit]")
    page.wait_for_load_state()
    current = page.locator("#seal-current")
    origin = current.locator("[data-origin]").get_attribute("data-origin")
    check(origin == "imported", f"cachet en usage après l'import : {current.inner_text()[:300]}")
    check(SEAL_SUBJECT in current.inner_text(), "le cachet en usage n'est pas celui importé")
    body = page.locator("body").inner_text()
    check("PRIVATE KEY" not in body, "la page montre une clé privée")
    shot(page, run, "cachet-importe")
    run.seal_imported = True


# --- doctor: claim and capture -----------------------------------------------------------------


def bundle_download_verify(page, run: Run) -> Path:
    """From a capture's page: download its sealed bundle and verify it with standard tools."""
    with page.expect_download() as download_info:
        page.locator("a[href$='/telecharger/']").first.click()
    download = download_info.value
    bundle = run.var_dir / download.suggested_filename
    download.save_as(bundle)
    work = run.var_dir / f"verification-{bundle.stem}"
    work.mkdir(exist_ok=True)
    result = subprocess.run(  # noqa: S603
        ["bash", str(VERIFY_BUNDLE_SH), str(bundle)],  # noqa: S607
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "VERIFY_VENV": str(Path(sys.executable).parent.parent)},
        timeout=120,
    )
    check(
        result.returncode == 0, f"verify-bundle.sh : {result.stdout[-600:]}{result.stderr[-300:]}"
    )
    return bundle


def doctor_claim_capture(page, run: Run) -> None:
    today = dt.date.today()
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, "/portail/sinistres/nouveau/"))
    page.fill("textarea[name=urls]", run.review_url)
    page.fill("textarea[name=source_text]", f"Jean D. (1/5) : {DEFAMATORY}")
    page.fill("textarea[name=quotes]", DEFAMATORY)
    page.fill("input[name=seen_date]", today.isoformat())
    page.fill("input[name=publication_date]", (today - dt.timedelta(days=15)).isoformat())
    page.fill("input[name=author_name]", "Jean D.")
    page.click("main form.card button[type=submit]")
    page.wait_for_url("**/questionnaire/")
    page.check("input[name=p0_precise_factual_imputation]")
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/portail/sinistres/\d+/$"))
    run.claim_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
    run.claim_reference = page.locator("h1").inner_text().removeprefix("Dossier ").strip()
    link = page.locator("#captures .capture a").first
    check(link.count() == 1, "le dossier ne montre pas sa capture de preuve")
    link.click()
    page.wait_for_url(re.compile(r".*/preuves/\d+/$"))
    percent = page.locator("#capture-progress-percent")
    try:
        percent.wait_for(timeout=5_000)
        # A locator assertion, not wait_for_function: the page's CSP forbids eval, and the
        # stage drives the page as a person's browser would.
        expect(percent).to_have_text(re.compile(r"^\s*100\s%\s*$"), timeout=240_000)
    except Exception as exc:
        body = page.locator("main").inner_text()[:400]
        raise StageFailed(f"la capture n'a pas abouti ; la page dit : {body}") from exc
    page.reload()
    shot(page, run, "capture-terminee")
    bundle = bundle_download_verify(page, run)
    if run.seal_imported:
        with zipfile.ZipFile(bundle) as archive:
            info = next(n for n in archive.namelist() if n.endswith("/bag-info.txt"))
            bag_info = archive.read(info).decode("utf-8")
        check(
            "Egide-Seal-Origin: imported-qualified" in bag_info and SEAL_SUBJECT in bag_info,
            f"le lot ne dit pas qu'il est scellé par le cachet importé : {bag_info[-400:]}",
        )


# --- handler -----------------------------------------------------------------------------------


def handler_works_claim(page, run: Run) -> None:
    check(run.claim_pk is not None, "pas de dossier ouvert à l'étape précédente")
    login_admin(page, run, HOST_A, "gestion@assureur-a.localhost")
    page.goto(run.url(HOST_A, "/admin/sinistres/"))
    row = page.locator(f"#claims-queue tr:has(a[href='/admin/sinistres/{run.claim_pk}/'])")
    check(row.count() == 1, "le dossier n'est pas dans la file du gestionnaire")
    badge = row.locator(".deadline-badge").inner_text().strip()
    check(re.fullmatch(r"J-\d+|J\+\d+|Aujourd'hui|J0", badge), f"échéance : « {badge} »")
    shot(page, run, "file-gestionnaire")
    row.locator(f"a[href='/admin/sinistres/{run.claim_pk}/']").first.click()
    page.wait_for_url(f"**/admin/sinistres/{run.claim_pk}/")

    # a new capture of the claim's page, from the claim page, followed to its end
    done = "tr[data-capture] [data-capture-progress][data-status=complete]"
    before = page.locator(done).count()
    again = page.locator("tr[data-capture] form:not([hidden]) button").filter(
        has_text=re.compile("Relancer la capture|Nouvelle capture de cette page")
    )
    check(again.count() >= 1, "aucun bouton pour relancer une capture sur le dossier")
    again.first.click()
    page.wait_for_load_state()
    check(
        page.locator("tr[data-capture]").count() >= 2,
        "la nouvelle capture n'apparaît pas dans le dossier",
    )
    wait_for(
        lambda: (page.goto(run.url(HOST_A, f"/admin/sinistres/{run.claim_pk}/")) and None)
        or page.locator(done).count() > before,
        timeout_s=240,
        what="nouvelle capture terminée",
        every_s=3,
    )  # fmt: skip

    # a letter, as a PDF: refused while the proof is incomplete, generated once it is
    def follow(selector: str) -> None:
        with page.expect_navigation():
            page.click(selector)

    if page.locator("#qualify-submit").count():
        follow("#qualify-submit")
    if page.locator("#cover-check").count():
        follow("#cover-check")
    follow("a[data-kind=MISE_EN_DEMEURE]")
    check(page.locator("#letter-gate").count() == 1, "le formulaire n'annonce pas le refus")
    follow("#letter-generate")
    refusal = page.locator("#letter-missing")
    check(
        refusal.count() and "Courrier refusé" in refusal.inner_text(),
        "une mise en demeure a été acceptée avant le constat",
    )
    page.goto(run.url(HOST_A, f"/admin/sinistres/{run.claim_pk}/"))
    page.select_option("#transition-form select[name=to_state]", "EVIDENCE")
    page.fill("#transition-form textarea[name=reason]", "Diffamation qualifiée, preuve à fixer")
    follow("#transition-form button[type=submit]")
    check(
        page.locator("#claim-state").inner_text() == "1 — Preuve",
        "le dossier n'est pas passé à la preuve",
    )
    page.select_option("#event-form select[name=kind]", "CONSTAT_DONE")
    page.fill("#event-form input[name=date]", dt.date.today().isoformat())
    follow("#event-form button[type=submit]")
    follow("a[data-kind=MISE_EN_DEMEURE]")
    check(page.locator("#letter-gate").count() == 0, "le courrier reste refusé après le constat")
    follow("#letter-generate")
    page.wait_for_url(f"**/admin/sinistres/{run.claim_pk}/")
    href = page.locator("tr[data-letter-kind=MISE_EN_DEMEURE] a").first.get_attribute("href")
    check(href, "pas de courrier dans le dossier")
    kind, body = fetch_bytes(page, run.url(HOST_A, href))
    check(kind == "application/pdf", f"le courrier est servi en {kind}")
    text = pdf_text(body)
    check("MISE EN DEMEURE" in text, "le PDF n'est pas une mise en demeure")
    check(DEFAMATORY in text, "la mise en demeure ne cite pas le passage")
    # The doctor's publication date was wrong: the handler corrects it with a reason; the
    # deadlines are recomputed and the correction is kept in the claim's journal.
    corrected = dt.date.today() - dt.timedelta(days=40)
    page.locator("#publication-correct summary").click()
    page.fill("#publication-form [name=new_date]", corrected.isoformat())
    page.fill("#publication-form [name=reason]", "Date visible sur l'archive de la page")
    follow("#publication-form button[type=submit]")
    check(
        corrected.strftime("%d/%m/%Y") in page.locator("#publication-date").inner_text(),
        "la date de publication corrigée n'est pas affichée",
    )
    check(
        "Date visible sur l'archive de la page" in page.locator("main").inner_text(),
        "la correction de la date de publication n'est pas au journal",
    )
    shot(page, run, "dossier-gestionnaire")
    # every access to the bundles is in the insurer's chained custody log, which verifies
    page.goto(run.url(HOST_A, "/admin/preuves/journal/"))
    verdict = page.locator("#custody-log-verification").inner_text()
    check("Chaîne vérifiée" in verdict, f"journal de possession : « {verdict[:300]} »")
    check(
        page.locator("#custody-log tr[data-kind=downloaded]").count() >= 1,
        "le téléchargement du lot par le médecin n'est pas au journal de possession",
    )
    shot(page, run, "journal-de-possession")


def doctor_follows_captures(page, run: Run) -> None:
    """The doctor sees the claim's captures (with their first screen), compares the two captures
    of the page, exports the annex, and asks for a new capture, followed to its end."""
    check(run.claim_pk is not None, "pas de dossier ouvert à l'étape précédente")
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    claim_url = run.url(HOST_A, f"/portail/sinistres/{run.claim_pk}/")
    page.goto(claim_url)
    complete = page.locator("#captures .capture[data-status=complete]")
    check(complete.count() >= 2, f"captures terminées au dossier : {complete.count()}")
    thumb = complete.first.locator(".capture-thumb img").get_attribute("src")
    check(thumb, "pas de vignette pour une capture terminée")
    kind, image = fetch_bytes(page, run.url(HOST_A, thumb))
    check(image.startswith(b"\x89PNG"), f"la vignette n'est pas une image PNG ({kind})")
    check(
        page.locator("[data-capture-outcome=CAPTURE_COMPLETED]").count() >= 2,
        "les captures terminées ne sont pas au fil du dossier",
    )
    shot(page, run, "medecin-captures")
    compare = page.locator("#capture-comparisons a").first
    check(compare.count() == 1, "pas de comparaison proposée pour deux captures de la page")
    compare.click()
    page.wait_for_load_state()
    shot(page, run, "medecin-comparaison")
    hashes = [
        h.strip() for h in page.locator(".capture-compare .hash.tagmanifest").all_inner_texts()
    ]
    check(len(hashes) == 2 and all(len(h) == 64 for h in hashes), f"empreintes : {hashes}")
    annex = page.locator("#annex-export").get_attribute("href")
    check(annex, "pas d'export de l'annexe")
    kind, pdf = fetch_bytes(page, run.url(HOST_A, annex))
    check(kind == "application/pdf", f"l'annexe est servie en {kind}")
    text = "".join(pdf_text(pdf).split())
    check(all(h in text for h in hashes), "l'annexe ne donne pas les empreintes des deux captures")
    # Two new captures, asked one right after the other (the claim's page, then its « page 2 »,
    # given as another address: a second click on the same address queues nothing): the
    # evidence worker runs them at once in its one browser; each is followed to its end and
    # its bundle verified.
    page.goto(claim_url)
    before = page.locator("#captures .capture").count()
    for other_url in ("", f"{run.review_url}?page=2"):
        page.fill("#capture-new input[name=other_url]", other_url)
        with page.expect_navigation():
            page.click("#capture-new button[type=submit]")
    check(
        page.locator("#captures .capture").count() == before + 2,
        "les deux nouvelles captures n'apparaissent pas au dossier",
    )
    newest = page.locator("#captures .capture")  # in the order they were asked for
    for index in (before, before + 1):
        capture = newest.nth(index)
        try:
            expect(capture).to_have_attribute("data-status", "complete", timeout=5_000)
        except AssertionError:
            # followed live by the page itself (progress bar, then the first screen)
            expect(capture.locator(".capture-thumb img")).to_be_visible(timeout=240_000)
    shot(page, run, "medecin-nouvelles-captures")
    pages = [
        run.url(HOST_A, newest.nth(index).locator("a").first.get_attribute("href") or "")
        for index in (before, before + 1)
    ]
    for capture_page in pages:
        page.goto(capture_page)
        bundle_download_verify(page, run)


def handler_notes_and_refuses_cover(page, run: Run) -> None:
    """The handler's workspace: the week's deadlines on the queue, an internal note the doctor
    never sees, then a cover refusal with its clause that the doctor reads with the mediator."""
    check(run.claim_pk is not None, "pas de dossier ouvert à l'étape précédente")
    login_admin(page, run, HOST_A, "gestion@assureur-a.localhost")
    page.goto(run.url(HOST_A, "/admin/sinistres/"))
    expect(page.locator("#claims-dashboard-section svg rect[data-day]")).to_have_count(7)
    shot(page, run, "tableau-de-bord-gestionnaire")
    page.goto(run.url(HOST_A, f"/admin/sinistres/{run.claim_pk}/"))
    note = f"Note interne {uuid.uuid4().hex[:6]} : appeler l'hébergeur"
    page.fill("#note-form textarea[name=text]", note)
    page.click("#note-form button[type=submit]")
    expect(page.locator("#notes-list")).to_contain_text(note)
    page.locator("#cover-refuse summary").click()
    options = page.locator("#id_refuse-clause_code option")
    values = [v for i in range(options.count()) if (v := options.nth(i).get_attribute("value"))]
    check(values, "aucune clause proposée pour motiver le refus")
    page.select_option("#id_refuse-clause_code", values[0])
    page.fill("#id_refuse-reason", "Les faits sont antérieurs à la prise d'effet du contrat.")
    page.locator("#cover-refuse button[type=submit]").click()
    expect(page.locator("#cover-status")).to_have_text("Refusée")
    shot(page, run, "refus-gestionnaire")
    run.refused_note = note


def doctor_reads_refusal(page, run: Run) -> None:
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, f"/portail/sinistres/{run.claim_pk}/"))
    refusal = page.locator("#cover-refusal")
    expect(refusal).to_be_visible()
    expect(refusal.locator("#refusal-reasons")).to_contain_text("antérieurs à la prise d'effet")
    expect(refusal.locator("#refusal-complaint")).to_be_visible()
    expect(page.locator("#deadlines-closed")).to_contain_text("Délais clos")
    body = page.locator("body").inner_text()
    check(run.refused_note not in body, "le médecin voit la note interne du gestionnaire")
    shot(page, run, "refus-medecin")


# --- insurer admin -----------------------------------------------------------------------------


def insurer_admin_own_brand_and_figures(page, run: Run) -> None:
    login_admin(page, run, HOST_A, "admin@assureur-a.localhost")
    text = page.locator("body").inner_text()
    check("Mutuelle Asclépios" in text, "l'administration ne porte pas le nom de l'assureur")
    for brand in ("Wagtail", "Égide"):
        check(brand not in text, f"l'administration de l'assureur montre « {brand} »")
    page.goto(run.url(HOST_A, "/admin/chiffres-cles/"))
    expect(page.locator("#figures-period")).to_be_visible()
    figures = page.locator("main").inner_text()
    check("€" in figures and "centimes" not in figures, "les chiffres ne sont pas en euros")
    shot(page, run, "chiffres-cles")


# --- monitoring --------------------------------------------------------------------------------


def scan_now(page, run: Run, site) -> None:
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, "/veille/profil/"))
    if not page.locator("#page-form").count():
        # no watch profile yet: the form comes filled from the doctor's profile; save it
        profile = page.locator("#profile-form")
        names = profile.locator("[name=name_variants]")
        if not names.input_value().strip():
            names.fill("Dr Claire Martin")
        profile.locator("button[type=submit]").click()
        page.wait_for_selector("#page-form")
    if site.url not in page.locator("body").inner_text():
        form = page.locator("#page-form")
        form.locator("[name=page-url]").fill(site.url)
        form.locator("[name=page-label]").fill("Plateforme d'avis (boucle locale)")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
    check(site.url in page.locator("body").inner_text(), "la page surveillée n'est pas ajoutée")

    def scan() -> str:
        page.goto(run.url(HOST_A, "/veille/"))
        page.get_by_role("button", name="Lancer une veille maintenant").click()
        expect(page.locator("#scan-percent")).to_have_text(
            re.compile(r"^\s*100\s*$"), timeout=120_000
        )
        page.goto(run.url(HOST_A, "/veille/"))
        return page.locator("#scan-summary").inner_text()

    scan()
    site.review_add(NEW_REVIEW)
    summary = scan()
    check("nouveaux avis : 1 ;" in summary, f"second relevé : « {summary} »")
    alert = page.locator("#alerts article", has_text=NEW_REVIEW["author"])
    check(alert.count() >= 1, f"aucune alerte pour l'avis de {NEW_REVIEW['author']}")
    shot(page, run, "veille-alerte")


def demo_monitoring_first_scan(page, run: Run) -> None:
    """A demo doctor's first visit: the seeded baseline is there, and the first « Lancer une
    veille » finds what changed on the demo review site since (a new review, an edited one)."""
    login_portal(page, run, HOST_B, "dr.bernard@exemple.fr")
    page.goto(run.url(HOST_B, "/veille/"))
    kinds = page.locator("#alerts article .alert-meta strong").all_inner_texts()
    check("Relevé initial" in kinds, f"pas de relevé initial sur /veille/ : {kinds}")
    page.get_by_role("button", name="Lancer une veille maintenant").click()

    def alerts_after_scan() -> list[str] | None:
        page.goto(run.url(HOST_B, "/veille/"))
        if page.locator("#scan-summary").count() == 0:  # queued or running
            return None
        found = page.locator("#alerts article .alert-meta strong").all_inner_texts()
        return found if "Nouvel avis" in found else None

    kinds = wait_for(alerts_after_scan, timeout_s=120, what="veille de la démo terminée", every_s=2)
    check(
        "Nouvel avis" in kinds and "Avis modifié" in kinds,
        f"la première veille de la démo ne montre pas les avis nouveaux et modifiés : {kinds}",
    )
    shot(page, run, "veille-demo")


def _listing_reads(run: Run) -> dict[int, int]:
    """How many times the demo review site served each page of the demo listing (its read
    counter, in this run's var directory)."""
    import json

    from saas.embedded.review_content import LISTING_PROFILE

    path = run.var_dir / "demo-reviews" / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    prefix = f"{LISTING_PROFILE}/dr-paul-bernard/"
    return {
        int(key.removeprefix(prefix)): int(entry.get("reads", 0))
        for key, entry in data.items()
        if key.startswith(prefix)
    }


def demo_listing_read_through_profile(page, run: Run) -> None:
    """The demo doctor's directory listing carries no schema.org markup: a scan reads it
    through its platform profile (PagesJaunes), page 1 and the « Voir plus d'avis » page 2, and
    /veille/ shows its reviews, the negative one of page 2 to examine."""
    from saas.embedded.review_content import LISTING_PLATFORM_NAME, LISTINGS

    listing = LISTINGS["dr-paul-bernard"]
    every = [r for listing_page in listing.pages for r in listing_page]
    login_portal(page, run, HOST_B, "dr.bernard@exemple.fr")
    goto_settled(page, run.url(HOST_B, "/veille/"))
    baseline = page.locator("#alerts article[data-kind=baseline]", has_text=f"{len(every)} avis")
    check(
        baseline.count() >= 1,
        f"pas de relevé initial de {len(every)} avis pour {LISTING_PLATFORM_NAME} (2 pages)",
    )
    worst = min(every, key=lambda r: r.rating)
    check(
        worst.author in baseline.first.inner_text(),
        f"l'avis négatif de la page 2 ({worst.author}) n'est pas à examiner sur /veille/",
    )
    before = _listing_reads(run)
    check(before.get(1) and before.get(2), f"la fiche n'a pas été lue en entier : {before}")
    page.get_by_role("button", name="Lancer une veille maintenant").click()
    # the demo site counts its reads: both pages of the listing are read again by this scan
    wait_for(
        lambda: all(_listing_reads(run).get(n, 0) > before[n] for n in (1, 2)),
        timeout_s=120,
        what=f"relecture des pages 1 et 2 de la fiche (lues {before} avant la veille)",
    )

    def summary_after_scan() -> str | None:
        goto_settled(page, run.url(HOST_B, "/veille/"))
        found = page.locator("#scan-summary")
        return found.inner_text() if found.count() else None  # none while queued or running

    summary = wait_for(summary_after_scan, timeout_s=120, what="veille terminée", every_s=2)
    check(
        "avis disparus : 0" in summary, f"des avis de la page 2 passent pour disparus : {summary}"
    )
    shot(page, run, "veille-fiche-annuaire")


# --- positive content and notifications --------------------------------------------------------


# cleanup.demo.DEMO_CONTENT_TITLE (not imported: the stage process has no Django set up)
DEMO_CONTENT_TITLE = "Consultations au cabinet : organisation et accès"


def doctor_approves_content(page, run: Run) -> None:
    """The information article the handler proposed (demo seed) waits for the doctor; she
    approves it in « Plan de publication » and it is on her insurer's public site."""
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, "/veille/contenus/"))
    item = page.locator("article.content-item", has_text=DEMO_CONTENT_TITLE)
    check(item.count() == 1, "le contenu proposé par le gestionnaire n'est pas dans le plan")
    check(
        item.get_attribute("data-status") == "proposed",
        f"contenu dans l'état « {item.get_attribute('data-status')} », pas « proposé »",
    )
    check(
        "Organisation des consultations" in item.locator(".content-body").inner_text(),
        "le texte du contenu (StreamField) n'est pas montré au médecin avant son accord",
    )
    shot(page, run, "contenu-propose")
    with page.expect_navigation():
        item.get_by_role("button", name="Approuver et publier").click()
    item = page.locator("article.content-item", has_text=DEMO_CONTENT_TITLE)
    expect(item).to_have_attribute("data-status", "published")
    href = item.get_by_role("link", name="Voir la page publiée").get_attribute("href")
    check(href, "pas de lien vers la page publiée")
    shot(page, run, "contenu-approuve")
    # on the insurer's public site, for anyone (no session)
    page.context.clear_cookies()
    response = page.goto(href if href.startswith("http") else run.url(HOST_A, href))
    check(
        response is not None and response.ok,
        f"page publiée {href} : HTTP {response and response.status}",
    )
    body = page.locator("body").inner_text()
    check(DEMO_CONTENT_TITLE in body, "la page publiée ne porte pas le titre de l'article")
    check("Organisation des consultations" in body, "la page publiée n'a pas le texte approuvé")
    check("Mutuelle Asclépios" in body, "l'article n'est pas sur le site de l'assureur")
    shot(page, run, "contenu-publie")


def doctor_adds_notification_channel(page, run: Run, hook) -> None:
    """The doctor adds a webhook (Apprise json://) to her notifications and sends a test
    message, which the receiver gets."""
    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, "/portail/notifications/"))
    form = page.locator("#channel-form")
    form.locator("[name=label]").fill("Webhook du cabinet")
    form.locator("[name=url]").fill(hook.apprise_url)
    form.locator("[name=kinds]").first.check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    row = page.locator("#notification-channels tbody tr", has_text="Webhook du cabinet")
    check(row.count() == 1, f"canal non enregistré : {page.locator('main').inner_text()[:400]}")
    check(
        hook.apprise_url not in page.locator("body").inner_text(),
        "l'adresse complète du canal est affichée (elle doit être masquée)",
    )
    before = len(hook.received())
    with page.expect_navigation():
        row.get_by_role("button", name="Envoyer un essai").click()
    messages = wait_for(
        lambda: hook.received()[before:], timeout_s=20, what="message d'essai reçu par le webhook"
    )
    check(
        any("Essai de notification" in str(m.get("title", "")) for m in messages),
        f"message reçu : {messages}",
    )
    row = page.locator("#notification-channels tbody tr", has_text="Webhook du cabinet")
    check("Envoyé le" in row.inner_text(), f"résultat affiché : {row.inner_text()}")
    shot(page, run, "notifications-essai")


# --- platform operator -------------------------------------------------------------------------


def operator_onboards(page, run: Run) -> None:
    login_admin(page, run, PLATFORM, "operateur@egide.localhost")
    page.goto(run.url(PLATFORM, "/admin/tenants/insurer/add/"))
    page.fill("input[name=name]", "Assureur Céphée")
    page.fill("input[name=domain]", "assureur-c.localhost")
    page.fill("input[name=admin_email]", "admin@assureur-c.localhost")
    page.get_by_role("button", name="Créer l’assureur").click()
    page.wait_for_url(re.compile(r".*/admin/tenants/insurer/\d+/change/$"), timeout=120_000)
    response = wait_for(
        lambda: (r := page.goto(run.url("assureur-c.localhost", "/"))) and r.ok and r,
        timeout_s=60,
        what="site du nouvel assureur",
        every_s=2,
    )
    check(response.ok, "le site du nouvel assureur ne répond pas")
    body = page.locator("body").inner_text()
    check("Assureur Céphée" in body, "le site ne porte pas son nom")
    check("Bientôt disponible" in body, "un assureur sans documents ni formule est déjà en vente")
    shot(page, run, "nouvel-assureur")


def places_followed_by_doctor(page, run: Run, places) -> None:
    """The insurer admin turns Google Maps on with its API key; the doctor finds her practice,
    follows it, reads it (a baseline), reads it again and sees the new review with Google's
    attribution and the rating chart. Google is the loopback stand-in of tests/live/places.py."""
    from tests.live.places import API_KEY

    login_admin(page, run, HOST_A, "admin@assureur-a.localhost")
    page.goto(run.url(HOST_A, "/admin/settings/places_reviews/placessettings/"))
    page.locator("[name=enabled]").check()
    page.locator("[name=api_key]").fill(API_KEY)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".messages")).to_contain_text("enregistrés")
    check(API_KEY not in page.content(), "la clé de l'API est réaffichée dans l'administration")

    login_portal(page, run, HOST_A, "dr.martin@exemple.fr")
    page.goto(run.url(HOST_A, "/veille/google-maps/"))
    page.fill("#places-nom", "Cabinet du Dr Claire Martin")
    page.fill("#places-adresse", "Lyon")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher sur Google Maps").click()
    expect(page.locator("main")).to_contain_text("Résultats fournis par Google")
    with page.expect_navigation():
        page.get_by_role("button", name="C'est cette fiche : la suivre").first.click()
    for label in ("Première lecture", "Relire la fiche"):
        with page.expect_navigation():
            page.get_by_role("button", name=label).first.click()
    text = page.locator("main").inner_text()
    for expected in ("Avis fournis par Google", "Yves B.", "il y a 1 jour", "Anne D."):
        check(expected in text, f"la fiche suivie ne montre pas « {expected} » : {text[:600]}")
    check(page.locator("main svg").count() >= 1, "pas de courbe de la note Google Maps")
    check(places.reads == 2, f"fiche lue {places.reads} fois chez Google (attendu : 2)")
    check(API_KEY not in page.content(), "la clé de l'API apparaît dans le portail")
    shot(page, run, "google-maps-fiche")
    page.goto(run.url(HOST_A, "/veille/"))
    check(
        "Yves B." in page.locator("#alerts").inner_text(),
        "le nouvel avis Google Maps n'est pas une alerte sur /veille/",
    )
    shot(page, run, "google-maps-alerte")
