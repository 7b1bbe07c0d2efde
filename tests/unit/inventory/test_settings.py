from __future__ import annotations

import pytest

from services.inventory.settings import InventorySettings
from shared.errors import ConfigError
from shared.settings import load_env


def test_by_default_a_ready_order_is_held_48_hours_and_one_nobody_prepares_6_hours() -> None:
    assert load_env(InventorySettings, {}) == InventorySettings(pickup_hold_s=48 * 3600, prepare_hold_s=6 * 3600)


def test_holds_come_from_accueil_variables() -> None:
    settings = load_env(InventorySettings, {"ACCUEIL_PICKUP_HOLD_S": "7200", "ACCUEIL_PREPARE_HOLD_S": "86400"})
    assert (settings.pickup_hold_s, settings.prepare_hold_s) == (7200, 86_400)


@pytest.mark.parametrize("value", ["soon", "5"])
def test_a_bad_hold_is_refused_at_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="ACCUEIL_PICKUP_HOLD_S"):
        load_env(InventorySettings, {"ACCUEIL_PICKUP_HOLD_S": value})
