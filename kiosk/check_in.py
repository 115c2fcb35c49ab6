"""A visitor's check-in at the kiosk, one question a screen (CTPAT 10.2).

Who are you → name and company (or an invitation's code) → the type of photo ID →
its photo → the back of a licence → a face photo for the badge → the host → review.
The step mechanics and the camera steps are shared with the driver's arrival
(kiosk/steps.py).

After the review the visit is admitted (the badge prints), waits for the front desk
to compare the ID with the person, or is held by the block list; the waiting
screens ask for this visit's admission and nothing else.
"""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from gatekeeper import badges, invitations, sites, visitor_types, visits
from gatekeeper.models import Host, Visit, VisitorType
from gatekeeper.web import db, transaction
from kiosk import draft as drafts
from kiosk import steps
from kiosk.forms import (
    ActionForm,
    HostForm,
    IdentityForm,
    IdTypeForm,
    InvitationForm,
    ReviewForm,
    VisitorTypeForm,
)
from kiosk.views import limiter

logger = logging.getLogger(__name__)
bp = Blueprint("check_in", __name__)

# The built-in types are shown in the visitor's language; a site's own types show
# the labels the site wrote.
VISITOR_TYPE_LABELS = {
    "visitor": _l("Visitor"),
    "vendor": _l("Vendor or supplier"),
    "service_provider": _l("Service provider or contractor"),
}
STEP_ENDPOINTS = {step: f"check_in.{step}" for step in drafts.STEPS}
NOT_A_CODE = _l("That is not an invitation code. Please check it.")
NO_INVITATION = _l(
    "We cannot find an invitation for today with that code. "
    "Please type your details instead."
)
INVITATION_GONE = _l("This invitation can no longer be used. Please type your details.")
# The waiting screens stay up while the front desk comes; the idle reset still
# ends them in the end, so a screen left waiting does not wait for ever.
WAIT_IDLE_SECONDS = 15 * 60


def type_label(kind: VisitorType | None, code: str = "") -> str:
    """A visitor type's name in the visitor's language."""
    code = kind.code if kind is not None else code
    if code in VISITOR_TYPE_LABELS:
        return str(VISITOR_TYPE_LABELS[code])

    if kind is None:
        return code

    locale = get_locale()
    if locale is not None and locale.language == "es" and kind.label_es:
        return kind.label_es

    return kind.label


def _draft() -> dict:
    return drafts.current(drafts.VISIT)


def _plan(draft: dict) -> drafts.Plan:
    return drafts.plan(db(), g.kiosk.site_id, draft)


def _to_missing(plan: drafts.Plan):
    return steps.to_missing(plan, STEP_ENDPOINTS)


def _step_page(step: str, template: str, plan: drafts.Plan, draft: dict, **values):
    return steps.step_page(step, template, plan, draft, STEP_ENDPOINTS, **values)


@bp.route("", methods=["GET", "POST"])
def who():
    """Step 1: visitor, vendor, service provider, or a type the site added."""
    draft = _draft()
    kinds = visitor_types.for_site(db(), g.kiosk.site_id)
    form = VisitorTypeForm()
    form.visitor_type.choices = [(kind.code, type_label(kind)) for kind in kinds]
    if form.validate_on_submit():
        if not draft:
            with transaction():
                draft = drafts.fresh(db(), drafts.VISIT)

        draft["type"] = form.visitor_type.data
        drafts.save(draft)
        return _to_missing(_plan(draft))

    if not form.is_submitted():
        form.visitor_type.data = draft.get("type")

    plan = _plan(draft)
    return _step_page("who", "kiosk/check_in/who.html", plan, draft, form=form)


