"""The audit trail of staff access and administration (CTPAT 4.5, 4.7).

It lives in the database beside the log so a backup holds both; it records who
signed in, who failed, who was locked out, what accounts and kiosks changed, and
every export and view of a personal image.
"""

import json
import logging

from sqlalchemy.orm import Session

from gatekeeper.models import AuditEvent, User

logger = logging.getLogger(__name__)


def record(
    session: Session,
    action: str,
    *,
    actor: User | str | None,
    site_id: int | None = None,
    target: str = "",
    address: str = "",
    **detail: object,
) -> AuditEvent:
    """Add one audit event to the caller's transaction."""
    if isinstance(actor, User):
        actor_id, label = actor.id, actor.username
    else:
        actor_id, label = None, actor or "anonymous"

    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        actor=label[:120],
        site_id=site_id,
        target=target[:200],
        address=address[:64],
        detail=json.dumps(detail, sort_keys=True, default=str),
    )
    session.add(event)
    logger.info("audit %s by %s on %s", action, label, target or "-")
    return event
