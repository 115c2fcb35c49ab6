"""Log review for security managers: search the visitor log and the pickup log of
their site over any range of days, open each record, and export what was found.

The search pages show one page of rows at a time, newest first, and link to the
next page by the last row's place (gatekeeper.search), so a page costs the same
on the first day of use and after years. Exports stream the whole result as CSV
(gatekeeper.exports). Each search page, and each export, is kept in the audit
trail with the criteria used (CTPAT 4.5): the logs hold personal data, and who
read what of them is part of the record.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    stream_with_context,
)
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional, Regexp

from admin.access import allow, current_site
from admin.records import record_read
from gatekeeper import exports, search, visitor_types
from gatekeeper.db import utcnow
from gatekeeper.forms import CleanText
from gatekeeper.models import ID_TYPES, VISITOR_TYPES, Site
from gatekeeper.web import db

bp = Blueprint("log_review", __name__)

MANAGER = "security_manager"
# The range a search covers when it names none: the last 30 days, today included.
DEFAULT_DAYS = 30
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
DATE_MESSAGE = "Write the date like 2026-03-31."
STATE_LABELS = {
    "visits": {
        "on_site": "On site",
        "overdue": "Overdue: past the badge's validity",
        "signed_out": "Signed out or closed",
        "held": "Held by the block list",
        "exempt": "Exempt from photo ID",
        "unverified": "Photo ID not verified",
    },
    "pickups": {
        "on_site": "At the gate or on site",
        "overdue": "Overdue on site",
        "signed_out": "Departed, refused or gone",
        "unverified": "Waiting at the gate: ID not checked",
    },
}
PICKUP_STATUS_LABELS = {
    "arrived": "waiting at the gate",
    "registered": "on site",
    "departed": "departed",
    "refused": "refused",
    "left": "left without logout",
}


class SearchForm(FlaskForm):
    """The range and state every search has; its fields come in the query string."""

    class Meta:
        # A search changes nothing, and its link must work when bookmarked.
        csrf = False

    first = DateField("From", validators=[Optional()], format="%Y-%m-%d")
    last = DateField("To", validators=[Optional()], format="%Y-%m-%d")
    state = SelectField("State", choices=[], default="")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in ("first", "last"):
            field = self[name]
            if field.errors:
                field.errors[:] = [DATE_MESSAGE]
            elif field.data and not EARLIEST <= field.data <= LATEST:
                field.errors.append("Choose a date from 2000 to 2099.")
                valid = False

        if valid and self.first.data and self.last.data < self.first.data:
            self.last.errors.append("The range ends before it starts.")
            valid = False

        return valid


def _text(label: str, max_length: int = 120) -> StringField:
    return StringField(label, validators=[CleanText(label, max_length, required=False)])


class VisitSearchForm(SearchForm):
    name = _text("Visitor's name starts with")
    company = _text("Company starts with")
    host = _text("Point of contact starts with")
    badge = StringField(
        "Badge number",
        validators=[Optional(), Regexp(r"^[0-9]{6}$", message="A badge is 6 digits.")],
    )


class PickupSearchForm(SearchForm):
    name = _text("Driver's name starts with")
    carrier = _text("Carrier starts with")
    truck = _text("Truck number starts with", 20)
    trailer = _text("Trailer number starts with", 20)
    seal = _text("Seal number starts with", 20)


FORMS = {"visits": VisitSearchForm, "pickups": PickupSearchForm}


def _form(log: str, site: Site) -> SearchForm:
    """The log's search form on the query string, its range defaulted."""
    form = FORMS[log](formdata=request.args)
    form.state.choices = [("", "Any"), *STATE_LABELS[log].items()]
    today = utcnow().astimezone(ZoneInfo(site.timezone)).date()
    if not request.args.get("last"):
        form.last.data = form.last.data or today

    if not request.args.get("first"):
        form.first.data = (form.last.data or today) - timedelta(days=DEFAULT_DAYS - 1)

    return form


def _criteria(log: str, form: SearchForm) -> search.Criteria:
    terms = {
        name: form[name].data.strip()
        for name in (*search.TEXT_FIELDS[log], *search.EXACT_FIELDS[log])
        if (form[name].data or "").strip()
    }
    return search.Criteria(
        log=log,
        first=form.first.data,
        last=form.last.data,
        terms=terms,
        state=form.state.data or "",
    )


def _query_args(form: SearchForm) -> dict[str, str]:
    """The criteria as query-string values, for the next page and the export."""
    values = {
        "first": form.first.data.isoformat(),
        "last": form.last.data.isoformat(),
    }
    for field in form:
        if field.name not in values and field.data:
            values[field.name] = str(field.data)

    return values


@bp.get("/visits")
@allow(MANAGER)
def visits():
    """Search the site's visitor log (10.2)."""
    return _search_page("visits")


@bp.get("/pickups")
@allow(MANAGER)
def pickups():
    """Search the site's cargo pickup log (10.4)."""
    return _search_page("pickups")


def _search_page(log: str):
    site = current_site()
    form = _form(log, site)
    problem = None
    page = search.Page([], None)
    after = request.args.get("after")
    criteria = None
    if form.validate():
        criteria = _criteria(log, form)
        try:
            cursor = search.Cursor.parse(after) if after else None
            page = search.search(db(), site, criteria, now=utcnow(), after=cursor)
        except search.SearchError as error:
            problem = str(error)

    body = render_template(
        "console/logs/search.html",
        log=log,
        site=site,
        form=form,
        problem=problem,
        rows=page.rows,
        next_token=page.next_cursor.token() if page.next_cursor else None,
        later_page=bool(after),
        query=_query_args(form) if criteria else {},
        type_labels=_type_labels(site),
        id_types=ID_TYPES,
        status_labels=PICKUP_STATUS_LABELS,
        state_labels=STATE_LABELS[log],
        now=utcnow(),
    )
    if criteria is None or problem:
        return body, 400

    record_read(
        "log.searched",
        site.id,
        f"log:{log}",
        criteria=criteria.described(),
        after=after or "",
        shown=len(page.rows),
    )
    return body


def _type_labels(site: Site) -> dict[str, str]:
    labels = dict(VISITOR_TYPES)
    for kind in visitor_types.for_site(db(), site.id, active_only=False):
        labels[kind.code] = kind.label

    return labels


@bp.get("/visits.csv")
@allow(MANAGER)
def export_visits():
    """The visitor log's rows that match, as CSV for a spreadsheet."""
    return _export("visits")


@bp.get("/pickups.csv")
@allow(MANAGER)
def export_pickups():
    """The pickup log's rows that match, as CSV for a spreadsheet."""
    return _export("pickups")


def _export(log: str):
    site = current_site()
    form = _form(log, site)
    if not form.validate():
        return _search_page(log)

    criteria = _criteria(log, form)
    labels = _type_labels(site) if log == "visits" else None
    # The export is recorded before its first byte leaves: once streaming starts,
    # nothing can be added to the response, and a read must not go unrecorded.
    record_read("log.exported", site.id, f"log:{log}", criteria=criteria.described())
    now = utcnow()

    @stream_with_context
    def body():
        # The view's session is closed once the view returns; the rows are read in
        # a session of the streaming's own, a reader's (no write lock on SQLite),
        # closed when the last chunk is sent.
        session = db()
        yield from exports.document(
            session, session.get(Site, site.id), criteria, now=now, type_labels=labels
        )

    name = exports.filename(site, criteria)
    return Response(
        body(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
