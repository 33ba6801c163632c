"""``TENANT_LIMIT_SET_CALLS``: one ``SET search_path`` per connection and tenant, never a stale one.

PostgreSQL undoes a session ``SET`` when the transaction (or savepoint) that issued it is rolled
back. If the backend still believed the path was set, the next query would run in the schema of
the previous request: another insurer's data. These tests issue the SET inside a transaction,
roll it back and check where the next query runs.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tenants.models import Insurer


class _Abort(Exception):
    pass


def _sets(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET search_path")]


def _current_schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


@pytest.fixture
def insurers(tenant_a, tenant_b, committed_db):
    a = Insurer.objects.get(schema_name="test_a")
    b = Insurer.objects.get(schema_name="test_b")
    yield a, b
    connection.set_schema_to_public()


def test_the_setting_is_on_everywhere():
    assert settings.TENANT_LIMIT_SET_CALLS is True


def test_one_set_per_tenant_not_per_query(insurers):
    a, _ = insurers
    connection.set_tenant(a)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            _current_schema()
    assert len(_sets(captured)) == 1
    assert _current_schema() == "test_a"


def test_a_rolled_back_set_is_issued_again(insurers):
    a, b = insurers
    connection.set_tenant(a)
    assert _current_schema() == "test_a"  # committed: the session's path is A's
    connection.set_tenant(b)
    with pytest.raises(_Abort), transaction.atomic():
        assert _current_schema() == "test_b"  # SET issued inside the transaction
        raise _Abort
    # The rollback put the session back on A's path; the next query must not run there.
    assert _current_schema() == "test_b"


def test_a_set_undone_by_a_savepoint_rollback_is_issued_again(insurers):
    a, b = insurers
    connection.set_tenant(a)
    with transaction.atomic():
        assert _current_schema() == "test_a"
        connection.set_tenant(b)
        with pytest.raises(_Abort), transaction.atomic():
            assert _current_schema() == "test_b"
            raise _Abort
        assert _current_schema() == "test_b"
