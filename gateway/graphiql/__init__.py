"""GraphiQL, served by the gateway itself: the page, its example query and its assets; no CDN,
no inline script.

The third-party builds (React, ReactDOM, GraphiQL) come from the npm lock file beside this module;
``make assets`` (or the Dockerfile's node stage) installs them and copies them, with our own
``init.js`` and ``page.css``, into ``static/``. The page passes its settings to ``init.js`` in a
JSON data block, so it works under :data:`CONTENT_SECURITY_POLICY`.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EXAMPLE_QUERY",
    "STATIC_MOUNT",
    "page_endpoint",
    "render_page",
    "static_files",
]

STATIC_MOUNT: str = "/graphiql/static"
"""Where the app mounts :func:`static_files`; the page refers to its assets under this path."""

CONTENT_SECURITY_POLICY: str = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # The one inline style GraphiQL needs: the <style> element that react-remove-scroll-bar
        # (bundled in GraphiQL 3.9.0) adds while a dialog is open. Its text is fixed because the
        # page never scrolls (page.css). After an upgrade, Chromium's CSP error names the new hash.
        "style-src 'self' 'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='",
        # GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""The ``Content-Security-Policy`` header to send with :func:`render_page`'s HTML."""

EXAMPLE_QUERY = """\
# kombo-gateway: press ▶ (or Ctrl-Enter) to run.
# Open jobs with their pipeline stages, and each
# job's applications: candidate and current stage.
# Next page: set $after to pageInfo.endCursor in
# Variables. Another integration: the Headers tab,
# {"X-Integration-Id": "greenhouse:globex"}.
query JobPipelines($after: String) {
  jobs(first: 5, after: $after, filter: { statuses: [OPEN] }) {
    nodes {
      id
      name
      status
      stages { name index }
      applications(first: 5) {
        nodes {
          outcome
          currentStage { name }
          candidate {
            firstName
            lastName
            emailAddresses { emailAddress }
          }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
"""The query editor's content on a first visit: a recruiter's view of open jobs (job → its
applications → their candidates and stages), and how to page on."""

_HERE = Path(__file__).resolve().parent
_STATIC_DIR = _HERE / "static"
_PAGE_TEMPLATE = _HERE / "page.html"

# Every file the page loads; all of them are written by `make assets`.
_PAGE_ASSETS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
    "init.js",
    "page.css",
)


def render_page(graphql_path: str, default_query: str) -> str:
    """Return the full HTML of the GraphiQL page.

    ``graphql_path`` is where GraphiQL sends its requests (resolved against the page's URL);
    ``default_query`` fills the query editor on a first visit. The page must be served with
    :data:`CONTENT_SECURITY_POLICY`, and :func:`static_files` mounted at :data:`STATIC_MOUNT`.
    """
    config = {"graphqlPath": graphql_path, "defaultQuery": default_query}
    return _page_template().substitute(
        static=html.escape(STATIC_MOUNT),
        config=_json_for_script_element(config),
        graphql_path=html.escape(graphql_path),
    )


def page_endpoint(
    graphql_path: str, default_query: str = EXAMPLE_QUERY
) -> Callable[[Request], Response]:
    """The GraphiQL page as a request handler: :func:`render_page`'s HTML, rendered once, served
    with :data:`CONTENT_SECURITY_POLICY`."""
    page = render_page(graphql_path, default_query)

    def graphiql_page(_request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    return graphiql_page


def static_files() -> StaticFiles:
    """Return GraphiQL's asset directory as an ASGI app, to be mounted at :data:`STATIC_MOUNT`.

    Raises :class:`RuntimeError`, saying to run ``make assets``, when the assets are not built.
    """
    missing = [name for name in _PAGE_ASSETS if not (_STATIC_DIR / name).is_file()]
    if missing:
        what = (
            f"{_STATIC_DIR} does not exist"
            if not _STATIC_DIR.is_dir()
            else f"{', '.join(missing)} missing from {_STATIC_DIR}"
        )
        raise RuntimeError(
            f"GraphiQL's assets are not built ({what}). Run `make assets` (it needs Node.js "
            "and npm), or build the Docker image, which builds them."
        )
    return StaticFiles(directory=_STATIC_DIR)


@functools.cache
def _page_template() -> Template:
    return Template(_PAGE_TEMPLATE.read_text(encoding="utf-8"))


def _json_for_script_element(value: object) -> str:
    """Serialise ``value`` as JSON that cannot end the ``<script>`` element holding it.

    Escaping ``<``, ``>`` and ``&`` as ``\\uXXXX`` keeps ``</script>`` or ``<!--`` inside a string
    from closing the data block; ``JSON.parse`` reads the escapes back as the same characters.
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
