"""axe-core in the browser tests: run Deque's accessibility engine on the page a test has open.

The engine is the `axe.min.js` shipped inside the `axe-playwright-python` wheel (pinned in
requirements-dev.txt), evaluated through Playwright's DevTools channel, so the page's strict CSP
does not apply to it and nothing is fetched at run time. `assert_accessible(page)` fails on any
violation axe rates `serious` or `critical` (and on the few lesser rules of BLOCKING_RULES),
printing each rule, its help text and the elements it found; the other lesser ones are returned
for a test that wants them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")
# Rules axe rates lower that fail all the same: the problems issue 15 found on this floor (pictures
# repeating their title as alt text, headings skipping levels, an empty table header), kept fixed.
BLOCKING_RULES = ("image-redundant-alt", "heading-order", "empty-table-header")

# Every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA, and its best practices), results
# trimmed to the violations.
OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}

# Every violation found, lesser ones included, one text file per page: the run's artifacts (git-ignored).
REPORTS = Path(
    os.environ.get("E2E_AXE_REPORTS", Path(__file__).resolve().parents[2] / "test-results" / "axe")
)

_axe = Axe()


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: tuple[tuple[str, str], ...]  # (CSS target, why it fails)

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING or self.rule in BLOCKING_RULES

    def describe(self) -> str:
        lines = [f"[{self.impact}] {self.rule}: {self.help} ({self.help_url})"]
        for target, summary in self.nodes:
            lines.append(f"    {target}")
            lines.extend(f"        {line.strip()}" for line in summary.splitlines() if line.strip())
        return "\n".join(lines)


def run_axe(page: Any, context: Any = None) -> list[Violation]:
    """axe's violations on the page as it is now (`context`: a CSS selector or axe context to limit it)."""
    results = _axe.run(page, context=context, options=OPTIONS).response
    found = []
    for item in results["violations"]:
        nodes = tuple(
            (" ".join(str(part) for part in node["target"]), node.get("failureSummary") or "")
            for node in item["nodes"]
        )
        found.append(
            Violation(
                rule=item["id"],
                impact=item.get("impact") or "minor",
                help=item["help"],
                help_url=item.get("helpUrl", ""),
                nodes=nodes,
            )
        )
    return found


def assert_accessible(page: Any, name: str = "") -> list[Violation]:
    """Fail on any blocking axe violation on the open page (serious, critical, BLOCKING_RULES);
    return the others."""
    found = run_axe(page)
    blocking = [v for v in found if v.blocking]
    where = f"{name} ({page.url})" if name else page.url
    assert not blocking, f"axe-core: {len(blocking)} blocking violation(s) on {where}:\n" + "\n".join(
        v.describe() for v in blocking
    )
    return [v for v in found if not v.blocking]


def save_report(violations: list[Violation], name: str, url: str = "") -> Path:
    """Write every violation of one page (all impacts) to REPORTS/<name>.txt."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{safe}.txt"
    body = "\n".join(v.describe() for v in violations) if violations else "no violations"
    path.write_text(f"{url}\n{body}\n", encoding="utf-8")
    return path
