"""How many rows a statement touched, read from PostgreSQL's command tag."""

from shared.db import affected_rows


def test_the_count_is_the_tags_last_number() -> None:
    assert affected_rows("DELETE 3") == 3
    assert affected_rows("UPDATE 0") == 0
    assert affected_rows("INSERT 0 5") == 5
