"""Browser fixtures: Debian's Chromium, driven by Playwright, that may reach only this machine.

Never `playwright install`: it downloads a browser of its own. `make test` installs Debian's
chromium (the Makefile's `chromium` target); if it is missing, these fixtures fail, never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Route, sync_playwright

from tests.support.offline_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LOCAL_HOSTS,
    RECORD_CSP_VIOLATIONS,
    OfflinePage,
)


# Module scope, not session: while Playwright's sync API is open it holds an asyncio loop as the
# thread's running loop, which would break the async tests that pytest runs after these.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, for the tests of one module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[OfflinePage]:
    """A page in a new context (empty storage) that may reach only 127.0.0.1/localhost."""
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = OfflinePage(page=page)

    def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            watched.blocked_requests.append(url)
            route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    page.route("**/*", only_local)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    yield watched
    context.close()
