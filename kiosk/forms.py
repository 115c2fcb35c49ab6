"""The kiosk's forms. Labels are lazy so they follow the language chosen."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from gatekeeper import badges
from gatekeeper.forms import CleanName, CleanText


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Enrolment code"),
        validators=[InputRequired(_l("Enter the enrolment code.")), Length(max=32)],
    )


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[InputRequired()])


class CheckInForm(FlaskForm):
    visitor_type = RadioField(
        _l("I am a"),
        validators=[InputRequired(_l("Choose who you are."))],
    )
    visitor_name = StringField(
        _l("Your full name"),
        validators=[CleanName(_l("Your full name"), 120)],
    )
    company = StringField(
        _l("Your company"),
        validators=[CleanName(_l("Your company"), 120)],
    )
    host_id = SelectField(
        _l("Who are you here to see?"),
        coerce=int,
        validate_choice=True,
        validators=[InputRequired(_l("Choose your point of contact."))],
    )
    id_type = RadioField(
        _l("Photo ID you will show"),
        validators=[InputRequired(_l("Choose the type of photo ID."))],
    )
    # A random key the page is rendered with: a double tap submits it twice and the
    # second submission finds the visit the first one made.
    submission_key = HiddenField(
        validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")]
    )


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
