"""manage.py import_stock: every row checked, all or nothing, re-import changes nothing."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from fulfillment.models import StockLot
from fulfillment.services import stock_import
from fulfillment.services.stock_import import StockImportError, import_stock
from fulfillment.tests.factories import StockLotFactory
from preorder_shop.actors import Actor
from reservations.tests.factories import CampaignFactory, VariantFactory

pytestmark = pytest.mark.django_db

OPS = Actor.operator("test-ops")

HEADER = "campaign,model,capacity_gb,colour,quantity,arrives_at,reference\n"


@pytest.fixture
def catalogue():
    campaign = CampaignFactory(slug="iphone-15")
    blue = VariantFactory(
        campaign=campaign, model_name="iPhone 15 Pro", capacity_gb=256, colour="Blue Titanium"
    )
    black = VariantFactory(
        campaign=campaign, model_name="iPhone 15 Pro", capacity_gb=1024, colour="Black"
    )
    return campaign, blue, black


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(row + "\n" for row in rows)).encode()


GOOD = (
    "iphone-15,iPhone 15 Pro,256,Blue Titanium,120,2026-11-20 09:00,CJ-1001",
    "iphone-15,iPhone 15 Pro,256,Blue Titanium,80,2026-11-27T09:00:00+09:00,CJ-1002",
    "iphone-15,iPhone 15 Pro,1024,Black,30,2026-11-20T00:00:00Z,CJ-1001",
)


def errors_of(data: bytes) -> list[str]:
    with pytest.raises(StockImportError) as excinfo:
        import_stock(actor=OPS, data=data)
    return excinfo.value.errors


def test_a_good_file_records_every_lot_with_its_arrival(catalogue):
    _campaign, blue, black = catalogue

    result = import_stock(actor=OPS, data=csv_bytes(*GOOD))

    assert (result.created, result.already_there) == (3, 0)
    lots = {(lot.variant_id, lot.reference): lot for lot in StockLot.objects.all()}
    seoul_nine = dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)  # 09:00 in Seoul
    assert lots[(blue.pk, "CJ-1001")].arrives_at == seoul_nine
    assert lots[(blue.pk, "CJ-1001")].quantity == 120
    assert lots[(blue.pk, "CJ-1002")].arrives_at == dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)
    # One shipment reference may carry several variants.
    assert lots[(black.pk, "CJ-1001")].arrives_at == seoul_nine
    by_variant = {s.variant: s for s in result.summary}
    assert by_variant[str(blue)].lots == 2
    assert by_variant[str(blue)].units == 200
    assert by_variant[str(blue)].earliest == seoul_nine
    assert by_variant[str(blue)].latest == dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)
    assert (by_variant[str(black)].lots, by_variant[str(black)].units) == (1, 30)


def test_importing_the_same_file_again_changes_nothing(catalogue):
    import_stock(actor=OPS, data=csv_bytes(*GOOD))
    before = list(StockLot.objects.order_by("pk").values())

    result = import_stock(actor=OPS, data=csv_bytes(*GOOD))

    assert (result.created, result.already_there) == (0, 3)
    assert list(StockLot.objects.order_by("pk").values()) == before


def test_a_known_reference_with_other_figures_is_an_error_not_an_overwrite(catalogue):
    _campaign, blue, _black = catalogue
    StockLotFactory(
        variant=blue,
        reference="CJ-1001",
        quantity=100,
        arrives_at=dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC),
    )

    errors = errors_of(csv_bytes(*GOOD))

    assert errors == [
        "row 2: reference 'CJ-1001' for iPhone 15 Pro 256 GB Blue Titanium is already "
        "recorded with 100 units arriving 2026-11-20 09:00; this row says 120 units arriving "
        "2026-11-20 09:00. A recorded lot is changed in the admin, not by importing it again"
    ]
    assert StockLot.objects.count() == 1
    assert StockLot.objects.get().quantity == 100


def test_every_row_error_is_reported_and_nothing_is_written(catalogue):
    data = csv_bytes(
        GOOD[0],
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,0,2026-11-20 09:00,A-1",
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,1.5,2026-11-20 09:00,A-2",
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,-3,2026-11-20 09:00,A-3",
        "iphone-15,iPhone 15 Pro,256,Purple,5,2026-11-20 09:00,A-4",
        "x,iPhone 15 Pro,256,Blue Titanium,5,2026-11-20 09:00,A-5",
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,5,20/11/2026 09:00,A-6",
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,5,2026-11-20T09:00:00,A-7",
        GOOD[0].replace(",120,", ",7,"),
        "iphone-15,iPhone 15 Pro,big,Blue Titanium,5,2026-11-20 09:00,A-9",
        "iphone-15,,256,Blue Titanium,5,2026-11-20 09:00,",
        "iphone-15,iPhone 15 Pro,256,Blue Titanium,5",
        GOOD[2],
    )

    errors = errors_of(data)

    assert errors[0] == "row 3: quantity must be a whole number above 0, not '0'"
    assert errors[1] == "row 4: quantity must be a whole number above 0, not '1.5'"
    assert errors[2] == "row 5: quantity must be a whole number above 0, not '-3'"
    assert (
        errors[3] == "row 6: unknown variant 'iPhone 15 Pro 256 GB Purple' in campaign 'iphone-15'"
    )
    assert errors[4] == "row 7: unknown campaign 'x'"
    assert errors[5].startswith("row 8: arrives_at '20/11/2026 09:00' is not a date and time")
    assert errors[6].startswith("row 9: arrives_at '2026-11-20T09:00:00' is not a date and time")
    assert errors[7] == (
        "row 10: reference 'CJ-1001' for iPhone 15 Pro 256 GB Blue Titanium already appears "
        "in row 2"
    )
    assert errors[8] == (
        "row 11: capacity_gb must be a whole number of gigabytes above 0, not 'big'"
    )
    assert errors[9:11] == ["row 12: model is empty", "row 12: reference is empty"]
    assert errors[11] == "row 13: 5 value(s), but the header has 7 column(s)"
    assert len(errors) == 12
    assert not StockLot.objects.exists()


def test_missing_columns_are_named(catalogue):
    header = "campaign,model,colour,qty,arrives_at,reference\n"

    errors = errors_of(
        csv_bytes("iphone-15,iPhone 15 Pro,Black,1,2026-11-20 09:00,R", header=header)
    )

    assert len(errors) == 1
    assert errors[0].startswith("row 1: missing column(s): 'capacity_gb', 'quantity'")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty: a header row naming the columns is required"),
        (HEADER.encode(), "the file has a header but no stock lots"),
        (HEADER.encode() + b"iphone-15,\xff\xfe,256,Black,1,2026-11-20 09:00,R\n", "not utf-8"),
    ],
)
def test_files_without_lots_or_text_are_refused(catalogue, data, message):
    (error,) = errors_of(data)
    assert message in error


def test_columns_in_any_order_case_and_spaces_forgiven_bom_and_cp949(catalogue):
    _campaign, _blue, black = catalogue
    black.colour = "블랙"
    black.save()
    text = (
        "reference, Quantity ,arrives_at,colour,model,capacity_gb,campaign,notes\n"
        "R-1,3,2026-11-20 09:00,블랙,iphone 15 pro,1024,iphone-15,first wave\n"
    )

    import_stock(actor=OPS, data=text.encode("cp949"), encoding="cp949")
    import_stock(actor=OPS, data=b"\xef\xbb\xbf" + text.replace("R-1", "R-2").encode())

    assert sorted(StockLot.objects.values_list("reference", "quantity")) == [
        ("R-1", 3),
        ("R-2", 3),
    ]


def test_dry_run_checks_and_summarises_but_writes_nothing(catalogue):
    result = import_stock(actor=OPS, data=csv_bytes(*GOOD), dry_run=True)

    assert (result.created, result.dry_run) == (3, True)
    assert not StockLot.objects.exists()


def test_a_lot_recorded_by_a_concurrent_import_refuses_the_whole_file(catalogue, monkeypatch):
    _campaign, blue, _black = catalogue
    StockLotFactory(variant=blue, reference="CJ-1001", quantity=1)
    # As if the other import committed between our check and our write.
    monkeypatch.setattr(stock_import, "_compare_with_recorded", lambda rows: (rows, set(), []))

    (error,) = errors_of(csv_bytes(*GOOD))

    assert error.startswith("another import recorded some of these lots at the same time")
    assert StockLot.objects.count() == 1


# --- the command ---------------------------------------------------------------------------


def test_the_command_prints_a_summary_table(catalogue, tmp_path):
    _campaign, blue, black = catalogue
    path = tmp_path / "stock.csv"
    path.write_bytes(csv_bytes(*GOOD))
    out = io.StringIO()

    call_command("import_stock", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    (blue_line,) = [line for line in lines if str(blue) in line]
    assert blue_line.split()[-8:] == [
        *("2", "200", "2026-11-20", "09:00", "2026-11-27", "09:00", "2", "0")
    ]
    (black_line,) = [line for line in lines if str(black) in line]
    assert black_line.split()[-8:] == [
        *("1", "30", "2026-11-20", "09:00", "2026-11-20", "09:00", "1", "0")
    ]
    assert "recorded 3 new lot(s); 0 already there." in out.getvalue()

    out = io.StringIO()
    call_command("import_stock", str(path), stdout=out)
    assert "recorded 0 new lot(s); 3 already there." in out.getvalue()
    assert StockLot.objects.count() == 3


def test_the_command_dry_run_writes_nothing(catalogue, tmp_path):
    path = tmp_path / "stock.csv"
    path.write_bytes(csv_bytes(*GOOD))
    out = io.StringIO()

    call_command("import_stock", str(path), "--dry-run", stdout=out)

    assert "would record 3 new lot(s)" in out.getvalue()
    assert "dry run: nothing was changed" in out.getvalue()
    assert not StockLot.objects.exists()


def test_the_command_fails_with_every_error_and_writes_nothing(catalogue, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes(
            GOOD[0],
            "iphone-15,iPhone 15 Pro,256,Blue Titanium,0,2026-11-20 09:00,A-1",
            "iphone-15,iPhone 15 Pro,256,Purple,5,2026-11-20 09:00,A-2",
        )
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"2 error\(s\) in bad.csv: nothing was imported"):
        call_command("import_stock", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "bad.csv: row 3: quantity must be a whole number above 0, not '0'",
        "bad.csv: row 4: unknown variant 'iPhone 15 Pro 256 GB Purple' in campaign 'iphone-15'",
    ]
    assert not StockLot.objects.exists()


def test_the_command_reports_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_stock", str(tmp_path / "missing.csv"))
