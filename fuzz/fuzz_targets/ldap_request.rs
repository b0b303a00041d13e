//! `ldap_request`: see `dirgate::fuzzing::ldap_request` (shared with tests/fuzz_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dirgate::fuzzing::ldap_request(data);
});
