"""Pre-capture checks: clock offset (SNTP), egress IP (echo service), resolver, DNS, proxy.

The NTP server, DNS server and IP echo service are local fakes on 127.0.0.1 speaking the real
protocols; "unreachable" is a closed loopback port.
"""

from __future__ import annotations

import socket
from pathlib import Path

from common.address_guard import dns_server_resolver
from evidence.prechecks import (
    PrecheckConfig,
    clock_check,
    dns_answers_find,
    egress_ip_find,
    ntp_server_parse,
    prechecks_run,
    proxy_settings_find,
    resolver_config_read,
)
from tests.evidence.pages import ECHO_IP, NTP_FAKE_OFFSET_S, Services


def test_clock_check_measures_the_offset_against_an_ntp_server(services: Services) -> None:
    # given an NTP server running 2.5 s ahead
    # when the clock is checked
    record = clock_check(servers=[f"127.0.0.1:{services.ntp_port}"], timeout_s=2.0)
    # then the offset is measured: the true one lies within ± half the round trip (RFC 5905)
    assert record["status"] == "ok"
    assert abs(record["offset_s"] - NTP_FAKE_OFFSET_S) <= record["delay_s"] / 2 + 0.002
    assert record["stratum"] == 2
    assert record["server"] == f"127.0.0.1:{services.ntp_port}"
    assert record["server_address"] == "127.0.0.1"
    assert record["attempts"] == [{"server": f"127.0.0.1:{services.ntp_port}", "result": "ok"}]


def test_clock_check_stops_at_the_first_server_that_answers(services: Services) -> None:
    # given a list whose first server has an unknown name and whose third is never asked
    servers = ["inconnu.invalid", f"127.0.0.1:{services.ntp_port}", "127.0.0.1:9"]
    record = clock_check(servers=servers, timeout_s=1.0, resolver=_no_such_name)
    assert record["status"] == "ok"
    assert record["server"] == f"127.0.0.1:{services.ntp_port}"
    assert record["attempts"] == [
        {
            "server": "inconnu.invalid:123",
            "result": "résolution DNS impossible (nom inconnu ou aucun serveur DNS joignable : "
            "Name or service not known)",
        },
        {"server": f"127.0.0.1:{services.ntp_port}", "result": "ok"},
    ]


def test_clock_check_records_why_when_the_server_is_unreachable(services: Services) -> None:
    record = clock_check(servers=[f"127.0.0.1:{services.closed_port}"], timeout_s=0.5)
    assert record["status"] == (
        f"unknown: aucun serveur NTP n'a répondu (127.0.0.1:{services.closed_port} : "
        "pas de réponse en 0.5 s)"
    )
    assert "offset_s" not in record


def test_clock_check_records_why_when_no_server_is_configured() -> None:
    record = clock_check(servers=[])
    assert record["status"] == "unknown: aucun serveur NTP configuré"
    assert record["server"] is None


def test_ntp_server_entries_are_host_or_host_and_port() -> None:
    assert ntp_server_parse("0.fr.pool.ntp.org") == ("0.fr.pool.ntp.org", 123)
    assert ntp_server_parse("127.0.0.1:1123") == ("127.0.0.1", 1123)
    assert ntp_server_parse("[::1]:1123") == ("::1", 1123)
    assert ntp_server_parse("::1") == ("::1", 123)


