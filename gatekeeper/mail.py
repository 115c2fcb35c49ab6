"""Email to hosts and invited visitors, through an outbox so that none is lost.

A message is written to the outbox in the same transaction as the event it tells
of; delivery comes after, and a message that cannot be delivered stays in the
outbox for the console to show.
"""

from sqlalchemy.orm import Session

from gatekeeper.models import Host, OutboxMessage, Visit


def queue(
    session: Session,
    *,
    site_id: int | None,
    recipient: str,
    subject: str,
    body: str,
    attachment: bytes | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        site_id=site_id,
        recipient=recipient,
        subject=subject[:200],
        body=body,
        attachment=attachment,
    )
    session.add(message)
    return message


def notify_host(session: Session, visit: Visit) -> OutboxMessage | None:
    """Tell the host their visitor has been admitted and is on the way."""
    host = session.get(Host, visit.host_id) if visit.host_id else None
    if host is None or not host.email:
        return None

    lines = [
        f"{visit.visitor_name} of {visit.company} has checked in at "
        f"{visit.site.name} to see you.",
        "",
        f"Badge number: {visit.badge_number}",
    ]
    if visit.escort_required:
        lines.append(
            f"An escort is required; the escort recorded is {visit.escort_name}."
        )

    return queue(
        session,
        site_id=visit.site_id,
        recipient=host.email,
        subject=f"Your visitor {visit.visitor_name} has arrived",
        body="\n".join(lines) + "\n",
    )
