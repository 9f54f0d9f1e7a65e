"""The signed-out contact form's limits, in the door (the page and the API), before
support.services.open_contact_ticket is called.

Keyed on the number typed (a low limit: one person whose code never arrives writes once or
twice, and nobody should be able to file ticket after ticket in someone else's name) and, as
a ceiling against floods, on the client address, set for carrier-grade NAT: when the SMS
provider fails on launch morning, thousands of customers behind one address may write at
once, and each of them must get through.

Counted first, then judged (as the sign-in limits of preorder_shop.services), so parallel
requests cannot all slip in under a limit. Only a submission that would open a ticket is
counted (an unreadable number opens nothing).

Both fail open while Redis is down. The form exists for customers who cannot sign in, and
sign-in itself fails closed then: failing closed here too would turn away exactly the people
the form is for. What an uncounted submission costs is a ticket row staff can close; the
messages it could cause are bounded apart from these counters (the acknowledgement goes at
most once an hour to a number, support.acknowledgement).
"""

from django.utils.translation import gettext as _

from preorder_shop import ratelimit
from preorder_shop.exceptions import RateLimited

WHY = (
    "The form is for customers who cannot sign in, and sign-in fails closed while Redis is "
    "down; an uncounted ticket is a row staff can close, and its acknowledgement is limited "
    "per number apart from these counters."
)
PER_NUMBER = ratelimit.Limit(
    "contact-ticket-phone",
    max_hits=5,
    window_seconds=3600,
    when_down=ratelimit.WhenDown.FAIL_OPEN,
    why=WHY,
)
PER_ADDRESS = ratelimit.Limit(
    "contact-ticket-ip",
    max_hits=1000,
    window_seconds=3600,
    when_down=ratelimit.WhenDown.FAIL_OPEN,
    why=WHY,
)


def _count_or_refuse(limit: ratelimit.Limit, subject: str, message: str) -> None:
    if ratelimit.hit(limit, subject) > limit.max_hits:
        raise RateLimited(message, retry_after=ratelimit.blocked_for(limit, subject) or 1)


def count_contact(*, phone: str, client: str) -> None:
    """Count one contact-form submission for `phone` (E.164) from `client` (a client_key),
    or raise RateLimited (nothing else done) when either is over its limit."""
    _count_or_refuse(PER_NUMBER, phone, _("Too many messages were sent for this mobile number."))
    _count_or_refuse(PER_ADDRESS, client, _("Too many messages were sent from this network."))
