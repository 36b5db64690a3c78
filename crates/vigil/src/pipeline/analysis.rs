//! The analysis stage: detections → tracks → plates → rules → alerts, one camera at a time.
//!
//! Runs on one thread (the engine state of a camera is touched by nothing else). Per frame:
//! the tracker updates; vehicle tracks due for a plate read are offered to the plate stage
//! (never waiting: a full queue means "read on a later frame"); plates voted since the last
//! frame are looked up in the watchlists; the rules see the tracks, the ended tracks and the
//! plate events, and the alerts they raise get a snapshot and go to the caller (which puts
//! them in the outbox).
//!
//! Plate results arrive asynchronously ([`Analysis::on_plate`]); the plates they finish reach
//! the rules with the camera's next frame, or at [`Analysis::flush`] when the pipeline stops.

use crate::pipeline::config::PlateSource;
use crate::pipeline::config::{CameraConfig, PipelineConfig};
use crate::pipeline::live_view::{self, PlateHits};
use crate::pipeline::plate_tracks::{FramePlates, PlateTracks, ReadPolicy, ReadyPlate};
use crate::pipeline::plates::{PlateJob, PlateResult, PlateSubmitter};
use crate::pipeline::privacy::{MaskConfig, Masks};
use crate::pipeline::read_log::ReadLog;
use crate::pipeline::snapshot;
use std::collections::HashMap;
use std::sync::Arc;
use vigil_core::alert::{Alert, AlertCamera};
use vigil_core::track::TrackId;
use vigil_core::{Detection, Frame};
use vigil_rules::{CameraRules, FrameSize, FrameTime, PlateEvent, TrackObservation, WatchMatch};
use vigil_track::{Tracker, TrackerConfig};
use vigil_watchlist::LiveWatchlists;

/// One camera's state.
struct CameraAnalysis {
    camera: AlertCamera,
    rules_cfg: vigil_rules::RulesConfig,
    tracker: Tracker,
    /// Built on the first frame, when the frame size (for pixel zones) is known.
    rules: Option<CameraRules>,
    /// The rules were rejected for this stream's frame size (logged once).
    rules_failed: bool,
    plates: Option<Plates>,
    /// Plates voted since the last evaluation, with the frame for their snapshot.
    ready: Vec<ReadyPlate>,
    last_time: Option<FrameTime>,
    mask_cfg: Vec<MaskConfig>,
    /// Resolved on the first frame (pixel masks need the frame size).
    masks: Option<Masks>,
    /// Plate text of live tracks whose plate hit a watchlist (the console labels their box).
    plate_hits: PlateHits,
    /// Per rule id: the engine's (alerts, suppressed) already added to the shared totals. The
    /// engine's own counters start at 0 whenever it is rebuilt (rules edited, camera replaced);
    /// adding only the difference keeps the exported counters monotonic.
    rules_reported: HashMap<String, (u64, u64)>,
}

/// How a plate camera finds its plates.
enum Plates {
    /// In vehicle-track regions.
    Vehicles(PlateTracks),
    /// In whole frames.
    Frame(FramePlates),
}

/// Counters of the analysis stage.
#[derive(Debug, Default, Clone)]
pub struct AnalysisCounters {
    /// Frames analysed per camera.
    pub frames: HashMap<String, u64>,
    /// Plates voted per camera (one per vehicle pass).
    pub plates: HashMap<String, u64>,
    /// Voted plates that matched at least one watchlist entry.
    pub plate_matches: u64,
}

/// Every camera's analysis plus what they share.
pub struct Analysis {
    cameras: HashMap<String, CameraAnalysis>,
    policy: ReadPolicy,
    voter: vigil_plate::VoterConfig,
    every_n_frames: u32,
    min_score: f32,
    shared: Option<Arc<crate::pipeline::shared::Shared>>,
    watchlists: Option<Arc<LiveWatchlists>>,
    plate_jobs: Option<PlateSubmitter>,
    /// Every voted read as a keyed hash, when `[plates.read_log]` is enabled.
    read_log: Option<ReadLog>,
    snapshot_max_bytes: usize,
    snapshot_max_width_px: u32,
    counters: AnalysisCounters,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field("cameras", &self.cameras.len())
            .finish_non_exhaustive()
    }
}

