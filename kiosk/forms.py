"""The kiosk's forms. Labels are lazy so they follow the language chosen."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from gatekeeper import badges
from gatekeeper.forms import CleanName, CleanText

# The random key a check-in's review screen carries, so a double tap finds the
# visit its first tap made.
SUBMISSION_KEY = r"^[A-Za-z0-9_-]{16,64}$"
# An invitation code is a few dozen characters; anything longer is not one.
INVITATION_CODE_MAX = 64


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Enrolment code"),
        validators=[InputRequired(_l("Enter the enrolment code.")), Length(max=32)],
    )


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[InputRequired()])


class VisitorTypeForm(FlaskForm):
    """Step 1: who the person is. Each choice is a large button that submits."""

    visitor_type = RadioField(
        _l("I am a"),
        validators=[InputRequired(_l("Choose who you are."))],
    )


class IdentityForm(FlaskForm):
    """Step 2: the visitor's name and company, typed."""

    visitor_name = StringField(
        _l("Your full name"),
        validators=[CleanName(_l("Your full name"), 120)],
    )
    company = StringField(
        _l("Your company"),
        validators=[CleanName(_l("Your company"), 120)],
    )


class InvitationForm(FlaskForm):
    """Step 2 instead: the code of an invitation, scanned or typed."""

    # A USB barcode scanner types the code into this field and presses Enter.
    code = StringField(
        _l("Invitation code"),
        validators=[CleanText(_l("Invitation code"), INVITATION_CODE_MAX)],
        render_kw={"spellcheck": "false", "autocapitalize": "characters"},
    )


class IdTypeForm(FlaskForm):
    """Step 3: the kind of photo ID the visitor will hold to the camera."""

    id_type = RadioField(
        _l("Which photo ID will you show?"),
        validators=[InputRequired(_l("Choose the type of photo ID."))],
    )


class HostForm(FlaskForm):
    """Step 6: the company point of contact (CTPAT 10.2)."""

    host_id = SelectField(
        _l("Who are you here to see?"),
        coerce=int,
        validate_choice=True,
        validators=[InputRequired(_l("Choose your point of contact."))],
    )


class ReviewForm(FlaskForm):
    """The last step: the visitor confirms, and the visit is recorded."""

    submission_key = HiddenField(validators=[InputRequired(), Regexp(SUBMISSION_KEY)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in but its CSRF token."""


class SignOutForm(FlaskForm):
    # The 6-digit number a visitor types, or the token in the badge's QR code that a
    # USB barcode scanner types as keystrokes and ends with Enter.
    badge_number = StringField(
        _l("Badge number"),
        validators=[
            CleanText(_l("Badge number"), badges.TOKEN_MAX_LENGTH),
            Regexp(
                rf"^(?:[0-9]{{6}}|[A-Z2-7]{{{badges.TOKEN_MIN_LENGTH},"
                rf"{badges.TOKEN_MAX_LENGTH}}})$",
                message=_l("A badge number is 6 digits."),
            ),
        ],
        render_kw={"autofocus": True, "spellcheck": "false"},
    )
