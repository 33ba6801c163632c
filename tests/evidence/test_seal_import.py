"""An insurer admin imports a qualified e-seal (PKCS#12) on « Cachet électronique ».

A good file becomes the seal of new bundles, which ``openssl cms -verify`` accepts against the
imported chain; every bad file (wrong password, expired, no signing usage, broken chain, not a
PKCS#12) is refused in French with nothing stored; only the insurer admin may import, and an
import in one insurer leaves the other's seal alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from evidence.bag import bundle_build
from evidence.models import SealKey
from evidence.seals import seal_current, seal_material, seal_private_key_pem
from tests.conftest import staff_login
from tests.evidence.conftest import run, unzip_to
from tests.tenants.factories import ClaimsHandlerFactory, InsurerAdminFactory

pytestmark = pytest.mark.django_db

URL = "/admin/cachet-electronique/"
PASSWORD = "secret-du-cachet"  # noqa: S105
ORGANISATION = "Mutuelle Qualifiée des Médecins"
NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature content_commitment key_encipherment data_encipherment key_agreement "
        "key_cert_sign crl_sign encipher_only decipher_only"
    ).split()
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def _cert(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool,
    usage: x509.KeyUsage | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class P12:
    data: bytes
    root_pem: bytes
    leaf: x509.Certificate


def p12_build(
    *,
    password: str = PASSWORD,
    leaf_usage: x509.KeyUsage | None = None,
    leaf_not_before: dt.datetime = NOW - DAY,
    leaf_not_after: dt.datetime = NOW + 365 * DAY,
    with_intermediate: bool = True,
    drop_from_file: str = "",
) -> P12:
    """Root CA → intermediate CA → seal (nonRepudiation), as a qualified provider delivers."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(
        subject=_name("Racine QTSP de test"),
        key=root_key,
        issuer=_name("Racine QTSP de test"),
        issuer_key=root_key,
        ca=True,
        usage=_usage(key_cert_sign=True, crl_sign=True),
        not_before=NOW - 10 * DAY,
        not_after=NOW + 3650 * DAY,
    )
    issuer, issuer_key, cas = root, root_key, [root]
    if with_intermediate:
        inter_key = ec.generate_private_key(ec.SECP256R1())
        inter = _cert(
            subject=_name("AC cachets qualifiés de test"),
            key=inter_key,
            issuer=root.subject,
            issuer_key=root_key,
            ca=True,
            usage=_usage(key_cert_sign=True, crl_sign=True),
            not_before=NOW - 10 * DAY,
            not_after=NOW + 3000 * DAY,
        )
        issuer, issuer_key, cas = inter, inter_key, [inter, root]
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(
        subject=_name("Cachet qualifié de test"),
        key=leaf_key,
        issuer=issuer.subject,
        issuer_key=issuer_key,
        ca=False,
        usage=leaf_usage if leaf_usage is not None else _usage(content_commitment=True),
        not_before=leaf_not_before,
        not_after=leaf_not_after,
    )
    if drop_from_file == "intermediate":
        cas = [root]
    data = pkcs12.serialize_key_and_certificates(
        b"cachet",
        leaf_key,
        leaf,
        cas,
        serialization.BestAvailableEncryption(password.encode()),
    )
    return P12(data=data, root_pem=root.public_bytes(serialization.Encoding.PEM), leaf=leaf)


def _client(tenant, user) -> Client:
    client = Client(HTTP_HOST=tenant.domain)
    with tenant_context(tenant.insurer):
        staff_login(client, user)
    return client


def _post(client: Client, data: bytes, password: str = PASSWORD, name: str = "cachet.p12"):
    upload = SimpleUploadedFile(name, data, content_type="application/x-pkcs12")
    return client.post(URL, {"p12": upload, "password": password})


def _seals(tenant) -> list[tuple[int, str]]:
    with tenant_context(tenant.insurer):
        return list(SealKey.objects.order_by("pk").values_list("pk", "cert_pem"))


