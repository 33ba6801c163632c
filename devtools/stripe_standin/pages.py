"""Hosted pages, in French, with no API key: Checkout (``/pay/<cs_id>``), the hosted invoice and
its PDF (``/invoice/<in_id>``), and the Connect onboarding link."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from devtools.stripe_standin.common import (
    HttpReply,
    StripeApiError,
    date_fr,
    form_decode,
    format_amount_fr,
)
from devtools.stripe_standin.constants import INTERVALS_FR, INVOICE_STATUS_FR, PLATFORM
from devtools.stripe_standin.resources import accounts, checkout, invoices
from devtools.stripe_standin.resources.checkout import checkout_success_url

if TYPE_CHECKING:
    from devtools.stripe_standin.api import Api


def html_reply(status: int, content: str) -> HttpReply:
    return HttpReply(status, content.encode("utf-8"), "text/html; charset=utf-8")


def page_html(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }}
main {{ max-width: 28rem; margin: 2rem auto; background: #fff; padding: 2rem;
  border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.1); }}
.test {{ background: #ffde92; color: #5c3b00; padding: .25rem .5rem; border-radius: .25rem;
  display: inline-block; font-size: .8rem; }}
table {{ width: 100%; border-collapse: collapse; margin: 1rem 0; }}
td {{ padding: .4rem 0; border-bottom: 1px solid #e3e8ee; }}
.amount {{ text-align: right; }}
.total {{ font-weight: 600; font-size: 1.1rem; }}
label {{ display: block; margin: .75rem 0; font-size: .9rem; }}
input {{ display: block; width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem;
  border: 1px solid #cfd7df; border-radius: .25rem; font-size: 1rem; }}
.row {{ display: flex; gap: 1rem; }}
.row label {{ flex: 1; }}
button {{ width: 100%; padding: .75rem; margin-top: 1rem; background: #0a2540; color: #fff;
  border: 0; border-radius: .25rem; font-size: 1rem; cursor: pointer; }}
.error {{ color: #b3093c; background: #fde8ec; padding: .5rem; border-radius: .25rem; }}
.hint {{ font-size: .8rem; color: #697386; }}
</style>
</head>
<body><main>{body}</main></body>
</html>
"""


def pdf_document(*, lines: Sequence[str]) -> bytes:
    """A one-page PDF 1.4 with the given lines in Helvetica (WinAnsi, so € and accents show).

    Hand-built so the server needs nothing beyond the standard library; offsets in the xref
    table are exact, so any PDF reader opens it.
    """

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    operations = ["BT", "/F1 11 Tf", "15 TL", "56 780 Td"]
    operations += [f"({escape(line)}) Tj T*" for line in lines]
    operations.append("ET")
    stream = "\n".join(operations).encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref_at = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(output)


def page(api: Api, method: str, path: str, body: bytes) -> HttpReply | None:
    form = form_decode(body.decode("utf-8", errors="replace")) if method == "POST" else {}
    match = re.fullmatch(r"/pay/(cs_[A-Za-z0-9_]+)", path)
    if match:
        return page_checkout(api, method, match.group(1), form)
    match = re.fullmatch(r"/invoice/(in_[A-Za-z0-9]+)(/pdf)?", path)
    if match:
        if match.group(2):
            return page_invoice_pdf(api, match.group(1))
        return page_invoice(api, method, match.group(1), form)
    match = re.fullmatch(r"/connect/onboarding/([A-Za-z0-9]+)", path)
    if match:
        return page_onboarding(api, method, match.group(1))
    return None


def page_checkout(api: Api, method: str, session_id: str, form: dict[str, Any]) -> HttpReply:
    error = None
    if method == "POST":
        try:
            redirect, error = checkout.checkout_pay(
                api,
                session_id=session_id,
                email=str(form.get("email", "")),
                name=str(form.get("cardholder_name", "")),
                card_number=str(form.get("card_number", "")),
            )
        except StripeApiError:
            return html_reply(
                404,
                page_html("Session introuvable", "<p>Session de paiement introuvable.</p>"),
            )
        if error is None:
            return HttpReply(303, b"", "text/plain", {"Location": redirect})
    with api.state.lock:
        found = checkout.find_session(api, session_id)
        if found is None:
            return html_reply(
                404,
                page_html("Session introuvable", "<p>Session de paiement introuvable.</p>"),
            )
        namespace, session = found
        if session["status"] == "complete" and method == "GET":
            return HttpReply(303, b"", "text/plain", {"Location": checkout_success_url(session)})
        content = checkout_page_html(api, namespace, session, error, form)
    return html_reply(402 if error else 200, content)


