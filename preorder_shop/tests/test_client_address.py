"""Who is asking: X-Forwarded-For counts only as far as trusted proxies wrote it, and IPv6
clients are keyed by their /64."""

import pytest
from django.core.checks import run_checks
from django.test import RequestFactory

from preorder_shop.client import client_key

LOAD_BALANCER = "10.0.0.5"


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_nothing_forwarded_is_believed_by_default(settings):
    settings.TRUSTED_PROXIES = []
    assert client_key(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_behind_a_trusted_balancer_the_client_is_the_hop_it_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_key(request(LOAD_BALANCER, "203.0.113.1")) == "203.0.113.1"


def test_a_forged_leftmost_entry_is_not_believed(settings):
    # The client sent "X-Forwarded-For: 1.2.3.4"; the balancer appended the real address.
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_key(request(LOAD_BALANCER, "1.2.3.4, 203.0.113.1")) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.168.1.1"]
    assert client_key(request(LOAD_BALANCER, "203.0.113.1, 192.168.1.1")) == "203.0.113.1"


def test_an_untrusted_sender_cannot_use_the_header(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_key(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


@pytest.mark.parametrize("garbage", ["", "not-an-address", "203.0.113.1:443", "\x00"])
def test_a_garbled_hop_stops_the_walk_at_the_proxy(settings, garbage):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_key(request(LOAD_BALANCER, garbage)) == LOAD_BALANCER


def test_ipv6_clients_are_keyed_by_their_64(settings):
    settings.TRUSTED_PROXIES = []
    one = client_key(request("2001:db8:1:2::1"))
    other_in_same_line = client_key(request("2001:db8:1:2:ffff::9"))
    assert one == other_in_same_line == "2001:db8:1:2::/64"
    assert client_key(request("2001:db8:1:3::1")) != one
    assert client_key(request("::ffff:198.51.100.7")) == "198.51.100.7"


def test_a_missing_remote_address_is_one_shared_unknown():
    assert client_key(RequestFactory().get("/", REMOTE_ADDR="")) == "unknown"


def test_a_mistyped_trusted_proxy_is_a_startup_error(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "10.0.0.300"]
    errors = [e for e in run_checks() if e.id == "preorder_shop.E004"]
    assert len(errors) == 1 and "10.0.0.300" in errors[0].msg
