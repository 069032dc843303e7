"""`arshif serve`: the search page and its JSON API, over the same search, filters, topics,
dedup and export as the command line.

Server-rendered (Jinja2 templates, one stylesheet, a chart drawn as SVG on the server): no
build step, nothing fetched from the network; the one short script only adds dragging across
the chart's bars, which are links without it. The archive is opened per request (an SQLite
connection belongs to one thread); an Elasticsearch backend is shared.
"""

from __future__ import annotations

import csv
import io
import math
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote, unquote_plus, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from arshif import __version__
from arshif.config import archive_path, warc_dir
from arshif.credentials import read_secret
from arshif.record import Article
from arshif.web import attention, insights, queries
from arshif.web.chart import csv_rows
from arshif.web.dates import PRESETS, parse_day, preset_range
from arshif.web.i18n import LABELS, PLURALS, query_reason, ui_date, ui_digits
from arshif.web.present import Names, lead_repeated, metadata_rows, plural
from crawler.outlets import load_outlets
from importer.sources import read_referenced
from indexer.archive_base import ArchiveStore as Archive  # either backend
from indexer.archive_base import open_archive
from indexer.dataset_card import CardCounts, build_card, render_markdown, write_card
from indexer.embedded import EmbeddedIndex
from indexer.es import ESError
from indexer.export import export
from indexer.filters import Filters
from indexer.query import EmptyQuery
from indexer.saved_searches import delete as delete_saved
from indexer.saved_searches import save as save_search
from indexer.saved_searches import saved as saved_searches
from indexer.search import SORTS, SearchIndex, SearchQuery, SearchResult, parse_query, search
from indexer.topics import Topics, load_topics

HERE = Path(__file__).resolve().parent
VIEWS = ("articles", "stories", "words")  # what the results area shows
STORIES_SHOWN = 100  # story rows in the story view, largest first
CAP = 10  # story mates and near-duplicates shown on an article page before "show all"
ALL_PAGE = 100  # per page once "show all" is chosen
MAX_PAGE = 1000  # deeper pages are refused: narrow the search instead
MAX_LIMIT = 100
MAX_QUERY = 500  # characters
TOKEN_COOKIE = "arshif_token"
MARK = ("<mark>", "</mark>")


# API parameter types (module level: FastAPI resolves the annotations by name).
Q = Annotated[str | None, Query(max_length=MAX_QUERY, description="words; quotes: phrase")]
Many = Annotated[list[str], Query()]
Day = Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")]
Mode = Annotated[Literal["any", "all"], Query()]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Sort = Annotated[
    Literal["relevance", "newest", "oldest"], Query(description="relevance, or by date")
]


def filter_params(
    outlet: Many = [],  # noqa: B006 - FastAPI copies defaults per request
    topic: Many = [],  # noqa: B006
    lang: Many = [],  # noqa: B006
    since: Day = None,
    until: Day = None,
    topic_mode: Mode = "any",
    dedup: bool = False,
) -> dict[str, Any]:
    """The filters every API endpoint takes, as `State.validate` keywords."""
    return {"outlet": outlet, "topic": topic, "lang": lang, "since": since, "until": until,
            "topic_mode": topic_mode, "dedup": dedup}  # fmt: skip


FilterParams = Annotated[dict[str, Any], Depends(filter_params)]


class BadInput(ValueError):
    """Input the user can correct. The API answers 400 with the English `detail` (naming the
    parameter); the page shows `message(ui)`, in the interface language, naming the field as
    its label reads. `key` picks the message (LABELS' `err_KEY`), `field` the label."""

    def __init__(
        self,
        detail: str,
        key: str = "",
        field: str = "",
        position: int | None = None,
        **values: Any,
    ) -> None:
        super().__init__(detail)
        self.key, self.field, self.values = key, field, values
        self.position = position  # where a malformed query's error is (0-based), for the API

    def message(self, ui: str) -> str:
        if not self.key:
            return str(self)
        t = LABELS[ui]
        values = {k: ui_digits(v, ui) if isinstance(v, int) else v for k, v in self.values.items()}
        if "reason" in values:
            values["reason"] = query_reason(values["reason"], ui)
        text = t[f"err_{self.key}"].format(**values, since_label=t["since"], until_label=t["until"])
        return (t["field_error"].format(field=t[self.field]) if self.field else "") + text