def checkout_page_html(
    api: Api, namespace: str, session: dict[str, Any], error: str | None, form: dict[str, Any]
) -> str:
    if session["mode"] == "setup":
        return checkout_setup_page_html(api, namespace, session, error, form)
    rows = []
    period = ""
    for stored in session["_line_items"]:
        price = api.get(namespace, "price", stored["price"])
        product = api.state.collection(namespace, "product").get(price["product"], {})
        amount = format_amount_fr(price["unit_amount"], price["currency"])
        if price["recurring"]:
            period = f" par {INTERVALS_FR[price['recurring']['interval']]}"
        if stored["quantity"] is None:
            label = f"{amount} par unité consommée"
        else:
            label = f"{stored['quantity']} × {amount}{period}"
        rows.append(
            f"<tr><td>{html.escape(product.get('name', price['id']))}</td>"
            f"<td class='amount'>{html.escape(label)}</td></tr>"
        )
    total = format_amount_fr(session["amount_total"] or 0, session["currency"])
    email = str(form.get("email", "")) or session["customer_email"] or ""
    if session["customer"]:
        customer = api.state.collection(namespace, "customer").get(session["customer"], {})
        email = email or customer.get("email") or ""
    card = str(form.get("card_number", "4242 4242 4242 4242"))
    error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    cancel = (
        f"<p><a href='{html.escape(session['cancel_url'])}'>← Retour</a></p>"
        if session["cancel_url"]
        else ""
    )
    if session["status"] != "open":
        return page_html(
            "Paiement", "<p>Cette session de paiement n'est plus disponible.</p>" + cancel
        )
    body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>{html.escape(accounts.display_name(api, namespace))}</h1>
<table>{"".join(rows)}</table>
<p class="total">Total : {html.escape(total)}{html.escape(period)}</p>
{error_html}
<form method="post" action="/pay/{html.escape(session["id"])}">
  <label>Adresse e-mail
<input type="email" name="email" value="{html.escape(email)}" autocomplete="email">
  </label>
  <label>Numéro de carte
<input name="card_number" value="{html.escape(card)}" inputmode="numeric"
  autocomplete="cc-number" required>
  </label>
  <div class="row">
<label>Expiration <input name="card_expiry" value="12 / 34" autocomplete="cc-exp"></label>
<label>CVC <input name="card_cvc" value="123" autocomplete="cc-csc"></label>
  </div>
  <label>Titulaire de la carte
<input name="cardholder_name" value="{html.escape(str(form.get("cardholder_name", "")))}"
  autocomplete="cc-name">
  </label>
  <button type="submit">Payer</button>
</form>
<p class="hint">Cartes de test : 4242 4242 4242 4242 (paiement accepté),
4000 0000 0000 0002 (carte refusée).</p>
{cancel}"""
    return page_html("Paiement", body)


def checkout_setup_page_html(
    api: Api, namespace: str, session: dict[str, Any], error: str | None, form: dict[str, Any]
) -> str:
    """Checkout in setup mode: a card to save, nothing charged now."""
    cancel = (
        f"<p><a href='{html.escape(session['cancel_url'])}'>← Retour</a></p>"
        if session["cancel_url"]
        else ""
    )
    if session["status"] != "open":
        return page_html("Carte bancaire", "<p>Cette session n'est plus disponible.</p>" + cancel)
    customer = api.state.collection(namespace, "customer").get(session["customer"] or "", {})
    card = str(form.get("card_number", "4242 4242 4242 4242"))
    holder = str(form.get("cardholder_name", "")) or customer.get("name") or ""
    error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>{html.escape(accounts.display_name(api, namespace))}</h1>
<p>Enregistrez une carte pour vos prochains paiements. Aucun montant n'est débité sur cette
page.</p>
{error_html}
<form method="post" action="/pay/{html.escape(session["id"])}">
  <label>Numéro de carte
<input name="card_number" value="{html.escape(card)}" inputmode="numeric"
  autocomplete="cc-number" required>
  </label>
  <div class="row">
<label>Expiration <input name="card_expiry" value="12 / 34" autocomplete="cc-exp"></label>
<label>CVC <input name="card_cvc" value="123" autocomplete="cc-csc"></label>
  </div>
  <label>Titulaire de la carte
<input name="cardholder_name" value="{html.escape(holder)}" autocomplete="cc-name">
  </label>
  <button type="submit">Enregistrer la carte</button>
</form>
<p class="hint">Cartes de test : 4242 4242 4242 4242 (acceptée),
4000 0000 0000 0002 (refusée), 4000 0000 0000 0341 (enregistrée, puis refusée au paiement).</p>
{cancel}"""
    return page_html("Carte bancaire", body)


