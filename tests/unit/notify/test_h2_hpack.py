"""The stand-ins' HPACK codec against hpack's own: what one encodes, the other decodes to the same
fields, across header blocks sharing one dynamic table (as on a connection)."""

from __future__ import annotations

import pytest
from hpack import Decoder, Encoder, NeverIndexedHeaderTuple
from hpack.exceptions import HPACKDecodingError, InvalidTableSizeError, OversizedHeaderListError
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.huffman_table import decode_huffman as hpack_decode_huffman
from hypothesis import given
from hypothesis import strategies as st

from tests.support.h2_hpack import LeanDecoder, PlainEncoder, decode_huffman

HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)

NAMES = st.sampled_from([b":status", b":path", b"apns-id", b"content-type", b"authorization", b"x-custom"])
VALUES = st.binary(max_size=300).filter(lambda v: b"\n" not in v) | st.sampled_from([b"200", b"/", b"POST"])
FIELD = st.tuples(NAMES, VALUES, st.booleans())
BLOCKS = st.lists(st.lists(FIELD, min_size=1, max_size=12), min_size=1, max_size=8)


@given(blocks=BLOCKS, huffman=st.booleans(), table_size=st.sampled_from([0, 256, 4096]))
def test_lean_decoder_reads_what_hpack_writes(
    blocks: list[list[tuple[bytes, bytes, bool]]], huffman: bool, table_size: int
) -> None:
    encoder, decoder = Encoder(), LeanDecoder(Decoder())
    encoder.header_table_size = table_size  # the first block then starts with a table size update
    for block in blocks:
        fields = [NeverIndexedHeaderTuple(n, v) if never else (n, v) for n, v, never in block]
        decoded = decoder.decode(encoder.encode(fields, huffman=huffman), raw=True)
        assert decoded == [(n, v) for n, v, _ in block]


@given(blocks=BLOCKS)
def test_hpack_reads_what_the_plain_encoder_writes(blocks: list[list[tuple[bytes, bytes, bool]]]) -> None:
    encoder, decoder = PlainEncoder(), Decoder()
    for block in blocks:
        fields = [(n, v) for n, v, _ in block]
        assert [tuple(h) for h in decoder.decode(encoder.encode(fields), raw=True)] == fields
    assert len(decoder.header_table.dynamic_entries) == 0  # nothing indexed


def test_the_lean_decoder_keeps_hpacks_limits() -> None:
    with pytest.raises(HPACKDecodingError):
        LeanDecoder(Decoder()).decode(b"\x80")  # index 0
    with pytest.raises(HPACKDecodingError):
        LeanDecoder(Decoder()).decode(b"\x82\x3f\xe1\x1f")  # a table size update after a field
    with pytest.raises(HPACKDecodingError):
        LeanDecoder(Decoder()).decode(b"\x00\x05ab")  # truncated
    with pytest.raises(OversizedHeaderListError):
        LeanDecoder(Decoder(max_header_list_size=100)).decode(b"\x00\x01a\x7f\x00" + b"x" * 127)  # 160 bytes
    small = Decoder()
    small.max_allowed_table_size = 100
    with pytest.raises(InvalidTableSizeError):
        LeanDecoder(small).decode(b"\x3f\xe1\x1f")  # a table of 4096 bytes, above the 100 allowed
    assert LeanDecoder(Decoder()).decode(b"\x82\x84") == [(":method", "GET"), (":path", "/")]


@given(text=st.binary(max_size=200))
def test_huffman_decoding_byte_by_byte_reads_what_hpack_writes(text: bytes) -> None:
    assert decode_huffman(HUFFMAN.encode(text)) == text


@given(data=st.binary(max_size=40))
def test_huffman_decoding_refuses_what_hpack_refuses(data: bytes) -> None:
    try:
        expected: bytes | type[HPACKDecodingError] = hpack_decode_huffman(data)
    except HPACKDecodingError:
        expected = HPACKDecodingError
    try:
        got: bytes | type[HPACKDecodingError] = decode_huffman(data)
    except HPACKDecodingError:
        got = HPACKDecodingError
    assert got == expected
