"""The Korean catalogue: complete, compiled, and what customers actually see.

Korean is the default language and customers read every notice in it, so a string left
untranslated or marked fuzzy (gettext ignores fuzzy entries) shows up as English on a live page.
The .mo is committed so a fresh machine needs no gettext at run time; these tests catch a .po
edited without recompiling.
"""

import datetime as dt
import gettext
import importlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import formats, timezone, translation
from django.utils.html import escape

from orders.selectors import order_status
from orders.tests.factories import DraftFactory
from preorder_shop.commands import display_width, print_table
from reservations.tests.factories import CampaignFactory, VariantFactory

CATALOGUE_DIR = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES"
PO_PATH = CATALOGUE_DIR / "django.po"
MO_PATH = CATALOGUE_DIR / "django.mo"
# The settings as the project ships them, before any test fixture overrides them.
PROJECT_SETTINGS = importlib.import_module(settings.SETTINGS_MODULE)

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Python %-placeholders as gettext's python-format sees them: %(name)s, %d, %s; not %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)  # "#: path:line" comments
    line: int = 0

    @property
    def key(self) -> str:
        """The key the entry has in a compiled catalogue."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(text: str, line: int) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise AssertionError(f"django.po line {line}: expected a quoted string, got {text!r}")
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header included, obsolete `#~` entries left out)."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int | None] | None = None  # which field a continuation line extends
    started = False

    def finish() -> None:
        nonlocal current, target, started
        if started:
            entries.append(current)
        current, target, started = Entry(), None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
            continue
        if line.startswith("#:"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            current.references.extend(line[2:].split())
            continue
        if line.startswith("#,"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise AssertionError(f"django.po line {number}: continuation without a keyword")
            name, index = target
            text = _unquote(line, number)
            if name == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, name, getattr(current, name) + text)
            continue
        if keyword in {"msgctxt", "msgid"} and target is not None and target[0] == "msgstr":
            finish()  # a new entry without a blank line between
        if not started:
            current.line = number
            started = True
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword == "msgstr" or match:
            index = int(match.group(1)) if match else 0
            current.msgstr[index] = _unquote(rest, number)
            target = ("msgstr", index)
        elif keyword in {"msgid", "msgid_plural", "msgctxt"}:
            setattr(current, keyword, _unquote(rest, number))
            target = (keyword, None)
        else:
            raise AssertionError(f"django.po line {number}: unexpected {keyword!r}")
    finish()
    return entries


def catalogue_of(mo_path: Path) -> dict:
    with mo_path.open("rb") as fp:
        return dict(gettext.GNUTranslations(fp)._catalog)


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_PATH.exists(), "run makemessages -l ko and translate"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries: list[Entry]) -> list[Entry]:
    return [e for e in po_entries if e.msgid]


def test_header_declares_korean_single_plural_form(po_entries):
    header = po_entries[0]
    assert header.msgid == "", "the .po must start with its header"
    assert "fuzzy" not in header.flags, "a fuzzy header makes msgfmt drop the charset"
    assert "Language: ko\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]


def test_every_message_is_translated_and_not_fuzzy(messages):
    assert len(messages) > 100, "the catalogue looks truncated"
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries are ignored by gettext: {fuzzy}"
    empty = [e.msgid for e in messages if not all(s.strip() for s in e.msgstr.values())]
    assert not empty, f"untranslated entries: {empty}"


def test_plural_entries_have_exactly_one_form(messages):
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals, "the project has plural messages; the parser missed them"
    wrong = [e.msgid for e in plurals if set(e.msgstr) != {0}]
    assert not wrong, f"Korean has one plural form (msgstr[0] only): {wrong}"


def test_translations_keep_placeholders_and_are_korean(messages):
    for entry in messages:
        # Korean's one form serves every count, so it must carry the plural's placeholders.
        source = entry.msgid_plural or entry.msgid
        for text in entry.msgstr.values():
            assert placeholders(text) == placeholders(source), (
                f"django.po line {entry.line}: {text!r} does not keep the placeholders "
                f"of {source!r}"
            )
            if (entry.msgctxt or "").startswith("clock time"):
                continue  # a date-format string ("A g:i"): its Korean is the 오전/오후 it makes
            assert HANGUL.search(text), f"django.po line {entry.line}: {text!r} is not Korean"


def test_committed_mo_holds_exactly_the_po(po_entries):
    """Without gettext installed: the .mo has every .po translation, and nothing else."""
    assert MO_PATH.exists(), "run compilemessages and commit django.mo"
    expected = {}
    for entry in po_entries[1:]:  # msgfmt rewrites the header (it drops POT-Creation-Date)
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(entry.key, index)] = text
    compiled = catalogue_of(MO_PATH)
    header = compiled.pop("")
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert compiled == expected, "django.mo is stale: run compilemessages"


def test_committed_mo_matches_a_fresh_msgfmt_compile(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (gettext) is not installed")
    fresh = tmp_path / "django.mo"
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [msgfmt, "--check", "-o", str(fresh), str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert catalogue_of(MO_PATH) == catalogue_of(fresh), "django.mo is stale: compilemessages"


@pytest.mark.parametrize("count", [0, 1, 2, 5, 21])
def test_korean_uses_one_form_for_every_count(count):
    # Passed as variables so makemessages does not list this file as a source.
    singular, plural = "Cancelled %d reservation.", "Cancelled %d reservations."
    with translation.override("ko"):
        text = translation.ngettext(singular, plural, count)
    assert text % count == f"예약 {count}건을 취소했습니다."


@pytest.fixture
def shipped_language(settings):
    """The project's own default language: the shared conftest may pin tests to English."""
    assert PROJECT_SETTINGS.LANGUAGE_CODE == "ko", "customers expect Korean by default"
    settings.LANGUAGE_CODE = PROJECT_SETTINGS.LANGUAGE_CODE
    settings.LANGUAGES = PROJECT_SETTINGS.LANGUAGES
    return settings.LANGUAGE_CODE


