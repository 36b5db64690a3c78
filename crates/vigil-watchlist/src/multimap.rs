//! A compact, immutable hash multimap from 64-bit key hashes to `u32` payloads.
//!
//! Layout (compressed sparse rows): the top `bits` of a hash pick a bucket; `dir[b]..dir[b+1]`
//! is that bucket's run in `slots`; each slot packs the low 32 bits of the hash (a tag, to skip
//! most foreign keys in the bucket without touching anything else) and the payload. There are
//! about half as many buckets as slots, so a probe reads two directory words and a couple of
//! adjacent slots — two or three cache lines, however large the map.
//!
//! Memory: 8 bytes per slot + 4 bytes per bucket ≈ 10 bytes per stored pair. Payloads whose
//! hashes collide are returned together; callers verify candidates against the real key, so a
//! collision costs time, never correctness.
//!
//! Built by a two-pass counting sort (count per bucket, then place), so building needs no
//! temporary pair list: the caller's `feed` is run twice and must yield the same pairs both times.

/// The multimap; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct MultiMap {
    /// log2 of the bucket count: the top `bits` of a hash pick its bucket.
    bits: u32,
    /// Bucket start offsets into `slots`; one more entry than buckets.
    dir: Vec<u32>,
    /// `(tag << 32) | payload`, grouped by bucket.
    slots: Vec<u64>,
}

impl MultiMap {
    /// Builds the map from `feed`, which calls its argument once per `(hash, payload)` pair and
    /// must produce the same pairs on both calls. `pairs_hint` sizes the directory.
    ///
    /// Returns `None` when there are more than `u32::MAX` pairs.
    pub(crate) fn build(pairs_hint: usize, feed: impl Fn(&mut dyn FnMut(u64, u32))) -> Option<Self> {
        // About two slots per bucket: short scans, directory at 4 bytes per 2 slots.
        let buckets = (pairs_hint / 2).max(1).next_power_of_two();
        let bits = buckets.trailing_zeros();
        let bucket = |hash: u64| bucket_of(hash, bits);

        let mut counts = vec![0u32; buckets + 1];
        let mut total: u64 = 0;
        feed(&mut |hash, _| {
            counts[bucket(hash) + 1] += 1;
            total += 1;
        });
        if total > u64::from(u32::MAX) {
            return None;
        }
        for b in 0..buckets {
            counts[b + 1] += counts[b];
        }
        let dir = counts;
        let mut next: Vec<u32> = dir[..buckets].to_vec();
        let mut slots = vec![0u64; total as usize];
        feed(&mut |hash, payload| {
            let b = bucket(hash);
            slots[next[b] as usize] = ((hash as u32 as u64) << 32) | u64::from(payload);
            next[b] += 1;
        });
        Some(Self { bits, dir, slots })
    }

    /// Calls `f` with every payload stored under a hash that agrees with `hash` in bucket and tag.
    #[inline]
    pub(crate) fn for_each(&self, hash: u64, mut f: impl FnMut(u32)) {
        if self.slots.is_empty() {
            return;
        }
        let b = bucket_of(hash, self.bits);
        let (start, end) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        let tag = hash as u32;
        for &slot in &self.slots[start..end] {
            if (slot >> 32) as u32 == tag {
                f(slot as u32);
            }
        }
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.dir.capacity() * 4 + self.slots.capacity() * 8
    }
}

/// The bucket of `hash` among `2^bits` buckets: its top bits (the well-mixed end of the hash).
#[inline]
fn bucket_of(hash: u64, bits: u32) -> usize {
    hash.checked_shr(64 - bits).unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(map: &MultiMap, hash: u64) -> Vec<u32> {
        let mut out = Vec::new();
        map.for_each(hash, |p| out.push(p));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_every_payload_of_a_hash_and_nothing_else() {
        // Hashes spread over the top bits (as a real hash would) plus deliberate repeats.
        let pairs: Vec<(u64, u32)> = (0..1000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i as u32))
            .chain([(7, 1), (7, 2)])
            .collect();
        let map = MultiMap::build(pairs.len(), |f| pairs.iter().for_each(|&(h, p)| f(h, p))).expect("small");
        for &(h, _) in &pairs {
            let mut want: Vec<u32> = pairs.iter().filter(|(x, _)| *x == h).map(|&(_, p)| p).collect();
            want.sort_unstable();
            assert_eq!(collect(&map, h), want);
        }
        assert!(collect(&map, 0xDEAD_BEEF_0000_0001).is_empty());
    }

    #[test]
    fn tiny_and_empty_maps_work() {
        let empty = MultiMap::build(0, |_| {}).expect("empty");
        assert!(collect(&empty, 42).is_empty());
        let one = MultiMap::build(1, |f| f(u64::MAX, 9)).expect("one");
        assert_eq!(collect(&one, u64::MAX), vec![9]);
        assert!(collect(&one, 1).is_empty());
    }
}
