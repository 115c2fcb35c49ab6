"""The console's forms."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from gatekeeper.forms import CleanName, CleanText
from gatekeeper.models import ID_TYPES, ROLE_LABELS


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