def _korean(message: str) -> str:
    with translation.override("ko"):
        text = translation.gettext(message)
    assert text != message, f"{message!r} has no Korean translation"
    assert HANGUL.search(text)
    return text


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_language")
def test_signin_page_is_korean_by_default():
    response = Client().get("/signin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert "휴대폰 번호로 로그인" in html
    assert escape(_korean("Sign in with your mobile number")) in html
    assert escape(_korean("Send code")) in html
    assert "Sign in with your mobile number" not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_language")
def test_signin_page_is_english_when_asked():
    response = Client().get("/signin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Sign in with your mobile number" in html
    assert "Send code" in html
    assert escape(_korean("Sign in with your mobile number")) not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_language")
def test_campaign_page_tells_a_visitor_in_korean_to_sign_in():
    campaign = VariantFactory().campaign
    response = Client().get(campaign.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert "예약하시려면 휴대폰 번호로 로그인해 주세요." in html
    assert escape(_korean("Sign in with your mobile number to reserve.")) in html
    assert "Sign in with your mobile number to reserve." not in html

    english = Client().get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in with your mobile number to reserve." in english.content.decode()


# Times: Seoul time, with the half of the day before the hour (preorder_shop/formats/ko).
# 01:16 UTC is 10:16 in Seoul, so a time written in UTC shows as 오전 1:16.
SEOUL_MORNING = dt.datetime(2031, 10, 12, 1, 16, tzinfo=dt.UTC)


def test_korean_dates_put_the_half_of_the_day_before_the_hour():
    with translation.override("ko"), timezone.override("Asia/Seoul"):
        moment = timezone.localtime(SEOUL_MORNING)
        assert formats.date_format(moment, "DATETIME_FORMAT") == "2031년 10월 12일 오전 10:16"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2031-10-12 오전 10:16"
        assert formats.time_format(moment) == "오전 10:16"
        assert formats.date_format(moment.date()) == "2031년 10월 12일"


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_language")
def test_campaign_page_gives_the_opening_in_seoul_time():
    campaign = CampaignFactory(
        reservation_opens_at=SEOUL_MORNING, reservation_closes_at=SEOUL_MORNING + dt.timedelta(1)
    )
    html = Client().get(campaign.get_absolute_url()).content.decode()
    assert "2031년 10월 12일 오전 10:16" in html
    assert "오전 1:16" not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_language")
def test_order_form_deadline_is_in_seoul_time():
    order = DraftFactory()
    campaign = order.reservation.campaign
    campaign.order_closes_at = timezone.now() + dt.timedelta(days=2)
    campaign.save()
    expected = formats.date_format(
        timezone.localtime(campaign.order_closes_at, ZoneInfo("Asia/Seoul")), "DATETIME_FORMAT"
    )
    with translation.override("ko"):
        assert expected in order_status(order).next_step


def test_ops_tables_line_up_with_korean_headers():
    """A terminal gives Hangul two columns: the commands' tables pad by display width."""
    lines: list[str] = []
    print_table(lines.append, ("단말 옵션", "입고"), [("iPhone 15 128 GB Black", "1,000")])
    assert [display_width(line) for line in lines] == [display_width(lines[1])] * 2
    # "단말 옵션" is 9 columns wide, the variant 22; "입고" is 4, right-aligned over "1,000".
    assert lines[0] == "단말 옵션" + " " * 13 + "  " + " " + "입고"


def test_clock_times_in_messages_read_the_korean_way():
    from django.template import Context, Template

    from preorder_shop.exceptions import RateLimited

    saved = Template(
        '{% load i18n %}{% translate "H:i:s" context "clock time with seconds" as clock %}'
        "{{ at|time:clock }}"
    )
    at = dt.datetime(2026, 12, 2, 15, 4, 5, tzinfo=dt.UTC)  # 00:04:05 next day in Seoul
    with translation.override("ko"):
        assert saved.render(Context({"at": at})) == "오전 12:04:05"
        assert re.search(r"(오전|오후) \d{1,2}:\d\d", RateLimited("x", retry_after=90).message)
    with translation.override("en"):
        assert saved.render(Context({"at": at})) == "00:04:05"
