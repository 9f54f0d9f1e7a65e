"""The festival pickup lottery: commit (hash only), reveal (deterministic, recorded, notified,
idempotent), and an independent verification that catches tampering."""

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import threading
import time

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import FestivalDraw, FestivalEntry
from fulfillment.services import lottery, lottery_rule
from orders import services as order_services
from orders.exceptions import FestivalDrawPending, IncompleteOrder
from orders.models import JoinType, Order, OrderStatus
from orders.tests.factories import RatePlanFactory, order_in
from preorder_shop import outbox
from preorder_shop.actors import Actor
from preorder_shop.models import OutboxMessage
from reservations import services as reservation_services
from reservations.history import record_change
from reservations.models import (
    CancelledBy,
    ChangedField,
    Fulfilment,
    Reservation,
    ReservationStatus,
)
from reservations.tests.factories import (
    CampaignFactory,
    ReservationFactory,
    VariantFactory,
    expire,
)

pytestmark = pytest.mark.django_db

OPS = Actor.operator("test-ops")

SEED = "5eed" * 16
OTHER_SEED = "0123456789abcdef" * 4


def festival_variant(capacity: int = 3, **campaign_kwargs):
    campaign = CampaignFactory(with_festival=True, festival_capacity=capacity, **campaign_kwargs)
    return VariantFactory(campaign=campaign)


def festival(variant, **kwargs) -> Reservation:
    return ReservationFactory(variant=variant, fulfilment=Fulfilment.FESTIVAL, **kwargs)


def after_close(campaign) -> dt.datetime:
    return campaign.reservation_closes_at + dt.timedelta(minutes=1)


def expected_winners(seed: str, numbers: list[str], capacity: int) -> set[str]:
    """The documented rule, written out again here, independent of the module."""

    def ticket(number: str) -> str:
        return hmac.new(seed.encode(), number.encode(), hashlib.sha256).hexdigest()

    ranked = sorted(range(len(numbers)), key=lambda i: (ticket(numbers[i]), i))
    return {numbers[i] for i in ranked[:capacity]}


def snapshot(campaign) -> dict:
    draw = FestivalDraw.objects.get(campaign=campaign)
    return {
        "draw": (draw.seed, draw.seed_hash, draw.revealed_at),
        "entries": list(
            FestivalEntry.objects.order_by("pk").values_list(
                "pk", "reservation_id", "entrant_index", "won"
            )
        ),
        "reservations": list(
            Reservation.objects.filter(campaign=campaign)
            .order_by("pk")
            .values_list("pk", "fulfilment", "position", "status")
        ),
        "outbox": list(OutboxMessage.objects.order_by("pk").values_list("pk", "idempotency_key")),
    }


# -- commit --------------------------------------------------------------------------------


def test_commit_stores_only_the_hash_and_the_page_shows_it(client):
    variant = festival_variant()
    result = lottery.commit_draw(actor=OPS, campaign=variant.campaign)

    draw = FestivalDraw.objects.get(campaign=variant.campaign)
    assert draw.seed == ""
    assert draw.revealed_at is None
    assert len(result.seed) == 64
    assert draw.seed_hash == hashlib.sha256(result.seed.encode("ascii")).hexdigest()

    page = client.get(variant.campaign.get_absolute_url()).content.decode()
    assert draw.seed_hash in page
    assert result.seed not in page
    assert 'data-testid="festival-draw"' in page


def test_commit_draws_a_fresh_secret_seed_each_time():
    first = lottery.commit_draw(actor=OPS, campaign=festival_variant().campaign)
    second = lottery.commit_draw(actor=OPS, campaign=festival_variant().campaign)
    assert first.seed != second.seed
    assert first.draw.seed_hash != second.draw.seed_hash


def test_campaign_page_without_a_draw_shows_no_draw_section(client):
    variant = festival_variant()
    page = client.get(variant.campaign.get_absolute_url()).content.decode()
    assert 'data-testid="festival-draw"' not in page


def test_commit_command_prints_the_seed_and_refuses_a_second_commit():
    campaign = festival_variant().campaign
    out = io.StringIO()
    call_command("draw_festival", "--campaign", campaign.slug, "commit", stdout=out)
    draw = FestivalDraw.objects.get(campaign=campaign)
    printed = out.getvalue()
    assert draw.seed_hash in printed
    seed = printed.split("Secret seed: ")[1].split()[0]
    assert lottery_rule.commitment(seed) == draw.seed_hash

    with pytest.raises(CommandError, match="already has a festival draw"):
        call_command("draw_festival", "--campaign", campaign.slug, "commit", stdout=io.StringIO())
    assert FestivalDraw.objects.get(campaign=campaign).seed_hash == draw.seed_hash


