"""Setup steps shared by the kiosk and console app factories."""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import Babel, format_datetime, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import text
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from gatekeeper import migrate
from gatekeeper.config import PROJECT_ROOT, Settings
from gatekeeper.db import make_engine, make_sessionmaker, read_only

logger = logging.getLogger(__name__)
T = TypeVar("T")
request_logger = logging.getLogger("gatekeeper.requests")

LANGUAGES = {"en": "English", "es": "Español"}
TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# How long the page of a database outage waits before it tries again.
RETRY_SECONDS = 15
csrf = CSRFProtect()


def new_limiter() -> Limiter:
    """A rate limiter for one app; each app keeps its own counters and storage."""
    return Limiter(key_func=get_remote_address, headers_enabled=True)


def new_app(import_name: str, settings: Settings, *, surface: str) -> Flask:
    """A Flask app reading the shared templates and static files."""
    app = Flask(
        import_name,
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
        instance_path=str(settings.instance),
    )
    app.config.from_mapping(
        SETTINGS=settings,
        SURFACE=surface,
        SECRET_KEY=settings.SECRET_KEY or "dev-only-insecure-key",
        SESSION_COOKIE_NAME=f"gk_{surface}_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.COOKIE_SECURE,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.SESSION_IDLE_MINUTES),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        # On HTTPS Flask-WTF also checks that a form's Referer is this origin; pages
        # send the Referer to their own origin only (Referrer-Policy same-origin,
        # here and in base.html), so the check works and nothing leaks elsewhere.
        WTF_CSRF_SSL_STRICT=settings.COOKIE_SECURE,
        RATELIMIT_STORAGE_URI=settings.RATELIMIT_STORAGE_URI,
        # While Redis is unreachable each process counts in its own memory, so the
        # kiosk keeps checking people in and out instead of failing every form.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        BABEL_DEFAULT_LOCALE="en",
        TESTING=settings.GATEKEEPER_ENV == "testing",
    )
    if settings.TRUST_PROXY:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    return app


def configure_logging(app: Flask) -> None:
    """Log every request with its method, path, status and duration."""
    settings: Settings = app.config["SETTINGS"]
    logging.basicConfig(
        level=settings.LOG_LEVEL,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
        request_logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            elapsed,
        )
        return response


def configure_database(app: Flask, *, reader_first: bool = False) -> None:
    """One engine per process; one session per request, closed when it ends.

    reader_first: every request begins as a reader on SQLite (see db()).
    """
    settings: Settings = app.config["SETTINGS"]
    engine = make_engine(settings.database_url)
    if settings.AUTO_MIGRATE:
        migrate.upgrade(engine)

    app.extensions["gatekeeper.engine"] = engine
    app.extensions["gatekeeper.sessions"] = make_sessionmaker(engine)
    app.extensions["gatekeeper.reader_first"] = reader_first

    @app.teardown_appcontext
    def _close_session(_error):
        db_session = g.pop("db_session", None)
        if db_session is None:
            return

        try:
            db_session.close()
        except SQLAlchemyError as error:
            # The database went away after the answer was made (a restart, an
            # outage): the answer stands, and the broken connection is dropped.
            logger.error(
                "database connection lost at the end of a request: %s",
                _first_line(error),
            )


def db() -> Session:
    """The current request's database session.

    A GET only reads, so on SQLite it starts a plain transaction; any other method
    starts with the write lock held (see gatekeeper.db) so its action is atomic.
    An app made with reader_first (the kiosk) starts every request as a reader and
    makes its writes in transaction(), which takes the lock for them alone: a
    lobby's check-ins then wait for each other's writes, not for each other's pages.
    """
    if "db_session" not in g:
        session = current_app.extensions["gatekeeper.sessions"]()
        if has_request_context() and (
            request.method in ("GET", "HEAD") or _reader_first()
        ):
            read_only(session)

        g.db_session = session

    return g.db_session


@contextmanager
def transaction() -> Iterator[Session]:
    """One action's writes, committed together at the end or not at all.

    A reader's transaction on SQLite ends first, and what it loaded is read again
    inside the write transaction, under the lock, so every decision the writes
    depend on is taken on the current state.
    """
    session = db()
    if _in_a_reader(session):
        session.commit()
        session.expire_all()

    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        if _reader_first() and _is_sqlite(session):
            read_only(session)


def _reader_first() -> bool:
    return has_request_context() and bool(
        current_app.extensions.get("gatekeeper.reader_first")
    )


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _in_a_reader(session: Session) -> bool:
    if not session.in_transaction() or not _is_sqlite(session):
        return False

    return bool(session.connection().get_execution_options().get("sqlite_read_only"))


def database_is_up() -> bool:
    try:
        with current_app.extensions["gatekeeper.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        logger.error("database check failed: %s", _first_line(error))
        return False

    return True


def configure_security(app: Flask, *, permissions: str, limiter: Limiter) -> None:
    """CSRF on every form, rate limits, and the security headers on every response."""
    csrf.init_app(app)
    limiter.init_app(app)
    settings: Settings = app.config["SETTINGS"]

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", permissions)
        if settings.COOKIE_SECURE:
            headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )

        # Personal data must not stay in a shared browser's cache or history.
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"

        return response


