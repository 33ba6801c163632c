"""The SSRF guard: address classes as a pure function (no traffic), and url_check's decisions.

url_check only resolves: IP literals and numeric host forms need no DNS, and names are asked of
a fake DNS server on 127.0.0.1 — nothing leaves the loopback interface.
"""

from __future__ import annotations

import pytest

from common.address_guard import (
    UrlRefused,
    address_allowed,
    address_classify,
    address_is_public,
    allow_networks,
    dns_server_resolver,
    url_check,
)
from tests.evidence.pages import Services

CLASSIFIED = [
    # public
    ("8.8.8.8", "public"),
    ("93.184.216.34", "public"),
    ("2606:4700:4700::1111", "public"),
    ("2a00:1450:4007:80e::200e", "public"),
    # IPv4 special ranges
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this-network"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("172.32.0.1", "public"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "cgnat"),
    ("100.127.255.254", "cgnat"),
    ("100.128.0.1", "public"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.0.1", "link-local"),
    ("169.254.169.254", "cloud-metadata"),
    ("100.100.100.200", "cloud-metadata"),
    ("192.0.0.8", "ietf-protocol"),
    ("192.0.2.10", "documentation"),
    ("198.51.100.10", "documentation"),
    ("203.0.113.10", "documentation"),
    ("192.88.99.1", "6to4-relay"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    # IPv6 special ranges
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fd00:ec2::254", "cloud-metadata"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "orchid"),
    ("2001:20::1", "orchid"),
    ("2001::1", "teredo"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
    ("100::1", "discard-only"),
    ("64:ff9b:1::1", "nat64-local"),
    ("::127.0.0.1", "ipv4-compatible"),
    ("5f00::1", "srv6-sid"),
    ("4000::1", "reserved"),
    # IPv6 forms that carry an IPv4 address are judged by that address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "cloud-metadata"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:8.8.8.8", "public"),
    ("64:ff9b::a9fe:a9fe", "cloud-metadata"),
    ("64:ff9b::808:808", "public"),
    ("2002:7f00:1::1", "loopback"),
    ("2002:a00:1::1", "private"),
    ("2002:808:808::1", "public"),
    # not an address
    ("localhost", "invalid"),
    ("999.1.1.1", "invalid"),
]


@pytest.mark.parametrize(("ip", "expected"), CLASSIFIED)
def test_address_classify_gives_the_range_class(ip: str, expected: str) -> None:
    # given an address / when classified / then its class is the expected one
    assert address_classify(ip) == expected


@pytest.mark.parametrize(("ip", "expected"), CLASSIFIED)
def test_address_is_public_only_for_public_class(ip: str, expected: str) -> None:
    assert address_is_public(ip) is (expected == "public")


def test_url_check_refuses_loopback_when_not_allowed() -> None:
    # given a loopback URL and an empty allow-list
    # when checked / then it is refused with a French reason naming the address class
    with pytest.raises(UrlRefused) as refused:
        url_check("http://127.0.0.1:8000/avis", allow=set())
    assert refused.value.reason == "address"
    assert refused.value.addresses == ["127.0.0.1"]
    assert refused.value.message_fr == (
        "Adresse non publique refusée pour « 127.0.0.1 » : 127.0.0.1 (boucle locale "
        "(loopback)). La capture ne contacte que des adresses publiques."
    )


def test_url_check_accepts_loopback_when_allow_listed() -> None:
    target = url_check("http://127.0.0.1:8000/avis?page=2", allow={"127.0.0.1"})
    assert (target.scheme, target.host, target.port) == ("http", "127.0.0.1", 8000)
    assert target.addresses == ["127.0.0.1"]
    assert target.allow_listed == ["127.0.0.1"]


def test_url_check_refuses_an_address_outside_the_allow_list() -> None:
    # given 127.0.0.1 allowed / when 127.0.0.3 is asked / then refused
    with pytest.raises(UrlRefused) as refused:
        url_check("http://127.0.0.3/", allow={"127.0.0.1"})
    assert refused.value.reason == "address"
    assert refused.value.addresses == ["127.0.0.3"]


def test_url_check_accepts_an_allow_listed_network() -> None:
    target = url_check("https://127.0.0.3/", allow={"127.0.0.0/8"})
    assert (target.port, target.addresses) == (443, ["127.0.0.3"])


def test_url_check_resolves_numeric_host_forms_like_a_browser() -> None:
    # 2130706433 and 0x7f.1 are both 127.0.0.1 for getaddrinfo and for Chromium
    for url in ("http://2130706433/", "http://0x7f.1/"):
        with pytest.raises(UrlRefused) as refused:
            url_check(url, allow=set())
        assert refused.value.addresses == ["127.0.0.1"]


def test_url_check_refuses_ipv6_mapped_loopback() -> None:
    with pytest.raises(UrlRefused) as refused:
        url_check("http://[::ffff:127.0.0.1]/", allow=set())
    assert refused.value.reason == "address"


@pytest.mark.parametrize(
    ("url", "reason", "message"),
    [
        (
            "ftp://example.org/",
            "scheme",
            "Schéma « ftp » refusé : seules les adresses http:// et https:// peuvent être "
            "capturées.",
        ),
        (
            "file:///etc/passwd",
            "scheme",
            "Schéma « file » refusé : seules les adresses http:// et https:// peuvent être "
            "capturées.",
        ),
        (
            "example.org/avis",
            "scheme",
            "Schéma « (aucun) » refusé : seules les adresses http:// et https:// peuvent être "
            "capturées.",
        ),
        ("", "malformed", "URL vide."),
        ("http:///avis", "malformed", "URL mal formée : hôte absent."),
        (
            "http://exa mple.org/",
            "malformed",
            "URL mal formée : elle contient des espaces ou des caractères de contrôle.",
        ),
        ("http://127.0.0.1:99999/", "malformed", "URL mal formée : Port out of range 0-65535."),
        (
            "http://user:secret@127.0.0.1/",
            "credentials",
            "URL refusée : elle contient un identifiant ou un mot de passe.",
        ),
    ],
)
def test_url_check_refuses_malformed_and_non_http_urls(url: str, reason: str, message: str) -> None:
    with pytest.raises(UrlRefused) as refused:
        url_check(url, allow={"127.0.0.0/8"})
    assert (refused.value.reason, refused.value.message_fr) == (reason, message)


def test_url_check_refuses_when_any_dns_answer_is_private(services: Services) -> None:
    # given a name answering with an allowed and a private address (fake DNS on loopback)
    resolver = dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0)
    # when checked / then refused: the browser could connect to either address
    with pytest.raises(UrlRefused) as refused:
        url_check("http://double.example/", allow={"127.0.0.1"}, resolver=resolver)
    assert refused.value.addresses == ["127.0.0.1", "10.0.0.8"]
    assert "10.0.0.8 (réseau privé)" in refused.value.message_fr


def test_url_check_refuses_a_name_pointing_at_cloud_metadata(services: Services) -> None:
    resolver = dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0)
    with pytest.raises(UrlRefused) as refused:
        url_check("http://metadata.example/latest/", allow={"127.0.0.1"}, resolver=resolver)
    assert refused.value.message_fr == (
        "Adresse non publique refusée pour « metadata.example » : 169.254.169.254 (service de "
        "métadonnées d'un hébergeur cloud). La capture ne contacte que des adresses publiques."
    )


def test_url_check_accepts_a_name_whose_answers_are_all_allowed(services: Services) -> None:
    resolver = dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0)
    target = url_check("http://avis.example:8080/", allow={"127.0.0.1"}, resolver=resolver)
    assert (target.host, target.port, target.addresses) == ("avis.example", 8080, ["127.0.0.1"])


def test_url_check_refuses_an_unknown_name(services: Services) -> None:
    resolver = dns_server_resolver("127.0.0.1", services.dns_port, timeout_s=2.0)
    with pytest.raises(UrlRefused) as refused:
        url_check("http://inconnu.example/", allow={"127.0.0.1"}, resolver=resolver)
    assert (refused.value.reason, refused.value.message_fr) == (
        "dns",
        "Résolution DNS impossible pour « inconnu.example » : aucune adresse.",
    )


def test_an_allow_listed_ipv4_address_is_allowed_in_its_ipv4_mapped_form_only():
    networks = allow_networks(["127.0.0.1"])

    assert address_allowed("::ffff:127.0.0.1", networks) is True
    assert address_allowed("::ffff:127.0.0.2", networks) is False
    assert address_allowed("::ffff:10.0.0.1", networks) is False
