"""An operator's email is compared without regard to case: kept in lower case, and never longer than an
address may be once lowered."""

from __future__ import annotations

import pytest

from services.notify.operators.service import MAX_EMAIL, email_of
from shared.errors import Invalid


def test_an_email_is_kept_in_lower_case() -> None:
    assert email_of("Marie.Curie+Ops@Example.COM") == "marie.curie+ops@example.com"


def test_an_email_that_grows_past_the_limit_in_lower_case_is_refused_naming_it() -> None:
    grows = "İ" * 100 + "@" + "d" * 53  # 154 characters, 254 once lowered: "İ" becomes two
    assert len(email_of(grows)) == MAX_EMAIL
    with pytest.raises(Invalid) as refused:
        email_of(grows + "x")
    assert refused.value.field == "email"
