"""The strict loader of signing policies: JSON in, frozen policy out, every problem listed (issue 5).

Unknown keys anywhere are refused (a misspelt ``max_failure`` must not
silently keep the default); numbers are checked for type, then the policy
objects check their own limits when built.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from signing.documents.metadata import CLIENT_KINDS, KINDS
from signing.policies.policy import (
    BUSINESS,
    CONSUMER,
    Alternative,
    BiometricPolicy,
    CodePolicy,
    Factor,
    PayoutPolicy,
    SigningPolicies,
    SigningRule,
    default_policies,
)


class PolicyError(ValueError):
    """A policy file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the signing policy is refused: " + "; ".join(problems))
        self.problems = problems


_TOP = {"request_ttl_hours", "codes", "biometrics", "payout", "rules"}
_CODES = {"digits", "ttl_seconds", "max_failures", "resend_after_seconds", "max_sends"}
_BIOMETRICS = {"movements", "challenge_ttl_seconds", "assertion_max_age_seconds"}
_PAYOUT = {"threshold_mrp", "delay_hours"}
_RULE = {"name", "cites", "documents", "clients", "purposes", "any_of", "review_minutes", "review_waivable"}
_ALTERNATIVE = {"all_of", "distinct_kinds"}


def load_policies(data: object) -> SigningPolicies:
    """Build policies from a JSON object (or its text); absent sections keep their defaults.

    Unknown keys anywhere, wrong types and broken limits are all listed in
    one :class:`PolicyError`.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise PolicyError([f"not valid JSON: {error}"]) from None
    reader = _PolicyReader()
    policies = reader.read(data)
    if reader.problems or policies is None:
        raise PolicyError(reader.problems or ["the policy cannot be built"])
    return policies


def load_rule(data: object) -> SigningRule:
    """One rule from its JSON (as a signing request keeps the rule it was made under)."""
    reader = _PolicyReader()
    rules = reader._rules([data])
    if reader.problems or not rules:
        raise PolicyError(reader.problems or ["the rule cannot be built"])
    return rules[0]


class _PolicyReader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def _object(self, value: object, where: str, allowed: set[str]) -> Mapping | None:
        if not isinstance(value, Mapping):
            self.problems.append(f"{where}: must be an object")
            return None
        for key in sorted(set(value) - allowed, key=str):
            self.problems.append(f"{where}.{key}: unknown key")
        return value

    def _number(self, section: Mapping, key: str, where: str, integer: bool = False) -> Any:
        value = section[key]
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            self.problems.append(f"{where}.{key}: must be {'a whole number' if integer else 'a number'}")
            return None
        return value

    def _built(self, where: str, make):  # noqa: ANN001, ANN202 - a constructor and its result
        try:
            return make()
        except (ValueError, TypeError) as error:
            self.problems.append(f"{where}: {error}")
            return None

    def read(self, data: object) -> SigningPolicies | None:
        top = self._object(data, "policy", _TOP)
        if top is None:
            return None
        base = default_policies()
        values: dict[str, Any] = {}
        if "request_ttl_hours" in top:
            hours = self._number(top, "request_ttl_hours", "policy")
            values["request_ttl"] = dt.timedelta(hours=hours) if hours is not None else None
        if "codes" in top:
            values["codes"] = self._section(top["codes"], "codes", _CODES, base.codes, {
                "digits": ("digits", int, None), "ttl_seconds": ("ttl", float, "seconds"),
                "max_failures": ("max_failures", int, None), "resend_after_seconds": ("resend_after", float, "seconds"),
                "max_sends": ("max_sends", int, None)}, CodePolicy)
        if "biometrics" in top:
            values["biometrics"] = self._section(top["biometrics"], "biometrics", _BIOMETRICS, base.biometrics, {
                "movements": ("movements", int, None), "challenge_ttl_seconds": ("challenge_ttl", float, "seconds"),
                "assertion_max_age_seconds": ("assertion_max_age", float, "seconds")}, BiometricPolicy)
        if "payout" in top:
            values["payout"] = self._section(top["payout"], "payout", _PAYOUT, base.payout, {
                "threshold_mrp": ("threshold_mrp", int, None), "delay_hours": ("delay", float, "hours")},
                PayoutPolicy)
        if "rules" in top:
            values["rules"] = self._rules(top["rules"])
        if self.problems:
            return None
        return self._built("policy", lambda: SigningPolicies(**{"rules": base.rules, **values}))

    def _section(self, value: object, where: str, allowed: set[str], default, mapping: dict, make):  # noqa: ANN001
        section = self._object(value, where, allowed)
        if section is None:
            return None
        kwargs = {}
        for key in section:
            if key not in mapping:
                continue
            name, kind, unit = mapping[key]
            number = self._number(section, key, where, integer=kind is int)
            if number is not None:
                kwargs[name] = dt.timedelta(**{unit: number}) if unit else number
        if self.problems:
            return None
        current = {f: getattr(default, f) for f in default.__dataclass_fields__}
        return self._built(where, lambda: make(**{**current, **kwargs}))

    def _strings(self, value: object, where: str, allowed: Iterable[str]) -> frozenset[str] | None:
        allowed = tuple(allowed)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
            self.problems.append(f"{where}: must be a non-empty list of: {', '.join(allowed)}")
            return None
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            self.problems.append(f"{where}: unknown {', '.join(unknown)}; known: {', '.join(allowed)}")
            return None
        return frozenset(value)

    def _rules(self, value: object) -> tuple[SigningRule, ...] | None:
        if not isinstance(value, list) or not value:
            self.problems.append("rules: must be a non-empty list")
            return None
        rules = []
        for index, item in enumerate(value):
            where = f"rules[{index}]"
            rule = self._object(item, where, _RULE)
            if rule is None:
                continue
            missing = sorted({"name", "documents", "any_of"} - set(rule))
            for key in missing:
                self.problems.append(f"{where}.{key}: is required")
            if missing:
                continue
            kwargs: dict[str, Any] = {"name": rule["name"] if isinstance(rule["name"], str) else ""}
            kwargs["documents"] = self._strings(rule["documents"], f"{where}.documents", KINDS)
            if "clients" in rule:
                kwargs["clients"] = self._strings(rule["clients"], f"{where}.clients", CLIENT_KINDS)
            if "purposes" in rule:
                kwargs["purposes"] = self._strings(rule["purposes"], f"{where}.purposes", (BUSINESS, CONSUMER))
            if "cites" in rule:
                cites = rule["cites"]
                if not isinstance(cites, list) or not all(isinstance(c, str) for c in cites):
                    self.problems.append(f"{where}.cites: must be a list of rule ids")
                else:
                    kwargs["cites"] = tuple(cites)
            if "review_minutes" in rule:
                minutes = self._number(rule, "review_minutes", where)
                kwargs["review"] = dt.timedelta(minutes=minutes) if minutes is not None else None
            if "review_waivable" in rule:
                if not isinstance(rule["review_waivable"], bool):
                    self.problems.append(f"{where}.review_waivable: must be true or false")
                else:
                    kwargs["review_waivable"] = rule["review_waivable"]
            kwargs["any_of"] = self._alternatives(rule["any_of"], f"{where}.any_of")
            if any(v is None for v in kwargs.values()):
                continue
            built = self._built(where, lambda kw=kwargs: SigningRule(**kw))
            if built is not None:
                rules.append(built)
        return tuple(rules)

    def _alternatives(self, value: object, where: str) -> tuple[Alternative, ...] | None:
        if not isinstance(value, list) or not value:
            self.problems.append(f"{where}: must be a non-empty list of alternatives")
            return None
        alternatives = []
        for index, item in enumerate(value):
            here = f"{where}[{index}]"
            alternative = self._object(item, here, _ALTERNATIVE)
            if alternative is None:
                return None
            factors = frozenset()
            if "all_of" in alternative:
                names = self._strings(alternative["all_of"], f"{here}.all_of", [f.value for f in Factor])
                if names is None:
                    return None
                factors = frozenset(Factor(n) for n in names)
            kinds = 0
            if "distinct_kinds" in alternative:
                kinds = self._number(alternative, "distinct_kinds", here, integer=True)
                if kinds is None:
                    return None
            built = self._built(here, lambda f=factors, k=kinds: Alternative(f, k))
            if built is None:
                return None
            alternatives.append(built)
        return tuple(alternatives)


__all__ = ["PolicyError", "load_policies", "load_rule"]
