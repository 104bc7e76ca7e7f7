"""The borrower's own account in the MFO's personal cabinet (issue 16; LOAN-7, LOAN-8, LOAN-9).

- ``registration``: the MFO's invitation, registration with the factors LOAN-7 names, changes of phone
  and bank details with biometrics and EDS (LOAN-9), the old phone told;
- ``ceremony``: the factors an account action needs, one proof at a time (SMS code, biometrics, EDS);
- ``sessions``: login with the password (and the authenticator's code once enrolled), lockout, sessions
  (LOAN-8), the borrower's own TOTP;
- ``cabinet``: the borrower's documents, signing requests, signed copies and evidence;
- ``lockout``: the password's one lockout, also for the PIN of a held key at the CSC door (issue 19);
- ``passwords`` (argon2id), ``views`` (commands and answers), ``store`` (what they touch), ``words`` (SMS texts).
"""

from signing.accounts.cabinet import BorrowerCabinet, Desk
from signing.accounts.ceremony import Ceremonies, Proof
from signing.accounts.lockout import CabinetPins
from signing.accounts.passwords import Passwords
from signing.accounts.registration import DETAILS_CHANGE, REGISTRATION, BorrowerAccounts
from signing.accounts.sessions import CabinetSessions
from signing.accounts.store import CabinetPolicy
from signing.accounts.views import (
    AccountView,
    Borrower,
    CeremonyView,
    DetailsChange,
    Invitation,
    NewSession,
    TotpEnrolment,
)

__all__ = ["DETAILS_CHANGE", "REGISTRATION", "AccountView", "Borrower", "BorrowerAccounts", "BorrowerCabinet",
           "CabinetPins", "CabinetPolicy", "CabinetSessions", "Ceremonies", "CeremonyView", "Desk", "DetailsChange",
           "Invitation", "NewSession", "Passwords", "Proof", "TotpEnrolment"]
