"""A site's host directory imported from a CSV file (the 10.2 point of contact).

The file has a header row naming the columns `name` and `email`, and optionally
`department`, in any order and case; other columns are ignored, so an export from
a staff directory can be used as it is. It is read as UTF-8 (with or without the
byte-order mark spreadsheets write), comma- or semicolon-separated.

Each row stands alone. A row is checked in full before anything of it is written,
and written in its own savepoint, so a bad row is reported and skipped whole while
the good rows around it are imported. A host is one email per site, compared
without regard to case: a row whose email is already in the directory updates that
host's name and department, and puts the host back on the kiosk's list if it had
been taken off, because the file says the person is a current point of contact.
Hosts missing from the file are left as they are: a partial file never empties the
directory, and taking someone off the list stays a deliberate act in the console.
"""

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gatekeeper import audit, sites
from gatekeeper.models import Host, Site, User
from gatekeeper.text import TextError, clean_name, clean_text

logger = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
REQUIRED = ("name", "email")
COLUMNS = (*REQUIRED, "department")
OUTCOMES = ("added", "updated", "unchanged", "refused")


class HostFileError(ValueError):
    """A file refused as a whole: nothing of it was imported."""


@dataclass
class RowResult:
    """What became of one row: its line in the file, outcome and explanation."""

    line: int
    outcome: str
    name: str
    email: str
    message: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.outcome for row in self.rows)
        return {outcome: found.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def refused(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == "refused"]


@dataclass(frozen=True)
class _Entry:
    name: str
    email: str
    department: str


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's data rows with their line numbers, keyed by the known columns."""
    if len(data) > MAX_BYTES:
        raise HostFileError(
            f"The file is larger than {MAX_BYTES // 1024} KB; split it into parts."
        )

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HostFileError(
            "The file is not UTF-8 text. Save it from the spreadsheet as "
            "'CSV UTF-8' and upload it again."
        ) from error

    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise HostFileError("The file is empty: its first line must name the columns.")

    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    # Strict: a stray or unclosed quote is an error rather than a guess that could
    # merge the rest of the file into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return _data_rows(reader)
    except csv.Error as error:
        raise HostFileError(
            f"Line {reader.line_num} cannot be read as CSV ({error}); nothing was "
            "imported."
        ) from error


def _data_rows(reader) -> list[tuple[int, dict[str, str]]]:
    header = [cell.strip().lower() for cell in next(reader)]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise HostFileError(
            f"The first line must name the columns name, email and, optionally, "
            f"department; {' and '.join(missing)} is missing."
        )

    positions = {column: header.index(column) for column in COLUMNS if column in header}
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue

        row = {
            column: cells[index] if index < len(cells) else ""
            for column, index in positions.items()
        }
        rows.append((reader.line_num, row))

    if len(rows) > MAX_ROWS:
        raise HostFileError(f"The file has more than {MAX_ROWS} rows; split it.")

    return rows


def _entry(row: dict[str, str]) -> _Entry:
    """A row's values as the directory keeps them, or a TextError naming the fault."""
    return _Entry(
        name=clean_name(row.get("name"), label="Name"),
        email=sites.check_email(row.get("email") or "", label="Email"),
        department=clean_text(
            row.get("department"), label="Department", max_length=120, required=False
        ),
    )


def import_hosts(
    session: Session, site: Site, data: bytes, *, actor: User, address: str = ""
) -> ImportReport:
    """Import a CSV file into a site's host directory, row by row, in the caller's
    transaction; a HostFileError refuses the whole file before anything is written."""
    rows = read_rows(data)
    report = ImportReport()
    first_line: dict[str, int] = {}
    for line, row in rows:
        name, email = (row.get("name") or "").strip(), (row.get("email") or "").strip()
        try:
            entry = _entry(row)
        except TextError as error:
            report.rows.append(RowResult(line, "refused", name, email, str(error)))
            continue

        key = entry.email.lower()
        if key in first_line:
            message = f"The email is already on line {first_line[key]} of the file."
            report.rows.append(RowResult(line, "refused", name, email, message))
            continue

        first_line[key] = line
        report.rows.append(_apply(session, site, line, entry))

    audit.record(
        session,
        "hosts.imported",
        actor=actor,
        site_id=site.id,
        target=f"site:{site.code}",
        address=address,
        **report.counts,
    )
    logger.info("host import at %s: %s", site.code, report.counts)
    return report


def _apply(session: Session, site: Site, line: int, entry: _Entry) -> RowResult:
    """Add or update one host inside a savepoint, so a failure undoes only its row."""
    try:
        with session.begin_nested():
            existing = sites.host_by_email(session, site.id, entry.email)
            if existing is None:
                sites.add_host(
                    session,
                    site,
                    name=entry.name,
                    email=entry.email,
                    department=entry.department,
                )
                return RowResult(line, "added", entry.name, entry.email)

            return _update(existing, line, entry)
    except IntegrityError:
        logger.exception(
            "host import row %s at %s could not be written", line, site.code
        )
        return RowResult(
            line, "refused", entry.name, entry.email, "The row could not be saved."
        )


def _update(host: Host, line: int, entry: _Entry) -> RowResult:
    changes = []
    if host.name != entry.name:
        changes.append(f"name was {host.name}")
        host.name = entry.name

    if host.department != entry.department:
        changes.append(f"department was {host.department or 'empty'}")
        host.department = entry.department

    if not host.active:
        changes.append("back on the kiosk's list")
        host.active = True

    if not changes:
        return RowResult(line, "unchanged", entry.name, entry.email)

    return RowResult(line, "updated", entry.name, host.email, "; ".join(changes) + ".")
