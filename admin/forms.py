"""The console's forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from gatekeeper.forms import CleanName, CleanText
from gatekeeper.models import ID_TYPES, ROLE_LABELS
from gatekeeper.visitor_types import MAX_VALID_HOURS

BLOCK_KIND_LABELS = {
    "person": "Person",
    "company": "Company",
    "id_number": "ID number",
}
VERIFICATION_MODE_LABELS = {
    "attended": "Attended: the front desk compares each ID before the badge prints",
    "self_service": "Self-service: the guard compares the ID at the badge's first scan",
}


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[InputRequired("Enter a code."), Length(max=32)],
    )


class EnrolMfaForm(FlaskForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[InputRequired("Enter the code your app shows."), Length(max=16)],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=256)]
    )
    new = PasswordField(
        "New password",
        validators=[InputRequired("Choose a new password."), Length(max=256)],
    )
    repeat = PasswordField(
        "New password again",
        validators=[InputRequired(), EqualTo("new", "The two passwords differ.")],
    )


class ActionForm(FlaskForm):
    """A button that changes something: a form only for its CSRF token."""


class SiteChoiceForm(FlaskForm):
    site_id = SelectField("Site", coerce=int)


class VerifyIdForm(FlaskForm):
    id_type = SelectField(
        "Photo ID checked",
        choices=dict(ID_TYPES),
        validators=[InputRequired()],
    )
    # Which page the form was on, to go back to it: "today", "visit" or "queue".
    back = HiddenField()


class HoldDecisionForm(FlaskForm):
    """Approve or deny a check-in the block list held; the button says which."""

    decision = HiddenField(validators=[AnyOf(("approve", "deny"))])
    reason = StringField("Reason for the decision")


class EscortForm(FlaskForm):
    escort_name = StringField("Escort")


class DeskCheckInForm(FlaskForm):
    """A check-in made at the front desk, with photos uploaded instead of taken at
    the kiosk; the visitor type, host and ID type choices are the site's."""

    visitor_name = StringField("Full name", validators=[CleanName("Full name", 120)])
    company = StringField("Company", validators=[CleanName("Company", 120)])
    visitor_type = SelectField("Visitor type")
    host_id = SelectField("Point of contact", coerce=int)
    id_type = SelectField(
        "Photo ID checked",
        choices={"": "None (not required or exempt)", **ID_TYPES},
    )
    id_photo = FileField("Photo of the ID (front)")
    id_back = FileField("Back of a driver's licence (optional: its barcode)")
    face_photo = FileField("Face photo for the badge")


class BlockEntryForm(FlaskForm):
    kind = SelectField("Kind", choices=BLOCK_KIND_LABELS)
    value = StringField("Name, company or ID number")
    aliases = TextAreaField("Aliases, one a line (optional)")
    reason = StringField("Reason (optional)")


class ExemptionForm(FlaskForm):
    person_name = StringField("Full name")
    company = StringField("Company (optional: the exemption then holds only there)")
    note = StringField("Note (optional)")


class VisitorTypeForm(FlaskForm):
    """A visitor type's rules. The code names the type and is set when it is added."""

    code = StringField("Code (lowercase, e.g. auditor)")
    label = StringField("Label")
    label_es = StringField("Spanish label")
    escort_required = BooleanField("Escort required")
    id_required = BooleanField("Photo ID required")
    badge_valid_hours = IntegerField(
        "Badge valid for (hours; empty: the site's)",
        validators=[
            Optional(),
            NumberRange(
                1, MAX_VALID_HOURS, f"Badge validity is 1 to {MAX_VALID_HOURS} hours."
            ),
        ],
    )
    active = BooleanField("Offered at the kiosk")


class VerificationModeForm(FlaskForm):
    mode = RadioField(
        "How photo IDs are verified",
        choices=VERIFICATION_MODE_LABELS,
        validators=[InputRequired("Choose attended or self-service.")],
    )


class CloseVisitForm(FlaskForm):
    """Closing a visit whose visitor left without signing out; the services check
    the reason, so the console and the domain keep one rule."""

    reason = StringField("Reason for closing")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[InputRequired("Choose a username."), Length(max=64)],
    )
    display_name = StringField("Full name", validators=[CleanName("Full name", 120)])
    email = EmailField(
        "Email", validators=[Optional(), CleanText("Email", 254, required=False)]
    )
    role = SelectField("Role", choices=dict(ROLE_LABELS))
    sites = MultiCheckboxField("Sites", coerce=int)


class AccessForm(FlaskForm):
    role = SelectField("Role", choices=dict(ROLE_LABELS))
    sites = MultiCheckboxField("Sites", coerce=int)


class KioskForm(FlaskForm):
    site_id = SelectField("Site", coerce=int)
    name = StringField("Kiosk name", validators=[CleanText("Kiosk name", 80)])