@bp.route("/identity", methods=["GET", "POST"])
def identity():
    """Step 2: name and company typed, or filled in from an invitation."""
    draft = _draft()
    plan = _plan(draft)
    if not plan.reached("identity"):
        return _to_missing(plan)

    typed = request.form.get("visitor_name", "").strip()
    if request.method == "POST" and invitations.looks_like_code(typed):
        # A USB scanner types where the focus is: an invitation's code scanned into
        # the name field is taken as the invitation it is.
        return _use_invitation(plan, draft, InvitationForm(data={"code": typed}))

    form = IdentityForm()
    if form.validate_on_submit():
        if (form.visitor_name.data, form.company.data) != (
            draft.get("name"),
            draft.get("company"),
        ):
            # Typed over, the name is the visitor's own again, and an invitation
            # for somebody else no longer applies.
            draft.pop("name_from_licence", None)
            draft.pop("invitation", None)

        draft["name"] = form.visitor_name.data
        draft["company"] = form.company.data
        drafts.save(draft)
        return _to_missing(_plan(draft))

    if not form.is_submitted():
        form.visitor_name.data = draft.get("name", "")
        form.company.data = draft.get("company", "")

    return _identity_page(plan, draft, form, InvitationForm(formdata=None))


def _identity_page(plan, draft, form, invitation_form):
    return _step_page(
        "identity",
        "kiosk/check_in/identity.html",
        plan,
        draft,
        form=form,
        invitation_form=invitation_form,
    )


@bp.post("/invitation")
@limiter.limit("30 per 10 minutes")
def invitation():
    """Step 2 by invitation: the scanned code fills in name, company and host.

    The code is checked by the invitations service (unknown, used, cancelled, of
    another site or another day: no invitation). Photo ID is still asked for.
    """
    draft = _draft()
    plan = _plan(draft)
    if not plan.reached("identity"):
        return _to_missing(plan)

    form = InvitationForm()
    if not form.validate_on_submit():
        return _identity_page(plan, draft, IdentityForm(formdata=None), form)

    return _use_invitation(plan, draft, form)


def _use_invitation(plan: drafts.Plan, draft: dict, form: InvitationForm):
    """Fill the draft from the invitation the form's code names, or say why not."""
    code = form.code.data or ""
    found = None
    if not invitations.looks_like_code(code):
        form.code.errors.append(NOT_A_CODE)
    else:
        found = invitations.lookup(db(), g.kiosk.site, code)
        if found is None:
            form.code.errors.append(NO_INVITATION)

    if found is None:
        return _identity_page(plan, draft, IdentityForm(formdata=None), form)

    draft.update(
        name=found.visitor_name,
        company=found.company,
        host=found.host_id,
        invitation=found.id,
    )
    draft.pop("name_from_licence", None)
    drafts.save(draft)
    return _to_missing(_plan(draft))


@bp.route("/id-type", methods=["GET", "POST"])
def id_type():
    """Step 3: the kind of photo ID the visitor holds (CTPAT 10.2)."""
    draft = _draft()
    plan = _plan(draft)
    if not plan.reached("id_type"):
        return _to_missing(plan)

    form = IdTypeForm()
    form.id_type.choices = steps.id_type_choices()
    if form.validate_on_submit():
        steps.choose_id_type(draft, form.id_type.data)
        return _to_missing(_plan(draft))

    if not form.is_submitted():
        form.id_type.data = draft.get("id_type")

    return _step_page("id_type", "kiosk/id_type.html", plan, draft, form=form)


def _camera_step(step: str):
    """A camera screen on GET; on POST, the picture it took, judged (JSON)."""
    draft = _draft()
    if request.method == "POST":
        return steps.judge_photo(step, draft, STEP_ENDPOINTS, _plan)

    plan = _plan(draft)
    if not plan.reached(step):
        return _to_missing(plan)

    return _step_page(
        step,
        "kiosk/camera.html",
        plan,
        draft,
        skip_form=ActionForm() if step == "id_back" else None,
        skip_url=url_for("check_in.no_barcode"),
        no_camera_url=url_for("check_in.see_desk", why="camera"),
        **steps.camera_values(step, draft),
    )


