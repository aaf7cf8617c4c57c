"""axe-core in the browser tests: run Deque's accessibility engine on the page a test has open.

The engine is the `axe.min.js` shipped inside the `axe-playwright-python` wheel (pinned in
requirements-dev.txt), evaluated through Playwright's DevTools channel, so the page's strict CSP
does not apply to it and nothing is fetched at run time. `assert_accessible(page)` fails on any
violation axe rates `serious` or `critical`, printing each rule, its help text and the elements
it found; lesser ones (`minor`, `moderate`) are returned for a test that wants them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")

# Every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA, and its best practices), results
# trimmed to the violations.
OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}

_axe = Axe()


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: tuple[tuple[str, str], ...]  # (CSS target, why it fails)

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
    """Fail on any serious or critical axe violation on the open page; return the lesser ones."""
    found = run_axe(page)
    blocking = [v for v in found if v.impact in BLOCKING]
    where = f"{name} ({page.url})" if name else page.url
    assert not blocking, f"axe-core: {len(blocking)} serious/critical violation(s) on {where}:\n" + "\n".join(
        v.describe() for v in blocking
    )
    return [v for v in found if v.impact not in BLOCKING]
