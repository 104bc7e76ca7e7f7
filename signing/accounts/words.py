"""What the cabinet sends the borrower's phone, in English (the catalogues' source), said in the account's language.

``make i18n`` extracts these (api/pages/babel.cfg) into the pages' catalogues; the wiring hands the
services ``api.catalogues.say``.
"""

from __future__ import annotations

from collections.abc import Callable

Say = Callable[[str, str], str]


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only, translate later" (make i18n)
    return message


INVITATION = N_("Qoltanba: {organisation} invites you to your personal cabinet: {link} . Valid {hours} h. Only you "
                "should open it.")
CODE = N_("Qoltanba: {code} is your code to confirm this phone for your personal cabinet. Valid {minutes} min. "
          "Do not share it.")
PHONE_CHANGED = N_("Qoltanba: the phone of your personal cabinet was changed to {phone}. If it was not you, call "
                   "your MFO at once.")
BANK_CHANGED = N_("Qoltanba: the bank details of your personal cabinet were changed (account ending {tail}). If it "
                  "was not you, call your MFO at once.")


def english(language: str, message: str) -> str:
    """A ``Say`` that says everything in English (no catalogues: tests of the domain alone)."""
    return message


__all__ = ["BANK_CHANGED", "CODE", "INVITATION", "PHONE_CHANGED", "N_", "Say", "english"]
