//! Working-day arithmetic: the precomputed index against a day-by-day walk.
//!
//!     cargo bench --bench deadlines
//!
//! Each iteration computes 1,000,000 deadlines for pseudo-random (receipt date 2007-2026, N in 0..=40)
//! pairs on the shipped national calendar. Results are recorded in BENCHMARKS.md.

use chrono::{Duration, NaiveDate};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use foi_tracker::domain::calendar::WorkingDayIndex;
use foi_tracker::domain::calendar_data::shipped_calendar;

const PAIRS: usize = 1_000_000;

fn pairs(count: usize) -> Vec<(NaiveDate, u32)> {
    let start = NaiveDate::from_ymd_opt(2007, 1, 1).unwrap();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (start + Duration::days((state % 7300) as i64), ((state >> 40) % 41) as u32)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let index = WorkingDayIndex::new(shipped_calendar());
    let input = pairs(PAIRS);
    let mut group = c.benchmark_group("deadlines");
    group.throughput(Throughput::Elements(PAIRS as u64));
    group.sample_size(10);
    group.bench_function("index, 1M deadlines", |b| {
        b.iter(|| {
            let mut last = NaiveDate::MIN;
            for &(from, n) in &input {
                last = last.max(index.add_working_days(black_box(from), black_box(n)).unwrap().date);
            }
            last
        })
    });
    group.bench_function("day-by-day walk, 1M deadlines", |b| {
        b.iter(|| {
            let mut last = NaiveDate::MIN;
            for &(from, n) in &input {
                last = last.max(index.add_working_days_by_walking(black_box(from), black_box(n)));
            }
            last
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
