"""HPACK for the stand-ins' HTTP/2 connections, cheaper in CPU than hpack's own and as correct.

hpack decodes each field through several calls, a HeaderTuple and a debug log line, and encodes each
field with a search of the dynamic table and Huffman coding. Half of a stand-in's time per request
went there. These do the same work in straight loops: the decoder reads every representation of RFC
7541 (Huffman-coded strings through hpack's own table), keeps the dynamic table, and enforces the
table-size and header-list limits as hpack does; the encoder sends each field as an indexed static
entry or a plain literal without indexing, so a field always encodes the same and is computed once.
"""

from __future__ import annotations

from typing import Any

from hpack import Decoder, Encoder
from hpack.exceptions import HPACKDecodingError, InvalidTableSizeError, OversizedHeaderListError
from hpack.hpack import encode_integer
from hpack.huffman_table import HUFFMAN_COMPLETE, HUFFMAN_EMIT_SYMBOL, HUFFMAN_FAIL, HUFFMAN_TABLE
from hpack.table import HeaderTable


class PlainEncoder(Encoder):
    """HPACK without the dynamic table and without Huffman coding, for answers: each field then encodes
    the same every time, so the bytes of a field seen before are reused. The stand-ins' answers are a
    status and a header or two, one of them unique (apns-id): indexing and Huffman-coding them cost
    more CPU than the bytes they save on a loopback connection."""

    CACHED_FIELDS = 1024  # the first ones seen: the status lines and constant headers

    def __init__(self) -> None:
        super().__init__()
        self._fields: dict[tuple[bytes, bytes], bytes] = {}

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        block = []
        if self.header_table.resized:  # the peer's SETTINGS changed the table's size: say so, though unused
            block.append(self._encode_table_size_change())
            self.header_table.resized = False
        fields = self._fields
        for name, value, *_ in headers:
            encoded = fields.get((name, value))
            if encoded is None:
                encoded = _plain_field(name, value)
                if len(fields) < self.CACHED_FIELDS:
                    fields[(name, value)] = encoded
            block.append(encoded)
        return b"".join(block)


def _plain_field(name: bytes, value: bytes) -> bytes:
    """RFC 7541: indexed when the static table has the field, else a literal without indexing."""
    static = HeaderTable.STATIC_TABLE_MAPPING.get(name)
    if static is not None:
        index = static[1].get(value)
        if index is not None:
            prefix = encode_integer(index, 7)
            prefix[0] |= 0x80
            return bytes(prefix)
        return bytes(encode_integer(static[0], 4)) + bytes(encode_integer(len(value), 7)) + value
    return b"\x00" + bytes(encode_integer(len(name), 7)) + name + bytes(encode_integer(len(value), 7)) + value


class LeanDecoder(Decoder):
    """hpack's Decoder with a decode() in one loop (h2 sets its limits as on any Decoder)."""

    def __init__(self, like: Decoder) -> None:
        super().__init__(like.max_header_list_size)
        self.max_allowed_table_size = like.max_allowed_table_size

    def decode(self, data: bytes, raw: bool = False) -> list[tuple[Any, Any]]:  # type: ignore[override]
        table = self.header_table
        get = table.get_by_index
        headers: list[tuple[bytes, bytes]] = []
        size = 0
        pos, end = 0, len(data)
        while pos < end:
            first = data[pos]
            if first & 0x80:  # indexed field
                index, pos = _integer(data, pos, 7)
                if index == 0:
                    raise HPACKDecodingError("Index 0 is not a field")
                name, value = get(index)
            elif first & 0x60 == 0x20:  # dynamic table size update: only before the first field
                if headers:
                    raise HPACKDecodingError("Table size update not at the start of the block")
                new_size, pos = _integer(data, pos, 5)
                if new_size > self.max_allowed_table_size:
                    raise InvalidTableSizeError("Encoder exceeded max allowable table size")
                self.header_table_size = new_size
                continue
            else:  # a literal: with incremental indexing (01), without indexing (0000) or never indexed (0001)
                indexing = first & 0x40
                index, pos = _integer(data, pos, 6 if indexing else 4)
                if index:
                    name = get(index)[0]
                else:
                    name, pos = _string(data, pos)
                value, pos = _string(data, pos)
                if indexing:
                    table.add(name, value)
            headers.append((name, value))
            size += 32 + len(name) + len(value)
            if size > self.max_header_list_size:
                raise OversizedHeaderListError(f"A header list larger than {self.max_header_list_size}")
        self._assert_valid_table_size()
        if raw:
            return headers
        try:
            return [(name.decode(), value.decode()) for name, value in headers]
        except UnicodeDecodeError as error:
            raise HPACKDecodingError("Unable to decode headers as UTF-8") from error


def _integer(data: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    """RFC 7541 5.1: the integer at `pos` and the position after it."""
    mask = (1 << prefix_bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data) or shift > 28:
            raise HPACKDecodingError("Truncated or oversized integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    """RFC 7541 5.2: the string at `pos` (Huffman-decoded if so marked) and the position after it."""
    first = data[pos]
    length = first & 0x7F
    if length == 0x7F:
        length, pos = _integer(data, pos, 7)
    else:
        pos += 1
    end = pos + length
    if end > len(data):
        raise HPACKDecodingError("Truncated header block")
    return (decode_huffman(data[pos:end]) if first & 0x80 else data[pos:end]), end


_BY_BYTE: list[tuple[int, bytes | None, bool]] = []


def _huffman_by_byte() -> list[tuple[int, bytes | None, bool]]:
    """hpack's Huffman decoding automaton (256 states, one step per 4-bit nibble) folded into one step
    per byte: for each state and byte, the next state, the bytes emitted (None: not a Huffman
    code) and whether the string may end there. 65,536 entries, built on first use."""
    if not _BY_BYTE:
        for state in range(len(HUFFMAN_TABLE) // 16):
            for byte in range(256):
                emitted, fails, current, flags = bytearray(), False, state, 0
                for nibble in (byte >> 4, byte & 0x0F):
                    current, flags, symbol = HUFFMAN_TABLE[current * 16 + nibble]
                    fails = fails or bool(flags & HUFFMAN_FAIL)
                    if flags & HUFFMAN_EMIT_SYMBOL:
                        emitted.append(symbol)
                _BY_BYTE.append((current, None if fails else bytes(emitted), bool(flags & HUFFMAN_COMPLETE)))
    return _BY_BYTE


def decode_huffman(data: bytes) -> bytes:
    """What hpack's decode_huffman returns (and refuses), a byte at a time rather than a nibble."""
    table = _huffman_by_byte()
    state, complete, out = 0, True, bytearray()
    try:
        for byte in data:
            state, emitted, complete = table[state << 8 | byte]
            out += emitted  # type: ignore[arg-type]  # None (not a code) raises TypeError
    except TypeError:
        raise HPACKDecodingError("Invalid Huffman string") from None
    if not complete:
        raise HPACKDecodingError("Incomplete Huffman string")
    return bytes(out)
