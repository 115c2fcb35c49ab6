"""Every route of both apps that accepts a form or a body, and what to send it.

test_routes walks both apps' route tables: a route taking POST, PUT, PATCH or DELETE
that is neither here nor in EXCLUDED (with its reason) fails the run, so a new form
cannot go unfuzzed. Fields name a kind (payloads.value_for) or a list of the
choices a form offers; a prefixed form's fields carry the prefix as the browser
sends it. Camera steps and uploads are fuzzed with pictures in test_uploads.
"""

from dataclasses import dataclass, field

from gatekeeper import cases, reviews
from gatekeeper.models import BLOCK_KINDS, ID_TYPES, ROLES
from tests.fuzz.payloads import random_bytes

ID_TYPE_CODES = list(ID_TYPES)


@dataclass(frozen=True)
class Target:
    """One route's fuzzing: its fields, how many examples, where its caller stands."""

    fields: dict = field(default_factory=dict)
    examples: int = 150
    # A kiosk route: the path the draft is brought to before each example.
    reach: str | None = None
    # Uploads: field name to a strategy of bytes (sent as files, multipart).
    files: dict = field(default_factory=dict)
    # Tables a refusal may still write to, and why (e.g. a failed sign-in counted).
    refusal_writes: tuple = ()
    # Answers that are not refusals: an import reports its refused rows with 422
    # and keeps the good ones, so the log must verify after it.
    partial: tuple = ()


NO_FIELDS = Target(examples=40)
VISIT_CORRECTION = {
    "visitor_name": "text",
    "company": "text",
    "host_name": "text",
    "id_type": ID_TYPE_CODES,
    "visitor_type": ["visitor", "contractor", "driver"],
    "reason": "text",
}
DRIVER = {
    "reference": "text",
    "driver_name": "text",
    "carrier": "text",
    "truck_number": "text",
    "trailer_number": "text",
    "id_type": ID_TYPE_CODES,
    "decision": ["admit", "refuse", "fallback"],
    "fallback_reason": "text",
}
SIGN_IN_FAILURES = ("audit_events",)

