"""The poll rate 40,000 customers generate at the intervals the server sets (bench/polling.py).

Each interval is read from what the server answers (the Poll-Interval header of an
in-process request) wherever the seeded data reaches that state; otherwise it is taken from
the one rule the server applies (orders.polling.poll_after) and labelled so.

Two mixes of states, both printed and both judged:

- launch hour: reservations open. This is the hour the issue protects ("polling must not
  hurt launch-hour intake"): PRODUCT.md's 40,000 customers are in line and order forms are
  not open yet, so every poller holds a reservation without an order; by the rule the first
  FAR_PLACE of each line poll at the near interval and the rest at the far one. Assumed: the
  40,000 split over the demo's 44 variants by its demand shares, so each variant's line holds
  its share (POPULATION x share / colours) and its first FAR_PLACE are near.
- launch day: everyone holds an order that is moving (received, preparing, shipped), the
  day the 2023 customers refreshed all day. The shortest interval the server sets, for all
  40,000 at once: the worst case the freshness bound allows.
"""

from django.test import Client

POPULATION = 40_000
RESERVATION_PATH = "/api/v1/reservations/{number}"
STATUS_PATH = "/api/v1/orders/{number}"


def _served(path: str, token: str) -> tuple[int, dict] | None:
    """The Poll-Interval of a 200 for `path` and the body, or None when there is none."""
    response = Client(HTTP_HOST="127.0.0.1", headers={"authorization": f"Bearer {token}"}).get(
        path
    )
    header = response.get("Poll-Interval")
    return (int(header), response.json()) if response.status_code == 200 and header else None


def _reservation_in_line(index: int):
    """The reservation `index` places from the front of the longest line, if it is that long."""
    from django.db.models import Count

    from reservations.models import Reservation

    line = (
        Reservation.objects.filter(status="active")
        .values("variant_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if line is None or line["n"] <= index:
        return None
    active = Reservation.objects.filter(variant_id=line["variant_id"], status="active")
    return active.select_related("customer").order_by("position")[index]


def _reservation_interval(index: int) -> tuple[int, str] | None:
    from preorder_shop import tokens

    reservation = _reservation_in_line(index)
    if reservation is None:
        return None
    _token, raw = tokens.issue(reservation.customer, device="bench")
    served = _served(RESERVATION_PATH.format(number=reservation.number), raw)
    if served is None:
        raise SystemExit(f"GET {RESERVATION_PATH} sets no Poll-Interval on a reservation")
    seconds, body = served
    place = (body.get("standing") or {}).get("place")
    return seconds, f"served, a reservation at place {place:,}"


def poll_intervals(pollers: list[tuple[str, str, str]]) -> dict[str, tuple[int, str]]:
    """Seconds between polls per state, and where the figure comes from: served where the
    seeded line reaches the state, else the server's rule (orders.polling), labelled so."""
    from orders import polling

    token, number, _reservation = pollers[0]
    served = _served(STATUS_PATH.format(number=number), token)
    if served is None:
        raise SystemExit(f"GET {STATUS_PATH} sets no Poll-Interval on a received order")
    intervals = {"order received/preparing/shipped": (served[0], "served, a received order")}
    for state, index in (("place <= 1,000", 0), ("place > 1,000", polling.FAR_PLACE + 500)):
        rule = polling.poll_after(order_status=None, place=index + 1)
        intervals[f"reservation, {state}"] = _reservation_interval(index) or (
            rule,
            "rule, orders.polling: no line that long here",
        )
    return intervals


def launch_hour_near_share() -> float:
    """The share of POPULATION within the first FAR_PLACE of its variant's line."""
    from orders.polling import FAR_PLACE
    from reservations.demo import CATALOGUE

    near = 0.0
    for prices, colours, share in CATALOGUE.values():
        variants = len(prices) * len(colours)
        per_variant = POPULATION * share / variants
        near += variants * min(per_variant, FAR_PLACE)
    return near / POPULATION


def print_poll_rate(intervals: dict[str, tuple[int, str]]) -> list[tuple[str, float]]:
    """Print the intervals and both mixes; return (mix, requests per second) for each."""
    print(f"Poll-Interval per state ({POPULATION:,} customers):")
    for state, (seconds, source) in intervals.items():
        print(f"  {state:<34}{seconds:>4} s  ({source})")
    near = launch_hour_near_share()
    near_s = intervals["reservation, place <= 1,000"][0]
    far_s = intervals["reservation, place > 1,000"][0]
    moving_s = intervals["order received/preparing/shipped"][0]
    launch_hour = POPULATION * (near / near_s + (1 - near) / far_s)
    launch_day = POPULATION / moving_s
    print(
        f"  launch hour (all in line, no orders yet; {near:.0%} within the first 1,000 of"
        f" their variant): {launch_hour:,.0f} polls/s"
    )
    print(f"  launch day (every order moving, the worst case): {launch_day:,.0f} polls/s")
    return [("launch hour", launch_hour), ("launch day, worst case", launch_day)]
