"""Every string a customer or staff member can read is in the Korean catalogue.

tests/test_translations.py checks the catalogue itself; this module checks it against the
sources: makemessages run over a copy of the project (the command of issue 11, item 4) must
find nothing the committed django.po lacks, leaves untranslated or marks fuzzy; models, their
choices and the admin's columns, filters and actions name themselves through gettext_lazy;
prices go through preorder_shop.money; templates carry no English outside translate tags.
"""

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.test import override_settings
from django.utils.functional import Promise

from tests.test_translations import PO_PATH, Entry, parse_po

BASE_DIR = Path(settings.BASE_DIR)
PROJECT_APPS = {"preorder_shop", "reservations", "orders", "fulfillment", "support", "events"}
# What `makemessages --ignore=.venv --ignore=bench --ignore=.local` leaves out, and the
# catalogue itself; makemessages skips hidden directories on its own.
NOT_SCANNED = {".venv", "bench", ".local", "locale", "node_modules", "__pycache__"}
SOURCE_SUFFIXES = {".py", ".html", ".txt"}  # makemessages' extensions for the django domain
# Carriers' names read the same in every language.
BRAND_NAMES = {"KT", "LG U+"}


def source_files(*, with_tests: bool = True) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(BASE_DIR):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in NOT_SCANNED and not d.startswith(".") and (with_tests or d != "tests")
        )
        found.extend(
            Path(dirpath) / name
            for name in sorted(filenames)
            if Path(name).suffix in SOURCE_SUFFIXES
        )
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[Entry]:
    """The catalogue makemessages would write from the sources as they are now.

    Run over a copy: makemessages writes a temporary .py beside every template it reads, and
    other people's makemessages must never see those in the shared tree."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: run `make test` (or apt-get install gettext)")
    work = tmp_path_factory.mktemp("makemessages")
    copy = work / "src"
    for path in source_files():
        target = copy / path.relative_to(BASE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    locale = work / "locale"
    with override_settings(LOCALE_PATHS=[str(locale)]), contextlib.chdir(copy):
        call_command("makemessages", locale=["ko"], verbosity=0)
    return [e for e in parse_po(locale / "ko" / "LC_MESSAGES" / "django.po") if e.msgid]


def test_the_extraction_sees_the_project(extracted):
    keys = {e.key for e in extracted}
    assert len(keys) > 300, "makemessages found too little: is the copy complete?"
    assert "Sign in with your mobile number" in keys  # a template
    assert "Order form in progress" in keys  # a model choice


def test_every_string_in_the_sources_is_translated_in_the_committed_catalogue(extracted):
    committed = {e.key: e for e in parse_po(PO_PATH) if e.msgid}
    problems = []
    for entry in extracted:
        where = ", ".join(entry.references[:3]) or "?"
        have = committed.get(entry.key)
        if have is None:
            problems.append(f"{where}: {entry.msgid!r} is not in django.po")
        elif "fuzzy" in have.flags:
            problems.append(f"{where}: {entry.msgid!r} is fuzzy (gettext ignores it)")
        elif not all(text.strip() for text in have.msgstr.values()):
            problems.append(f"{where}: {entry.msgid!r} has no Korean")
        elif have.msgid_plural != entry.msgid_plural:
            problems.append(f"{where}: {entry.msgid!r} changed its plural form")
    assert not problems, (
        "strings a page can show are missing from the Korean catalogue; run makemessages "
        "-l ko, translate, compilemessages:\n" + "\n".join(problems)
    )


def test_no_won_sign_outside_the_money_module():
    """Prices read "1,250,000원" in Korean: only preorder_shop.money writes them."""
    money = BASE_DIR / "preorder_shop" / "money.py"
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in source_files(with_tests=False)
        if path != money
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "₩" in line
    ]
    assert not offenders, f"write prices with preorder_shop.money: {offenders}"


def project_models():
    return [m for m in apps.get_models() if m._meta.app_config.name in PROJECT_APPS]


def test_models_their_fields_and_choices_are_named_in_translatable_words():
    offenders = []
    for model in project_models():
        meta = model._meta
        for name in ("verbose_name", "verbose_name_plural"):
            if not isinstance(meta.original_attrs.get(name), Promise):
                offenders.append(f"{meta.label}.Meta.{name}")
        for f in meta.get_fields():
            if not f.concrete or f.auto_created:
                continue
            if not isinstance(f.verbose_name, Promise):
                offenders.append(f"{meta.label}.{f.name}: verbose name {f.verbose_name!r}")
            offenders.extend(
                f"{meta.label}.{f.name}: choice {label!r}"
                for _value, label in f.flatchoices or []
                if not isinstance(label, Promise) and label not in BRAND_NAMES
            )
    assert not offenders, f"wrap these in gettext_lazy (admin headers show them): {offenders}"


def _admin_offenders(model_admin) -> list[str]:
    where = type(model_admin).__qualname__
    offenders = []
    names = [*getattr(model_admin, "list_display", ()), *model_admin.readonly_fields]
    for name in dict.fromkeys(n for n in names if isinstance(n, str) and n != "__str__"):
        attr = getattr(model_admin, name, None)
        if callable(attr) and not isinstance(getattr(attr, "short_description", ""), Promise):
            offenders.append(f"{where}.{name}: column header")
    for list_filter in getattr(model_admin, "list_filter", ()):
        is_simple = isinstance(list_filter, type) and issubclass(
            list_filter, admin.SimpleListFilter
        )
        if is_simple and not isinstance(list_filter.title, Promise):
            offenders.append(f"{where}: filter {list_filter.__name__}.title")
    for name in getattr(model_admin, "actions", None) or []:
        action = getattr(model_admin, name, None) if isinstance(name, str) else name
        if not isinstance(getattr(action, "short_description", None), Promise):
            offenders.append(f"{where}: action {name}")
    for title, _options in model_admin.fieldsets or []:
        if title is not None and not isinstance(title, Promise):
            offenders.append(f"{where}: fieldset {title!r}")
    if getattr(model_admin, "search_help_text", None) and not isinstance(
        model_admin.search_help_text, Promise
    ):
        offenders.append(f"{where}.search_help_text")
    return offenders


def test_admin_columns_filters_and_actions_are_translatable():
    offenders = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_config.name not in PROJECT_APPS:
            continue
        offenders.extend(_admin_offenders(model_admin))
        for inline in model_admin.inlines:
            offenders.extend(_admin_offenders(inline(model, admin.site)))
    assert not offenders, f"wrap these in gettext_lazy: {offenders}"


# Templates: text outside translate tags. Cheap and strict enough: whatever is left once
# template tags, comments, blocktranslate blocks, admin CSS-class blocks, markup, code samples
# and elements marked lang="en" (the language switcher's "English") are taken out must hold
# no Latin word, nor may a label attribute.
REMOVED = [
    r"\{#.*?#\}",
    r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}",
    r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}",
    r"\{%\s*block\s+(?:bodyclass|coltype)\s*%\}.*?\{%\s*endblock\s*%\}",  # CSS classes
    r"\{%.*?%\}",
    r"\{\{.*?\}\}",
    r"<(script|style|code|pre)\b.*?</\1>",
    r"<(\w+)\b[^>]*\blang=\"en\"[^>]*>.*?</\1>",
    r"&\w+;",
]
LABEL_ATTRIBUTE = re.compile(r"\b(?:aria-label|title|placeholder|alt)=\"([^\"]*)\"")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def template_files() -> list[Path]:
    return [p for p in source_files(with_tests=False) if p.suffix == ".html"]


def test_templates_have_no_english_outside_translate_tags():
    offenders = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for pattern in REMOVED:
            text = re.sub(pattern, " ", text, flags=re.S)
        labels = [m.group(1) for m in LABEL_ATTRIBUTE.finditer(text)]
        words = re.sub(r"<[^>]*>", " ", text).split()
        found = [w for w in [*labels, *words] if LATIN_WORD.search(w)]
        if found:
            offenders.append(f"{path.relative_to(BASE_DIR)}: {found[:5]}")
    assert template_files(), "no templates found"
    assert not offenders, f"English outside {{% translate %}}: {offenders}"
