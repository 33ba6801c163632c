"""Staff need a second factor (TOTP or a recovery code) after their password; doctors may.

Every login here goes through the real login forms; codes are computed from the secret the
enrolment page shows, as an authenticator app does.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.files.storage import default_storage
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context
from PIL import Image as PILImage
from wagtail.images import get_image_model

from saas.totp_code import totp_code
from tenants import two_factor
from tenants.roles import CLAIMS_HANDLER
from tests.conftest import PASSWORD, staff_login
from tests.cover.claims_factories import claim_create, handler_create
from tests.tenants.factories import DoctorUserFactory, InsurerAdminFactory

pytestmark = pytest.mark.django_db

VERIFY = "/compte/double-authentification/"
ENROL = "/compte/double-authentification/activer/"
CODES = "/compte/double-authentification/codes-de-secours/"


def _password_login(client: Client, email: str, path: str = "/admin/login/"):
    response = client.post(path, {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def _code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + step_offset * device.step
    return f"{totp.token():06d}"


def _secret_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "no secret on the enrolment page"
    return match.group(1)


# --- no admin page for a password-only session ---------------------------------------------


def test_a_password_only_session_reaches_no_admin_page(tenant_a):
    with tenant_context(tenant_a.insurer):
        claim = claim_create()
        handler = handler_create(email="gestion-2fa@tenant-a.localhost")
        users_before = get_user_model().objects.count()
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, handler.username)

    urls = [
        "/admin/",
        "/admin/sinistres/",
        f"/admin/sinistres/{claim.pk}/",
        f"/admin/sinistres/{claim.pk}/courriers/1/pdf/",
        "/admin/preuves/",
        "/admin/preuves/1/telecharger/",
        "/admin/users/",
        "/admin/pages/",
        "/admin/documents/",
        "/documents/1/document.pdf",
        "/admin/api/main/pages/",
        "/portail/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{ENROL}?next={url.replace('/', '%2F')}", url
        assert response.content == b"", url
    created = client.post(
        "/admin/users/new/",
        {
            "username": "intrus@exemple.fr",
            "email": "intrus@exemple.fr",
            "first_name": "In",
            "last_name": "Trus",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )
    assert (created.status_code, created["Location"]) == (302, ENROL)
    with tenant_context(tenant_a.insurer):
        assert get_user_model().objects.count() == users_before
        assert not get_user_model().objects.filter(username="intrus@exemple.fr").exists()


def test_the_browser_icon_is_not_sent_to_the_code_page(tenant_a):
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email="gestion-icone@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, handler.username)

    for url in ("/favicon.ico", "/robots.txt"):
        response = client.get(url)
        assert not response.get("Location", "").startswith("/compte/double-authentification/")
    # and a page still is
    assert client.get("/admin/")["Location"].startswith(ENROL)


def test_the_logo_on_the_code_page_is_served_but_private_files_are_not(tenant_a, unique):
    # given the insurer's logo (a public image) and a claim letter (private), and a handler
    # between password and code
    with tenant_context(tenant_a.insurer):
        logo = get_image_model()(
            title="logo", file=ImageFile(io.BytesIO(_png()), name=f"logo-{unique}.png")
        )
        logo.save()
        logo_url = logo.get_rendition("height-48").url
        letter_url = default_storage.url(
            default_storage.save(f"claims/letters/{unique}.pdf", ContentFile(b"%PDF-1.7"))
        )
        handler = handler_create(email=f"gestion-logo-{unique}@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, handler.username)

    # when the code page shows the logo, and the session asks for the letter's storage path
    image = client.get(logo_url)
    letter = client.get(letter_url)

    # then the image comes (an anonymous visitor gets it too), the letter does not
    assert (image.status_code, image["Content-Type"]) == (200, "image/png")
    assert letter.status_code == 302
    assert letter["Location"].startswith(ENROL)


def test_staff_with_an_authenticator_are_asked_for_a_code_then_get_in(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-2fa@tenant-a.localhost")
        device = two_factor.totp_device_set(user=admin, key_hex="31" * 20)
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, admin.username)

    asked = client.get("/admin/users/")
    wrong = client.post(VERIFY, {"code": "000000", "next": "/admin/users/"})
    still_closed = client.get("/admin/users/")

    assert (asked.status_code, asked["Location"]) == (302, f"{VERIFY}?next=%2Fadmin%2Fusers%2F")
    assert wrong.status_code == 400
    assert "Code incorrect" in wrong.content.decode()
    assert still_closed.status_code == 302
    time.sleep(1.1)  # django-otp slows down after a wrong code (1 s, then 2, 4…)
    right = client.post(VERIFY, {"code": _code(device), "next": "/admin/users/"})
    assert (right.status_code, right["Location"]) == (302, "/admin/users/")
    assert client.get("/admin/users/").status_code == 200
    assert client.get("/admin/").status_code == 200

    # The same code cannot open a second session (replay).
    other = Client(HTTP_HOST=tenant_a.domain)
    _password_login(other, admin.username)
    replay = other.post(VERIFY, {"code": _code(device), "next": "/admin/"})
    assert replay.status_code == 400
    assert other.get("/admin/").status_code == 302


def test_a_role_with_admin_access_needs_two_factors_even_without_is_staff(tenant_a):
    with tenant_context(tenant_a.insurer):
        user = get_user_model().objects.create_user(
            username="sans-staff@tenant-a.localhost", password=PASSWORD, is_staff=False
        )
        user.groups.add(Group.objects.get(name=CLAIMS_HANDLER))
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, user.username, path="/compte/connexion/")

    response = client.get("/admin/sinistres/")

    assert (response.status_code, response["Location"]) == (
        302,
        f"{ENROL}?next=%2Fadmin%2Fsinistres%2F",
    )


# --- enrolment -------------------------------------------------------------------------------


def test_enrolment_end_to_end_with_a_real_code(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="nouvel-admin@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)
    login = _password_login(client, admin.username)
    assert login["Location"] == "/admin/"

    first = client.get(client.get("/admin/")["Location"])
    html = first.content.decode()
    secret = _secret_on_page(html)
    again = client.get(f"{ENROL}?next=%2Fadmin%2F").content.decode()

    assert first.status_code == 200
    assert "<svg" in html and 'class="qr-code"' in html
    assert _secret_on_page(again) == secret  # reloading keeps the key already scanned
    with tenant_context(tenant_a.insurer):
        assert TOTPDevice.objects.filter(user=admin, confirmed=False).count() == 1
        assert not two_factor.user_has_device(user=admin)

    confirmed = client.post(ENROL, {"code": totp_code(secret=secret), "next": "/admin/"})
    assert (confirmed.status_code, confirmed["Location"]) == (302, f"{CODES}?next=%2Fadmin%2F")
    shown = client.get(confirmed["Location"])
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(CODES)["Location"] == "/admin/"  # shown once only
    assert client.get("/admin/").status_code == 200
    with tenant_context(tenant_a.insurer):
        assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1
        assert TOTPDevice.objects.filter(user=admin, confirmed=False).count() == 0
        assert sorted(
            StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)
        ) == sorted(codes)

    # Next login: the enrolment page is closed, a code is asked.
    later = Client(HTTP_HOST=tenant_a.domain)
    _password_login(later, admin.username)
    assert later.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    assert later.get(ENROL)["Location"].startswith(VERIFY)


def test_a_wrong_enrolment_code_confirms_nothing(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-faux-code@tenant-a.localhost")
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, admin.username)
    secret = _secret_on_page(client.get(ENROL).content.decode())
    wrong = f"{(int(totp_code(secret=secret)) + 1) % 1_000_000:06d}"

    response = client.post(ENROL, {"code": wrong, "next": "/admin/"})

    assert response.status_code == 400
    assert "Ce code ne correspond pas" in response.content.decode()
    assert _secret_on_page(response.content.decode()) == secret
    assert client.get("/admin/").status_code == 302
    with tenant_context(tenant_a.insurer):
        assert not two_factor.user_has_device(user=admin)
        assert not StaticToken.objects.filter(device__user=admin).exists()


def test_a_password_only_session_cannot_add_a_second_authenticator(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-deja@tenant-a.localhost")
        two_factor.totp_device_set(user=admin, key_hex="32" * 20)
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, admin.username)

    page = client.get(ENROL)
    post = client.post(ENROL, {"code": "123456"})

    assert page["Location"].startswith(VERIFY)
    assert post["Location"].startswith(VERIFY)
    with tenant_context(tenant_a.insurer):
        assert TOTPDevice.objects.filter(user=admin).count() == 1


# --- recovery codes --------------------------------------------------------------------------


def test_a_recovery_code_works_once(tenant_a):
    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-secours@tenant-a.localhost")
        two_factor.totp_device_set(user=admin, key_hex="33" * 20)
        codes = two_factor.recovery_codes_renew(user=admin)
    first = Client(HTTP_HOST=tenant_a.domain)
    _password_login(first, admin.username)

    used = first.post(VERIFY, {"code": codes[3].upper(), "next": "/admin/"})

    assert (used.status_code, used["Location"]) == (302, "/admin/")
    assert first.get("/admin/").status_code == 200
    with tenant_context(tenant_a.insurer):
        assert two_factor.recovery_codes_left(user=admin) == 9
    second = Client(HTTP_HOST=tenant_a.domain)
    _password_login(second, admin.username)
    reused = second.post(VERIFY, {"code": codes[3], "next": "/admin/"})
    assert reused.status_code == 400
    assert second.get("/admin/").status_code == 302


# --- platform operator -----------------------------------------------------------------------


def test_the_platform_operator_needs_two_factors(tenant_a):
    operator = get_user_model().objects.create_superuser(
        username="operateur-2fa@egide.localhost", email="op@egide.localhost", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")
    _password_login(client, operator.username)

    for url in ("/admin/", "/admin/tenants/insurer/", f"/admin/tenants/insurer/{1}/change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{ENROL}?next="), url

    verified = Client(HTTP_HOST="localhost")
    staff_login(verified, operator)
    assert verified.get("/admin/tenants/insurer/").status_code == 200


def test_the_platform_login_without_next_goes_to_the_admin(tenant_a):
    operator = get_user_model().objects.create_superuser(
        username="operateur-next@egide.localhost", email="op@egide.localhost", password=PASSWORD
    )
    client = Client(HTTP_HOST="localhost")

    response = client.post("/admin/login/", {"username": operator.username, "password": PASSWORD})
    empty_next = Client(HTTP_HOST="localhost").post(
        "/admin/login/", {"username": operator.username, "password": PASSWORD, "next": ""}
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert (empty_next.status_code, empty_next["Location"]) == (302, "/admin/")
    assert client.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"


# --- doctors: optional -----------------------------------------------------------------------


def test_two_factors_are_optional_for_doctors_and_asked_once_enrolled(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="dr.deux-facteurs@exemple.fr")
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, doctor.username, path="/compte/connexion/")

    home = client.get("/portail/")  # no device: the password is enough
    assert home.status_code == 200
    assert f'href="{ENROL}?next=/portail/"' in home.content.decode()
    page = client.get(ENROL)
    assert page.status_code == 200
    assert "Facultatif" in page.content.decode()
    secret = _secret_on_page(page.content.decode())
    done = client.post(ENROL, {"code": totp_code(secret=secret), "next": "/portail/"})
    assert done["Location"] == f"{CODES}?next=%2Fportail%2F"
    assert "Double authentification activée" in client.get("/portail/").content.decode()

    later = Client(HTTP_HOST=tenant_a.domain)
    _password_login(later, doctor.username, path="/compte/connexion/")
    assert later.get("/portail/")["Location"] == f"{VERIFY}?next=%2Fportail%2F"
    with tenant_context(tenant_a.insurer):
        device = TOTPDevice.objects.get(user=doctor, confirmed=True)
    assert later.post(VERIFY, {"code": _code(device, step_offset=1)})["Location"] == "/portail/"
    assert later.get("/portail/").status_code == 200


def test_a_doctor_without_device_is_not_sent_to_enrolment(tenant_a):
    with tenant_context(tenant_a.insurer):
        doctor = DoctorUserFactory(email="dr.sans-appli@exemple.fr")
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, doctor.username, path="/compte/connexion/")

    assert client.get("/portail/").status_code == 200
    assert client.get(VERIFY)["Location"] == "/portail/"
    assert client.get("/admin/").status_code == 302  # Wagtail's own refusal: login page
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


# --- across insurers -------------------------------------------------------------------------


def test_an_authenticator_enrolled_at_one_insurer_means_nothing_at_another(tenant_a, tenant_b):
    email = "meme-personne@exemple.fr"
    with tenant_context(tenant_a.insurer):
        admin_a = InsurerAdminFactory(email=email)
        device_a = two_factor.totp_device_set(user=admin_a, key_hex="34" * 20)
    with tenant_context(tenant_b.insurer):
        InsurerAdminFactory(email=email)
        assert TOTPDevice.objects.filter(user__username=email).count() == 0

    client_b = Client(HTTP_HOST=tenant_b.domain)
    _password_login(client_b, email)
    verify_b = client_b.post(VERIFY, {"code": _code(device_a)})

    assert client_b.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    assert verify_b["Location"].startswith(ENROL)
    assert client_b.get("/admin/").status_code == 302


def test_a_lost_phone_is_reset_from_the_command_line_and_the_account_enrols_again(tenant_a):
    from django.core.management import CommandError, call_command

    with tenant_context(tenant_a.insurer):
        admin = InsurerAdminFactory(email="admin-telephone-perdu@tenant-a.localhost")
        two_factor.totp_device_set(user=admin, key_hex="35" * 20)
        two_factor.recovery_codes_renew(user=admin)

    call_command("two_factor_reset", admin.username, schema="test_a")
    with pytest.raises(CommandError):
        call_command("two_factor_reset", "personne@tenant-a.localhost", schema="test_a")

    with tenant_context(tenant_a.insurer):
        assert not TOTPDevice.objects.filter(user=admin).exists()
        assert two_factor.recovery_codes_left(user=admin) == 0
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, admin.username)
    assert client.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"


def test_the_demo_secret_helper_prints_the_code_the_demo_devices_accept(tenant_a):
    import subprocess
    import sys

    from saas.demo import DEMO_TOTP_KEY_HEX, demo_summary

    with tenant_context(tenant_a.insurer):
        handler = handler_create(email="gestion-demo@tenant-a.localhost")
        two_factor.totp_device_set(user=handler, key_hex=DEMO_TOTP_KEY_HEX)
    client = Client(HTTP_HOST=tenant_a.domain)
    _password_login(client, handler.username)
    if time.time() % 30 > 27:  # the printed code must still be valid when posted
        time.sleep(4)
    printed = subprocess.run(
        [sys.executable, "-m", "saas.totp_code"], capture_output=True, text=True, check=True
    ).stdout.strip()

    response = client.post(VERIFY, {"code": printed, "next": "/admin/"})

    assert re.fullmatch(r"\d{6}", printed)
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert any("EGIDEDEMOTOTPSECRETFORSTAFFDEMOS" in line for line in demo_summary())
