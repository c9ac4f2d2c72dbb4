//! The erasure code of the post-quantum ratchet: a systematic Reed-Solomon
//! code over GF(2^8), so that any `k` distinct chunks of a `k`-chunk value
//! rebuild it, whichever messages were lost.
//!
//! A value is cut into `k` data chunks of [`CHUNK_LEN`] bytes (the last
//! padded with zeros). Byte `b` of the chunk at point `x` (0..=255) is the
//! value at `x` of the polynomial of degree below `k` that takes, at points
//! `0..k`, byte `b` of the data chunks: points below `k` are the data
//! itself, points from `k` on are parity. Any `k` distinct points determine
//! the polynomial (Lagrange interpolation), so a receiver rebuilds the value
//! from the first `k` distinct chunks it gets, in any order.
//!
//! The field is GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1
//! (0x11d) and generator 2, the usual Reed-Solomon choice. Nothing here is
//! secret-dependent in a way that matters: the values coded are public (an
//! ML-KEM encapsulation key or ciphertext), so table lookups are fine.

/// Bytes of one chunk.
pub(crate) const CHUNK_LEN: usize = 128;

/// `EXP[i] = 2^i` for `i` in 0..510 (doubled so a sum of two logs needs no
/// reduction), `LOG[x]` its inverse for nonzero `x`.
struct Tables {
    exp: [u8; 510],
    log: [u8; 256],
}

#[allow(clippy::indexing_slicing, reason = "evaluated at compile time: an index out of range is a build error")]
const TABLES: Tables = {
    let mut exp = [0u8; 510];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11d;
        }
        i += 1;
    }
    Tables { exp, log }
};

fn log(x: u8) -> usize {
    TABLES.log.get(usize::from(x)).map_or(0, |&l| usize::from(l))
}

fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    TABLES.exp.get(log(a) + log(b)).copied().unwrap_or(0)
}

/// `a / b` for nonzero `b` (0 for `b = 0`, which callers never pass: the
/// points they divide by are distinct).
fn div(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    TABLES.exp.get(255 + log(a) - log(b)).copied().unwrap_or(0)
}

/// The Lagrange coefficients for evaluating, at `x`, the polynomial given
/// by its values at `points` (distinct): `L_j(x) = prod_{m != j} (x - x_m)
/// / (x_j - x_m)`; subtraction is XOR in GF(2^8).
fn lagrange(points: &[u8], x: u8) -> Vec<u8> {
    points
        .iter()
        .enumerate()
        .map(|(j, &xj)| {
            points.iter().enumerate().filter(|&(m, _)| m != j).fold(1u8, |acc, (_, &xm)| mul(acc, div(x ^ xm, xj ^ xm)))
        })
        .collect()
}

/// Number of chunks a value of `len` bytes is cut into.
pub(crate) const fn chunks_for(len: usize) -> usize {
    len.div_ceil(CHUNK_LEN)
}

/// The chunk at `point` of `value` (`k = chunks_for(value.len())`).
pub(crate) fn encode(value: &[u8], point: u8) -> [u8; CHUNK_LEN] {
    let k = chunks_for(value.len());
    let data = |i: usize| -> [u8; CHUNK_LEN] {
        let mut chunk = [0u8; CHUNK_LEN];
        let start = i * CHUNK_LEN;
        let part = value.get(start..value.len().min(start + CHUNK_LEN)).unwrap_or_default();
        if let Some(dst) = chunk.get_mut(..part.len()) {
            dst.copy_from_slice(part);
        }
        chunk
    };
    if usize::from(point) < k {
        return data(usize::from(point));
    }
    let points: Vec<u8> = (0..k).map(|i| i as u8).collect();
    let mut out = [0u8; CHUNK_LEN];
    for (i, c) in lagrange(&points, point).into_iter().enumerate() {
        let chunk = data(i);
        for (o, d) in out.iter_mut().zip(chunk) {
            *o ^= mul(c, d);
        }
    }
    out
}

/// Rebuilds a value of `len` bytes from `k = chunks_for(len)` chunks at
/// distinct points. `None` if there are not exactly `k` distinct points, or
/// if the padding after `len` bytes is not zero (chunks that were not all
/// made from one value).
pub(crate) fn decode(len: usize, chunks: &[(u8, [u8; CHUNK_LEN])]) -> Option<Vec<u8>> {
    let k = chunks_for(len);
    let points: Vec<u8> = chunks.iter().map(|(p, _)| *p).collect();
    let mut sorted = points.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if chunks.len() != k || sorted.len() != k {
        return None;
    }
    let mut value = Vec::with_capacity(k * CHUNK_LEN);
    for target in 0..k as u8 {
        if let Some((_, chunk)) = chunks.iter().find(|(p, _)| *p == target) {
            value.extend_from_slice(chunk);
            continue;
        }
        let mut out = [0u8; CHUNK_LEN];
        for (c, (_, chunk)) in lagrange(&points, target).into_iter().zip(chunks) {
            for (o, d) in out.iter_mut().zip(chunk) {
                *o ^= mul(c, *d);
            }
        }
        value.extend_from_slice(&out);
    }
    if value.get(len..).is_some_and(|pad| pad.iter().any(|&b| b != 0)) {
        return None;
    }
    value.truncate(len);
    Some(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn field_arithmetic() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, div(1, a)), 1, "inverse of {a}");
            assert_eq!(div(mul(a, 0x53), 0x53), a);
        }
        // 0x53 * 0xca = 0x01 in the AES field (0x11b); here (0x11d) the
        // known product 2 * 0x80 = 0x1d checks the reduction.
        assert_eq!(mul(2, 0x80), 0x1d);
        // Zero: absorbing for both operations, whichever side it is on.
        for a in 0..=255u8 {
            assert_eq!((mul(a, 0), mul(0, a), div(0, a)), (0, 0, 0), "{a}");
        }
    }

    proptest::proptest! {
        /// Any k distinct points, in any order, rebuild the value.
        #[test]
        fn any_k_distinct_chunks_rebuild_the_value(
            value in proptest::collection::vec(proptest::num::u8::ANY, 1..1300),
            points in proptest::sample::subsequence((0..=255u8).collect::<Vec<_>>(), 11),
            shuffle in proptest::num::u64::ANY,
        ) {
            let k = chunks_for(value.len());
            let mut chosen: Vec<u8> = points.into_iter().take(k).collect();
            let n = chosen.len();
            chosen.rotate_left((shuffle as usize) % n.max(1));
            let chunks: Vec<_> = chosen.iter().map(|&p| (p, encode(&value, p))).collect();
            proptest::prop_assert_eq!(decode(value.len(), &chunks), Some(value.clone()));
            // One chunk short, or a point repeated, is not enough.
            if k > 1 {
                proptest::prop_assert_eq!(decode(value.len(), &chunks[1..]), None);
                let mut repeated = chunks.clone();
                repeated[0] = repeated[1];
                proptest::prop_assert_eq!(decode(value.len(), &repeated), None);
            }
        }
    }

    #[test]
    fn chunks_of_another_value_are_refused_by_the_padding_check() {
        let a = vec![7u8; 1184];
        let b = vec![9u8; 1184];
        let k = chunks_for(a.len());
        let mut chunks: Vec<_> = (20..20 + k as u8).map(|p| (p, encode(&a, p))).collect();
        chunks[0].1 = encode(&b, chunks[0].0);
        assert_eq!(decode(a.len(), &chunks), None);
    }
}