def _query_error(text: str, exc: ValueError, field: str = "query") -> BadInput:
    """A query the parser refused; a parser that says where (`position`) is quoted so."""
    position = getattr(exc, "position", None)
    if position is None or isinstance(exc, EmptyQuery):
        return BadInput(str(exc), "query_empty", field, value=text)
    reason = getattr(exc, "message", None) or str(exc)
    return BadInput(str(exc), "query_syntax", field, position, column=position + 1, reason=reason)


def _check_query(text: str, field: str) -> None:
    """A query (the search's, or one compared on the chart) the parser accepts."""
    if len(text) > MAX_QUERY:
        raise BadInput(
            f"the {'query' if field == 'query' else 'compare query'} is longer than "
            f"{MAX_QUERY} characters",
            "query_long", field, max=MAX_QUERY,
        )  # fmt: skip
    try:
        parse_query(text)
    except ValueError as exc:
        raise _query_error(text, exc, field) from None


def _day(name: str, value: str | None) -> str | None:
    """A typed date (ISO, Arabic-Indic digits, day first) as ISO; None when blank."""
    if not (value or "").strip():
        return None
    try:
        return parse_day(value or "")
    except ValueError:
        raise BadInput(
            f"{name} must be a date as YYYY-MM-DD, got {value!r}", "date", name, value=value
        ) from None


@dataclass(frozen=True)
class WebQuery:
    """One validated request (query, filters, page), shared by the page and the API."""

    text: str | None
    filters: Filters
    page: int = 1
    limit: int = 20
    sort: str = "relevance"


def _int(name: str, value: str | None, default: int, top: int) -> int:
    if value in (None, ""):
        return default
    label = f"{name}_field"
    if not value.isascii() or not value.isdigit():
        raise BadInput(
            f"{name} must be a whole number from 1 to {top}, got {value!r}",
            "number", label, top=top, value=value,
        )  # fmt: skip
    number = int(value)
    if not 1 <= number <= top:
        raise BadInput(
            f"{name} must be from 1 to {top}, got {number}", "number", label, top=top, value=value
        )
    return number


