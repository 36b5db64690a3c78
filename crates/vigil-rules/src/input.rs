//! What the engine is fed each frame: the frame's time, the live tracks, the ended ones and the
//! plate events. These are this crate's own small types so that the rules do not depend on how
//! the tracker or the watchlist crate shape theirs; the binary adapts (see the `From` impl).

use jiff::Timestamp;
use vigil_core::alert::MatchKind;
use vigil_core::plate::PlateRead;
use vigil_core::track::{Track, TrackId};
use vigil_core::{BoxPx, PointPx};

/// When the frame was taken, on two clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTime {
    /// Wall-clock time of the frame (`Frame::captured_at`): schedules and the alert's `time`.
    pub wall: Timestamp,
    /// Presentation timestamp of the frame in nanoseconds (`Frame::pts_ns`): every duration
    /// (dwell, minimum time inside, crowd duration, cooldown), because it does not jump when the
    /// host's clock is stepped. A pts that goes backwards (stream restarted) is absorbed, see
    /// [`crate::clock::MonoClock`].
    pub pts_ns: u64,
}

/// One live track in the current frame, as the rules need it.
///
/// Pass confirmed and lost tracks (`Track::is_confirmed_or_lost`); tentative ones are usually
/// noise and would fire rules on ghosts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackObservation<'a> {
    /// Track id, unique per camera.
    pub track_id: TrackId,
    /// Class name (`"person"`, `"car"`), compared with a rule's `classes`.
    pub label: &'a str,
    /// Current box in source-frame pixels; zone and line tests use its bottom-centre point.
    pub bbox: BoxPx,
}

impl<'a> From<&'a Track> for TrackObservation<'a> {
    fn from(t: &'a Track) -> Self {
        Self {
            track_id: t.id,
            label: &t.label,
            bbox: t.bbox,
        }
    }
}

/// A watchlist entry a plate matched, as the watchlist stage reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchMatch {
    /// Watchlist name (`[[watchlist]] name`).
    pub list: String,
    /// The entry's plate text.
    pub entry_plate: String,
    /// Exact or fuzzy match.
    pub kind: MatchKind,
    /// Edit distance (0 for exact).
    pub distance: f32,
    /// Entry priority; when a read matches several entries the highest priority is reported.
    pub priority: i32,
    /// What the entry's list is for: plate_hotlist rules count hotlist entries only, and a
    /// hotlist hit is never also an unknown vehicle.
    pub list_kind: WatchListKind,
}

/// The kind of list a [`WatchMatch`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchListKind {
    /// Vehicles to alert on (stolen, wanted).
    Hotlist,
    /// Vehicles that belong (residents at a gate).
    Allowlist,
}

/// A plate read of one vehicle track, with everything the plate rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateEvent {
    /// Track of the vehicle. A plate event may arrive in the frame its track ends (the vote
    /// finishes then); it is handled before the track is forgotten.
    pub track_id: TrackId,
    /// Vehicle class name.
    pub label: String,
    /// Vehicle box in source-frame pixels when read; zone limits test its bottom-centre.
    pub bbox: BoxPx,
    /// The track's recent bottom-centre points, oldest first (`Track::path`): direction limits
    /// (inbound line crossing, heading) are judged on it.
    pub path: Vec<PointPx>,
    /// The (voted) reading.
    pub plate: PlateRead,
    /// Every watchlist entry the reading matched, any order; empty when none did.
    pub matches: Vec<WatchMatch>,
}
