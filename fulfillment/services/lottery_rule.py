"""The festival lottery's rule, pure functions of the seed and the entrants (services.lottery
commits, reveals and verifies with them).

The rule, small enough to recompute anywhere (all text is ASCII, hex digests lowercase):

    commitment = SHA-256(seed)                       # hex; must equal the published hash
    entrants   = the campaign's festival-pickup reservations still holding their place
                 (status active or ordered) at the reveal, in queue-position order;
                 entrant_index = 0, 1, 2, ... in that order
    ticket(e)  = HMAC-SHA256(key=seed, msg=e's 8-digit reservation number)   # hex
    winners    = the first min(capacity, len(entrants)) entrants when sorted by
                 (ticket, entrant_index)             # the index only breaks an exact tie

In Python:

    import hashlib, hmac
    assert hashlib.sha256(seed.encode()).hexdigest() == published_hash
    ticket = lambda n: hmac.new(seed.encode(), n.encode(), hashlib.sha256).hexdigest()
    ranked = sorted(range(len(numbers)), key=lambda i: (ticket(numbers[i]), i))
    winners = {numbers[i] for i in ranked[:capacity]}
"""

import hashlib
import hmac
from collections.abc import Sequence


def commitment(seed: str) -> str:
    """The published hash: hex SHA-256 of the seed's ASCII text."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def ticket(seed: str, reservation_number: str) -> str:
    """An entrant's ticket: hex HMAC-SHA256, key the seed's text, message the number."""
    return hmac.new(
        seed.encode("ascii"), reservation_number.encode("ascii"), hashlib.sha256
    ).hexdigest()


def draw_winners(seed: str, numbers: Sequence[str], capacity: int) -> set[int]:
    """Indexes into `numbers` (the entrants in queue order) of those drawn: the `capacity`
    lowest tickets, an exact tie going to the earlier entrant."""
    ranked = sorted(range(len(numbers)), key=lambda i: (ticket(seed, numbers[i]), i))
    return set(ranked[: max(capacity, 0)])
