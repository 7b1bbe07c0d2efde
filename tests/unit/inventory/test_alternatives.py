from __future__ import annotations

from shared.alternatives import Candidate, rank


def test_only_available_products_of_the_same_category_closest_name_first() -> None:
    candidates = [
        Candidate("H1", "Claw hammer", "tools", 9),
        Candidate("M2", "Oat drink 1L", "dairy", 4),
        Candidate("M3", "Whole milk 1L", "dairy", 8),
        Candidate("M4", "Oat milk 1L barista", "dairy", 0),
        Candidate("M5", "Oat milk 1L organic", "dairy", 2),
    ]
    ranked = [c.sku for c in rank("Oat milk 1L", "dairy", candidates)]
    assert ranked[0] == "M5" and sorted(ranked[1:]) == ["M2", "M3"]


def test_accents_and_case_do_not_hide_a_close_name() -> None:
    candidates = [Candidate("Y2", "YAOURT NATURE BIO", "dairy", 1), Candidate("Y3", "Crème fraîche", "dairy", 5)]
    assert rank("Yaourt nature", "dairy", candidates)[0].sku == "Y2"
