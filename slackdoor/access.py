"""Who may send for whom: the channel decides the unit (catalog/recipients.csv).

One check, `decide`, that every file and every command passes through:
- a channel listed for exactly one unit speaks for that unit;
- the operator's channel (unit_code OPERATOR) speaks for nobody: files sent there are refused;
- a channel of no unit speaks for nobody;
- a direct message speaks for the unit whose listed contacts (e-mails) include the sender's
  e-mail, when that is exactly one unit; anyone else is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

OPERATOR = "OPERATOR"

NO_UNIT = "no_unit_channel"
OPERATOR_CHANNEL = "operator_channel"
NOT_A_CONTACT = "not_a_contact"
MANY_UNITS = "contact_of_many_units"


@dataclass(frozen=True)
class Decision:
    unit_code: str | None  # the unit this conversation speaks for, or None
    refusal: str | None = None  # why not (NO_UNIT, OPERATOR_CHANNEL, NOT_A_CONTACT, MANY_UNITS)
    channel_name: str | None = None


def _emails(row: Mapping) -> set[str]:
    return {e.strip().lower() for e in (row.get("emails") or "").split(",") if e.strip()}


def channel_units(recipients: Mapping[str, Mapping]) -> dict[str, str]:
    """Channel name (without '#') -> unit code, for channels listed for exactly one unit."""
    seen: dict[str, list[str]] = {}
    for code, row in recipients.items():
        name = (row.get("slack_channel") or "").strip().lstrip("#")
        if name:
            seen.setdefault(name, []).append(code)
    return {name: codes[0] for name, codes in seen.items() if len(codes) == 1}


def decide(
    *,
    channel_id: str,
    channel_type: str | None,
    user: str | None,
    recipients: Mapping[str, Mapping],
    channel_name: Callable[[str], str | None],
    user_email: Callable[[str], str | None],
) -> Decision:
    """Which unit a message in `channel_id` from `user` speaks for."""
    if channel_type == "im" or channel_id.startswith("D"):
        email = (user_email(user) or "").strip().lower() if user else ""
        units = sorted(c for c, row in recipients.items() if c != OPERATOR and email and email in _emails(row))
        if len(units) == 1:
            return Decision(units[0], None, None)
        return Decision(None, MANY_UNITS if units else NOT_A_CONTACT, None)
    name = (channel_name(channel_id) or "").lstrip("#")
    op = (recipients.get(OPERATOR, {}).get("slack_channel") or "").strip().lstrip("#")
    if name and name == op:
        return Decision(None, OPERATOR_CHANNEL, name)
    unit = channel_units(recipients).get(name) if name else None
    if unit is None or unit == OPERATOR:
        return Decision(None, NO_UNIT, name or None)
    return Decision(unit, None, name)


def channel_of_contact(email: str | None, recipients: Mapping[str, Mapping]) -> str | None:
    """The reporting channel of the one unit whose contacts include `email` (to say where to send)."""
    email = (email or "").strip().lower()
    units = [c for c, row in recipients.items() if c != OPERATOR and email and email in _emails(row)]
    if len(units) != 1:
        return None
    return (recipients[units[0]].get("slack_channel") or "").strip().lstrip("#") or None
