"""Forms built from question definitions: validation of answers, and rendering for previews.

Plain Python over WTForms; no Flask, no database.
"""

from forms.build import QuestionForm, form_for
from forms.messages import Problem, say
from forms.validate import FieldError, Validated, validate_answers

__all__ = ["FieldError", "Problem", "QuestionForm", "Validated", "form_for", "say", "validate_answers"]