def _no_such_name(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_egress_ip_find_reads_a_plain_answer(services: Services) -> None:
    record = egress_ip_find(echo_urls=[services.echo_url], timeout_s=2.0)
    assert (record["ip"], record["source"]) == (ECHO_IP, services.echo_url)


def test_egress_ip_find_reads_a_json_answer(services: Services) -> None:
    assert egress_ip_find(echo_urls=[services.echo_json_url], timeout_s=2.0)["ip"] == ECHO_IP


def test_egress_ip_find_refuses_an_answer_that_is_not_an_address(services: Services) -> None:
    record = egress_ip_find(echo_urls=[services.echo_garbage_url], timeout_s=2.0)
    assert record["ip"] == (
        "unknown: aucun service d'écho n'a répondu "
        f"({services.echo_garbage_url} : réponse du service d'écho illisible)"
    )


def test_egress_ip_find_records_an_http_error(services: Services) -> None:
    record = egress_ip_find(echo_urls=[services.echo_error_url], timeout_s=2.0)
    assert record["attempts"] == [
        {"url": services.echo_error_url, "result": "réponse HTTP 503 du service d'écho"}
    ]


def test_egress_ip_find_tries_the_next_service_when_one_is_unreachable(
    services: Services,
) -> None:
    url = f"http://127.0.0.1:{services.closed_port}/ip"
    record = egress_ip_find(echo_urls=[url, services.echo_url], timeout_s=1.0)
    assert record["ip"] == ECHO_IP
    assert record["source"] == services.echo_url
    assert record["attempts"] == [
        {"url": url, "result": "connexion impossible (ConnectError)"},
        {"url": services.echo_url, "result": "ok"},
    ]


def test_egress_ip_find_connects_to_the_address_it_resolved(services: Services) -> None:
    # given a name that only our resolver knows: the connection must use its answer
    port = services.echo_url.split(":")[2].split("/")[0]
    url = f"http://echo.example:{port}/ip"
    record = egress_ip_find(
        echo_urls=[url], timeout_s=1.0, resolver=lambda host, port: ["127.0.0.1"]
    )
    assert (record["ip"], record["server_address"]) == (ECHO_IP, "127.0.0.1")


def test_egress_ip_find_without_a_service_says_so() -> None:
    record = egress_ip_find(echo_urls=[])
    assert record == {
        "source": None,
        "sources": [],
        "attempts": [],
        "checked_at": record["checked_at"],
        "ip": "unknown: aucun service d'écho d'adresse IP configuré",
    }


def test_resolver_config_read_lists_nameservers_and_lookup_order(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(
        "# généré\nnameserver 192.0.2.53\nnameserver 2001:db8::53 # secondaire\n"
        "search cabinet.example\noptions edns0 timeout:2\n",
        encoding="utf-8",
    )
    nsswitch = tmp_path / "nsswitch.conf"
    nsswitch.write_text("passwd: files\nhosts:  files dns # ordre\n", encoding="utf-8")
    config = resolver_config_read(resolv_conf=resolv, nsswitch_conf=nsswitch)
    assert config == {
        "source": str(resolv),
        "nameservers": ["192.0.2.53", "2001:db8::53"],
        "search": ["cabinet.example"],
        "options": ["edns0", "timeout:2"],
        "nsswitch_hosts": "files dns",
    }


def test_resolver_config_read_records_a_missing_file(tmp_path: Path) -> None:
    config = resolver_config_read(
        resolv_conf=tmp_path / "absent.conf", nsswitch_conf=tmp_path / "absent-ns.conf"
    )
    assert config["nameservers"] == []
    assert config["error"] == f"unknown: {tmp_path / 'absent.conf'} illisible (FileNotFoundError)"
    assert config["nsswitch_hosts"] == f"unknown: {tmp_path / 'absent-ns.conf'} absent"


def test_dns_answers_find_records_the_answers_of_the_resolver(services: Services) -> None:
    resolver = dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0)
    record = dns_answers_find(
        host="double.example", port=443, resolver=resolver, resolver_config={"nameservers": []}
    )
    assert record["answers"] == ["127.0.0.1", "10.0.0.8"]
    assert record["host"] == "double.example"


def test_dns_answers_find_does_not_query_for_an_ip_literal() -> None:
    record = dns_answers_find(
        host="127.0.0.1", port=80, resolver=lambda host, port: [], resolver_config={}
    )
    assert record["answers"] == ["127.0.0.1"]
    assert record["note"] == "adresse IP littérale : aucune requête DNS"


def test_proxy_settings_find_reports_proxy_variables() -> None:
    found = proxy_settings_find(
        environ={"HTTPS_PROXY": "http://proxy.cabinet:3128", "no_proxy": "localhost", "HOME": "/"}
    )
    assert found["environment"] == {
        "HTTPS_PROXY": "http://proxy.cabinet:3128",
        "no_proxy": "localhost",
    }
    assert found["proxy_found"] is True
    assert found["browser"] == "aucun proxy : Chromium lancé avec --no-proxy-server"


def test_proxy_settings_find_reports_none() -> None:
    found = proxy_settings_find(environ={"HOME": "/root"})
    assert (found["environment"], found["proxy_found"]) == ({}, False)


def test_prechecks_run_combines_every_check(services: Services, tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n", encoding="utf-8")
    config = PrecheckConfig(
        ntp_servers=(f"127.0.0.1:{services.ntp_port}",),
        ip_echo_urls=(services.echo_url,),
        timeout_s=2.0,
        resolv_conf=resolv,
        nsswitch_conf=tmp_path / "nsswitch.conf",
    )
    checks = prechecks_run(
        config=config,
        host="avis.example",
        port=443,
        resolver=dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0),
    )
    assert checks["clock"]["status"] == "ok"
    assert checks["egress"]["ip"] == ECHO_IP
    assert checks["dns"]["answers"] == ["127.0.0.1"]
    assert checks["dns"]["resolver"]["nameservers"] == ["127.0.0.1"]
    assert sorted(checks) == ["clock", "dns", "egress", "proxy"]
