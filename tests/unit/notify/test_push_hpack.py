"""The push requests' HPACK encoder says what hpack's decoder (the peer's side) reads back, block after
block, while its dynamic table fills, evicts and changes size."""

from __future__ import annotations

import random

from hpack import Decoder, NeverIndexedHeaderTuple
from hypothesis import given
from hypothesis import strategies as st

from services.notify.push.hpack_encoder import PushEncoder, never_indexed

Field = tuple[bytes, bytes]


def request(authorization: bytes, token: str, n: int) -> list[Field]:
    return [
        (b":method", b"POST"),
        (b":scheme", b"https"),
        (b":authority", b"api.push.apple.com"),
        NeverIndexedHeaderTuple(b":path", f"/3/device/{token}".encode()),
        (b"authorization", authorization),
        (b"apns-topic", b"com.example.shop"),
        (b"apns-push-type", b"alert"),
        (b"apns-priority", b"10"),
        NeverIndexedHeaderTuple(b"apns-expiration", str(1_765_000_000 + n).encode()),
        NeverIndexedHeaderTuple(b"apns-collapse-id", f"offer-{n}".encode()),
    ]


def test_blocks_decode_to_what_was_encoded_across_new_credentials_and_table_sizes() -> None:
    encoder, decoder = PushEncoder(), Decoder()
    rng = random.Random(7)
    authorization = b"bearer " + b"a" * 180
    for n in range(2_000):
        if n % 97 == 0:  # a renewed JWT: a new value to index
            authorization = b"bearer " + bytes(rng.choice(b"abcdefghij") for _ in range(180))
        if n % 501 == 0:  # the peer announces another table size (h2 sets it on the encoder)
            size = rng.choice([0, 256, 4096])
            encoder.header_table_size = size
            decoder.max_allowed_table_size = max(size, 4096)
        fields = request(authorization, f"{n:064x}", n)
        assert decoder.decode(encoder.encode(fields), raw=True) == [(f[0], f[1]) for f in fields]


def test_a_repeated_field_costs_one_byte_and_a_message_field_is_never_indexed() -> None:
    encoder = PushEncoder()
    first = encoder.encode([(b"authorization", b"bearer x" * 30)])
    assert len(first) > 200
    assert encoder.encode([(b"authorization", b"bearer x" * 30)]) == b"\xbe"  # index 62: the newest entry
    assert never_indexed(b":path", b"/3/device/ab")[0] & 0xF0 == 0x10
    assert never_indexed(b"apns-collapse-id", b"x")[0] == 0x10


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"authorization", b"apns-topic", b"x-custom", b":path", b"content-type"]),
            st.binary(max_size=60),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.integers(min_value=1, max_value=6),
)
def test_any_fields_round_trip_repeatedly(fields: list[tuple[bytes, bytes, bool]], repeats: int) -> None:
    encoder, decoder = PushEncoder(), Decoder()
    block = [NeverIndexedHeaderTuple(n, v) if never else (n, v) for n, v, never in fields]
    for _ in range(repeats):
        assert decoder.decode(encoder.encode(block), raw=True) == [(n, v) for n, v, _ in fields]
