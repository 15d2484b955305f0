//! A tiny deterministic PRNG (splitmix64) and stable string hashing, so the
//! simulator never depends on OS randomness or std's randomized hashers.

/// splitmix64: small, fast, good enough for simulation.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A float uniformly in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An integer uniformly in `[0, n)` (`n` > 0; returns 0 for `n` == 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// The splitmix64 finalizer: a good 64-bit mixing function.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit hash of `parts` (FNV-1a over the bytes, then mixed),
/// independent of the process and platform.
pub fn hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h ^= 0xFF;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h)
}

/// The alphabet Kubernetes uses for generated name suffixes
/// (`k8s.io/apimachinery/pkg/util/rand`: no vowels, no confusable digits).
const K8S_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A Kubernetes-style random suffix of `len` characters derived from `h`.
pub fn k8s_suffix(mut h: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        let n = K8S_ALPHANUMS.len() as u64;
        s.push(char::from(K8S_ALPHANUMS[(h % n) as usize]));
        h /= n;
        if h == 0 {
            h = mix(s.len() as u64 ^ 0x5bd1e995);
        }
    }
    s
}

/// A UUID-shaped (version 4 layout) string derived from `h`.
pub fn uuid(h: u64) -> String {
    let a = mix(h);
    let b = mix(a ^ 0x1234_5678);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | ((b >> 48) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let x = SplitMix64::new(1).next_f64();
        assert!((0.0..1.0).contains(&x));
        assert_eq!(k8s_suffix(hash(0, &["a"]), 5).len(), 5);
        assert_ne!(hash(0, &["ab", "c"]), hash(0, &["a", "bc"]));
        assert_eq!(uuid(3).len(), 36);
    }
}
