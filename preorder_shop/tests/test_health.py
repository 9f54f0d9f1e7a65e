"""/healthz and /readyz for load balancers and monitors; HEAD wherever GET is."""

import socket

import pytest
from django.db import OperationalError

from preorder_shop import health

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_healthz_answers_without_touching_a_store(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.head("/healthz").status_code == 200


def test_readyz_is_ready_when_both_stores_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": True, "redis": True}


def test_readyz_says_which_store_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"status": "not_ready", "database": True, "redis": False}


def test_readyz_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] is False


@pytest.mark.parametrize("path", ["/", "/healthz", "/signin/"])
def test_head_is_answered_where_get_is(client, path):
    assert client.head(path).status_code == client.get(path).status_code
