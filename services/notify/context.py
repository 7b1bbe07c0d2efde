"""What notify's routes, consumers and jobs receive.

It names no feature: what a feature starts for the whole process (the push services allowed and the
VAPID keys for the outbox, the alert hub for staff alerts, the webhook hosts for webhooks) is handed in
by app.py and found again by its type (`part`), so every feature may depend on this module and none on
another through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from services.notify.policy.decide import Policy
from services.notify.settings import NotifySettings
from shared.context import Context

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class NotifyContext(Context):
    config: NotifySettings
    policy: Policy
    """Caps and quiet hours, as configured."""
    started: tuple[object, ...] = ()
    """What the features started for this process, one object of each type (see `part`)."""

    def part(self, kind: type[T]) -> T:
        """The object of this type a feature started for this process (app.py hands them in)."""
        for part in self.started:
            if isinstance(part, kind):
                return part
        raise LookupError(f"notify was started without a {kind.__name__}")
