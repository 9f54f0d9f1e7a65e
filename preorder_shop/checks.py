"""Checks of our own. Deployment (`manage.py check --deploy`): a production settings file
must not send sign-in codes to the log, show them on the page, use the development
courier secret, or let staff into the admin without a second factor. Always:
TRUSTED_PROXIES must be addresses. Registered in PreorderShopConfig.ready()."""

import ipaddress

from django.conf import settings
from django.core.checks import Error, Tags, register

LOG_SMS_CHANNEL = "preorder_shop.channels.LogSmsChannel"
DEVELOPMENT_COURIER_SECRET = "development-only-courier-secret-never-use-in-production"  # noqa: S105


@register(Tags.security, deploy=True)
def production_channels_and_secrets(app_configs, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    if settings.SMS_CHANNEL == LOG_SMS_CHANNEL:
        errors.append(
            Error(
                "SMS_CHANNEL is the development log channel: sign-in codes would be written "
                "to the log and never reach a phone.",
                hint="Set SMS_CHANNEL to the dotted path of the carrier's SMS gateway class.",
                id="preorder_shop.E001",
            )
        )
    if settings.COURIER_WEBHOOK_SECRET == DEVELOPMENT_COURIER_SECRET:
        errors.append(
            Error(
                "COURIER_WEBHOOK_SECRET is the development secret, which anyone can read in "
                "the source: courier webhooks could be forged.",
                hint="Set COURIER_WEBHOOK_SECRET to the secret shared with the courier.",
                id="preorder_shop.E002",
            )
        )
    if settings.OTP_SHOW_CODE_ON_PAGE:
        errors.append(
            Error(
                "OTP_SHOW_CODE_ON_PAGE is on: the sign-in page would show every code.",
                hint="Unset OTP_SHOW_CODE_ON_PAGE (it follows DEBUG).",
                id="preorder_shop.E003",
            )
        )
    if settings.STAFF_REQUIRE_TWO_FACTOR is False:
        errors.append(
            Error(
                "STAFF_REQUIRE_TWO_FACTOR is off: a password alone would open the admin.",
                hint="Unset STAFF_REQUIRE_TWO_FACTOR (it is required whenever DEBUG is off).",
                id="preorder_shop.E005",
            )
        )
    return errors


@register(Tags.security)
def trusted_proxies_are_addresses(app_configs, **kwargs) -> list[Error]:
    """A mistyped proxy would otherwise fail every request that reads the client address."""
    errors = []
    for proxy in settings.TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"TRUSTED_PROXIES holds {proxy!r}, which is not an address or a network.",
                    hint="Use addresses or networks such as 10.0.0.7 or 10.0.0.0/8.",
                    id="preorder_shop.E004",
                )
            )
    return errors
