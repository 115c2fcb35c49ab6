"""What the kiosk's two flows share: a visitor's check-in and a driver's arrival.

Both ask one question a screen. Each step checks its answer on POST and redirects
to the first step still missing, so Back and Reload never send anything twice, and
a step opened out of order sends the person to the first one missing. A flow names
its steps' endpoints; the step page, the redirect and the camera steps are here.

The camera screens only capture: the server judges each picture (gatekeeper.photos)
and keeps it sealed under a capture key in the draft, and never sends an image back
to a kiosk. The back of a licence or ID card is read for its AAMVA barcode, whose
name replaces the one typed and whose expiry date is noted.
"""

import logging
from collections.abc import Callable, Mapping

from flask import (
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gatekeeper import images, photos
from gatekeeper.text import TextError, clean_name
from gatekeeper.web import db, transaction
from kiosk import draft as drafts
from kiosk.views import limiter

logger = logging.getLogger(__name__)

ID_TYPE_LABELS = {
    "drivers_licence": _l("Driver's licence"),
    "passport": _l("Passport"),
    "national_id": _l("National ID card"),
    "other_government": _l("Other government photo ID"),
}
# What each camera step photographs, and which way the camera should face.
CAMERA_STEPS = {
    "id_photo": ("id", "environment"),
    "id_back": ("id_back", "environment"),
    "face": ("face", "user"),
}
# A retake costs a tap and a second or two; thirty a minute is more than a person
# needs and still stops a script from filling the photo table.
PHOTO_RATE = "30 per minute"
# One allowance for every camera step of both flows together.
photo_limit = limiter.shared_limit(PHOTO_RATE, scope="kiosk-photo", methods=["POST"])


def photo_key() -> str:
    return current_app.config["SETTINGS"].PHOTO_KEY


def to_missing(plan: drafts.Plan, endpoints: Mapping[str, str]):
    """Send the person to the first step they have not done."""
    return redirect(url_for(endpoints[plan.missing]))


def step_page(
    step: str,
    template: str,
    plan: drafts.Plan,
    draft: dict,
    endpoints: Mapping[str, str],
    **values,
):
    """Render a step with the Back link and the count every step shows."""
    before = plan.before(step)
    return render_template(
        template,
        step=step,
        step_number=plan.steps.index(step) + 1,
        step_count=len(plan.steps),
        back_url=url_for(endpoints[before]) if before else url_for("kiosk.start"),
        draft=draft,
        **values,
    )


def id_type_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in ID_TYPE_LABELS.items()]


def choose_id_type(draft: dict, id_type: str) -> None:
    """Note the photo ID chosen; pictures of another card are no use for this one."""
    if id_type != draft.get("id_type"):
        with transaction():
            drafts.drop_photos(db(), draft, ("id", "id_back"))

    draft["id_type"] = id_type
    drafts.save(draft)


def camera_values(step: str, draft: dict) -> dict:
    """What the camera page needs to know of its step."""
    kind, facing = CAMERA_STEPS[step]
    return {
        "kind": kind,
        "facing": facing,
        "id_type_label": ID_TYPE_LABELS.get(draft.get("id_type")),
    }


def skip_barcode(draft: dict) -> None:
    """The back of the ID skipped: the person's card has no barcode on it."""
    with transaction():
        drafts.drop_photos(db(), draft, ("id_back",))

    draft["no_barcode"] = True
    drafts.save(draft)


def judge_photo(
    step: str,
    draft: dict,
    endpoints: Mapping[str, str],
    replan: Callable[[dict], drafts.Plan],
):
    """Judge an uploaded picture and keep it under a capture key in the draft.

    The answer is JSON for photo.js: advice to retake, or the address of the step
    the flow's plan (replan, read again with the picture) says is next.
    """
    plan = replan(draft)
    if not plan.reached(step):
        missing = url_for(endpoints[plan.missing])
        return photo_answer([_("Please start again.")], 409, next_url=missing)

    upload = request.files.get("photo")
    if upload is None:
        return photo_answer([_("No picture arrived. Please take it again.")], 400)

    data = upload.read(images.MAX_BYTES + 1)
    # Judging takes a while and writes nothing until the picture passes: the
    # transaction the planning read in is ended first, so SQLite's write lock is
    # not held meanwhile (nothing was written, and no row is expired by it).
    db().commit()
    kind = CAMERA_STEPS[step][0]
    with transaction():
        capture = photos.judge_and_keep(
            db(),
            site=g.kiosk.site,
            kind=kind,
            data=data,
            photo_key=photo_key(),
            kiosk_id=g.kiosk.id,
        )
        if capture.ok:
            drafts.drop_photos(db(), draft, (kind,))

    if not capture.ok:
        return photo_answer([str(advice) for advice in capture.advice], 422)

    draft["captures"][kind] = capture.capture_key
    answer = {}
    if capture.licence is not None:
        answer = _take_licence(draft, capture)

    drafts.save(draft)
    next_url = url_for(endpoints[replan(draft).missing])
    return photo_answer([], 200, next_url=next_url, **answer)


def _take_licence(draft: dict, capture: photos.Capture) -> dict:
    """Use the name the licence's barcode gives, and note whether it has expired."""
    draft["expired"] = bool(capture.expired)
    try:
        name = clean_name(capture.licence.full_name, label=_("Your full name"))
    except TextError:
        logger.info("a licence's name could not be used as the person's name")
        return {"expired": draft["expired"]}

    draft["name"] = name
    draft["name_from_licence"] = True
    return {"name": name, "expired": draft["expired"]}


def photo_answer(advice: list, status: int, *, next_url: str | None = None, **more):
    answer = {"ok": status == 200, "advice": advice, **more}
    if next_url:
        answer["next"] = next_url

    return answer, status