@bp.route("/id-photo", methods=["GET", "POST"])
@steps.photo_limit
def id_photo():
    """Step 4: the photo side of the ID, held to the camera."""
    return _camera_step("id_photo")


@bp.route("/id-back", methods=["GET", "POST"])
@steps.photo_limit
def id_back():
    """Step 5, for a licence or ID card: its back, whose barcode is read."""
    return _camera_step("id_back")


@bp.post("/id-back/none")
def no_barcode():
    """Step 5 skipped: the visitor's card has no barcode on its back."""
    draft = _draft()
    plan = _plan(draft)
    if plan.reached("id_back") and ActionForm().validate_on_submit():
        steps.skip_barcode(draft)
        plan = _plan(draft)

    return _to_missing(plan)


@bp.route("/face", methods=["GET", "POST"])
@steps.photo_limit
def face():
    """Step 6: the face photo the badge carries."""
    return _camera_step("face")


@bp.route("/host", methods=["GET", "POST"])
def host():
    """Step 7: the company point of contact, searched as the visitor types."""
    draft = _draft()
    plan = _plan(draft)
    if not plan.reached("host"):
        return _to_missing(plan)

    form = HostForm()
    hosts = sites.active_hosts(db(), g.kiosk.site_id)
    form.host_id.choices = [(0, _("Choose a person"))] + [
        (person.id, person.name) for person in hosts
    ]
    if form.validate_on_submit():
        if form.host_id.data == 0:
            form.host_id.errors.append(_("Choose your point of contact."))
        else:
            draft["host"] = form.host_id.data
            drafts.save(draft)
            return _to_missing(_plan(draft))

    if not form.is_submitted():
        form.host_id.data = draft.get("host", 0)

    return _step_page("host", "kiosk/check_in/host.html", plan, draft, form=form)


@bp.route("/review", methods=["GET", "POST"])
def review():
    """The last step: the visitor checks what they gave, and the visit is recorded."""
    draft = _draft()
    form = ReviewForm()
    if form.is_submitted() and not draft:
        return _after_repeat(form)

    plan = _plan(draft)
    if not plan.reached("review"):
        return _to_missing(plan)

    if form.validate_on_submit():
        if form.submission_key.data != draft["key"]:
            return redirect(url_for("check_in.review"))

        try:
            visit = _record(draft, plan)
        except drafts.CaptureGone as gone:
            return _retake(draft, gone.kind)
        except drafts.InvitationGone:
            draft.pop("invitation", None)
            drafts.save(draft)
            flash(INVITATION_GONE, "error")
            return redirect(url_for("check_in.identity"))
        except visits.VisitError as error:
            form.form_errors.append(str(error))
        else:
            session.pop(drafts.KEY, None)
            session["visit"] = {"id": visit.id, "key": draft["key"]}
            return redirect(url_for("check_in.done"))

    form.submission_key.data = draft["key"]
    host_row = db().get(Host, draft["host"])
    return _step_page(
        "review",
        "kiosk/check_in/review.html",
        plan,
        draft,
        form=form,
        type_label=type_label(plan.kind),
        needs_id=plan.needs_id,
        id_type_label=steps.ID_TYPE_LABELS.get(draft.get("id_type", "")),
        host_name=host_row.name if host_row else "",
        exempt=plan.kind.id_required and not plan.needs_id,
    )


def _after_repeat(form: ReviewForm):
    """A second tap on Check in, after the first one ended the draft."""
    done = session.get("visit") or {}
    if form.validate_on_submit() and form.submission_key.data == done.get("key"):
        return redirect(url_for("check_in.done"))

    return redirect(url_for("check_in.who"))


def _record(draft: dict, plan: drafts.Plan) -> Visit:
    """Record the draft's arrival with its pictures, in one transaction."""
    try:
        with transaction():
            return _ours(drafts.record(db(), g.kiosk, draft, plan, steps.photo_key()))
    except IntegrityError as error:
        if not visits.is_duplicate_submission(error):
            raise

        # The same review arrived twice at once; the first one made the visit.
        return _ours(visits.find_by_submission(db(), draft["key"]))


