"""`values.is_id`: what may be read as a record id."""

from __future__ import annotations

import pytest

from cible.core.values import is_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", True),
        (42, True),
        ("0", True),
        ("¹2", False),  # isdigit() says yes, int() says no
        ("٣", False),  # an Arabic-Indic digit: int() reads it, an id is ASCII
        ("-1", False),
        ("", False),
        (" 7", False),
        (True, False),
        (-1, False),
        (2**63 - 1, True),
        (str(2**63), False),
        ("9" * 40, False),
    ],
)
def test_only_ascii_digits_within_a_64_bit_key_are_ids(raw: object, expected: bool) -> None:
    assert is_id(raw) is expected
