"""Raw record text in compressed blocks.

The ingest engine hands each batch's new records (an Arrow string array, in order) to
:func:`write_blocks`, which cuts it into blocks of about ``BLOCK_BYTES`` of consecutive records,
compresses each with zstd level 1 in one call, and writes one ``raw_blocks`` row per block and
one ``raw_records`` row (block, start, length) per record. The Python loop is per block, never
per record: a 64 MiB batch is ~64 blocks. Reading a record decompresses its block once.
"""
from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CODEC = "zstd"
BLOCK_BYTES = 1 << 20
_codec = pa.Codec(CODEC, compression_level=1)


def write_blocks(con: duckdb.DuckDBPyConnection, block_prefix: str, target: str, event_ids: pa.Array,
                 texts: pa.Array) -> int:
    """Store ``texts`` (trailing newlines removed) for ``event_ids``; returns the number of blocks."""
    if len(texts) == 0:
        return 0
    texts = pc.utf8_rtrim(texts.cast(pa.large_string()), characters="\r\n")
    texts = pa.concat_arrays([texts]) if texts.offset else texts  # offsets from 0
    bufs = texts.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[: len(texts) + 1] if bufs[1] else np.zeros(1, np.int64)
    data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
    # block boundaries: every record starts in the block whose byte range covers its start
    cuts = [0]
    next_cut = BLOCK_BYTES
    while True:
        k = int(np.searchsorted(offsets, next_cut, side="left"))
        if k >= len(texts):
            break
        k = max(k, cuts[-1] + 1)
        cuts.append(k)
        next_cut = int(offsets[k]) + BLOCK_BYTES
    cuts.append(len(texts))
    ids, codecs, counts, sizes, payloads = [], [], [], [], []
    block_of = np.empty(len(texts), dtype=object)
    for b, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        start, end = int(offsets[lo]), int(offsets[hi])
        block_id = f"{block_prefix}-{b}"
        ids.append(block_id)
        codecs.append(CODEC)
        counts.append(hi - lo)
        sizes.append(end - start)
        payloads.append(_codec.compress(data[start:end], asbytes=True))
        block_of[lo:hi] = block_id
    starts = offsets[:-1] - np.repeat(offsets[np.array(cuts[:-1])], np.diff(cuts))
    lengths = np.diff(offsets)
    blocks = pa.table({"block_id": ids, "codec": codecs, "records": pa.array(counts, pa.int32()),
                       "raw_bytes": pa.array(sizes, pa.int64()), "data": pa.array(payloads, pa.binary())})
    records = pa.table({"event_id": event_ids, "target_table": pa.array([target] * len(texts)),
                        "block_id": pa.array(block_of.tolist(), pa.string()),
                        "start": pa.array(starts, pa.int64()), "length": pa.array(lengths, pa.int64())})
    con.register("_vigil_raw_blocks", blocks)
    con.register("_vigil_raw_records", records)
    try:
        con.execute("INSERT INTO raw_blocks SELECT * FROM _vigil_raw_blocks")
        con.execute("INSERT INTO raw_records SELECT * FROM _vigil_raw_records")
    finally:
        con.unregister("_vigil_raw_blocks")
        con.unregister("_vigil_raw_records")
    return len(ids)


def read_raw(con: duckdb.DuckDBPyConnection, event_ids: Iterable[str]) -> dict[str, str]:
    """Raw text by event id; each needed block is decompressed once."""
    wanted = list(dict.fromkeys(event_ids))
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT r.event_id, r.block_id, r.start, r.length, b.codec, b.raw_bytes, b.data "
        "FROM raw_records r JOIN raw_blocks b USING (block_id) "
        "WHERE r.event_id IN (SELECT unnest(?)) ORDER BY r.block_id, r.start", [wanted]).fetchall()
    out: dict[str, str] = {}
    cache: tuple[str, bytes] | None = None
    for event_id, block_id, start, length, codec, raw_bytes, payload in rows:
        if cache is None or cache[0] != block_id:
            cache = (block_id, pa.Codec(codec).decompress(payload, decompressed_size=raw_bytes, asbytes=True))
        out[event_id] = cache[1][start:start + length].decode("utf-8")
    return out
