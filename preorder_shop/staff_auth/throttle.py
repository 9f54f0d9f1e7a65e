"""Wrong admin sign-ins slowed per account and per address (Redis, preorder_shop.ratelimit).

Every attempt is counted before it is judged, so parallel guesses cannot slip past a limit;
an attempt that turns out right takes its hit back. Past a limit, attempts are still judged:
only a right password with a right second factor passes, so guessing at someone's account
never locks its owner out.
"""

import hashlib
import math
from dataclasses import dataclass

from preorder_shop import ratelimit

# Both fail closed: while Redis is down, admin sessions (the cached_db backend) are down
# with it, so failing open would buy no sign-in, only uncounted guesses.
WRONG_PER_ACCOUNT = ratelimit.Limit(
    "staff-signin-account",
    max_hits=5,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="An uncounted password guess could open an account not yet enrolled in two-factor.",
)
# A ceiling, not a lock on people: staff share office and carrier-grade NAT addresses, and
# a right password with a right code passes it anyway. It bounds one address spraying
# guesses across many accounts, 5 at a time each.
WRONG_PER_ADDRESS = ratelimit.Limit(
    "staff-signin-ip",
    max_hits=50,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="Password spraying from one address across accounts must stay bounded and counted.",
)


@dataclass(frozen=True)
class Count:
    subjects: tuple[tuple[ratelimit.Limit, str], ...]
    over: bool

    def refund(self) -> None:
        for limit, subject in self.subjects:
            ratelimit.refund(limit, subject)

    def wait_minutes(self) -> int:
        seconds = ratelimit.blocked_for_longest(self.subjects)
        return max(1, math.ceil(seconds / 60))


def account_subject(username: str) -> str:
    """Names are counted case-insensitively, hashed so any typed text makes a tidy key."""
    return hashlib.sha256(username.casefold().encode()).hexdigest()[:32]


def count_attempt(*, username: str, address: str) -> Count:
    subjects = ((WRONG_PER_ACCOUNT, account_subject(username)), (WRONG_PER_ADDRESS, address))
    over = False
    for limit, subject in subjects:
        over = ratelimit.hit(limit, subject) > limit.max_hits or over
    return Count(subjects=subjects, over=over)