def test_commit_command_can_write_the_seed_to_a_private_file(tmp_path):
    campaign = festival_variant().campaign
    seed_file = tmp_path / "seed"
    out = io.StringIO()
    call_command(
        "draw_festival",
        "--campaign",
        campaign.slug,
        "commit",
        "--seed-file",
        seed_file,
        stdout=out,
    )
    seed = seed_file.read_text().strip()
    assert seed not in out.getvalue()
    assert seed_file.stat().st_mode & 0o777 == 0o600
    assert lottery_rule.commitment(seed) == FestivalDraw.objects.get(campaign=campaign).seed_hash


def test_campaign_without_festival_pickup_is_refused():
    campaign = CampaignFactory()
    with pytest.raises(CommandError, match="does not offer festival pickup"):
        call_command("draw_festival", "--campaign", campaign.slug, "commit", stdout=io.StringIO())
    assert not FestivalDraw.objects.exists()


def test_commit_after_reservations_closed_is_refused():
    campaign = festival_variant().campaign
    with pytest.raises(lottery.LotteryError, match="Commit before reservations close"):
        lottery.commit_draw(actor=OPS, campaign=campaign, now=after_close(campaign))
    assert not FestivalDraw.objects.exists()


def test_reveal_before_commit_is_refused():
    campaign = festival_variant().campaign
    with pytest.raises(CommandError, match=r"no committed festival draw.*commit"):
        args = ["--campaign", campaign.slug, "reveal", "--seed", SEED]
        call_command("draw_festival", *args, stdout=io.StringIO())


def test_unknown_campaign_is_a_clear_error():
    with pytest.raises(CommandError, match="No campaign with slug 'nope'"):
        call_command("draw_festival", "--campaign", "nope", "commit", stdout=io.StringIO())


# -- reveal --------------------------------------------------------------------------------


def test_reveal_before_reservations_close_is_refused():
    variant = festival_variant()
    festival(variant)
    lottery.commit_draw(actor=OPS, campaign=variant.campaign, seed=SEED)
    with pytest.raises(lottery.LotteryError, match="entrant list is not final"):
        lottery.reveal_draw(actor=OPS, campaign=variant.campaign, seed=SEED)
    assert FestivalDraw.objects.get().revealed_at is None
    assert not FestivalEntry.objects.exists()


def test_reveal_with_a_seed_that_does_not_match_the_commitment_changes_nothing():
    variant = festival_variant()
    festival(variant)
    lottery.commit_draw(actor=OPS, campaign=variant.campaign, seed=SEED)
    with pytest.raises(lottery.LotteryError, match="does not match the published commitment"):
        lottery.reveal_draw(
            actor=OPS,
            campaign=variant.campaign,
            seed=OTHER_SEED,
            now=after_close(variant.campaign),
        )
    draw = FestivalDraw.objects.get()
    assert (draw.seed, draw.revealed_at) == ("", None)
    assert not FestivalEntry.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_reveal_draws_by_the_documented_rule_and_records_everything():
    variant = festival_variant(capacity=3)
    other_variant = VariantFactory(campaign=variant.campaign)
    entrants = [festival(variant if i % 2 else other_variant) for i in range(8)]
    positions = {r.pk: Reservation.objects.get(pk=r.pk).position for r in entrants}
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)

    result = lottery.reveal_draw(
        actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign)
    )

    assert (result.entrants, result.winners, result.changed) == (8, 3, True)
    draw = FestivalDraw.objects.get()
    assert draw.seed == SEED
    assert draw.revealed_at == after_close(campaign)
    in_queue_order = sorted(entrants, key=lambda r: positions[r.pk])
    entries = list(FestivalEntry.objects.order_by("entrant_index").select_related("reservation"))
    assert [e.reservation_id for e in entries] == [r.pk for r in in_queue_order]
    assert [e.entrant_index for e in entries] == list(range(8))
    winners = {e.reservation.number for e in entries if e.won}
    assert winners == expected_winners(SEED, [r.number for r in in_queue_order], 3)

    for reservation in Reservation.objects.filter(pk__in=positions):
        assert reservation.position == positions[reservation.pk]  # positions never change
        expected = Fulfilment.FESTIVAL if reservation.number in winners else Fulfilment.COURIER
        assert reservation.fulfilment == expected
        assert reservation.status == ReservationStatus.ACTIVE


