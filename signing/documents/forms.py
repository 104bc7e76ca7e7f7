"""What a document's upload asks of the tenant's registered forms (issue 15), as a narrow contract.

The document service stores documents and knows nothing of tenants or of
policies; the wiring hands it a ``FormCheck`` (signing/tenants/forms.py)
that, in the upload's own unit of work, says whether the form version the
document names is one of the tenant's, whether its declared kind is the
form's, and whether the tenant may upload at all. A declared kind whose
policy is weaker than the form's is a downgrade: refused, and audited in a
transaction of its own (the refused upload writes nothing else).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import Problem


@dataclass(frozen=True)
class FormClaim:
    """What the upload says about itself: the form version named, the kind declared, the client and purpose."""

    tenant: str
    form: str | None
    kind: str | None
    client_kind: str | None
    purpose: str | None
    template_version: str | None


@dataclass(frozen=True)
class FormVerdict:
    """The problems found; ``downgrade`` names the refused downgrade (audited) when there is one."""

    problems: tuple[Problem, ...] = ()
    downgrade: str | None = None
    form_kind: str | None = None
    form_version: str | None = None


class FormCheck(Protocol):
    def check(self, tx: Any, claim: FormClaim) -> FormVerdict: ...


def record_downgrade(tx: Any, at: dt.datetime, actor: str, tenant: str, values: Mapping[str, Any],
                     verdict: FormVerdict) -> None:
    """The audit entry of a refused downgrade: who declared which kind for which form, and why it was refused."""
    tx.audit.append(at=at, actor=actor, action="document.downgrade_refused", subject=f"tenant:{tenant}",
                    details={"tenant": tenant, "form": values.get("form"), "form_kind": verdict.form_kind,
                             "form_version": verdict.form_version, "declared_kind": values.get("kind"),
                             "why": verdict.downgrade, "contract_number": values.get("contract_number")})