@pytest.fixture
def admin_a(tenant_a):
    with tenant_context(tenant_a.insurer):
        return InsurerAdminFactory()


def test_the_page_shows_the_platform_issued_seal(tenant_a, admin_a):
    response = _client(tenant_a, admin_a).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<td data-origin="platform">délivré par la plateforme</td>' in html
    assert "Assureur test A - cachet" in html
    assert "Importer un cachet électronique qualifié" in html


def test_an_imported_qualified_seal_seals_new_bundles_that_openssl_verifies(
    tenant_a, admin_a, tmp_path: Path, capture_data_dir, session_tsa_server, tsa_pki
):
    # given
    p12 = p12_build()
    before = _seals(tenant_a)
    client = _client(tenant_a, admin_a)
    # when
    response = _post(client, p12.data)
    # then
    assert response.status_code == 302
    page = client.get(URL).content.decode()
    assert '<td data-origin="imported">cachet qualifié importé</td>' in page
    assert "Cachet qualifié de test" in page
    with tenant_context(tenant_a.insurer):
        assert len(_seals(tenant_a)) == len(before) + 1
        seal = seal_current()
        assert seal is not None
        assert (seal.origin, seal.imported_by_id, seal.organisation) == (
            "imported",
            admin_a.pk,
            ORGANISATION,
        )
        assert b"PRIVATE KEY" not in bytes(seal.key_ciphertext)
        assert b"PRIVATE KEY" in seal_private_key_pem(seal=seal)
        material = seal_material(seal=seal)
    assert material.bag_info()["Egide-Seal-Origin"] == "imported-qualified"
    # A bundle sealed with it, its bag-info naming the seal.
    result = bundle_build(
        capture_id="seal-import-1",
        data_dir=capture_data_dir,
        out_dir=tmp_path / "bundles",
        bag_info={"Source-Organization": material.organisation, **material.bag_info()},
        tsa_url=session_tsa_server.url,
        tsa_chain_pem=tsa_pki.cert_pem,
        tsa_ca_pem=tsa_pki.ca_cert_pem,
        seal_key_pem=material.key_pem,
        seal_cert_pem=material.cert_pem,
        seal_ca_pem=material.ca_pem,
        timeout=10,
    )
    bag = unzip_to(result.zip_path, tmp_path / "unzipped")
    (tmp_path / "root.pem").write_bytes(p12.root_pem)
    (tmp_path / "chain.pem").write_bytes((bag / "certs" / "seal-ca.pem").read_bytes())
    verified = run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", "tagmanifest-sha256.txt.p7s", "-content", "tagmanifest-sha256.txt",
            "-CAfile", str(tmp_path / "chain.pem"), "-purpose", "any", "-out", "/dev/null",
        ],
        cwd=bag,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    bag_info = (bag / "bag-info.txt").read_text()
    assert "Egide-Seal-Origin: imported-qualified\n" in bag_info
    assert f"Egide-Seal-Subject: {material.subject}\n" in bag_info
    assert "CN=Cachet qualifié de test" in material.subject
    # The root alone is not enough without the intermediate: the bundle's chain is what helps.
    alone = run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", "tagmanifest-sha256.txt.p7s", "-content", "tagmanifest-sha256.txt",
            "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any", "-out", "/dev/null",
        ],
        cwd=bag,
    )  # fmt: skip
    assert alone.returncode != 0
    assert (bag / "certs" / "seal.pem").read_bytes() == p12.leaf.public_bytes(
        serialization.Encoding.PEM
    )


def _expired() -> P12:
    return p12_build(leaf_not_before=NOW - 400 * DAY, leaf_not_after=NOW - DAY)


def _not_yet_valid() -> P12:
    return p12_build(leaf_not_before=NOW + DAY, leaf_not_after=NOW + 400 * DAY)