def test_same_seed_and_same_entrants_give_the_same_winners():
    variant = festival_variant(capacity=4)
    for _ in range(12):
        festival(variant)
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)

    outcomes = []
    for _ in range(2):
        with transaction.atomic():
            lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign))
            outcomes.append(
                set(FestivalEntry.objects.filter(won=True).values_list("reservation", flat=True))
            )
            transaction.set_rollback(True)  # undo, then draw again from scratch
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0]) == 4


def test_every_entrant_wins_when_there_is_room():
    variant = festival_variant(capacity=10)
    entrants = [festival(variant) for _ in range(4)]
    lottery.commit_draw(actor=OPS, campaign=variant.campaign, seed=SEED)
    result = lottery.reveal_draw(
        actor=OPS, campaign=variant.campaign, seed=SEED, now=after_close(variant.campaign)
    )
    assert (result.entrants, result.winners) == (4, 4)
    assert FestivalEntry.objects.filter(won=True).count() == 4
    assert all(
        r.fulfilment == Fulfilment.FESTIVAL
        for r in Reservation.objects.filter(pk__in=[e.pk for e in entrants])
    )


def test_a_draw_without_entrants_is_revealed_with_nobody_to_tell():
    variant = festival_variant()
    lottery.commit_draw(actor=OPS, campaign=variant.campaign, seed=SEED)
    result = lottery.reveal_draw(
        actor=OPS, campaign=variant.campaign, seed=SEED, now=after_close(variant.campaign)
    )
    assert (result.entrants, result.winners) == (0, 0)
    assert FestivalDraw.objects.get().seed == SEED
    assert not OutboxMessage.objects.exists()
    assert lottery.verify_draw(campaign=variant.campaign).ok


def test_only_festival_reservations_still_holding_their_place_enter():
    variant = festival_variant(capacity=50)
    campaign = variant.campaign
    active = festival(variant)
    drafting = order_in(OrderStatus.DRAFT, reservation=festival(variant)).reservation
    cancelled = festival(variant)
    reservation_services.cancel_reservation(reservation=cancelled, by=CancelledBy.CUSTOMER)
    expired = expire(festival(variant))
    courier = ReservationFactory(variant=variant, fulfilment=Fulfilment.COURIER)
    dawn = ReservationFactory(variant=variant, fulfilment=Fulfilment.DAWN)
    elsewhere = festival(festival_variant())  # another campaign's festival reservation
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)

    result = lottery.reveal_draw(
        actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign)
    )

    assert result.entrants == 2
    assert set(FestivalEntry.objects.values_list("reservation", flat=True)) == {
        active.pk,
        drafting.pk,
    }
    untouched = {cancelled.pk: "festival", expired.pk: "festival", courier.pk: "courier"}
    untouched |= {dawn.pk: "dawn", elsewhere.pk: "festival"}
    assert dict(Reservation.objects.filter(pk__in=untouched).values_list("pk", "fulfilment")) == (
        untouched
    )
    assert lottery.verify_draw(campaign=campaign).ok


def test_a_festival_order_form_is_submitted_only_once_the_draw_is_published():
    variant = festival_variant(capacity=1)
    campaign = variant.campaign
    first, second = festival(variant), festival(variant)
    drafts = {r.pk: order_in(OrderStatus.DRAFT, reservation=r) for r in (first, second)}
    plan = RatePlanFactory(campaign=campaign)
    pickup_answers = {"plan": plan, "join_type": JoinType.DEVICE_CHANGE}

    for reservation in (first, second):
        with pytest.raises(FestivalDrawPending):
            order_services.submit_order(
                order=drafts[reservation.pk],
                customer=reservation.customer,
                values=pickup_answers,
            )
        assert Order.objects.get(pk=drafts[reservation.pk].pk).status == OrderStatus.DRAFT
    # The database holds the same rule for any other writer.
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic(), connection.cursor() as c:
        c.execute(
            "UPDATE orders_order SET status = 'received', number = '10000000009',"
            " submitted_at = now(), plan_id = %s, join_type = 'device_change' WHERE id = %s",
            [plan.pk, drafts[first.pk].pk],
        )
    assert excinfo.value.__cause__.diag.constraint_name == "order_festival_draw_first"

    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign))
    winner = Reservation.objects.get(pk__in=[first.pk, second.pk], fulfilment=Fulfilment.FESTIVAL)
    loser = Reservation.objects.get(pk__in=[first.pk, second.pk], fulfilment=Fulfilment.COURIER)

    won = order_services.submit_order(
        order=drafts[winner.pk], customer=winner.customer, values=pickup_answers
    )
    assert won.status == OrderStatus.RECEIVED  # picked up at the festival: no address
    with pytest.raises(IncompleteOrder) as missing:
        order_services.submit_order(
            order=drafts[loser.pk], customer=loser.customer, values=pickup_answers
        )
    assert {"recipient_name", "postcode", "address_line1"} <= set(missing.value.errors)
    address = {
        "recipient_name": "김민준",
        "recipient_phone": "+821012345678",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
    }
    delivered = order_services.submit_order(
        order=drafts[loser.pk], customer=loser.customer, values=pickup_answers | address
    )
    assert (delivered.status, delivered.postcode) == (OrderStatus.RECEIVED, "04524")


