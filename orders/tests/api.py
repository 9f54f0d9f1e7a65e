"""Calling the API as a customer: a client that sends a fresh token of theirs."""

from django.test import Client
from django.urls import reverse

from preorder_shop import tokens


def token_client(customer, **headers) -> Client:
    _token, raw = tokens.issue(customer, device="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)


def status_url(number: str) -> str:
    return reverse("api:order_status", kwargs={"number": number})


def _kept_answers_statement(sql: str) -> bool:
    return "preorder_shop_kept_answer" in sql


def status_reads(queries) -> list[str]:
    """The statements a poll ran besides asking for and keeping its kept answer
    (preorder_shop.kept_answers): what it read to answer afresh."""
    return [q["sql"] for q in queries if not _kept_answers_statement(q["sql"])]


def kept_answer_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if _kept_answers_statement(q["sql"])]
