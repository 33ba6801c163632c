"""The database cut under a running web process (through a local TCP proxy).

While cut, pages answer a French 503 with ``Retry-After`` (never a 500 error page) and a
capture request saves nothing; once restored, the same requests work, and exactly the capture
asked for after the cut exists: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from evidence.models import Capture
from tests.resilience.conftest import signed_in, wait_until, web_process
from tests.resilience.proxy import TcpProxy

pytestmark = pytest.mark.usefixtures("evidence_env")


def _database_url_through(proxy: TcpProxy) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@127.0.0.1:{proxy.port}/{db['NAME']}"


def test_database_cut_gives_a_clean_503_then_everything_works_again(
    tenant_a, doctor_factory, pages, evidence_env, tmp_path
):
    db = connection.settings_dict
    proxy = TcpProxy(
        target_host=db["HOST"] or "127.0.0.1", target_port=int(db["PORT"] or 5432)
    ).start()
    env = evidence_env.worker_env(DATABASE_URL=_database_url_through(proxy))
    doctor = doctor_factory(tenant_a.insurer)
    try:
        with web_process(env, host=tenant_a.domain, log_path=tmp_path / "web.log") as web:
            browser = signed_in(web, tenant_a.insurer, doctor)
            status, body, _headers = browser.get("/preuves/")
            assert status == 200, body[:500]
            token_page = body
            # when the database is cut
            proxy.cut()
            status, body, headers = browser.get("/preuves/")
            # then the page is a clean French 503, to retry later
            assert status == 503, body[:500]
            assert "Service momentanément indisponible" in body
            assert headers.get("Retry-After") == "30"
            # and a capture request during the cut is refused the same way, saving nothing
            import re

            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', token_page)
            assert token
            status, body, _headers = browser.request(
                "POST",
                "/preuves/",
                {"csrfmiddlewaretoken": token.group(1), "url": pages.url("/avis?pendant"),
                 "reason": "Avis"},
            )  # fmt: skip
            assert status == 503, body[:500]
            # when the database comes back
            proxy.restore()
            wait_until(
                lambda: browser.get("/preuves/")[0] == 200,
                timeout_s=30,
                what="le site répond de nouveau",
            )
            status, body, headers = browser.capture_post(pages.url("/avis?apres"))
            assert status == 302, body[:500]
    finally:
        proxy.stop()
    # then exactly the capture asked for after the cut exists
    with tenant_context(tenant_a.insurer):
        urls = list(Capture.objects.filter(requested_by=doctor).values_list("url", flat=True))
    assert urls == [pages.url("/avis?apres")]