def test_everyone_is_notified_once_in_their_language():
    variant = festival_variant(capacity=2)
    campaign = variant.campaign
    # English, so the assertions read the source strings whatever the Korean catalogue says.
    entrants = [festival(variant, customer__language="en") for _ in range(5)]
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign))

    won = dict(FestivalEntry.objects.values_list("reservation_id", "won"))
    messages = list(OutboxMessage.objects.all())
    assert len(messages) == 5
    assert sorted(m.reference for m in messages) == sorted(f"reservation:{r.pk}" for r in entrants)
    for message in messages:
        reservation = next(r for r in entrants if message.reference == f"reservation:{r.pk}")
        assert message.recipient == reservation.customer.phone
        assert message.language == reservation.customer.language
        assert message.template_key == (
            "festival.won" if won[reservation.pk] else "festival.not_drawn"
        )
        assert message.payload["reservation_number"] == reservation.number
        assert message.payload["variant"] == str(variant)
        subject, body = outbox.render(message)
        assert reservation.number in body
        assert campaign.name in body
        assert campaign.get_absolute_url() in body
        assert reverse("orders:reservation_detail", kwargs={"number": reservation.number}) in body
        if won[reservation.pk]:
            assert "You won" in subject
        else:
            assert "courier" in body
            assert "your place in the queue is unchanged" in body


def test_a_second_reveal_changes_nothing():
    variant = festival_variant(capacity=2)
    for _ in range(5):
        festival(variant)
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    first = lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign))
    before = snapshot(campaign)
    festival(festival_variant())  # unrelated activity elsewhere

    later = after_close(campaign) + dt.timedelta(hours=1)
    again = lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=later)
    without_seed = lottery.reveal_draw(actor=OPS, campaign=campaign, seed=None, now=later)
    out = io.StringIO()
    call_command("draw_festival", "--campaign", campaign.slug, "reveal", stdout=out)

    assert snapshot(campaign) == before
    assert (again.changed, without_seed.changed) == (False, False)
    assert (again.entrants, again.winners) == (first.entrants, first.winners) == (5, 2)
    assert "already revealed" in out.getvalue()
    assert "nothing changed" in out.getvalue()


def test_reveal_command_reads_the_seed_file_and_the_page_publishes_the_seed(client, tmp_path):
    variant = festival_variant(capacity=1)
    for _ in range(3):
        festival(variant)
    campaign = variant.campaign
    seed_file = tmp_path / "seed"
    args = ["--campaign", campaign.slug, "commit", "--seed-file", seed_file]
    call_command("draw_festival", *args, stdout=io.StringIO())
    # The window closes (a queryset update: the test cannot wait for the real clock).
    type(campaign).objects.filter(pk=campaign.pk).update(
        reservation_closes_at=campaign.reservation_opens_at + dt.timedelta(seconds=1)
    )
    out = io.StringIO()
    args = ["--campaign", campaign.slug, "reveal", "--seed-file", seed_file]
    call_command("draw_festival", *args, stdout=out)
    seed = seed_file.read_text().strip()
    draw = FestivalDraw.objects.get()
    assert draw.seed == seed
    assert "Entrants:  3" in out.getvalue()
    assert "Winners:   1" in out.getvalue()

    page = client.get(campaign.get_absolute_url()).content.decode()
    assert seed in page
    assert draw.seed_hash in page
    assert "<dt>Entrants</dt><dd>3</dd>" in page
    assert "<dt>Winners</dt><dd>1</dd>" in page
    assert "HMAC-SHA256" in page


# -- verify --------------------------------------------------------------------------------


@pytest.fixture
def revealed():
    variant = festival_variant(capacity=3)
    for _ in range(9):
        festival(variant)
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    lottery.reveal_draw(actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign))
    return campaign


