"""Forms of the citizen's pages. Labels and messages are lazy strings: translated when shown."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import (DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.catalogue import Question
from portal.core import iban
from portal.core.forms import BaseForm
from portal.core.i18n import LANGUAGE_NAMES, localized
from portal.notifications.sms import to_e164

E164 = r"^\+[1-9][0-9]{7,14}$"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BenefitsForm(BaseForm):
    benefits = MultiCheckboxField(_l("Benefits and services"),
                                  validators=[DataRequired(message=_l("Choose at least one benefit or service."))])


def confirm_form(items: list[str], titles: dict[str, str]):
    """One yes/no question per data item, with a note when something is wrong."""

    class ConfirmForm(BaseForm):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            for item in items:
                choice = getattr(self, f"confirm_{item}")
                note = getattr(self, f"note_{item}")
                if choice.data == "no" and not (note.data or "").strip():
                    note.errors = list(note.errors) + [_l("Tell us what is wrong, so the agency can check it.")]
                    ok = False
            return ok

        def decisions(self) -> dict[str, tuple[bool, str | None]]:
            return {item: (getattr(self, f"confirm_{item}").data == "yes", getattr(self, f"note_{item}").data)
                    for item in items}

    for item in items:
        setattr(ConfirmForm, f"confirm_{item}", RadioField(
            titles[item], choices=[("yes", _l("Yes, this is correct")), ("no", _l("No, something is wrong"))],
            validators=[InputRequired(message=_l("Tell us whether this information is correct."))]))
        setattr(ConfirmForm, f"note_{item}", TextAreaField(
            _l("What is wrong?"), validators=[Optional(), Length(max=2000)]))
    return ConfirmForm


def questions_form(questions: list[Question], lang: str):
    class QuestionsForm(BaseForm):
        def values(self) -> dict:
            return {q.code: getattr(self, q.code).data for q in questions}

    for q in questions:
        label = localized(q.label, lang)
        if q.type == "money":
            field = DecimalField(label, places=2, validators=[
                InputRequired(message=_l("Enter an amount in lei, for example 1500.")),
                NumberRange(min=0, max=10_000_000, message=_l("Enter an amount of 0 or more."))])
        elif q.type == "iban":
            field = StringField(label, filters=[iban.normalise], validators=[
                InputRequired(message=_l("Enter the IBAN of your bank account.")) if q.required else Optional(),
                _valid_iban])
        else:
            field = RadioField(label, choices=[(o.value, localized(o.label, lang)) for o in q.options],
                               validators=[InputRequired(message=_l("Choose one of the options."))])
        setattr(QuestionsForm, q.code, field)
    return QuestionsForm


def _valid_iban(form, field) -> None:
    if field.data and not iban.is_valid(field.data):
        raise ValidationError(_l("Enter an IBAN like MD24AG000225100013104168: check the letters and digits."))


class ChildForm(BaseForm):
    child_idnp = RadioField(_l("Which child are you applying for?"),
                            validators=[InputRequired(message=_l("Choose the child you are applying for."))])


def documents_form(kinds: list[str], titles: dict[str, str]):
    class DocumentsForm(BaseForm):
        pass

    for kind in kinds:
        setattr(DocumentsForm, kind, FileField(titles[kind]))
    return DocumentsForm


class ContactForm(BaseForm):
    email = StringField(_l("E-mail address"), validators=[
        Optional(), Length(max=254), Email(message=_l("Enter an e-mail address like name@example.md."))])
    # Typed as people write numbers ("+39 333 100 0040", "0039…", "069 123 456"); kept in E.164.
    phone = StringField(_l("Mobile phone number"), filters=[lambda v: to_e164(v) or v if v else v], validators=[
        Optional(), Regexp(E164, message=_l("Enter the number with the country code, like +37369123456."))])
    language = RadioField(_l("In which language should we write to you?"),
                          choices=list(LANGUAGE_NAMES.items()),
                          validators=[InputRequired(message=_l("Choose a language."))])


class CheckForm(BaseForm):
    declaration = BooleanField(
        _l("I declare that the information in this application is true and complete."),
        validators=[DataRequired(message=_l("Confirm the declaration to send the application."))])


class AnswerForm(BaseForm):
    answer = TextAreaField(_l("Your answer"), validators=[
        DataRequired(message=_l("Write your answer.")), Length(max=4000)])


class EmptyForm(BaseForm):
    """A form with only the CSRF token, for buttons that change something."""
