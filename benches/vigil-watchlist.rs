//! Watchlist lookup latency at 100k and 1M entries (targets: ≤ 20 µs and ≤ 50 µs per fuzzy
//! lookup). Plates are synthetic Chinese plates from a seeded xorshift generator, so every run
//! measures the same lists and queries.
//!
//! Query mixes: `exact` (a listed plate), `confusion` (one character swapped within its OCR
//! confusion group), `edit` (one unrelated substitution), `miss` (a fresh random plate).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use vigil_watchlist::{
    CONFUSION_GROUPS, ListKind, ListName, MatchConfig, Plate, Timestamp, Watchlist, WatchlistEntry,
    WatchlistIndex,
};

const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
/// Letters used on plates (no I, O).
const LETTERS: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const ALNUM: &str = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// xorshift64*: tiny, seeded, good enough to spread plates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick(&mut self, set: &[char]) -> char {
        set[(self.next() % set.len() as u64) as usize]
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn plate(rng: &mut Rng) -> String {
    let (p, l, a) = (chars(PROVINCES), chars(LETTERS), chars(ALNUM));
    let mut s = String::new();
    s.push(rng.pick(&p));
    s.push(rng.pick(&l));
    for _ in 0..5 {
        s.push(rng.pick(&a));
    }
    s
}

fn plates(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let p = plate(&mut rng);
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    out
}

fn index(plates: &[String]) -> WatchlistIndex {
    let name = ListName::parse("stolen").expect("name");
    let entries = plates
        .iter()
        .map(|p| WatchlistEntry::new(Plate::parse(p).expect("plate"), name.clone(), ListKind::Hotlist))
        .collect();
    let list = Watchlist::new(name, ListKind::Hotlist, entries).expect("list");
    let t = Instant::now();
    let index = WatchlistIndex::build(vec![list], MatchConfig::default()).expect("index");
    eprintln!(
        "built {} entries in {:.2?}, index structures {} MiB",
        index.len(),
        t.elapsed(),
        index.index_heap_bytes() >> 20
    );
    index
}

/// Replaces one character of the serial part (positions 2..) with a confusable twin when it
/// has one, else leaves it (so the query is exact).
fn confuse(p: &str, rng: &mut Rng) -> String {
    let mut c = chars(p);
    for _ in 0..c.len() {
        let i = 2 + (rng.next() % 5) as usize;
        if let Some(group) = CONFUSION_GROUPS.iter().find(|g| g.contains(&c[i])) {
            let twin = group
                .iter()
                .copied()
                .find(|&x| x != c[i])
                .expect("groups have two members");
            c[i] = twin;
            break;
        }
    }
    c.into_iter().collect()
}

fn edit(p: &str, rng: &mut Rng) -> String {
    let mut c = chars(p);
    let i = 2 + (rng.next() % 5) as usize;
    c[i] = if c[i] == 'X' { 'Y' } else { 'X' };
    c.into_iter().collect()
}

fn bench(c: &mut Criterion) {
    let now: Timestamp = "2025-06-01T00:00:00Z".parse().expect("ts");
    for (label, n) in [("100k", 100_000usize), ("1M", 1_000_000)] {
        let listed = plates(n, 0x5EED_0000 + n as u64);
        let index = index(&listed);
        let mut rng = Rng(42);
        let sample: Vec<&String> = (0..1024)
            .map(|_| &listed[(rng.next() % n as u64) as usize])
            .collect();
        let mixes: [(&str, Vec<String>); 4] = [
            ("exact", sample.iter().map(|p| p.to_string()).collect()),
            ("confusion", sample.iter().map(|p| confuse(p, &mut rng)).collect()),
            ("edit", sample.iter().map(|p| edit(p, &mut rng)).collect()),
            ("miss", (0..1024).map(|_| plate(&mut rng)).collect()),
        ];
        let mut group = c.benchmark_group(format!("watchlist_lookup_{label}"));
        for (mix, queries) in &mixes {
            let hits = queries
                .iter()
                .filter(|q| !index.lookup(q, now).is_empty())
                .count();
            eprintln!("{label}/{mix}: {hits}/{} queries match", queries.len());
            let mut i = 0;
            group.bench_function(*mix, |b| {
                b.iter(|| {
                    i = (i + 1) % queries.len();
                    black_box(index.lookup(black_box(&queries[i]), now).matches.len())
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