fn tracker(min_score: f32, ids: vigil_track::TrackIds) -> Tracker {
    let cfg = TrackerConfig {
        high_score: min_score.clamp(0.3, 0.6),
        ..Default::default()
    };
    // The clamp keeps the config valid; should it ever not be, the default is.
    Tracker::with_ids(cfg, ids.clone()).unwrap_or_else(|_| {
        Tracker::with_ids(TrackerConfig::default(), ids).expect("default tracker config is valid")
    })
}

impl Analysis {
    /// State for every camera of `cfg`. `plate_jobs` is `None` when no camera reads plates.
    pub fn new(
        cfg: &PipelineConfig,
        watchlists: Option<Arc<LiveWatchlists>>,
        plate_jobs: Option<PlateSubmitter>,
    ) -> anyhow::Result<Self> {
        let policy = ReadPolicy {
            min_vehicle_height_px: cfg.plates.min_vehicle_height_px,
            every_n_frames: cfg.plates.every_n_frames,
            max_reads_per_track: cfg.plates.max_reads_per_track,
        };
        let mut me = Self {
            cameras: HashMap::new(),
            policy,
            voter: cfg.plates.voter,
            every_n_frames: cfg.plates.every_n_frames,
            min_score: cfg.detector.score,
            shared: None,
            watchlists,
            plate_jobs,
            read_log: None,
            snapshot_max_bytes: cfg.node.snapshot_max_bytes,
            snapshot_max_width_px: cfg.node.snapshot_max_width_px,
            counters: AnalysisCounters::default(),
        };
        for c in &cfg.cameras {
            me.set_camera(c)?;
        }
        Ok(me)
    }