CONSOLE = {
    "console.choose_site": Target({"site_id": "int"}),
    "auth.login": Target(
        {"username": "text", "password": "text"}, refusal_writes=SIGN_IN_FAILURES
    ),
    "auth.second_factor": Target({"code": "text"}, refusal_writes=SIGN_IN_FAILURES),
    "auth.enrol_mfa": Target({"code": "text"}, refusal_writes=SIGN_IN_FAILURES),
    "auth.new_recovery_codes": NO_FIELDS,
    "auth.change_password": Target(
        {"current": "text", "new": "text", "repeat": "text"},
        refusal_writes=SIGN_IN_FAILURES,
    ),
    "auth.logout": NO_FIELDS,
    "visits.verify_id": Target({"id_type": ID_TYPE_CODES, "back": "text"}),
    "visits.decide_hold": Target({"decision": ["approve", "deny"], "reason": "text"}),
    "visits.set_escort": Target({"escort_name": "text"}),
    "visits.sign_out": NO_FIELDS,
    "visits.close": Target({"reason": "text"}),
    "badges.check": Target({"code": "text"}),
    "badges.scan": Target(files={"frame": random_bytes}, examples=40),
    "badges.confirm_id": NO_FIELDS,
    "badges.revoke": NO_FIELDS,
    "front_desk.check_in": Target(
        {
            "visitor_name": "text",
            "company": "text",
            "visitor_type": ["visitor", "contractor", "driver"],
            "host_id": "int",
            "id_type": ID_TYPE_CODES,
        },
        files={"id_photo": random_bytes, "face_photo": random_bytes},
    ),
    "screening.add_block": Target(
        {
            "kind": list(BLOCK_KINDS),
            "value": "text",
            "aliases": "text",
            "reason": "text",
        }
    ),
    "screening.remove_block": NO_FIELDS,
    "screening.grant_exemption": Target(
        {"person_name": "text", "company": "text", "note": "text"}
    ),
    "screening.revoke_exemption": NO_FIELDS,
    "site_rules.update_type": Target(
        {
            "type-{type_id}-code": "text",
            "type-{type_id}-label": "text",
            "type-{type_id}-label_es": "text",
            "type-{type_id}-escort_required": "bool",
            "type-{type_id}-id_required": "bool",
            "type-{type_id}-badge_valid_hours": "int",
            "type-{type_id}-active": "bool",
        }
    ),
    "site_rules.add_type": Target(
        {
            "new-code": "text",
            "new-label": "text",
            "new-label_es": "text",
            "new-escort_required": "bool",
            "new-id_required": "bool",
            "new-badge_valid_hours": "int",
            "new-active": "bool",
        }
    ),
    "site_rules.set_verification": Target(
        {"mode": ["front_desk", "self_service", "guard"]}
    ),
    "users.create": Target(
        {
            "username": "text",
            "display_name": "text",
            "email": "text",
            "role": list(ROLES),
            "sites": "int",
        }
    ),
    "users.edit": Target({"role": list(ROLES), "sites": "int"}),
    "users.disable": NO_FIELDS,
    "users.enable": NO_FIELDS,
    "users.reset_password": NO_FIELDS,
    "users.reset_mfa": NO_FIELDS,
    "kiosks.create": Target({"site_id": "int", "name": "text"}),
    "kiosks.new_code": NO_FIELDS,
    "kiosks.revoke": NO_FIELDS,
    "kiosks.rename": Target({"name": "text"}),
    "sites_admin.create": Target(
        {"code": "text", "name": "text", "timezone": ["UTC", "America/Chicago"]}
    ),
    "sites_admin.save_settings": Target(
        {
            "name": "text",
            "timezone": ["UTC", "America/Mexico_City"],
            "verification_mode": ["front_desk", "self_service"],
            "badge_size": ["label", "card"],
            "languages": ["en", "en,es", "es"],
            "badge_valid_hours": "int",
            "driver_overdue_hours": "int",
            "idle_seconds": "int",
            "log_retention_years": "int",
            "photo_retention_days": "int",
        }
    ),
    "sites_admin.test_email": Target(examples=10),
    "sites_admin.add_host": Target(
        {"name": "text", "email": "text", "department": "text"}
    ),
    "sites_admin.deactivate_host": NO_FIELDS,
    "sites_admin.reactivate_host": NO_FIELDS,
    "sites_admin.import_hosts": Target(files={"file": "csv"}),
    # Each accepted example builds a whole backup: a few are enough.
    "backups.download": Target(
        {"encrypt": "bool", "passphrase": "text", "repeat": "text"}, examples=15
    ),
    "evidence.download": Target({"first": "date", "last": "date"}, examples=30),
    "integrity.verify": Target({"site_id": "int"}, examples=30),
    "integrity.resolve": Target({"site_id": "int", "note": "text"}),
    "invitations.create": Target(
        {
            "visitor_name": "text",
            "company": "text",
            "email": "text",
            "expected_on": "date",
            "host_id": "int",
        }
    ),
    "invitations.cancel": NO_FIELDS,
    "outbox.retry": NO_FIELDS,
    "gate.register": Target(DRIVER),
    "gate.refuse": Target({"refuse-reason": "text"}),
    "gate.walk_up": Target({**DRIVER, "submission_key": "text"}),
    "gate.depart": Target(
        {
            "seal_number": "text",
            "seal_confirmation": "text",
            "trailer_number": "text",
            "view": "bool",
            "verify": "bool",
            "tug": "bool",
            "twist": "bool",
        },
        files={"seal_photo": random_bytes},
    ),
    "gate.scan_seal": Target(files={"frame": random_bytes}, examples=40),
    "gate.mark_left": Target({"left-reason": "text"}),
    "gate.report": Target(
        {
            "report-kind": list(cases.KINDS),
            "report-summary": "text",
            "report-notified": "text",
        }
    ),
    "gate.settings": Target(
        {
            "appointment_window_minutes": "int",
            "driver_overdue_hours": "int",
            "seal_pattern": "text",
            "walk_in_pickups": "bool",
        }
    ),
    "appointments.create": Target(
        {
            "reference": "text",
            "carrier": "text",
            "driver_name": "text",
            "truck_number": "text",
            "expected_at": "date",
            "seal_number": "text",
            "consignee_email": "text",
        }
    ),
    "appointments.cancel": NO_FIELDS,
    "appointments.upload": Target(files={"file": "csv"}, partial=(422,)),
    "appointments.add_carrier": Target({"name": "text"}),
    "appointments.issue_key": NO_FIELDS,
    "appointments.revoke_key": NO_FIELDS,
    "cases.add_note": Target({"note": "text", "notified": "text"}),
    "cases.close": Target({"resolution": "text"}),
    "cases.decide_seal": Target({"decision": ["accept", "reject"], "note": "text"}),
    "records.correct_visit": Target(VISIT_CORRECTION),
    "carrier_api.appointments": Target(examples=150),
    "roster.start_roll_call": Target({"note": "text"}),
    "roster.mark": NO_FIELDS,
    "roster.unmark": NO_FIELDS,
    "roster.close_roll_call": Target({"note": "text"}),
    "reviews.create": Target(
        {
            "kind": list(reviews.KINDS),
            "period_start": "date",
            "period_end": "date",
            "sampled": "text",
            "findings": "text",
            "corrective_action": "text",
        }
    ),
}

