"""The Lighthouse budget's judgement: the scores of the reports bench/lighthouse.py made,
their medians against the budget, and the audits to fix where it is missed."""

import argparse
import json
import os
import re
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CATEGORIES = {
    "performance": "performance",
    "accessibility": "accessibility",
    "best-practices": "best practices",
    "seo": "SEO",
}
# The lowest median score (0-100) each category may have; SEO only on public pages.
BUDGET = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}


def scores(report: dict) -> dict[str, float]:
    return {
        category: round(100 * (report["categories"][category]["score"] or 0))
        for category in CATEGORIES
    }


def failing_audits(report: dict, category: str) -> list[tuple[str, str, str]]:
    """(id, title, value) of the audits that cost the category points in this report.

    For performance: the weighted metrics below 90 and the insights and diagnostics that
    failed (those carry no weight of their own, but they say what to fix)."""
    audits = report["audits"]
    found = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        score, mode = audit.get("score"), audit.get("scoreDisplayMode")
        if score is None or mode in ("notApplicable", "informative", "manual"):
            continue
        limit = 0.9 if category == "performance" else 1
        if score < limit and (ref["weight"] > 0 or category == "performance"):
            found.append((ref["id"], audit["title"], audit.get("displayValue", "")))
    return found


def server_exceptions(log: Path) -> list[str]:
    """The distinct exceptions in gunicorn's log (a 500's cause), in order."""
    exception = re.compile(r"^[\w.]+(Error|Exception): ")
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return list(dict.fromkeys(line for line in lines if exception.match(line)))


def has_noindex(report: dict) -> bool:
    """Whether Lighthouse's is-crawlable audit found a noindex (a robots meta tag or an
    X-Robots-Tag header) on the page; a Disallow in robots.txt alone does not count, as it
    keeps crawlers out but not the address out of the index."""
    audit = report["audits"]["is-crawlable"]
    items = (audit.get("details") or {}).get("items", [])
    return any("noindex" in json.dumps(item.get("source", "")).lower() for item in items)


def print_summary(
    pages: dict,
    results: dict[str, list[dict]],
    errors: dict[str, list[str]],
    *,
    load: float,
    args: argparse.Namespace,
    reports: Path,
    server_log: Path,
) -> int:
    """Print the table of medians and the failing audits; return how many budgets missed."""
    versions = {r["lighthouseVersion"] for runs in results.values() for r in runs}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if args.committed:
        commit += " as committed (uncommitted edits in the work tree not measured)"
    elif dirty:
        commit += " (with uncommitted changes)"
    print()
    print(f"commit {commit}")
    print(f"Lighthouse {', '.join(versions) or '?'}, mobile profile (emulated Moto G Power,")
    print("simulated slow 4G, 4x CPU slowdown), headless Chromium, Accept-Language")
    print(f"{args.lang}; medians of {args.runs} runs; load average before: {load:.2f} on")
    print(f"{os.cpu_count()} CPUs; reports in {reports.relative_to(ROOT)}/")
    # Simulated throttling multiplies the main-thread time it observes: a busy machine (a
    # low benchmark index, a high load) costs performance points the page did not lose.
    indexes = [r["environment"]["benchmarkIndex"] for runs in results.values() for r in runs]
    if indexes:
        print(f"Lighthouse's benchmark index of this machine: {statistics.median(indexes):.0f}")
    print()
    print(f"{'page':<13}" + "".join(f"{label:>16}" for label in CATEGORIES.values()))
    print(f"{'budget':<13}" + "".join(f"{'>= ' + str(BUDGET[c]):>16}" for c in CATEGORIES))
    misses: list[tuple[str, str, str]] = []  # page, category, what
    for name, (_path, public) in pages.items():
        runs = results[name]
        if errors[name]:
            misses.append((name, "error", f"{len(errors[name])} of {args.runs} runs failed"))
        cells = []
        for category in CATEGORIES:
            if category == "seo" and not public:
                cells.append("—")
            elif not runs:
                cells.append("error")
            else:
                median = statistics.median(scores(r)[category] for r in runs)
                ok = median >= BUDGET[category]
                cells.append(f"{median:g}{'' if ok else ' MISS'}")
                if not ok:
                    misses.append((name, category, f"median {median:g}"))
        if not public and runs and not all(has_noindex(r) for r in runs):
            misses.append((name, "noindex", "the page does not carry noindex"))
        print(f"{name:<13}" + "".join(f"{cell:>16}" for cell in cells))
    print()
    print("— SEO is left out on the customer's own pages: they carry noindex, as they must")
    print("  never be indexed; their budget is that noindex (found by Lighthouse's is-crawlable).")
    print()
    if not misses:
        print("Budget met on every page.")
        return 0
    print(f"Budget NOT met ({len(misses)}):")
    for name, category, what in misses:
        print(f"  {name}, {CATEGORIES.get(category, category)}: {what}")
        if category == "error":
            for message in dict.fromkeys(errors[name]):
                print(f"      {message}")
            for line in server_exceptions(server_log):
                print(f"      gunicorn's log: {line}")
        if category not in CATEGORIES:
            continue
        seen: dict[tuple[str, str], list[str]] = {}
        for report in results[name]:
            for audit_id, title, value in failing_audits(report, category):
                seen.setdefault((audit_id, title), []).append(value)
        for (audit_id, title), values in seen.items():
            shown = f" ({', '.join(v for v in values if v)})" if any(values) else ""
            print(f"      {audit_id}: {title} [{len(values)}/{len(results[name])} runs]{shown}")
    return len(misses)
