"""Debian's Chromium as the browser tests drive it: its flags, the hosts a page may reach, and a
page that records what went wrong on it. Never `playwright install`: it downloads a browser of
its own; `make test` installs Debian's chromium (the Makefile's `chromium` target)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"

# Without the background-networking flags Chromium keeps dialling Google's hosts on this network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Runs before the page's own scripts, and is not subject to the page's CSP.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${blocked}`);
});
"""


@dataclass
class OfflinePage:
    """A fresh page whose requests beyond this machine are aborted, with what went wrong on it."""

    page: Page
    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        """The Content-Security-Policy violations the page has reported so far."""
        violations: list[str] = self.page.evaluate("() => window.__cspViolations ?? []")
        return violations