VISITOR_TYPES = ["visitor", "contractor", "driver"]
KIOSK = {
    "kiosk.enrol": Target({"code": "text"}),
    "kiosk.language": Target({"lang": ["en", "es", "fr"]}),
    "kiosk.reset": NO_FIELDS,
    "kiosk.scan": Target(files={"frame": random_bytes}, examples=40),
    "kiosk.sign_out": Target({"badge_number": "text"}),
    "check_in.who": Target({"visitor_type": VISITOR_TYPES}, reach="/check-in"),
    "check_in.identity": Target(
        {"visitor_name": "text", "company": "text"}, reach="/check-in/identity"
    ),
    "check_in.invitation": Target({"code": "text"}, reach="/check-in/identity"),
    "check_in.id_type": Target({"id_type": ID_TYPE_CODES}, reach="/check-in/id-type"),
    "check_in.id_photo": Target(
        files={"photo": random_bytes}, reach="/check-in/id-photo", examples=40
    ),
    "check_in.id_back": Target(
        files={"photo": random_bytes}, reach="/check-in/id-back", examples=40
    ),
    "check_in.no_barcode": Target(reach="/check-in/id-back", examples=25),
    "check_in.face": Target(
        files={"photo": random_bytes}, reach="/check-in/face", examples=40
    ),
    "check_in.host": Target({"host_id": "int"}, reach="/check-in/host"),
    "check_in.review": Target({"submission_key": "text"}, reach="/check-in/review"),
    "pickup.reference": Target({"reference": "text"}, reach="/pickup"),
    "pickup.scan": Target(files={"frame": random_bytes}, reach="/pickup", examples=40),
    "pickup.name": Target({"driver_name": "text"}, reach="/pickup/name"),
    "pickup.carrier": Target({"carrier": "text"}, reach="/pickup/carrier"),
    "pickup.vehicle": Target(
        {"truck_number": "text", "trailer_number": "text"}, reach="/pickup/vehicle"
    ),
    "pickup.id_type": Target({"id_type": ID_TYPE_CODES}, reach="/pickup/id-type"),
    "pickup.id_photo": Target(
        files={"photo": random_bytes}, reach="/pickup/id-photo", examples=40
    ),
    "pickup.id_back": Target(
        files={"photo": random_bytes}, reach="/pickup/id-back", examples=40
    ),
    "pickup.no_barcode": Target(reach="/pickup/id-back", examples=25),
    "pickup.review": Target({"submission_key": "text"}, reach="/pickup/review"),
}

# Routes taking a body that are not fuzzed here, each with the reason.
EXCLUDED: dict[str, str] = {}
