"""Form validators shared by both apps, built on the rules in gatekeeper.text."""

from wtforms.validators import ValidationError

from gatekeeper.text import TextError, clean_name, clean_text


class CleanText:
    """Normalise a one-line field and refuse control or invisible characters."""

    def __init__(self, label, max_length: int, *, required: bool = True):
        self.label = label
        self.max_length = max_length
        self.required = required

    def __call__(self, form, field):
        try:
            field.data = clean_text(
                field.data,
                label=str(self.label),
                max_length=self.max_length,
                required=self.required,
            )
        except TextError as error:
            raise ValidationError(str(error)) from error


class CleanName(CleanText):
    """A person's or company's name in any script."""

    def __call__(self, form, field):
        try:
            field.data = clean_name(
                field.data, label=str(self.label), max_length=self.max_length
            )
        except TextError as error:
            raise ValidationError(str(error)) from error