class App:
    """Settings and shared objects of one running web application."""

    def __init__(self, home: Path, backend: Any | None, topics: Topics, token: str | None):
        self.home = home
        self.backend = backend  # None: the embedded index
        self.topics = topics
        self.token = token
        self.catalogue = _catalogue()

    def names(self, ui: str) -> Names:
        labels = {tid: topic.labels for tid, topic in self.topics.topics.items()}
        return Names(self.catalogue, labels, ui)

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        """The configured archive (PostgreSQL with ARSHIF_DATABASE_URL, else the SQLite
        file), opened for one request."""
        path = archive_path(self.home)
        if not read_secret("ARSHIF_DATABASE_URL") and not path.exists():
            raise HTTPException(503, f"no archive at {path}; run `arshif crawl` or `arshif demo`")
        with open_archive(self.home) as archive:
            yield archive

    def index(self, archive: Archive) -> SearchIndex:
        """The configured backend, caught up with the archive's outbox first."""
        index = self.backend or EmbeddedIndex(archive)
        index.catch_up(archive)
        return index

    def validate(
        self,
        archive: Archive,
        *,
        q: str | None,
        outlet: list[str],
        topic: list[str],
        lang: list[str],
        since: str | None,
        until: str | None,
        topic_mode: str,
        dedup: bool,
        page: int,
        limit: int,
        sort: str = "relevance",
    ) -> WebQuery:
        """Check every value against what exists, so no bad input reaches a backend."""
        text = (q or "").strip() or None
        if text is not None:
            _check_query(text, "query")
        known = queries.known_values(archive)
        for name, values, allowed in (
            ("outlet", outlet, known["outlet"]),
            ("language", lang, known["language"]),
            ("topic", topic, set(self.topics.topics)),
        ):
            unknown = [v for v in values if v not in allowed]
            if unknown:
                choices = ", ".join(sorted(allowed)) or "none"
                raise BadInput(
                    f"unknown {name} {', '.join(unknown)!r}; known: {choices}",
                    "unknown", "topics" if name == "topic" else name, value=unknown[0],
                )  # fmt: skip
        if sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}",
                           "choice", "sort", value=sort)  # fmt: skip
        if topic_mode not in ("any", "all"):
            raise BadInput(
                f"topic_mode must be any or all, got {topic_mode!r}",
                "choice", "topic_mode", value=topic_mode,
            )  # fmt: skip
        since, until = _day("since", since), _day("until", until)
        if since and until and since > until:
            raise BadInput(
                f"since {since} is after until {until}", "date_order", since=since, until=until
            )
        try:
            filters = Filters(
                outlets=tuple(outlet),
                since=since,
                until=until,
                languages=tuple(lang),
                topics=tuple(topic),
                topic_mode=topic_mode,
                dedup=dedup,
            )
        except ValueError as exc:
            raise BadInput(str(exc).replace("--", "")) from None
        return WebQuery(text, filters, page, limit, sort)

    def run(self, archive: Archive, req: WebQuery) -> SearchResult | None:
        """The search of `req` with highlighted, HTML-escaped snippets; None without a query."""
        if req.text is None:
            return None
        query = SearchQuery(
            req.text, req.filters, limit=req.limit, page=req.page, highlight=MARK, html=True,
            sort=req.sort,
        )  # fmt: skip
        try:
            return search(archive, query, self.index(archive))
        except ValueError as exc:
            raise _query_error(req.text, exc) from None

    def facets(self, archive: Archive, req: WebQuery) -> dict[str, dict[str, int]]:
        return self.index(archive).facets(req.text, req.filters)

    def export(
        self, archive: Archive, req: WebQuery, data: Path, fmt: str, bom: bool = False
    ) -> dict[str, Any]:
        """Write the export of `req` to `data` (the code of `arshif export`); its card."""
        counts = CardCounts()
        backend = self.backend
        if backend is not None and archive.pending_count():
            backend.drain(archive)
        export(archive, data, fmt, filters=req.filters, query=req.text, bom=bom,
               progress=False, backend=backend, observe=counts.add)  # fmt: skip
        return build_card(data, fmt, counts, req.filters, req.text, self.topics)

    def matches(self, archive: Archive, req: WebQuery) -> Iterator[Article]:
        """Every article of the search (or of the filters alone), in archive order."""
        if req.text is None:
            return archive.iter_articles(req.filters)
        return self.index(archive).iter_matches(req.text, req.filters)

    def coverage(self, archive: Archive, req: WebQuery) -> dict[str, dict[str, int]]:
        return self.index(archive).coverage(req.text, req.filters)

    def series(self, archive: Archive, req: WebQuery, texts: list[str | None]) -> Any:
        """The attention chart's series of each query in `texts`, with `req`'s filters."""
        index = self.index(archive)
        return attention.series(
            lambda text, period: index.coverage(text, req.filters, period),
            lambda text: index.span(text, req.filters),
            texts, req.filters.since, req.filters.until,
        )  # fmt: skip


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def host_name(header: str) -> str:
    """The name in a Host header, without its port: 'x.example:80' → 'x.example',
    '[::1]:8080' → '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    name, _, port = header.rpartition(":")
    return (name if name and port.isdigit() else header).rstrip(".")


def allow_hosts(app: FastAPI, hosts: Iterable[str]) -> None:
    """Answer only requests whose Host header names one of `hosts`. A page on any site
    can make the user's browser send requests to 127.0.0.1 under a name it controls (DNS
    rebinding) and read the answers as its own; the name gives it away."""
    allowed = frozenset(h.strip().lower().strip("[]").rstrip(".") for h in hosts)

    @app.middleware("http")
    async def check_host(request: Request, call_next: Any) -> Response:
        name = host_name(request.headers.get("host", ""))
        if name not in allowed:
            detail = (
                f"this server does not answer for the host {name!r}; "
                "add it with `arshif serve --allow-host NAME` (or ARSHIF_WEB_HOSTS)"
            )
            return JSONResponse({"detail": detail}, status_code=400)
        return await call_next(request)


def create_app(
    home: Path,
    *,
    backend: Any | None = None,
    topics: Topics | None = None,
    token: str | None = None,
    hosts: Iterable[str] | None = None,
) -> FastAPI:
    """The web application over the data folder `home`. With `token`, every request must
    carry it (Authorization: Bearer, or ?token= once, which sets a cookie). With `hosts`,
    only requests addressed to those names are answered (`allow_hosts`); `arshif serve`
    always gives them."""
    state = App(home, backend, topics or load_topics(), token)
    app = FastAPI(
        title="Arshif",
        version=__version__,
        description="Search and export the Arshif archive of Arabic news.",
        docs_url=None,  # Swagger and ReDoc pages load scripts from a CDN: the schema suffices
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")

    @app.middleware("http")
    async def require_token(request: Request, call_next: Any) -> Response:
        if state.token is None:
            return await call_next(request)
        given = (
            request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            or request.query_params.get("token")
            or request.cookies.get(TOKEN_COOKIE)
            or ""
        )
        if not secrets.compare_digest(given.encode(), state.token.encode()):
            return JSONResponse(
                {"detail": "a token is required (ARSHIF_WEB_TOKEN): add ?token=... to the URL"},
                status_code=401,
            )
        response = await call_next(request)
        if request.query_params.get("token"):
            response.set_cookie(TOKEN_COOKIE, state.token, httponly=True, samesite="strict")
        return response

    if hosts is not None:
        allow_hosts(app, hosts)  # added last, so it runs first

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        """The API names the parameter; a page (download card, article) says it in the
        interface language, naming the field as labelled."""
        if request.url.path.startswith("/api/"):
            body: dict[str, Any] = {"detail": str(exc)}
            if exc.position is not None:
                body["position"] = exc.position
            return JSONResponse(body, status_code=400)
        context = {"summary": exc.message(_ui(request)), "message": str(exc)}
        return render(request, "error.html", context, 400)

    @app.exception_handler(ESError)
    async def backend_down(request: Request, exc: ESError) -> Response:
        """Elasticsearch unreachable or refusing: say so (503), as the CLI does in one line."""
        return await http_error(request, StarletteHTTPException(503, str(exc)))

    def render(
        request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        ui = _ui(request)
        other = [(k, v) for k, v in request.query_params.multi_items() if k not in ("ui", "token")]
        other.append(("ui", "ar" if ui == "en" else "en"))
        return templates.TemplateResponse(
            request,
            name,
            {
                "t": LABELS[ui],
                "ui": ui,
                "num": lambda value: ui_digits(value, ui),
                "day": lambda value: ui_date(value, ui),
                "count": lambda key, n: plural(n, ui, PLURALS[ui][key]),
                "toggle_url": f"{request.url.path}?{_encode(other)}",
                **context,
            },
            status_code=status,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        summary = LABELS[_ui(request)].get(f"http_{exc.status_code}")
        context = {"summary": summary, "message": exc.detail}
        return render(request, "error.html", context, exc.status_code)

    # ------------------------------------------------------------------ page

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> Response:
        params = request.query_params
        canonical = _canonical(params)
        if canonical != list(params.multi_items()):
            return RedirectResponse("/?" + _encode(canonical), status_code=302)
        ui = _ui(request)
        t, names = LABELS[ui], state.names(ui)
        raw = {
            "q": params.get("q", ""),
            "outlet": params.getlist("outlet"),
            "topic": params.getlist("topic"),
            "lang": params.getlist("lang"),
            "since": params.get("since", ""),
            "until": params.get("until", ""),
            "topic_mode": params.get("topic_mode", "any"),
            "dedup": params.get("dedup") in ("1", "on", "true"),
            "sort": params.get("sort") or "relevance",
        }
        compare, share = params.getlist("compare"), params.get("measure") == "share"
        with state.archive() as archive:
            known = queries.known_values(archive)
            choices = {
                "outlet": sorted(known["outlet"]),
                "language": sorted(known["language"]),
                "topics": sorted(state.topics.topics),
            }
            base = {  # the form and what surrounds it, on every answer
                "form": raw,
                "choices": choices,
                "names": names,
                "compare": compare,
                "share": share,
                "outlet_groups": names.by_country(choices["outlet"]),
                "presets": [
                    (key, t[f"preset_{key}"], _preset_url(params, key)) for key in PRESETS
                ],  # fmt: skip
                "chips": _chips(params, names, t),
                "clear_url": "/?"
                + _encode(
                    [(k, v) for k, v in params.multi_items() if k in ("q", "ui", "sort")]
                ),  # fmt: skip
                "saved": saved_searches(archive),
                "here": _encode([(k, v) for k, v in params.multi_items() if k != "token"]),
            }
            try:
                req = state.validate(
                    archive,
                    **raw,
                    page=_int("page", params.get("page"), 1, MAX_PAGE),
                    limit=_int("limit", params.get("limit"), 20, MAX_LIMIT),
                )
                raw["since"], raw["until"] = req.filters.since or "", req.filters.until or ""
                result = state.run(archive, req)
                facets = state.facets(archive, req)
                compared = _compare_queries(compare)
                texts = _chart_texts(req.text, compared)
                data = state.series(archive, req, texts)
                dups = (
                    queries.cluster_sizes(archive, [h.id for h in result.hits])
                    if result is not None and req.filters.dedup
                    else {}
                )
                view = params.get("view") if params.get("view") in VIEWS else "articles"
                found: Any = None
                if view == "words" and result is not None:
                    found = insights.top_words(state.matches(archive, req))
                elif view == "stories" and result is not None:
                    found = insights.stories(state.matches(archive, req))
            except BadInput as exc:
                error = {"error": exc.message(ui), "error_field": exc.field,
                         "error_at": exc.values.get("position"), "facets": {}}  # fmt: skip
                return render(request, "search.html", {**base, **error}, 400)
        # One link per period, asked for by both charts, the table and the month facet.
        narrow = cache(lambda start, end: _narrow_url(params, start, end))
        chart = data and attention.context(
            data,
            t=t,
            digits=lambda text: ui_digits(text, ui),
            dates=lambda text: ui_date(text, ui),
            name=(lambda key: key) if compared else names.outlet,
            order=texts if compared else list(state.catalogue),  # type: ignore[arg-type]
            share=share,
            lines=bool(compared),
            narrow_url=narrow,
        )
        pages = max(1, math.ceil(result.total / req.limit)) if result else 1
        past_end = result is not None and result.total > 0 and req.page > pages
        series = [(k, v) for k, v in params.multi_items() if k not in ("page", "ui")]
        return render(
            request,
            "search.html",
            {
                **base,
                "result": result,
                "facets": facets,
                "chart": chart,
                "month_url": lambda month: narrow(*_month_range(month)),
                "measure_url": lambda measure: _set_url(params, "measure", measure),
                "sort_url": lambda sort: _set_url(params, "sort", sort),
                "series_url": "/api/series?" + _encode([*series, ("format", "csv")]),
                "dups": dups,
                "view": view,
                "view_url": lambda name: _set_url(params, "view", name),
                "insights": found,
                "refine_url": lambda words: _refine_url(params, words),
                "cloud": insights.cloud,
                "stories_shown": STORIES_SHOWN,
                "pages": pages,
                "past_end": past_end,
                "page_url": lambda n: _page_url(params, n),
                "article_url": lambda aid: f"/article/{aid}?" + _encode(_back(params)),
                "facet_url": lambda key, value: _facet_url(params, key, value),
                "download_url": "/download?" + _encode(_export_params(params)),
            },
        )

    @app.post("/saved", include_in_schema=False)
    async def save_page(request: Request) -> RedirectResponse:
        """Keep the search the form names (its query string) in the archive."""
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        query = form.get("query", [""])[0].lstrip("?")
        name = form.get("name", [""])[0].strip() or unquote_plus(query) or "—"
        with state.archive() as archive:
            save_search(archive, name, query)
        return RedirectResponse("/?" + query, status_code=303)

    @app.post("/saved/{saved_id}/delete", include_in_schema=False)
    async def delete_page(request: Request, saved_id: int) -> RedirectResponse:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        with state.archive() as archive:
            delete_saved(archive, saved_id)
        return RedirectResponse("/?" + form.get("back", [""])[0], status_code=303)

    @app.get("/download", response_class=HTMLResponse, include_in_schema=False)
    def download_page(request: Request) -> HTMLResponse:
        """The dataset card of an export, shown before anything is downloaded: the counts
        come from a real export pass of the same selection, so they are what the file holds."""
        params = request.query_params
        keep = _export_params(params)
        raw = {k: params.getlist(k) for k in ("outlet", "topic", "lang")}
        with state.archive() as archive, tempfile.TemporaryDirectory() as tmp:
            req = state.validate(
                archive, q=params.get("q"), **raw, since=params.get("since"),
                until=params.get("until"), topic_mode=params.get("topic_mode", "any"),
                dedup=params.get("dedup") in ("1", "on", "true"), page=1, limit=1,
            )  # fmt: skip
            stem = export_stem(req.text, req.filters, date.today())
            card = state.export(archive, req, Path(tmp) / f"{stem}.jsonl", "jsonl")
        names = state.names(_ui(request))
        downloads = [
            ("csv", "csv_bom", [("bom", "true")]),
            ("csv", "csv_plain", []),
            ("jsonl", "jsonl", []),
            ("parquet", "parquet", []),
        ]
        return render(
            request,
            "download.html",
            {
                "card": card,
                "names": names,
                "stem": stem,
                "markdown": render_markdown(card),
                "search_url": "/?" + _encode(list(params.multi_items())),
                "downloads": [
                    (
                        key,
                        f"{stem}.{fmt}.zip",
                        "/api/export?" + _encode([*keep, ("format", fmt), *extra]),
                    )
                    for fmt, key, extra in downloads
                ],  # fmt: skip
            },
        )

    @app.get("/article/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: str) -> HTMLResponse:
        params = request.query_params
        show = params.get("all") if params.get("all") in ("near", "story") else None
        number = _int("page", params.get("p"), 1, MAX_PAGE)
        with state.archive() as archive:
            context = _article_context(archive, article_id)
        article, names = context["article"], state.names(_ui(request))
        back = params.get("back", "")
        keep = [("back", back)] if back else []
        if _ui(request) == "en":
            keep.append(("ui", "en"))

        def listing(key: str, items: list[Any]) -> dict[str, Any]:
            """One related list: CAP items inline, or every item paged with `all=key`."""
            if show != key:
                return {"items": items[:CAP], "total": len(items), "page": 0, "pages": 0}
            pages = max(1, math.ceil(len(items) / ALL_PAGE))
            start = (min(number, pages) - 1) * ALL_PAGE
            return {"items": items[start : start + ALL_PAGE], "total": len(items),
                    "page": min(number, pages), "pages": pages}  # fmt: skip

        return render(
            request,
            "article.html",
            {
                **context,
                "names": names,
                "lists": {
                    "near": listing("near", context["near_dups"]),
                    "story": listing("story", context["story"]),
                },  # fmt: skip
                "show_lead": bool(article.lead) and not lead_repeated(article.lead, article.text),
                "metadata": metadata_rows(article, names, LABELS[_ui(request)]["metadata_none"]),
                "back_url": "/?" + back
                if back
                else "/" + ("?ui=en" if _ui(request) == "en" else ""),
                "article_url": lambda aid: (
                    f"/article/{aid}" + ("?" + _encode(keep) if keep else "")
                ),
                "all_url": lambda key, n=1: (
                    f"/article/{article.id}?" + _encode([*keep, ("all", key), ("p", n)])
                ),
            },
        )

    @app.get("/article/{article_id}/raw", include_in_schema=False)
    def raw_page(article_id: str) -> Response:
        """The page as fetched, from the WARC archive. Sandboxed: its scripts never run on
        this origin, and it loads nothing from the network."""
        with state.archive() as archive:
            article = archive.get(article_id)
            if article is None:
                raise HTTPException(404, f"no article {article_id} in the archive")
            raw: Any = None
            if article.warc_file and article.warc_offset is not None:
                # An imported record is read where it was imported from (importer/sources.py).
                raw = read_referenced(archive, article.warc_file, article.warc_offset)
        if raw is None and article.warc_file and article.warc_offset is not None:
            raw = queries.read_raw(warc_dir(state.home), article.warc_file, article.warc_offset)
        if raw is None:
            raise HTTPException(404, f"no raw copy of {article_id} in the WARC archive")
        return Response(
            raw.body,
            media_type=raw.content_type,
            headers={
                "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # ------------------------------------------------------------------ API

    errors = {400: {"description": "bad input, with a message saying what to fix"}}

    @app.get("/api/search", responses=errors)
    def api_search(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
        filters: FilterParams,
        page: Page = 1,
        limit: Limit = 10,
        sort: Literal["relevance", "newest", "oldest"] = "relevance",
    ) -> dict[str, Any]:
        """Ranked hits with snippets (hits marked <mark>, the rest HTML-escaped), facets, and
        with `dedup` the near-duplicates each hit stands for."""
        with state.archive() as archive:
            req = state.validate(archive, q=q, **filters, page=page, limit=limit, sort=sort)
            if req.text is None:
                raise BadInput("the query is empty")
            result = state.run(archive, req)
            assert result is not None
            facets = state.facets(archive, req)
            dups = (
                queries.cluster_sizes(archive, [h.id for h in result.hits])
                if req.filters.dedup
                else {}
            )
        return {
            "total": result.total,
            "page": result.page,
            "limit": result.limit,
            "hits": [
                {**h.to_dict(), "duplicates": [d.__dict__ for d in dups.get(h.id, [])]}
                for h in result.hits
            ],
            "facets": facets,
        }

    @app.get("/api/facets", responses=errors)
    def api_facets(filters: FilterParams, q: Q = None) -> dict[str, Any]:
        """Counts per outlet, topic, language and month, and the coverage table
        {day: {outlet: articles}}, for a query (optional) and filters."""
        with state.archive() as archive:
            req = state.validate(archive, q=q, **filters, page=1, limit=1)
            facets = state.facets(archive, req)
            return {"facets": facets, "coverage": state.coverage(archive, req)}

    @app.get(
        "/api/series",
        responses={**errors, 200: {"content": {"text/csv": {}}, "description": "with format=csv"}},
    )
    def api_series(
        filters: FilterParams,
        q: Q = None,
        compare: Many = [],  # noqa: B006
        format: Literal["json", "csv"] = "json",  # noqa: A002
    ) -> Any:
        """The attention chart's series: matches per day, week or month (granularity from the
        range) of the query by outlet, or of `q` and each `compare` query; `all_articles` per
        period is the share's denominator. CSV (with a BOM, for Excel) with format=csv."""
        with state.archive() as archive:
            req = state.validate(archive, q=q, **filters, page=1, limit=1)
            data = state.series(archive, req, _chart_texts(req.text, _compare_queries(compare)))
        if format == "csv":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(csv_rows(data, share=True) if data else [])
            name = export_stem(req.text, req.filters, date.today()) + "-series.csv"
            return Response(
                "\ufeff" + buffer.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f"attachment; filename*=utf-8''{quote(name)}"},
            )
        if data is None:
            return {"granularity": None, "periods": [], "values": {}, "all_articles": []}
        return {
            "granularity": data.granularity,
            "periods": [[a.isoformat(), b.isoformat()] for a, b in data.periods],
            "values": data.values,
            "all_articles": data.totals,
        }

    @app.get("/api/article/{article_id}", responses={404: {"description": "no such article"}})
    def api_article(article_id: str) -> dict[str, Any]:
        """The full record, its near-duplicates and its story mates."""
        with state.archive() as archive:
            context = _article_context(archive, article_id)
        return {
            "article": context["article"].to_dict(),
            "near_duplicates": [d.__dict__ for d in context["near_dups"]],
            "story_mates": [d.__dict__ for d in context["story"]],
        }

    @app.get(
        "/api/export",
        responses={
            **errors,
            200: {"content": {"application/zip": {}}, "description": "data and card"},
        },
        response_class=FileResponse,
    )
    def api_export(
        filters: FilterParams,
        format: Literal["jsonl", "csv", "parquet"] = "jsonl",  # noqa: A002 - the CLI's name
        q: Q = None,
        bom: bool = False,
    ) -> FileResponse:
        """A zip of the export file (the same code as `arshif export`) and its dataset card,
        streamed from a temporary folder that is removed once sent."""
        folder = Path(tempfile.mkdtemp(prefix="arshif-export-"))
        try:
            with state.archive() as archive:
                req = state.validate(archive, q=q, **filters, page=1, limit=1)
                if bom and format != "csv":
                    raise BadInput("bom applies to csv exports only")
                data = folder / f"{export_stem(req.text, req.filters, date.today())}.{format}"
                card = state.export(archive, req, data, format, bom)
                paths = [data, *write_card(card, data)]
            bundle = folder / f"{data.name}.zip"
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in paths:
                    zf.write(path, path.name)
                    path.unlink()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(
            bundle,
            media_type="application/zip",
            filename=bundle.name,
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    return app


def _article_context(archive: Archive, article_id: str) -> dict[str, Any]:
    article = archive.get(article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id} in the archive")
    near = queries.near_duplicates(archive, article.id, article.dup_cluster)
    story = queries.story_mates(archive, article.id, article.story_id, {d.id for d in near})
    return {"article": article, "near_dups": near, "story": story}


def export_stem(text: str | None, filters: Filters, day: date) -> str:
    """A file name that says what is in it: "arshif-", the query's words (or the topics,
    or "all"), and the day it was made, e.g. `arshif-قمة-شنغهاي-2025-09-01`."""
    words = re.findall(r"\w+", text or "") or list(filters.topics) or ["all"]
    return f"arshif-{'-'.join(words)[:60].strip('-_')}-{day.isoformat()}"


def _catalogue() -> dict[str, tuple[str, str]]:
    """{outlet id: (name, country)} from the outlet catalogue; empty when it cannot be read
    (the page then shows ids, as before)."""
    try:
        outlets = load_outlets()
    except (OSError, ValueError):
        return {}
    return {o.id: (o.name, o.country) for o in outlets.values()}


def _ui(request: Request) -> str:
    return "en" if request.query_params.get("ui") == "en" else "ar"


def _encode(params: dict[str, Any] | list[tuple[str, Any]]) -> str:
    return urlencode(params, doseq=True)


def _back(params: Any) -> list[tuple[str, str]]:
    """The query string an article link carries, so its page leads back to this search."""
    items = [(k, v) for k, v in params.multi_items() if k != "token"]
    back = [("back", _encode(items))] if items else []
    return back + ([("ui", "en")] if params.get("ui") == "en" else [])


def _chart_texts(text: str | None, compared: list[str]) -> list[str | None]:
    """The chart's queries: the search's alone, or it (when given) and each compared one."""
    return [x for x in (text, *compared) if x] if compared else [text]


def _compare_queries(values: list[str]) -> list[str]:
    """The queries compared on the chart (blank ones dropped), each checked as `q` is."""
    texts = [v.strip() for v in values if v.strip()]
    for text in texts:
        _check_query(text, "compare")
    return texts


DEFAULTS = {("sort", "relevance"), ("topic_mode", "any"), ("page", "1"), ("view", "articles")}


def _canonical(params: Any) -> list[tuple[str, str]]:
    """The permalink form of a search: blank fields and defaults left out, typed dates as
    ISO (a date that cannot be read is kept, for the page to name it)."""
    out = []
    for key, value in params.multi_items():
        value = value.strip() if key in ("since", "until", "compare", "q") else value
        if key in ("since", "until") and value:
            with suppress(ValueError):
                value = parse_day(value)
        if value != "" and (key, value) not in DEFAULTS:
            out.append((key, value))
    return out


def _preset_url(params: Any, preset: str) -> str:
    """The current search over a preset range ending today ("all": no dates)."""
    since, until = preset_range(preset, date.today())
    items = [(k, v) for k, v in params.multi_items() if k not in ("since", "until", "page")]
    dates = [("since", since), ("until", until)] if since else []
    return "/?" + _encode([*items, *dates])


def _month_range(month: str) -> tuple[date, date]:
    first = date.fromisoformat(month + "-01")
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _chips(params: Any, names: Names, t: dict[str, str]) -> list[tuple[str, str]]:
    """(label, the search without it) for each filter in force: the removable chips."""
    shown: dict[str, tuple[str, Any]] = {
        "outlet": (t["outlet"], names.outlet),
        "topic": (t["topics"], names.topic),
        "lang": (t["language"], names.language),
        "since": (t["since"], lambda v: ui_date(v, names.ui)),
        "until": (t["until"], lambda v: ui_date(v, names.ui)),
        "compare": (t["compare"], str),
        "dedup": (t["dedup"], lambda v: ""),
        "topic_mode": (t["topic_mode"], lambda v: t.get(v, v)),
    }
    chips = []
    items = [(k, v) for k, v in params.multi_items() if k != "page"]
    for key, value in items:
        if key in shown and value and not (key == "topic_mode" and value == "any"):
            label, readable = shown[key]
            text = readable(value)
            rest = [item for item in items if item != (key, value)]
            chips.append((f"{label}: {text}" if text else label, "/?" + _encode(rest)))
    return chips


def _refine_url(params: Any, words: str) -> str:
    """The articles of the current search that also hold `words` (as a phrase)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("q", "page", "view")]
    query = f'{params.get("q", "")} "{words}"'.strip()
    return "/?" + _encode([("q", query), *items])


def _set_url(params: Any, key: str, value: str) -> str:
    """The current search with one parameter set (and back to page 1)."""
    items = [(k, v) for k, v in params.multi_items() if k not in (key, "page")]
    return "/?" + _encode([*items, (key, value)])


def _narrow_url(params: Any, start: date, end: date) -> str:
    """The current search narrowed to start..end (a chart column, or a drag across them)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("since", "until", "page")]
    return "/?" + _encode([*items, ("since", start.isoformat()), ("until", end.isoformat())])


def _page_url(params: Any, page: int) -> str:
    return "/?" + _encode(
        [*((k, v) for k, v in params.multi_items() if k != "page"), ("page", page)]
    )


def _export_params(params: Any) -> list[tuple[str, str]]:
    keep = {"q", "outlet", "topic", "lang", "since", "until", "topic_mode", "dedup"}
    out = [(k, v) for k, v in params.multi_items() if k in keep and v != ""]
    return [(k, "true") if k == "dedup" else (k, v) for k, v in out]


def _facet_url(params: Any, key: str, value: str) -> str:
    """The current search with one facet value added (or removed when already chosen)."""
    items = [(k, v) for k, v in params.multi_items() if k != "page"]
    if (key, value) in items:
        items.remove((key, value))
    else:
        items.append((key, value))
    return "/?" + _encode(items)


def web_token() -> str | None:
    """ARSHIF_WEB_TOKEN (or the private file ARSHIF_WEB_TOKEN_FILE names), if not blank."""
    return (read_secret("ARSHIF_WEB_TOKEN") or "").strip() or None