    /// Publishes counters, latest frames and rule stats to `shared` as frames are analysed.
    pub fn with_shared(mut self, shared: Arc<crate::pipeline::shared::Shared>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Records every voted read in `log` (keyed hashes only).
    pub fn with_read_log(mut self, log: Option<ReadLog>) -> Self {
        self.read_log = log;
        self
    }

    /// Adds a camera, or replaces one whose analysis settings changed (its tracks and rule
    /// state start afresh).
    pub fn set_camera(&mut self, c: &CameraConfig) -> anyhow::Result<()> {
        // One id source per camera: object and plate tracks get small ids that never collide.
        let ids = vigil_track::TrackIds::default();
        let plates = match (c.plates, c.plate_source) {
            (false, _) => None,
            (true, PlateSource::Vehicles) => {
                Some(Plates::Vehicles(PlateTracks::new(self.policy, self.voter)?))
            }
            (true, PlateSource::Frame) => Some(Plates::Frame(FramePlates::new(
                self.every_n_frames,
                self.voter,
                ids.clone(),
            )?)),
        };
        self.cameras
            .insert(c.id.clone(), CameraAnalysis::new(c, self.min_score, plates, ids));
        Ok(())
    }

    /// Forgets a camera.
    pub fn remove_camera(&mut self, id: &str) {
        self.cameras.remove(id);
        if let Some(sh) = &self.shared {
            crate::pipeline::shared::lock(&sh.latest).remove(id);
            crate::pipeline::shared::lock(&sh.tracks).remove(id);
        }
    }

    /// What was analysed so far.
    pub fn counters(&self) -> &AnalysisCounters {
        &self.counters
    }

    /// Drops the plate-job handle so the plate stage can shut down.
    pub fn close_plate_jobs(&mut self) {
        self.plate_jobs = None;
    }

    /// One frame's detections; returns the alerts raised.
    pub fn on_frame(&mut self, frame: &Frame, dets: &[Detection]) -> Vec<Alert> {
        let cam_id = frame.camera.as_str();
        let Some(cam) = self.cameras.get_mut(cam_id) else {
            return Vec::new();
        };
        let masks = cam.masks.get_or_insert_with(|| {
            Masks::resolve(&cam.mask_cfg, frame.width, frame.height).unwrap_or_else(|e| {
                // Never expose what a broken mask was meant to hide: mask the whole view.
                tracing::error!(camera = %cam_id, error = %e, "privacy mask invalid for this stream; the whole frame is masked until it is fixed");
                let all = MaskConfig {
                    coords: vigil_rules::Coords::Normalized,
                    points: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
                };
                Masks::resolve(&[all], frame.width, frame.height).unwrap_or_default()
            })
        });
        // Everything below (tracks, plates, snapshots, the API's live view) sees the masked
        // frame and no detection from inside a mask.
        let (masked, kept);
        let (frame, dets) = if masks.is_empty() {
            (frame, dets)
        } else {
            masked = masks.apply(frame);
            kept = dets
                .iter()
                .filter(|d| !masks.hides(d))
                .cloned()
                .collect::<Vec<_>>();
            (&masked, kept.as_slice())
        };
        *self.counters.frames.entry(cam_id.to_string()).or_default() += 1;
        if let Some(sh) = &self.shared {
            use crate::pipeline::shared::lock;
            lock(&sh.latest).insert(cam_id.to_string(), frame.clone());
            *lock(&sh.analysed).entry(cam_id.to_string()).or_default() += 1;
        }
        let update = cam.tracker.update(dets, frame.pts_ns);
        let ended: Vec<TrackId> = update.removed.iter().map(|t| t.id).collect();
        let offer = |job: PlateJob| self.plate_jobs.as_ref().is_some_and(|s| s.offer(job));
        match cam.plates.as_mut() {
            Some(Plates::Vehicles(plates)) => {
                for (track, bbox) in plates.observe(frame.seq, &update.tracks) {
                    let job = PlateJob {
                        track,
                        frame: frame.clone(),
                        bbox: Some(bbox),
                    };
                    if !offer(job) {
                        plates.not_sent(track);
                    }
                }
                plates.ended(ended.iter().copied());
                cam.ready.extend(plates.take_ready());
            }
            Some(Plates::Frame(plates)) => {
                if plates.due(frame.seq) {
                    let job = PlateJob {
                        track: TrackId(0),
                        frame: frame.clone(),
                        bbox: None,
                    };
                    if !offer(job) {
                        plates.not_sent();
                    }
                }
                cam.ready.extend(plates.take_ready());
            }
            None => {}
        }
        let time = FrameTime {
            wall: jiff::Timestamp::try_from(frame.captured_at).unwrap_or_else(|_| jiff::Timestamp::now()),
            pts_ns: frame.pts_ns,
        };
        cam.last_time = Some(time);
        if cam.rules.is_none() && !cam.rules_failed {
            let size = FrameSize {
                width: frame.width,
                height: frame.height,
            };
            match CameraRules::new(cam.camera.clone(), &cam.rules_cfg, size) {
                Ok(r) => {
                    cam.rules = Some(r);
                    cam.rules_reported.clear();
                }
                Err(e) => {
                    cam.rules_failed = true;
                    tracing::error!(camera = %cam_id, error = %e, "rules rejected for this stream's frame size; the camera runs without rules (fix the zones and reload)");
                }
            }
        }
        // Rules judge observed boxes only. A lost track is not passed at all: the engine keeps
        // its zone state (absence is not leaving) until it is seen again or ends.
        let obs: Vec<TrackObservation<'_>> = update
            .tracks
            .iter()
            .filter(|t| t.is_observed())
            .map(TrackObservation::from)
            .collect();
        let ready = std::mem::take(&mut cam.ready);
        let (events, shots) = plate_events(
            ready,
            self.watchlists.as_deref(),
            time.wall,
            &mut self.counters,
            cam_id,
            self.read_log.as_ref(),
        );
        // The console's live view: only vehicle tracks carry a plate (frame-wide reads have no
        // track to label), and only a plate that hit a watchlist is kept.
        if matches!(cam.plates, Some(Plates::Vehicles(_))) {
            live_view::remember_hits(&mut cam.plate_hits, &events);
        }
        live_view::forget_gone(&mut cam.plate_hits, &update.tracks);
        if let Some(sh) = &self.shared {
            let view = live_view::detections(frame, time.wall, &update.tracks, &cam.plate_hits);
            crate::pipeline::shared::lock(&sh.tracks).insert(cam_id.to_string(), Arc::new(view));
        }
        let Some(rules) = cam.rules.as_mut() else {
            return Vec::new();
        };
        let mut alerts = rules.evaluate(time, &obs, &ended, &events);
        if let Some(sh) = &self.shared {
            use crate::pipeline::shared::lock;
            let stats = rules
                .stats()
                .map(|st| (st.rule_id, st.kind, st.counters.alerts, st.counters.suppressed));
            add_rule_counts(&mut lock(&sh.rules), &mut cam.rules_reported, cam_id, stats);
            if !events.is_empty() {
                *lock(&sh.plates).entry(cam_id.to_string()).or_default() += events.len() as u64;
            }
        }
        for a in &mut alerts {
            // A plate alert shows the frame of the plate's best read; others the current frame.
            let best = a
                .plate
                .as_ref()
                .and(a.detection.track_id)
                .and_then(|t| shots.get(&t));
            let shot = best.and_then(|(f, _)| f.as_ref()).unwrap_or(frame);
            attach_snapshot(a, shot, self.snapshot_max_bytes, self.snapshot_max_width_px);
        }
        alerts
    }

    /// A plate worker's result.
    pub fn on_plate(&mut self, r: PlateResult) {
        let cam_id = r.job.frame.camera.as_str();
        let Some(cam) = self.cameras.get_mut(cam_id) else {
            return;
        };
        let reads = r.reads.unwrap_or_default();
        match (cam.plates.as_mut(), r.job.bbox) {
            (Some(Plates::Vehicles(p)), Some(bbox)) => {
                p.on_reads(r.job.track, &r.job.frame, bbox, reads);
                cam.ready.extend(p.take_ready());
            }
            (Some(Plates::Frame(p)), None) => {
                p.on_reads(&r.job.frame, reads);
                cam.ready.extend(p.take_ready());
            }
            _ => {}
        }
    }

    /// At stop: hands plates still waiting for a frame to the rules, at each camera's last
    /// frame time.
    pub fn flush(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        for (id, cam) in &mut self.cameras {
            let (Some(time), Some(rules)) = (cam.last_time, cam.rules.as_mut()) else {
                continue;
            };
            match cam.plates.as_mut() {
                Some(Plates::Vehicles(p)) => cam.ready.extend(p.take_ready()),
                Some(Plates::Frame(p)) => {
                    p.finish();
                    cam.ready.extend(p.take_ready());
                }
                None => {}
            }
            let ready = std::mem::take(&mut cam.ready);
            if ready.is_empty() {
                continue;
            }
            let (events, shots) = plate_events(
                ready,
                self.watchlists.as_deref(),
                time.wall,
                &mut self.counters,
                id,
                self.read_log.as_ref(),
            );
            let mut alerts = rules.evaluate(time, &[], &[], &events);
            for a in &mut alerts {
                let shot = a
                    .detection
                    .track_id
                    .and_then(|t| shots.get(&t))
                    .and_then(|(f, _)| f.as_ref());
                if let Some(f) = shot {
                    attach_snapshot(a, f, self.snapshot_max_bytes, self.snapshot_max_width_px);
                }
            }
            out.extend(alerts);
        }
        out
    }
}

type Shots = HashMap<TrackId, (Option<Frame>, vigil_core::BoxPx)>;

/// Looks voted plates up in the watchlists and turns them into the rules' plate events; with a
/// read log, records each as a keyed hash first.
fn plate_events(
    ready: Vec<ReadyPlate>,
    watchlists: Option<&LiveWatchlists>,
    now: jiff::Timestamp,
    counters: &mut AnalysisCounters,
    cam_id: &str,
    read_log: Option<&ReadLog>,
) -> (Vec<PlateEvent>, Shots) {
    let index = watchlists.map(LiveWatchlists::index);
    let mut events = Vec::with_capacity(ready.len());
    let mut shots = HashMap::new();
    for r in ready {
        *counters.plates.entry(cam_id.to_string()).or_default() += 1;
        if let Some(log) = read_log
            && let Err(e) = log.record(cam_id, &r.plate, now)
        {
            // The error names the store file, never the read.
            tracing::warn!(camera = %cam_id, error = %e, "plate read not logged");
        }
        let matches: Vec<WatchMatch> = index
            .as_ref()
            .map(|ix| {
                ix.lookup_read(&r.plate, now)
                    .matches
                    .iter()
                    .map(|m| WatchMatch {
                        list: m.list.as_str().to_string(),
                        entry_plate: m.entry.plate.text().to_string(),
                        kind: match m.kind {
                            vigil_watchlist::MatchKind::Exact => vigil_core::alert::MatchKind::Exact,
                            vigil_watchlist::MatchKind::Fuzzy => vigil_core::alert::MatchKind::Fuzzy,
                        },
                        distance: m.distance,
                        priority: m.entry.priority as i32,
                        list_kind: match m.entry.kind {
                            vigil_watchlist::ListKind::Hotlist => vigil_rules::WatchListKind::Hotlist,
                            vigil_watchlist::ListKind::Allowlist => vigil_rules::WatchListKind::Allowlist,
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !matches.is_empty() {
            counters.plate_matches += 1;
        }
        // Reads are kept out of the logs: a plate that hit no list is not recorded anywhere
        // (except as a keyed hash in the read log, when one is configured).
        tracing::debug!(camera = %cam_id, track = r.track.0, matched = !matches.is_empty(), "plate voted");
        shots.insert(r.track, (r.frame, r.frame_bbox));
        events.push(PlateEvent {
            track_id: r.track,
            label: r.label,
            bbox: r.bbox,
            path: r.path,
            plate: r.plate,
            matches,
        });
    }
    (events, shots)
}

impl CameraAnalysis {
    fn new(c: &CameraConfig, min_score: f32, plates: Option<Plates>, ids: vigil_track::TrackIds) -> Self {
        Self {
            camera: AlertCamera {
                id: c.id.clone(),
                name: c.name.clone(),
                location: c.location.clone(),
            },
            rules_cfg: c.rules.clone(),
            tracker: tracker(min_score, ids),
            rules: None,
            rules_failed: false,
            plates,
            ready: Vec::new(),
            last_time: None,
            mask_cfg: c.privacy_masks.clone(),
            masks: None,
            plate_hits: PlateHits::new(),
            rules_reported: HashMap::new(),
        }
    }
}

/// Gives `alert` a JPEG of `shot` (when snapshots are on) and the size of the frame its box is
/// measured in, so a consumer can scale the box onto a scaled-down snapshot.
fn attach_snapshot(alert: &mut Alert, shot: &Frame, max_bytes: usize, max_width_px: u32) {
    alert.detection.frame_size_px = Some([shot.width, shot.height]);
    if max_bytes > 0 {
        alert.snapshot = snapshot::jpeg(shot, max_bytes, max_width_px);
    }
}

/// Adds what a camera's rules engine counted since it last reported (`reported`, per rule id)
/// to the shared totals. The engine's counters restart at 0 when it is rebuilt (and `reported`
/// is cleared with it), so the totals only ever grow: Prometheus counters stay monotonic across
/// rule edits and camera reloads.
fn add_rule_counts<'a>(
    totals: &mut HashMap<(String, String), crate::pipeline::shared::RuleCount>,
    reported: &mut HashMap<String, (u64, u64)>,
    cam_id: &str,
    stats: impl Iterator<Item = (&'a str, vigil_core::alert::AlertKind, u64, u64)>,
) {
    for (rule_id, kind, alerts, suppressed) in stats {
        // Runs every analysed frame: no allocation once the rule has reported.
        let before = match reported.get_mut(rule_id) {
            Some(r) => std::mem::replace(r, (alerts, suppressed)),
            None => {
                reported.insert(rule_id.to_string(), (alerts, suppressed));
                (0, 0)
            }
        };
        let total = totals.entry((cam_id.to_string(), rule_id.to_string())).or_insert(
            crate::pipeline::shared::RuleCount {
                kind,
                alerts: 0,
                suppressed: 0,
            },
        );
        // One series per rule id; a rule edited to another kind shows under its latest kind.
        total.kind = kind;
        total.alerts += alerts.saturating_sub(before.0);
        total.suppressed += suppressed.saturating_sub(before.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::{BoxPx, CameraId, ClassId, PixelFormat};

    #[test]
    fn rule_counters_stay_monotonic_when_the_engine_is_rebuilt() {
        use vigil_core::alert::AlertKind::ZoneIntrusion as K;
        let (mut totals, mut reported) = (HashMap::new(), HashMap::new());
        add_rule_counts(
            &mut totals,
            &mut reported,
            "cam",
            [("fence", K, 3, 1)].into_iter(),
        );
        add_rule_counts(
            &mut totals,
            &mut reported,
            "cam",
            [("fence", K, 5, 1)].into_iter(),
        );
        let key = ("cam".to_string(), "fence".to_string());
        assert_eq!((totals[&key].alerts, totals[&key].suppressed), (5, 1));
        // The zone editor saved: a new engine counts from 0 again.
        reported.clear();
        add_rule_counts(
            &mut totals,
            &mut reported,
            "cam",
            [("fence", K, 0, 0)].into_iter(),
        );
        assert_eq!(totals[&key].alerts, 5, "no reset on reconfiguration");
        add_rule_counts(
            &mut totals,
            &mut reported,
            "cam",
            [("fence", K, 2, 4)].into_iter(),
        );
        assert_eq!((totals[&key].alerts, totals[&key].suppressed), (7, 5));
    }

    const CFG: &str = r#"
[node]
id = "n"
data_dir = "/tmp/unused"

[[camera]]
id = "cam"
uri = "rtsp://127.0.0.1:1/a"

[[camera.rules.zone]]
id = "right"
points = [[0.4, 0.0], [1.0, 0.0], [1.0, 1.0], [0.4, 1.0]]

[[camera.rules.rule]]
id = "intrusion"
kind = "zone_intrusion"
zone = "right"
"#;

    fn frame(seq: u64) -> Frame {
        Frame {
            camera: CameraId::new("cam"),
            seq,
            pts_ns: seq * 200_000_000,
            captured_at: std::time::SystemTime::now(),
            width: 640,
            height: 480,
            stride: 640 * 3,
            format: PixelFormat::Bgr8,
            data: vec![0u8; 640 * 480 * 3].into(),
        }
    }

    fn person(x: f32) -> Detection {
        Detection {
            class: ClassId(0),
            label: "person".into(),
            bbox: BoxPx::new(x, 200.0, x + 30.0, 300.0),
            score: 0.9,
        }
    }

    #[test]
    fn a_lost_tracks_predicted_box_raises_no_intrusion_but_a_seen_one_does() {
        let cfg = crate::pipeline::config::parse("t.toml", CFG).expect("config");
        let mut a = Analysis::new(&cfg, None, None).expect("analysis");
        // A walker heads right at 10 px/frame and vanishes at x = 160 (the zone starts at 256);
        // the prediction carries the lost track into the zone within ten frames.
        let mut alerts = Vec::new();
        for i in 0..12u64 {
            alerts.extend(a.on_frame(&frame(i), &[person(50.0 + 10.0 * i as f32)]));
        }
        for i in 12..30u64 {
            alerts.extend(a.on_frame(&frame(i), &[]));
        }
        let boxes = |a: &[Alert]| a.iter().map(|a| a.detection.clone()).collect::<Vec<_>>();
        assert!(
            alerts.is_empty(),
            "alert from a predicted box: {:?}",
            boxes(&alerts)
        );
        // Someone really walking into the zone is reported.
        for i in 30..50u64 {
            let x = (200.0 + 10.0 * (i - 30) as f32).min(300.0);
            alerts.extend(a.on_frame(&frame(i), &[person(x)]));
        }
        assert_eq!(alerts.len(), 1, "{:?}", boxes(&alerts));
        assert!(
            alerts[0].detection.box_px.bottom_center().x >= 256.0,
            "{:?}",
            alerts[0].detection
        );
    }
}
