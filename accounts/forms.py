"""allauth's forms as GOV.UK wants them: labels, no placeholders, no password-reset hint."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm, ReauthenticateForm
from allauth.account.internal.flows.login import record_authentication
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as MFAReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms


class GovukFormMixin:
    """No placeholders (GOV.UK labels say it all); security codes as GOV.UK asks."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.pop("placeholder", None)
            if name == "password":
                field.help_text = ""
            if name == "code":
                field.widget.attrs.update(
                    {
                        "inputmode": "numeric",
                        "spellcheck": "false",
                        "class": "govuk-input--width-10",
                    }
                )


class SignInForm(GovukFormMixin, LoginForm):
    pass


class PasswordReauthenticateForm(GovukFormMixin, ReauthenticateForm):
    pass


class CodeForm(GovukFormMixin, AuthenticateForm):
    pass


class CodeReauthenticateForm(GovukFormMixin, MFAReauthenticateForm):
    pass


class SetUpAuthenticatorForm(GovukFormMixin, ActivateTOTPForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            # A right code from the new authenticator proves it is the person, just now:
            # the recovery codes shown next need no second prompt.
            record_authentication(
                context.request, self.user, method="mfa", type="totp", reauthenticated=True
            )
        return cleaned
