//! Randomness for secrets (tokens, generated passwords, TOTP secrets), from
//! the operating system.

/// Fills `buf` from the OS generator. Without one the process cannot make a
/// single safe secret, so failing loudly is the only sound answer.
pub fn fill(buf: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// `n` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// A short random id for a request or connection in the logs (not a
/// secret: 64 bits, hex).
pub fn request_id() -> String {
    data_encoding::HEXLOWER.encode(&bytes::<8>())
}
