"""What an audit entry may hold, and whose writes make one."""

from __future__ import annotations

from shared.audit import REDACTED, actor_of, redact
from shared.auth import Principal


def test_secrets_and_tokens_are_redacted_at_any_depth() -> None:
    resource = {
        "webhook_id": "crm",
        "secret": "whsec_abc",
        "targets": [{"token": "eyJ...", "provider": "fcm", "keys": {"auth": "x", "p256dh": "y"}}],
    }
    assert redact(resource) == {
        "webhook_id": "crm",
        "secret": REDACTED,
        "targets": [{"token": REDACTED, "provider": "fcm", "keys": {"auth": REDACTED, "p256dh": REDACTED}}],
    }


def test_a_shoppers_name_and_device_are_redacted_from_an_order() -> None:
    order = {"order_id": "ord_1", "status": "ready", "device_id": "dev_1", "display_name": "Camille"}
    assert redact(order) == {"order_id": "ord_1", "status": "ready", "device_id": REDACTED, "display_name": REDACTED}


def test_a_null_resource_stays_null() -> None:
    assert redact(None) is None


def test_only_the_admin_token_and_operators_are_actors() -> None:
    assert actor_of(Principal(role="admin", subject="admin")) == "admin"
    assert actor_of(Principal(role="marketer", subject="mia@example.com")) == "mia@example.com"
    assert actor_of(Principal(role="store_manager", subject="sam@example.com", stores=("rivoli",))) == "sam@example.com"
    for role, subject in (("device", "dev_1"), ("staff", "stf_1"), ("service", "geo")):
        assert actor_of(Principal(role=role, subject=subject)) is None  # type: ignore[arg-type]
    assert actor_of(None) is None