def configure_i18n(app: Flask, offered: Callable[[], list[str]] | None = None) -> None:
    """English and Spanish, chosen per browser session; times in the site's zone.

    `offered` names the languages a screen offers, its default first (a kiosk
    offers its site's); a choice it does not offer falls back to that default.
    """

    def _offered() -> list[str]:
        codes = [code for code in (offered() if offered else []) if code in LANGUAGES]
        return codes or list(LANGUAGES)

    def _locale() -> str:
        codes = _offered()
        chosen = session.get("lang")
        return chosen if chosen in codes else codes[0]

    Babel(app, locale_selector=_locale)

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, zone: str, pattern: str = "HH:mm") -> str:
        if value is None:
            return ""

        return format_datetime(value.astimezone(ZoneInfo(zone)), pattern)

    @app.context_processor
    def _languages():
        languages = {code: LANGUAGES[code] for code in _offered()}
        return {"languages": languages, "current_lang": _locale()}


def read_beside(read: Callable[[], T], default: T, what: str) -> T:
    """What a page shows beside its content (a banner, the kiosk's languages), or
    `default` when the database cannot answer: the page may be the one saying the
    database is down, and must still be drawn.

    After such an error the request's session is rolled back, so that what the
    request does next (the audit event of a read, say) meets a usable session and
    the outage's own answer, not a leftover failed transaction.
    """
    try:
        return read()
    except SQLAlchemyError:
        db().rollback()
        logger.warning("%s could not be read beside the page", what)
        return default


def configure_errors(app: Flask) -> None:
    """A plain page for every error; a traceback never reaches a browser."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        title, message = _http_error_text(error)
        return _error_page(error.code or 500, title, message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(
            400,
            gettext("Form expired"),
            gettext("This form expired. Go back, reload the page and try again."),
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(error: DBAPIError):
        # An outage is an event to expect, not a bug: one line a request without a
        # traceback keeps the log readable while the database is away.
        logger.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            _first_line(error),
        )
        return _unavailable_page()

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_page(
            500,
            gettext("Something went wrong"),
            gettext("Something went wrong. Please try again or see the front desk."),
        )


def _http_error_text(error: HTTPException) -> tuple[str, str]:
    """A title and message in the screen's language; a view's own reason wins."""
    own = error.description if error.description != type(error).description else ""
    texts = {
        400: (gettext("Request not understood"), gettext("Go back and try again.")),
        403: (
            gettext("Not allowed"),
            gettext("Your account is not allowed to open this page."),
        ),
        404: (gettext("Page not found"), gettext("There is nothing at this address.")),
        405: (gettext("Page not found"), gettext("There is nothing at this address.")),
        413: (
            gettext("Too large"),
            gettext("What was sent is too large. Try a smaller photo."),
        ),
        429: (
            gettext("Too many attempts"),
            gettext("Too many attempts. Please wait a few minutes."),
        ),
    }
    title, message = texts.get(
        error.code or 500,
        (gettext("Something went wrong"), gettext("Please try again.")),
    )
    return title, own or message


def _error_page(status: int, title: str, message: str):
    surface = current_app.config["SURFACE"]
    try:
        body = render_template(
            "errors/error.html",
            surface=surface,
            status=status,
            title=title,
            message=message,
        )
    except SQLAlchemyError as error:
        # Drawing the page needed the database (the console's signed-in account and
        # its banners) and the database is away: say so on a page that needs none.
        logger.error("database unavailable for an error page: %s", _first_line(error))
        return _unavailable_page()

    return body, status


def _unavailable_page():
    """The 503 page of a database outage, drawn without touching the database.

    The apps' context processors query it (the signed-in account, the console's
    banners), so the template is rendered by Jinja directly, without them. The
    page tries again by itself (static/common/retry.js): a kiosk nobody touches,
    or a console left open, comes back when the database does. A form's POST is
    not repeated; the retry goes to the app's first page instead.
    """
    surface = current_app.config["SURFACE"]
    retry_url = url_for("kiosk.start" if surface == "kiosk" else "console.index")
    here = request.full_path.rstrip("?")
    # Only a path of this site: "//host" or a backslash would leave it.
    if request.method == "GET" and not here.startswith("//") and "\\" not in here:
        retry_url = here

    if surface == "kiosk":
        message = gettext("The system is unavailable. Please see the front desk.")
    else:
        message = gettext(
            "The system is unavailable. The console cannot reach its database; "
            "this page tries again by itself. If this lasts, tell your administrator."
        )

    template = current_app.jinja_env.get_template("errors/unavailable.html")
    body = template.render(
        surface=surface,
        title=gettext("Service unavailable"),
        message=message,
        retry_url=retry_url,
        retry_seconds=RETRY_SECONDS,
        current_lang=session.get("lang", "en"),
    )
    return body, 503, {"Retry-After": str(RETRY_SECONDS)}


def _first_line(error: Exception) -> str:
    """The first line of a database error, which names the cause (refused, shut
    down) without the statement or its parameters."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def client_address() -> str:
    return request.remote_addr or ""
