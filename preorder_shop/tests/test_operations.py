"""The operations log: operator actions record who ran them and what they changed, in the
same transaction (a dry run or a refused run leaves nothing); the log is append-only and
read-only in admin."""

import datetime as dt
import getpass
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from fulfillment.services import allocation
from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.models import Operation
from reservations.tests.factories import CampaignFactory, VariantFactory
from tests.admin_client import sign_in_to_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock_file(tmp_path):
    campaign = CampaignFactory(slug="iphone-15")
    VariantFactory(campaign=campaign, model_name="iPhone 15 Pro", capacity_gb=256, colour="Blue")
    path = tmp_path / "lots.csv"
    path.write_text(
        "campaign,model,capacity_gb,colour,quantity,arrives_at,reference\n"
        "iphone-15,iPhone 15 Pro,256,Blue,120,2026-11-20 09:00,CJ-1001\n"
    )
    return path


def test_a_stock_import_records_the_operator_named_by_option(stock_file):
    call_command("import_stock", str(stock_file), operator="kim.ops", stdout=io.StringIO())

    entry = Operation.objects.get()
    assert (entry.action, entry.reference) == ("fulfillment.import_stock", "lots.csv")
    assert (entry.actor_kind, entry.actor_label) == ("operator", "kim.ops")
    assert entry.summary == {"lots_created": 1, "already_there": 0}


def test_without_the_option_the_os_user_is_the_operator(stock_file):
    call_command("import_stock", str(stock_file), stdout=io.StringIO())
    assert Operation.objects.get().actor_label == getpass.getuser()


def test_a_dry_run_records_nothing(stock_file):
    call_command("import_stock", str(stock_file), dry_run=True, stdout=io.StringIO())
    assert not Operation.objects.exists()


def test_festival_commit_and_reveal_are_logged():
    campaign = CampaignFactory(slug="fest", with_festival=True, festival_capacity=2)
    VariantFactory(campaign=campaign)
    call_command(
        "draw_festival", "--campaign", "fest", "commit", operator="lee", stdout=io.StringIO()
    )
    entry = Operation.objects.get()
    assert (entry.action, entry.reference, entry.actor_label) == (
        "fulfillment.festival_draw.commit",
        "fest",
        "lee",
    )
    assert len(entry.summary["seed_hash"]) == 64


def test_the_log_is_append_only(stock_file):
    call_command("import_stock", str(stock_file), stdout=io.StringIO())
    entry = Operation.objects.get()
    for statement in (
        "UPDATE preorder_shop_operation SET actor_label = 'someone else' WHERE id = %s",
        "DELETE FROM preorder_shop_operation WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
        assert refused.value.__cause__.diag.constraint_name == "operation_append_only"


def test_admin_lists_the_log_read_only(client, stock_file):
    call_command("import_stock", str(stock_file), operator="kim.ops", stdout=io.StringIO())
    admin = get_user_model().objects.create_superuser("root", password="pw")
    sign_in_to_admin(client, admin)

    page = client.get(reverse("admin:preorder_shop_operation_changelist")).content.decode()

    assert "fulfillment.import_stock" in page and "kim.ops" in page
    assert client.get(reverse("admin:preorder_shop_operation_add")).status_code == 403


def test_a_tracking_import_records_its_counts_and_a_refused_one_nothing(tmp_path):
    order = order_in(OrderStatus.PREPARING)
    good, bad = tmp_path / "cj.csv", tmp_path / "bad.csv"
    header = "order_number,courier,tracking_number,event,occurred_at,event_id\n"
    at = (timezone.localtime() + dt.timedelta(seconds=2)).isoformat(timespec="seconds")
    good.write_text(header + f"{order.number},CJ,556677889900,handed_over,{at},E1\n")
    bad.write_text(header + "12345678,CJ,1,handed_over,2026-12-01T09:00:00+09:00,E2\n")

    with pytest.raises(CommandError):
        call_command("import_tracking", str(bad), operator="park", stderr=io.StringIO())
    assert not Operation.objects.exists()

    call_command("import_tracking", str(good), operator="park", stdout=io.StringIO())
    entry = Operation.objects.get()
    assert (entry.action, entry.reference, entry.actor_label) == (
        "fulfillment.import_tracking",
        "cj.csv",
        "park",
    )
    assert entry.summary == {"rows": 1, "handed_over": 1}


def test_an_allocation_run_is_logged_by_its_operator_and_an_idle_beat_tick_is_not():
    campaign = CampaignFactory(slug="alloc")
    VariantFactory(campaign=campaign)
    allocation.allocate_campaign(campaign=campaign)  # beat, nothing to do
    assert not Operation.objects.exists()

    call_command("allocate", "--campaign", "alloc", operator="choi", stdout=io.StringIO())
    entry = Operation.objects.get()
    assert (entry.action, entry.reference, entry.actor_label) == (
        "fulfillment.allocate",
        "alloc",
        "choi",
    )
    assert entry.summary == {"allocated": 0, "released": 0, "variants": 0}

    call_command("allocate", "--campaign", "alloc", dry_run=True, stdout=io.StringIO())
    assert Operation.objects.count() == 1