def _ours(visit: Visit | None) -> Visit:
    """The visit, if this kiosk made it: a submission key names no one else's."""
    if visit is None or visit.kiosk_id != g.kiosk.id:
        abort(400)

    return visit


def _retake(draft: dict, kind: str):
    draft["captures"].pop(kind, None)
    drafts.save(draft)
    flash(_("That picture is too old to use. Please take it again."), "error")
    return redirect(url_for(STEP_ENDPOINTS[drafts.PHOTO_STEPS[kind]]))


# After the review: what the visitor sees while the visit is admitted, waits or is
# held. Only the visit this screen recorded, found from the session, is ever shown.


def _session_visit() -> Visit | None:
    held = session.get("visit")
    visit_id = held.get("id") if isinstance(held, dict) else None
    if not isinstance(visit_id, int):
        return None

    visit = db().get(Visit, visit_id)
    if visit is None or visit.kiosk_id != g.kiosk.id:
        return None

    return visit


def _outcome(visit: Visit | None, here: str):
    """Redirect to the screen this visit's admission belongs on, unless it is here."""
    if visit is None:
        return redirect(url_for("kiosk.start"))

    if visit.admission == "denied":
        target = "check_in.see_desk"
    elif visit.admission == "admitted":
        target = "check_in.done"
    else:
        target = "check_in.wait"

    return None if target == here else redirect(url_for(target))


@bp.get("/done")
def done():
    """Checked in: the badge number, and the button that prints the badge."""
    visit = _session_visit()
    elsewhere = _outcome(visit, "check_in.done")
    if elsewhere is not None:
        return elsewhere

    return render_template("kiosk/check_in/done.html", badge=visit.badge_number)


@bp.get("/wait")
def wait():
    """Please wait: for the front desk to check the ID, or for a held check-in."""
    visit = _session_visit()
    elsewhere = _outcome(visit, "check_in.wait")
    if elsewhere is not None:
        return elsewhere

    return render_template(
        "kiosk/check_in/wait.html",
        admission=visit.admission,
        idle_seconds=max(WAIT_IDLE_SECONDS, g.kiosk.site.idle_seconds),
    )


@bp.get("/status")
def status():
    """This screen's visit's admission, for the waiting screens to poll."""
    visit = _session_visit()
    if visit is None:
        return {"admission": None}, 404

    return {"admission": visit.admission}


@bp.get("/see-desk")
def see_desk():
    """Please see the front desk: no camera, or a check-in that was not admitted."""
    camera = request.args.get("why") == "camera"
    return render_template("kiosk/check_in/see_desk.html", camera=camera)


@bp.get("/badge")
def badge():
    """The badge of the visit this screen just recorded, which prints itself.

    The visit is found from this session only, never from the address, so a kiosk
    cannot be made to print anybody else's badge, and only once it is admitted.
    While the "checked in" screen lasts the visitor may print again, e.g. after a
    label jam; the count of prints is not limited or recorded. The face photo is
    not sent: the page takes it from the copy the kiosk kept when it took it.
    """
    visit = _session_visit()
    if (
        visit is None
        or visit.admission != "admitted"
        or visit.departed_at
        or visit.badge_revoked_at
    ):
        return redirect(url_for("kiosk.start"))

    # The built-in types have short badge labels of their own (badges.TYPE_LABELS);
    # a site's own type is printed as the site named it, in the visitor's language.
    kind = visitor_types.find(db(), visit.site_id, visit.visitor_type)
    label = type_label(kind, visit.visitor_type)
    return render_template(
        "badge/badge.html",
        face=badges.face(current_app.config["SECRET_KEY"], visit, type_label=label),
        script="kiosk/print-badge.js",
        back_url=url_for("check_in.done"),
    )
