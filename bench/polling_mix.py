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
STATUS_PATH = "/api/v1/orders/{number}"


def _served(path: str, token: str) -> int | None:
    response = Client(HTTP_HOST="127.0.0.1", headers={"authorization": f"Bearer {token}"}).get(
        path
    )
    header = response.get("Poll-Interval")
    return int(header) if response.status_code == 200 and header else None


def poll_intervals(pollers: list[tuple[str, str]]) -> dict[str, tuple[int, str]]:
    """Seconds between polls per state, and where the figure comes from."""
    from orders import polling

    token, number = pollers[0]
    received = _served(STATUS_PATH.format(number=number), token)
    if received is None:
        raise SystemExit(f"GET {STATUS_PATH} sets no Poll-Interval on a received order")
    intervals = {"order received/preparing/shipped": (received, "served, received order")}
    near = polling.poll_after(order_status=None, place=1)
    far = polling.poll_after(order_status=None, place=polling.FAR_PLACE + 1)
    intervals["reservation, place <= 1,000"] = (near, "rule, orders.polling")
    intervals["reservation, place > 1,000"] = (far, "rule, orders.polling")
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
