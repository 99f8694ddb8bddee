-- Cold reads of a year of hours (issue 17): beside each node-day block of the 1h tier, its
-- averages' ts and JSON texts, zstd-compressed (read_cache.stored_texts), written with the
-- block. A snapshot of 8,760 hours then decompresses 365 values instead of decoding 365
-- blocks and encoding 8,760 averages. About 6 kB a node-day (0.07 B per raw sample); the 1m
-- tier keeps none (it would cost ~4 B per raw sample). Blocks written before this have NULL
-- and are filled in the background (SqliteSamples.compact).
ALTER TABLE tier_blocks ADD COLUMN texts BLOB;
-- What is left to fill: empty once done, so finding nothing costs nothing.
CREATE INDEX IF NOT EXISTS tier_blocks_untexted ON tier_blocks (node_id, bucket_ms) WHERE tier = '1h' AND texts IS NULL;
