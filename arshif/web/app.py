"""`arshif serve`: the search page and its JSON API, over the same search, filters, topics,
dedup and export as the command line.

Server-rendered (Jinja2 templates, one stylesheet, a chart drawn as SVG on the server): no
build step, no script, nothing fetched from the network. The archive is opened per request
(an SQLite connection belongs to one thread); an Elasticsearch backend is shared.
"""

from __future__ import annotations

import math
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from arshif import __version__
from arshif.config import archive_path, warc_dir
from arshif.credentials import read_secret
from arshif.web import queries
from arshif.web.chart import bucket, coverage_svg
from arshif.web.i18n import LABELS
from indexer.archive import Archive
from indexer.dataset_card import CardCounts, build_card, write_card
from indexer.embedded import EmbeddedIndex
from indexer.es import ESError
from indexer.export import FORMATS, export
from indexer.filters import Filters
from indexer.query import QueryError
from indexer.search import SORTS, SearchIndex, SearchQuery, SearchResult, parse_query, search
from indexer.topics import Topics, load_topics

HERE = Path(__file__).resolve().parent
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
    """Input the user can correct; a clear message on the page, a 400 from the API (with
    the character a malformed query's error points at)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


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
    if not value.isascii() or not value.isdigit():
        raise BadInput(f"{name} must be a whole number from 1 to {top}, got {value!r}")
    number = int(value)
    if not 1 <= number <= top:
        raise BadInput(f"{name} must be from 1 to {top}, got {number}")
    return number


class App:
    """Settings and shared objects of one running web application."""

    def __init__(self, home: Path, backend: Any | None, topics: Topics, token: str | None):
        self.home = home
        self.backend = backend  # None: the embedded index
        self.topics = topics
        self.token = token

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        path = archive_path(self.home)
        if not path.exists():
            raise HTTPException(503, f"no archive at {path}; run `arshif crawl` or `arshif demo`")
        with Archive(path) as archive:
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
            if len(text) > MAX_QUERY:
                raise BadInput(f"the query is longer than {MAX_QUERY} characters")
            try:
                parse_query(text)
            except QueryError as exc:
                raise BadInput(str(exc), exc.position) from None
        known = queries.known_values(archive)
        for name, values, allowed in (
            ("outlet", outlet, known["outlet"]),
            ("language", lang, known["language"]),
            ("topic", topic, set(self.topics.topics)),
        ):
            unknown = [v for v in values if v not in allowed]
            if unknown:
                choices = ", ".join(sorted(allowed)) or "none"
                raise BadInput(f"unknown {name} {', '.join(unknown)!r}; known: {choices}")
        if topic_mode not in ("any", "all"):
            raise BadInput(f"topic_mode must be any or all, got {topic_mode!r}")
        try:
            filters = Filters(
                outlets=tuple(outlet),
                since=since or None,
                until=until or None,
                languages=tuple(lang),
                topics=tuple(topic),
                topic_mode=topic_mode,
                dedup=dedup,
            )
        except ValueError as exc:
            raise BadInput(str(exc).replace("--", "")) from None
        if sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
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
            raise BadInput(str(exc)) from None

    def facets(self, archive: Archive, req: WebQuery) -> dict[str, dict[str, int]]:
        return self.index(archive).facets(req.text, req.filters)

    def coverage(self, archive: Archive, req: WebQuery) -> dict[str, dict[str, int]]:
        return self.index(archive).coverage(req.text, req.filters)


def create_app(
    home: Path,
    *,
    backend: Any | None = None,
    topics: Topics | None = None,
    token: str | None = None,
) -> FastAPI:
    """The web application over the data folder `home`. With `token`, every request must
    carry it (Authorization: Bearer, or ?token= once, which sets a cookie)."""
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

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> JSONResponse:
        body: dict[str, Any] = {"detail": str(exc)}
        if exc.position is not None:
            body["position"] = exc.position
        return JSONResponse(body, status_code=400)

    @app.exception_handler(ESError)
    async def backend_down(request: Request, exc: ESError) -> Response:
        """Elasticsearch unreachable or refusing: say so (503), as the CLI does in one line."""
        return await http_error(request, StarletteHTTPException(503, str(exc)))

    def render(
        request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        ui = "en" if request.query_params.get("ui") == "en" else "ar"
        other = [(k, v) for k, v in request.query_params.multi_items() if k not in ("ui", "token")]
        other.append(("ui", "ar" if ui == "en" else "en"))
        return templates.TemplateResponse(
            request,
            name,
            {
                "t": LABELS[ui],
                "ui": ui,
                "toggle_url": f"{request.url.path}?{_encode(other)}",
                **context,
            },
            status_code=status,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(request, "error.html", {"message": exc.detail}, exc.status_code)

    # ------------------------------------------------------------------ page

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> HTMLResponse:
        params = request.query_params
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
        with state.archive() as archive:
            known = queries.known_values(archive)
            choices = {
                "outlet": sorted(known["outlet"]),
                "language": sorted(known["language"]),
                "topics": sorted(state.topics.topics),
            }
            try:
                req = state.validate(
                    archive,
                    **raw,
                    page=_int("page", params.get("page"), 1, MAX_PAGE),
                    limit=_int("limit", params.get("limit"), 20, MAX_LIMIT),
                )
                result = state.run(archive, req)
                facets = state.facets(archive, req)
                kind, table = bucket(state.coverage(archive, req))
                label = LABELS["en" if params.get("ui") == "en" else "ar"][f"coverage_{kind}"]
                dups = (
                    queries.cluster_sizes(archive, [h.id for h in result.hits])
                    if result is not None and req.filters.dedup
                    else {}
                )
            except BadInput as exc:
                return render(
                    request,
                    "search.html",
                    {"error": str(exc), "form": raw, "choices": choices, "facets": {}},
                    400,
                )
        pages = max(1, math.ceil(result.total / req.limit)) if result else 1
        return render(
            request,
            "search.html",
            {
                "form": raw,
                "choices": choices,
                "result": result,
                "facets": facets,
                "chart": coverage_svg(table, label),
                "chart_label": label,
                "dups": dups,
                "pages": pages,
                "page_url": lambda n: _page_url(params, n),
                "facet_url": lambda key, value: _facet_url(params, key, value),
                "export_url": lambda fmt: (
                    "/api/export?" + _encode([*_export_params(params), ("format", fmt)])
                ),
                "formats": FORMATS,
            },
        )

    @app.get("/article/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: str) -> HTMLResponse:
        with state.archive() as archive:
            context = _article_context(archive, article_id)
        return render(request, "article.html", context)

    @app.get("/article/{article_id}/raw", include_in_schema=False)
    def raw_page(article_id: str) -> Response:
        """The page as fetched, from the WARC archive. Sandboxed: its scripts never run on
        this origin, and it loads nothing from the network."""
        with state.archive() as archive:
            article = archive.get(article_id)
        if article is None:
            raise HTTPException(404, f"no article {article_id} in the archive")
        raw = None
        if article.warc_file and article.warc_offset is not None:
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
        sort: Sort = "relevance",
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
                data = folder / f"arshif-export.{format}"
                counts = CardCounts()
                backend = state.backend
                if backend is not None:
                    backend.catch_up(archive)
                export(archive, data, format, filters=req.filters, query=req.text, bom=bom,
                       progress=False, backend=backend, observe=counts.add)  # fmt: skip
                card = build_card(data, format, counts, req.filters, req.text, state.topics)
                paths = [data, *write_card(card, data)]
            bundle = folder / f"arshif-export-{format}.zip"
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


def _encode(params: dict[str, Any] | list[tuple[str, Any]]) -> str:
    return urlencode(params, doseq=True)


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
