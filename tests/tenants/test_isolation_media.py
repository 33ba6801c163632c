"""Media are stored and served per insurer."""

from __future__ import annotations

import io

import pytest
from django.core.files.images import ImageFile
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _image(tenant, *, name: str, colour: str):
    from wagtail.images import get_image_model

    with tenant_context(tenant.insurer):
        image = get_image_model()(title=name, file=ImageFile(io.BytesIO(_png(colour)), name=name))
        image.save()
        rendition = image.get_rendition("fill-20x20")
        return image.file.name, image.file.path, image.file.url, rendition.file.path


def test_same_file_name_in_two_insurers_gets_two_files(tenant_a, tenant_b, unique):
    name = f"photo-{unique}.png"

    _, path_a, url_a, rendition_a = _image(tenant_a, name=name, colour="red")
    _, path_b, url_b, rendition_b = _image(tenant_b, name=name, colour="blue")

    assert path_a != path_b
    assert "/test_a/" in path_a and "/test_b/" in path_b
    assert rendition_a != rendition_b
    assert url_a.startswith("/media/test_a/") and url_b.startswith("/media/test_b/")
    with open(path_a, "rb") as fa, open(path_b, "rb") as fb:
        assert fa.read() != fb.read()


def test_media_are_served_only_on_their_insurers_host(tenant_a, tenant_b, unique):
    _, path_a, url_a, _ = _image(tenant_a, name=f"secret-{unique}.png", colour="green")

    served = Client(HTTP_HOST=tenant_a.domain).get(url_a)
    refused = Client(HTTP_HOST=tenant_b.domain).get(url_a)

    assert served.status_code == 200
    with open(path_a, "rb") as handle:
        assert b"".join(served.streaming_content) == handle.read()
    assert refused.status_code == 404


def test_private_files_of_the_tenant_are_never_served_by_their_storage_path(tenant_a, unique):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with tenant_context(tenant_a.insurer):
        name = default_storage.save(f"claims/letters/{unique}.pdf", ContentFile(b"%PDF-1.7"))
        url = default_storage.url(name)

    response = Client(HTTP_HOST=tenant_a.domain).get(url)

    assert url == f"/media/test_a/claims/letters/{unique}.pdf"
    assert response.status_code == 404


@pytest.mark.parametrize(
    "trick",
    [
        "images/../claims/letters/{name}",
        "images/%2e%2e/claims/letters/{name}",
        "images/..%2fclaims/letters/{name}",
        "images/%2E%2E%2Fclaims%2Fletters%2F{name}",
        "images/./../claims/letters/{name}",
        "original_images/../../test_a/claims/letters/{name}",
        "images//../claims/letters/{name}",
        "images\\..\\claims\\letters\\{name}",
    ],
)
def test_a_path_that_climbs_out_of_the_image_folders_is_refused(tenant_a, unique, trick):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    # given a private letter of the insurer, next to its public images
    with tenant_context(tenant_a.insurer):
        default_storage.save(f"claims/letters/{unique}.pdf", ContentFile(b"%PDF-1.7 secret"))

    # when it is asked for through an image folder
    response = Client(HTTP_HOST=tenant_a.domain).get(
        "/media/test_a/" + trick.format(name=f"{unique}.pdf")
    )

    # then nothing is served
    assert response.status_code == 404
    assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_a_file_that_is_not_an_image_is_not_served_from_an_image_folder(tenant_a, unique):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with tenant_context(tenant_a.insurer):
        name = default_storage.save(
            f"original_images/page-{unique}.html", ContentFile(b"<script>alert(1)</script>")
        )

    response = Client(HTTP_HOST=tenant_a.domain).get(f"/media/test_a/{name}")

    assert response.status_code == 404


def test_an_image_is_served_with_nosniff(tenant_a, unique):
    _, _, url, _ = _image(tenant_a, name=f"logo-{unique}.png", colour="red")

    response = Client(HTTP_HOST=tenant_a.domain).get(url)

    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_browser_revalidating_a_cached_image_gets_not_modified(tenant_a, unique):
    # given an image the browser already has, with the date it was served
    _, _, url, _ = _image(tenant_a, name=f"logo-{unique}.png", colour="red")
    client = Client(HTTP_HOST=tenant_a.domain)
    first = client.get(url)
    assert first.status_code == 200
    # when the page is shown again and the browser revalidates its copy
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    # then it is told to keep it (it was a 404 once: every other page load lost the logo)
    assert again.status_code == 304
    assert again["X-Content-Type-Options"] == "nosniff"


def test_a_non_image_is_refused_even_to_a_revalidation(tenant_a, unique):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with tenant_context(tenant_a.insurer):
        name = default_storage.save(f"images/page-{unique}.html", ContentFile(b"<p>x</p>"))

    response = Client(HTTP_HOST=tenant_a.domain).get(
        f"/media/test_a/{name}", HTTP_IF_MODIFIED_SINCE="Sat, 01 Jan 2050 00:00:00 GMT"
    )

    assert response.status_code == 404
