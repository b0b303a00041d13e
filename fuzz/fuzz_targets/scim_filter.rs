//! `scim_filter`: see `dirgate::fuzzing::scim_filter` (shared with tests/fuzz_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dirgate::fuzzing::scim_filter(data);
});