def run_verify(campaign) -> tuple[int, str]:
    """The command as ops run it: its output and exit status."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            argv = ["manage.py", "verify_festival_draw", "--campaign", campaign.slug]
            ManagementUtility(argv).execute()
        except SystemExit as exc:
            return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_verify_passes_on_an_honest_draw(revealed):
    result = lottery.verify_draw(campaign=revealed)
    assert result.ok, result.differences
    assert (result.entrants, result.winners) == (9, 3)
    status, output = run_verify(revealed)
    assert status == 0
    assert "OK: 3 winners recomputed." in output


def test_verify_catches_a_tampered_outcome(revealed):
    loser = FestivalEntry.objects.filter(won=False).select_related("reservation").first()
    FestivalEntry.objects.filter(pk=loser.pk).update(won=True)

    result = lottery.verify_draw(campaign=revealed)
    assert result.differences == [
        f"reservation {loser.reservation.number} (entrant {loser.entrant_index}): "
        "recorded won, recomputed not drawn"
    ]
    status, output = run_verify(revealed)
    assert status == 1
    assert f"DIFFERS: reservation {loser.reservation.number}" in output


def test_verify_catches_a_tampered_seed(revealed):
    FestivalDraw.objects.filter(campaign=revealed).update(seed=OTHER_SEED)

    result = lottery.verify_draw(campaign=revealed)
    assert not result.ok
    assert result.differences[0] == (
        f"commitment: SHA-256 of the published seed is {lottery_rule.commitment(OTHER_SEED)}, "
        f"but the published commitment is {lottery_rule.commitment(SEED)}"
    )
    assert run_verify(revealed)[0] == 1


def test_verify_catches_an_entrant_removed_from_the_list(revealed):
    removed = FestivalEntry.objects.get(entrant_index=4)
    number = removed.reservation.number
    removed.delete()
    tampered = Reservation.objects.get(number=number)
    if tampered.fulfilment != Fulfilment.FESTIVAL:  # not drawn: make it look like an entrant
        Reservation.objects.filter(pk=tampered.pk).update(fulfilment=Fulfilment.FESTIVAL)
        record_change(  # the database wants every fulfilment change on the history
            reservation=tampered,
            field=ChangedField.FULFILMENT,
            from_value=tampered.fulfilment,
            to_value=Fulfilment.FESTIVAL,
            actor=Actor.operator("tamperer"),
            at=timezone.now(),
        )

    differences = lottery.verify_draw(campaign=revealed).differences
    assert "entrant indexes are not 0..7 without gaps" in differences
    assert f"reservation {number} was left out of the draw" in differences


def test_verify_before_the_reveal_says_there_is_nothing_to_check_yet():
    campaign = festival_variant().campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    status, output = run_verify(campaign)
    assert status == 1
    assert "not revealed yet" in output


# -- concurrency ---------------------------------------------------------------------------


def in_thread(target) -> tuple[threading.Thread, list]:
    """Run `target` on its own database connection; its result or exception lands in the list."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(target())
        except Exception as exc:  # handed to the test, which asserts on it
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_reveal_waits_for_a_festival_reservation_still_in_flight():
    """Sequence order is not commit order: an intake transaction that began before the
    window closed may commit after the reveal started. The reveal must wait for it (the
    variant's queue lock) rather than draw without it."""
    variant = festival_variant(capacity=1)
    early = festival(variant)
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    inserted, release = threading.Event(), threading.Event()

    def intake() -> str:
        with transaction.atomic():
            late = festival(variant)  # the trigger holds the queue lock until commit
            inserted.set()
            release.wait(10)
            time.sleep(0.5)  # a reveal that does not wait finishes meanwhile
            return late.number

    intake_thread, intake_outcome = in_thread(intake)
    assert inserted.wait(10)
    reveal_thread, reveal_outcome = in_thread(
        lambda: lottery.reveal_draw(
            actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign)
        )
    )
    release.set()
    intake_thread.join(20)
    reveal_thread.join(20)

    late_number = intake_outcome[0]
    assert reveal_outcome[0].entrants == 2, reveal_outcome
    assert set(FestivalEntry.objects.values_list("reservation__number", flat=True)) == {
        early.number,
        late_number,
    }
    assert lottery.verify_draw(campaign=campaign).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_reveals_draw_once():
    variant = festival_variant(capacity=2)
    for _ in range(6):
        festival(variant)
    campaign = variant.campaign
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=SEED)
    barrier = threading.Barrier(2)

    def reveal():
        barrier.wait(10)
        return lottery.reveal_draw(
            actor=OPS, campaign=campaign, seed=SEED, now=after_close(campaign)
        )

    runs = [in_thread(reveal) for _ in range(2)]
    for thread, _ in runs:
        thread.join(20)
    results = [outcome[0] for _, outcome in runs]

    assert sorted(r.changed for r in results) == [False, True], results
    assert all((r.entrants, r.winners) == (6, 2) for r in results)
    assert FestivalEntry.objects.count() == 6
    assert OutboxMessage.objects.filter(template_key__startswith="festival.").count() == 6