def page_invoice(api: Api, method: str, invoice_id: str, form: dict[str, Any]) -> HttpReply:
    error = None
    if method == "POST":
        try:
            error = invoices.invoice_pay_by_card(
                api, invoice_id=invoice_id, card_number=str(form.get("card_number", ""))
            )
        except StripeApiError:
            return html_reply(404, page_html("Facture introuvable", "<p>Facture introuvable.</p>"))
    with api.state.lock:
        try:
            namespace, invoice = invoices.find_invoice(api, invoice_id)
        except StripeApiError:
            return html_reply(404, page_html("Facture introuvable", "<p>Facture introuvable.</p>"))
        invoice = api.render(invoice, namespace=namespace)
        seller = accounts.display_name(api, namespace)
    rows = "".join(
        f"<tr><td>{html.escape(line['description'])}</td><td class='amount'>"
        f"{html.escape(format_amount_fr(line['amount'], line['currency']))}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    status = INVOICE_STATUS_FR.get(invoice["status"], invoice["status"])
    error_html = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    pay_form = ""
    if invoice["status"] == "open":
        pay_form = f"""
<form method="post" action="/invoice/{html.escape(invoice_id)}">
  <label>Numéro de carte
<input name="card_number" value="4242 4242 4242 4242" inputmode="numeric" required>
  </label>
  <button type="submit">Payer</button>
</form>"""
    body = f"""
<p class="test">Mode test — aucun paiement réel</p>
<h1>Facture {html.escape(invoice["number"] or invoice_id)}</h1>
<p>{html.escape(seller)} — émise le {date_fr(invoice["created"])}</p>
<table>{rows}</table>
<p class="total">Total : {html.escape(format_amount_fr(invoice["total"], invoice["currency"]))}
</p>
<p>Statut : <strong>{html.escape(status)}</strong></p>
{error_html}{pay_form}
<p><a href="{html.escape(invoice["invoice_pdf"])}">Télécharger la facture (PDF)</a></p>"""
    return html_reply(402 if error else 200, page_html("Facture", body))


def page_invoice_pdf(api: Api, invoice_id: str) -> HttpReply:
    with api.state.lock:
        try:
            namespace, invoice = invoices.find_invoice(api, invoice_id)
        except StripeApiError:
            return html_reply(404, page_html("Facture introuvable", "<p>Facture introuvable.</p>"))
        lines = [
            f"Facture {invoice['number']}",
            f"{accounts.display_name(api, namespace)} - émise le {date_fr(invoice['created'])}",
            f"Client : {invoice['customer_name'] or ''} {invoice['customer_email'] or ''}",
            "",
            *(
                f"{line['description']} : {format_amount_fr(line['amount'], line['currency'])}"
                for line in invoice["lines"]["data"]
            ),
            "",
            f"Total : {format_amount_fr(invoice['total'], invoice['currency'])}",
            f"Statut : {INVOICE_STATUS_FR.get(invoice['status'], invoice['status'])}",
            "Document de test - aucun paiement réel.",
        ]
    return HttpReply(
        200,
        pdf_document(lines=lines),
        "application/pdf",
        {"Content-Disposition": f'inline; filename="{invoice["number"]}.pdf"'},
    )


def page_onboarding(api: Api, method: str, token: str) -> HttpReply:
    if method == "POST":
        try:
            return HttpReply(
                303, b"", "text/plain", {"Location": accounts.account_onboard(api, token=token)}
            )
        except StripeApiError:
            return html_reply(404, page_html("Lien expiré", "<p>Lien introuvable.</p>"))
    with api.state.lock:
        link = api.state.collection(PLATFORM, "account_link").get(token)
        if link is None:
            return html_reply(404, page_html("Lien expiré", "<p>Lien introuvable.</p>"))
    body = f"""
<p class="test">Mode test</p>
<h1>Activer votre compte de paiement</h1>
<p>Compte {html.escape(link["account"])}. En mode test, aucune pièce n'est demandée.</p>
<form method="post" action="/connect/onboarding/{html.escape(token)}">
  <button type="submit">Continuer</button>
</form>"""
    return html_reply(200, page_html("Activation du compte", body))
