"""The outbox: every email the product wrote, sent or not, and a way to retry one.

With no SMTP server configured this page is where host notices and invitations
wait, so the front desk can read them out; none is lost either way.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from admin.access import allow
from admin.forms import ActionForm
from gatekeeper import audit, mail
from gatekeeper.db import utcnow
from gatekeeper.models import OutboxMessage
from gatekeeper.web import client_address, db, transaction

bp = Blueprint("outbox", __name__)
PAGE = 100


def _visible():
    """Messages of the account's sites; those of no site only to administrators."""
    return mail.visible_to(
        current_user.site_ids, unsited=current_user.role == "administrator"
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db().scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id, _visible())
    )
    if message is None:
        abort(404)

    return message


@bp.get("/")
@allow("front_desk", "security_manager", "administrator")
def index():
    """Newest first, keyset-paged by id."""
    before = request.args.get("before", type=int)
    query = (
        select(OutboxMessage)
        .where(_visible())
        .order_by(OutboxMessage.id.desc())
        .limit(PAGE)
    )
    if before:
        query = query.where(OutboxMessage.id < before)

    messages = db().scalars(query).all()
    settings = current_app.config["SETTINGS"]
    return render_template(
        "console/outbox/index.html",
        messages=messages,
        older=messages[-1].id if len(messages) == PAGE else None,
        now=utcnow(),
        state=mail.state,
        smtp_configured=bool(settings.SMTP_HOST),
        action_form=ActionForm(),
    )


@bp.post("/<int:message_id>/retry")
@allow("front_desk", "security_manager", "administrator")
def retry(message_id: int):
    """Try to send one message now, whatever its earlier attempts."""
    message = _message_or_404(message_id)
    if not ActionForm().validate_on_submit():
        abort(400)

    settings = current_app.config["SETTINGS"]
    if message.sent_at is not None:
        flash("That message was already sent.", "error")
        return redirect(url_for("outbox.index"))

    if not settings.SMTP_HOST:
        flash("No mail server is set up (SMTP_HOST); the message stays here.", "error")
        return redirect(url_for("outbox.index"))

    # The transaction ends before sending: on SQLite it holds the write lock, which
    # the delivery's own short transactions need.
    with transaction():
        audit.record(
            db(),
            "mail.retried",
            actor=current_user.user,
            site_id=message.site_id,
            target=f"outbox:{message.id}",
            address=client_address(),
        )

    sessions = current_app.extensions["gatekeeper.sessions"]
    delivery = mail.deliver_message(sessions, settings, message.id)
    if message.id in delivery.sent:
        flash(f"Sent to {message.recipient}.", "ok")
    elif message.id in delivery.failed:
        flash(f"Not sent: {delivery.failed[message.id]}", "error")
    else:
        flash("That message is being sent already.", "error")

    return redirect(url_for("outbox.index"))
