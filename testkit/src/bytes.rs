//! Byte-string helpers: tampered variants of a message, hex, search.

/// Every single-bit-flip variant of `bytes`: for each byte, the lowest bit
/// and the highest bit (so both a small and a large change per byte).
pub fn bit_flips(bytes: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..bytes.len()).flat_map(move |i| {
        [0x01u8, 0x80].into_iter().map(move |mask| {
            let mut v = bytes.to_vec();
            v[i] ^= mask;
            (i, v)
        })
    })
}

/// Every proper prefix of `bytes` and a few extensions.
pub fn truncations_and_extensions(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let prefixes = (0..bytes.len()).map(move |n| bytes[..n].to_vec());
    let extensions = [vec![0u8], vec![0xff], vec![0u8; 16], vec![0x5a; 33]].into_iter().map(move |tail| {
        let mut v = bytes.to_vec();
        v.extend_from_slice(&tail);
        v
    });
    prefixes.chain(extensions)
}

/// Whether `needle` occurs in `haystack` (to show that a plaintext is, or
/// is not, visible in an encoding).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}
