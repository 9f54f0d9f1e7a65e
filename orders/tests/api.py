"""Calling the API as a customer: a client that sends a fresh token of theirs."""

from django.test import Client
from django.urls import reverse

from preorder_shop import tokens


def token_client(customer, **headers) -> Client:
    _token, raw = tokens.issue(customer, device="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)


def status_url(number: str) -> str:
    return reverse("api:order_status", kwargs={"number": number})
