"""HPACK (RFC 7541) for the push requests, as hpack encodes it, minus the CPU a push does not need.

hpack searches its tables, Huffman-codes every literal and logs each field, for every field of every
request: a third of a push request's CPU. A push request is a few fields that repeat on every request
(the authorization, the topic...) and two or three of its own (the device's path, its collapse id).
So here:
- a field of one message (a NeverIndexedHeaderTuple) is a plain literal, never indexed, coded directly;
- a field that repeats goes through hpack's own encoder once (into the dynamic table, as hpack does),
  and its bytes are reused while the dynamic table stays as it was; anything that changes the table
  (a field added, a new table size from the peer) forgets them all;
- no Huffman coding: it saves a fifth of a few literal bytes, at a CPU cost larger than the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

from hpack import Encoder, HeaderTuple
from hpack.hpack import encode_integer
from hpack.table import HeaderTable

INDEXED_BIT = 0x80
INCREMENTAL_MASK, INCREMENTAL = 0xC0, 0x40
NEVER_INDEXED = 0x10
KNOWN_FIELDS = 256

Headers = Iterable[HeaderTuple | tuple[bytes | str, bytes | str] | tuple[bytes | str, bytes | str, bool | None]]


class PushEncoder(Encoder):
    def __init__(self) -> None:
        super().__init__()
        self._known: dict[tuple[bytes, bytes], bytes] = {}
        """Fields seen before, as encoded while the dynamic table is as it is now."""

    def encode(self, headers: Headers | dict[bytes | str, bytes | str], huffman: bool = True) -> bytes:
        """The header block of `headers` (h2 hands them over as bytes; `huffman` is not used)."""
        block: list[bytes] = []
        if self.header_table.resized:  # the peer set a new table size: said first, and entries may be gone
            block.append(self._encode_table_size_change())
            self.header_table.resized = False
            self._known.clear()
        known = self._known
        for header in headers.items() if isinstance(headers, dict) else headers:
            name, value = _bytes(header[0]), _bytes(header[1])
            if isinstance(header, HeaderTuple) and not header.indexable:
                block.append(never_indexed(name, value))
                continue
            encoded = known.get((name, value))
            if encoded is None:
                encoded = self.add((name, value), False, False)
                if encoded[0] & INCREMENTAL_MASK == INCREMENTAL:  # added: every other index moved by one
                    known.clear()
                elif len(known) < KNOWN_FIELDS:
                    known[(name, value)] = encoded
            block.append(encoded)
        return b"".join(block)


def _bytes(text: bytes | str) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def never_indexed(name: bytes, value: bytes) -> bytes:
    """RFC 7541 6.2.3: a literal never indexed, its name by static index when the static table has it."""
    static = HeaderTable.STATIC_TABLE_MAPPING.get(name)
    if static is not None:
        prefix = encode_integer(static[0], 4)
        prefix[0] |= NEVER_INDEXED
        return bytes(prefix) + bytes(encode_integer(len(value), 7)) + value
    literal_name = bytes(encode_integer(len(name), 7)) + name
    return bytes([NEVER_INDEXED]) + literal_name + bytes(encode_integer(len(value), 7)) + value
