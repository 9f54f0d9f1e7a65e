"""Merging duplicates (issue 15): the conversation moves whole to the ticket that stays, both
histories say so, the duplicate is solved through the machine; only the same customer's
tickets merge; merging again is the same merge; two parallel merges of one pair (either way
round) leave one merge."""

import uuid

import pytest

from orders.tests.factories import staff_user
from preorder_shop.tests.factories import CustomerFactory
from support import services
from support.models import Ticket, TicketChange, TicketHistory, TicketMerge, TicketStatus
from support.services.merging import AlreadyMerged, MergeTargetClosed, NotMergeable, merge
from support.services.notes import add_internal_note
from tests.concurrency import run_at_once

from .factories import open_ticket, ticket_in

S = TicketStatus


def pair():
    customer = CustomerFactory()
    keep, duplicate = open_ticket(customer), open_ticket(customer, body="두 번째 문의")
    services.staff_reply(ticket=duplicate, staff_user=staff_user(), body="확인 중입니다.")
    add_internal_note(ticket=duplicate, staff_user=staff_user(), body="중복 같음")
    return keep, Ticket.objects.get(pk=duplicate.pk)


@pytest.mark.django_db
def test_a_merge_keeps_every_message_and_both_histories_say_so():
    keep, duplicate = pair()
    before = {m.pk: (m.body, m.internal) for t in (keep, duplicate) for m in t.messages.all()}

    record = merge(duplicate=duplicate, into=keep, staff_user=staff_user("agent"))

    after = {m.pk: (m.body, m.internal) for m in keep.messages.all()}
    assert after == before and len(after) == 4
    assert not duplicate.messages.exists()
    assert (record.merged_id, record.into_id, record.messages_moved) == (duplicate.pk, keep.pk, 3)
    [into_note] = TicketHistory.objects.filter(ticket=duplicate, change=TicketChange.MERGED)
    [from_note] = TicketHistory.objects.filter(ticket=keep, change=TicketChange.MERGED)
    assert keep.number in into_note.note and duplicate.number in from_note.note
    duplicate.refresh_from_db()
    assert duplicate.status == S.SOLVED
    assert TicketHistory.objects.filter(
        ticket=duplicate, change=TicketChange.STATUS, to_status=S.SOLVED
    ).exists()
    assert Ticket.objects.get(pk=keep.pk).status == S.OPEN


@pytest.mark.django_db
def test_the_same_merge_again_changes_nothing_and_another_is_refused():
    keep, duplicate = pair()
    first = merge(duplicate=duplicate, into=keep, staff_user=staff_user())
    assert merge(duplicate=duplicate, into=keep, staff_user=staff_user()) == first
    assert TicketHistory.objects.filter(change=TicketChange.MERGED).count() == 2
    other = open_ticket(keep.customer)
    with pytest.raises(AlreadyMerged):
        merge(duplicate=duplicate, into=other, staff_user=staff_user())
    with pytest.raises(AlreadyMerged):
        merge(duplicate=other, into=duplicate, staff_user=staff_user())


@pytest.mark.django_db
def test_only_the_same_customers_tickets_merge_and_never_into_a_closed_one():
    keep, duplicate = pair()
    stranger = open_ticket()
    contact = services.open_contact_ticket(
        phone="010-5555-6666", name="김민준", body="코드가 안 와요", idempotency_key=uuid.uuid4()
    )
    for one, other in ((duplicate, stranger), (contact, keep), (keep, keep)):
        with pytest.raises(NotMergeable):
            merge(duplicate=one, into=other, staff_user=staff_user())
    closed = ticket_in(S.CLOSED, customer=keep.customer)
    with pytest.raises(MergeTargetClosed):
        merge(duplicate=duplicate, into=closed, staff_user=staff_user())
    assert not TicketMerge.objects.exists()
    assert duplicate.messages.count() == 3


@pytest.mark.django_db(transaction=True)
def test_parallel_merges_of_one_pair_leave_one_merge():
    keep, duplicate = pair()
    agent = staff_user()
    results = run_at_once(
        [lambda: merge(duplicate=duplicate, into=keep, staff_user=agent)] * 3
        + [lambda: merge(duplicate=keep, into=duplicate, staff_user=agent)] * 3
    )
    merges = list(TicketMerge.objects.all())
    assert len(merges) == 1
    winner = merges[0]
    assert all(isinstance(r, AlreadyMerged) or r == winner for r in results), results
    survivor = Ticket.objects.get(pk=winner.into_id)
    assert survivor.messages.count() == 4
