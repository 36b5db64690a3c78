//! Rules evaluation cost per frame: 20 tracks, 10 zones (each with an intrusion and a loitering
//! rule, three of them also crowding), 2 lines with crossing rules, and a schedule on every rule.
//!
//! People walk on circles through the zones and across the lines, so zone entries, exits, line
//! crossings and dedupe all happen in the loop; the tracks never end, so the numbers measure
//! steady-state evaluation, not track start-up.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use vigil_core::BoxPx;
use vigil_core::track::TrackId;
use vigil_rules::{
    AlertCamera, CameraRules, Coords, DirectionFilter, FrameSize, FrameTime, LineConfig, RuleConfig,
    RuleKind, RulesConfig, ScheduleConfig, Timestamp, TrackObservation, ZoneConfig,
};

const TRACKS: usize = 20;
const ZONES: usize = 10;
const PERIOD: usize = 250;

fn rule(id: String, kind: RuleKind) -> RuleConfig {
    RuleConfig::new(id, kind)
}

fn config() -> RulesConfig {
    let all_day = ScheduleConfig {
        days: vec![],
        times: vec!["22:00-06:00".into(), "06:00-22:00".into()],
        timezone: None,
    };
    let mut cfg = RulesConfig {
        timezone: Some("Asia/Shanghai".into()),
        ..RulesConfig::default()
    };
    for z in 0..ZONES {
        // A 5 × 2 grid of irregular hexagons over the frame.
        let (cx, cy) = (0.1 + 0.2 * (z % 5) as f32, 0.25 + 0.5 * (z / 5) as f32);
        let points = (0..6)
            .map(|k| {
                let a = k as f32 * std::f32::consts::TAU / 6.0;
                let r = if k % 2 == 0 { 0.09 } else { 0.07 };
                [cx + r * a.cos(), cy + 1.8 * r * a.sin()]
            })
            .collect();
        let id = format!("z{z}");
        cfg.zones.push(ZoneConfig {
            id: id.clone(),
            coords: Coords::Normalized,
            points,
        });
        let mut intrusion = rule(format!("in{z}"), RuleKind::ZoneIntrusion);
        intrusion.zone = Some(id.clone());
        intrusion.min_inside_s = Some(1.0);
        intrusion.cooldown_s = Some(5.0);
        intrusion.schedule = Some(all_day.clone());
        cfg.rules.push(intrusion);
        let mut loiter = rule(format!("lo{z}"), RuleKind::Loitering);
        loiter.zone = Some(id.clone());
        loiter.dwell_s = Some(3.0);
        loiter.schedule = Some(all_day.clone());
        cfg.rules.push(loiter);
        if z % 4 == 0 {
            let mut crowd = rule(format!("cr{z}"), RuleKind::Crowding);
            crowd.zone = Some(id);
            crowd.min_count = Some(2);
            crowd.min_duration_s = Some(1.0);
            cfg.rules.push(crowd);
        }
    }
    for (i, x) in [0.3, 0.7].into_iter().enumerate() {
        let id = format!("l{i}");
        cfg.lines.push(LineConfig {
            id: id.clone(),
            coords: Coords::Normalized,
            a: [x, 0.05],
            b: [x, 0.95],
        });
        let mut cross = rule(format!("x{i}"), RuleKind::LineCrossing);
        cross.line = Some(id);
        cross.direction = Some(DirectionFilter::LeftToRight);
        cross.cooldown_s = Some(2.0);
        cfg.rules.push(cross);
    }
    cfg
}

/// Bottom-centre positions of every track for each frame of the loop.
fn frames() -> Vec<Vec<BoxPx>> {
    (0..PERIOD)
        .map(|f| {
            let phase = f as f32 / PERIOD as f32 * std::f32::consts::TAU;
            (0..TRACKS)
                .map(|i| {
                    let cx = 200.0 + (i % 5) as f32 * 380.0 + 250.0 * (phase + i as f32).cos();
                    let cy = 270.0 + (i / 5 % 2) as f32 * 540.0 + 200.0 * (phase + i as f32).sin();
                    BoxPx::new(cx - 25.0, cy - 100.0, cx + 25.0, cy)
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let camera = AlertCamera {
        id: "bench".into(),
        name: String::new(),
        location: String::new(),
    };
    let frame = FrameSize {
        width: 1920,
        height: 1080,
    };
    let mut rules = CameraRules::new(camera, &config(), frame).unwrap_or_else(|e| panic!("{e}"));
    let frames = frames();
    let start: Timestamp = "2024-05-06T04:00:00Z".parse().expect("time");
    let mut n: u64 = 0;
    c.bench_function("rules_evaluate_20_tracks_10_zones", |b| {
        b.iter(|| {
            let boxes = &frames[(n % PERIOD as u64) as usize];
            let obs: Vec<TrackObservation<'_>> = boxes
                .iter()
                .enumerate()
                .map(|(i, &bbox)| TrackObservation {
                    track_id: TrackId(i as u64),
                    label: "person",
                    bbox,
                })
                .collect();
            let pts_ns = n * 40_000_000; // 25 fps
            let wall = start.checked_add(Duration::from_nanos(pts_ns)).unwrap_or(start);
            n += 1;
            black_box(rules.evaluate(FrameTime { wall, pts_ns }, black_box(&obs), &[], &[]))
        })
    });
    let alerts: u64 = rules.stats().map(|s| s.counters.alerts).sum();
    assert!(alerts > 0, "the bench scene must trigger rules");
}

criterion_group!(benches, bench);
criterion_main!(benches);
