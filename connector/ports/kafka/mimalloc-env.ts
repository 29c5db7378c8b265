/**
 * lz4-napi's native module allocates through its own copy of mimalloc, which by default keeps
 * freed pages for a while before returning them to the system. Each decompressed batch is freed
 * on another thread than the one that allocated it, and the Kafka→MQTT lz4 benchmark peaked
 * 70 MB higher for it (259 against 188 MB; docs/benchmark.md). mimalloc reads its options from the
 * environment when the module loads, so this must run first; an operator's own setting wins.
 */
process.env["MIMALLOC_PURGE_DELAY"] ??= "0";
export {};