REFUSALS = [
    pytest.param(
        lambda: p12_build().data,
        "autre-mot-de-passe",
        "Mot de passe incorrect",
        id="wrong-password",
    ),
    pytest.param(
        lambda: _expired().data, PASSWORD, "Le certificat du cachet a expiré le", id="expired"
    ),
    pytest.param(
        lambda: _not_yet_valid().data, PASSWORD, "n&#x27;est pas encore valide", id="not-yet-valid"
    ),
    pytest.param(
        lambda: p12_build(leaf_usage=_usage(key_encipherment=True)).data,
        PASSWORD,
        "ne permet pas de signer",
        id="no-signing-usage",
    ),
    pytest.param(
        lambda: p12_build(drop_from_file="intermediate").data,
        PASSWORD,
        "La chaîne de certification est incomplète ou invalide",
        id="broken-chain",
    ),
    pytest.param(
        lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n",
        PASSWORD,
        "Ce fichier n&#x27;est pas un fichier PKCS#12 (.p12 ou .pfx).",
        id="not-pkcs12",
    ),
    pytest.param(
        lambda: b"0" * (64 * 1024 + 1),
        PASSWORD,
        "Le fichier dépasse 64 Ko",
        id="too-large",
    ),
]


@pytest.mark.parametrize(("make", "password", "message"), REFUSALS)
def test_a_bad_file_is_refused_in_french_and_nothing_is_stored(
    tenant_a, admin_a, make, password, message
):
    before = _seals(tenant_a)
    response = _post(_client(tenant_a, admin_a), make(), password=password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _seals(tenant_a) == before


def test_a_claims_handler_cannot_import_and_nothing_changes(tenant_a):
    with tenant_context(tenant_a.insurer):
        handler = ClaimsHandlerFactory()
    before = _seals(tenant_a)
    client = _client(tenant_a, handler)
    # Wagtail turns the refusal into a redirect to the dashboard with a message.
    refused = client.get(URL)
    assert (refused.status_code, refused["Location"]) == (302, "/admin/")
    response = _post(client, p12_build().data)
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert _seals(tenant_a) == before


def test_importing_in_one_insurer_leaves_the_other_s_seal_alone(tenant_a, tenant_b, admin_a):
    before_b = _seals(tenant_b)
    with tenant_context(tenant_b.insurer):
        current_b = seal_current().pk
    response = _post(_client(tenant_a, admin_a), p12_build().data)
    assert response.status_code == 302
    with tenant_context(tenant_a.insurer):
        assert seal_current().origin == "imported"
    assert _seals(tenant_b) == before_b
    with tenant_context(tenant_b.insurer):
        assert (seal_current().pk, seal_current().origin) == (current_b, "platform")
    # B's admin page still shows B's own seal.
    with tenant_context(tenant_b.insurer):
        admin_b = InsurerAdminFactory()
    page = _client(tenant_b, admin_b).get(URL).content.decode()
    assert '<td data-origin="platform">délivré par la plateforme</td>' in page
    assert "Cachet qualifié de test" not in page


def test_certificates_of_cover_are_sealed_with_the_imported_seal_and_its_chain(tenant_a, admin_a):
    import datetime as _dt
    import io

    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from cover.services.policies import certificate_render
    from evidence.seal import pem_to_der
    from tests.cover.factories import PolicyFactory

    p12 = p12_build()
    assert _post(_client(tenant_a, admin_a), p12.data).status_code == 302
    with tenant_context(tenant_a.insurer):
        policy = PolicyFactory(start_date=_dt.date(2026, 1, 15), renewal_date=_dt.date(2027, 1, 15))
        pdf = certificate_render(policy=policy, on=_dt.date(2026, 12, 6))

    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    # Trusting the provider's root alone: the intermediate travels in the signature.
    root = asn1_x509.Certificate.load(pem_to_der(p12.root_pem))
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.signing_cert.subject.native["common_name"] == "Cachet qualifié de test"
