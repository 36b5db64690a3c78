//! When a rule is armed: days of the week and local time ranges in an IANA time zone.
//!
//! Evaluation takes the *frame's* wall-clock time (passed in), never the system clock, so the
//! same recording replays to the same alerts and tests need no clock.
//!
//! Semantics (wall-clock, as the operator reads a clock on the wall of the site):
//! - A range `start-end` is half-open, `[start, end)`; `24:00` is allowed as an end.
//! - A range whose end is before its start wraps midnight (`22:00-06:00`). It belongs to the day
//!   it *starts* on: with `days = ["fri"]`, `22:00-06:00` covers Friday 22:00 to Saturday 06:00.
//! - Local times are taken from the zone's rules at that instant, so on a DST change a range
//!   covers what the wall clock shows: `01:00-04:00` in Europe/Berlin lasts 2 real hours on the
//!   last Sunday of March and 4 on the last Sunday of October; a range inside the skipped hour
//!   (`02:00-03:00` in March) is never armed that day.
//! - No `days` means every day; no `times` means the whole day.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A day of the week as written in config files (`"mon"` or `"monday"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // the variants are the days
pub enum Day {
    #[serde(alias = "monday")]
    Mon,
    #[serde(alias = "tuesday")]
    Tue,
    #[serde(alias = "wednesday")]
    Wed,
    #[serde(alias = "thursday")]
    Thu,
    #[serde(alias = "friday")]
    Fri,
    #[serde(alias = "saturday")]
    Sat,
    #[serde(alias = "sunday")]
    Sun,
}

impl Day {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

fn weekday_bit(w: Weekday) -> u8 {
    1 << w.to_monday_zero_offset()
}

/// A schedule as written in the pipeline file.
///
/// ```toml
/// schedule = { days = ["mon", "tue", "wed", "thu", "fri"], times = ["22:00-06:00"], timezone = "Asia/Shanghai" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Days the ranges start on; empty (the default) means every day.
    #[serde(default)]
    pub days: Vec<Day>,
    /// Local time ranges `HH:MM-HH:MM` (or with seconds); empty (the default) means all day.
    #[serde(default)]
    pub times: Vec<String>,
    /// IANA zone, e.g. `Asia/Shanghai`; defaults to the camera's `timezone`. One of the two is
    /// required: a schedule without a zone would silently run on UTC.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// What is wrong with a schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleProblem {
    /// A range does not parse.
    #[error("time range {0:?} is not HH:MM-HH:MM (fix: e.g. \"22:00-06:00\"; seconds are optional)")]
    BadRange(String),
    /// Start and end are equal, which could mean "never" or "always".
    #[error("time range {0:?} starts and ends at the same time (fix: use \"00:00-24:00\" for all day)")]
    EmptyRange(String),
    /// No time zone on the schedule nor on the camera.
    #[error("no time zone (fix: set `timezone = \"Area/City\"` on the schedule or the camera)")]
    NoTimeZone,
    /// The zone name is not in the database.
    #[error("unknown time zone {name:?}: {reason} (fix: use an IANA name such as \"Asia/Shanghai\")")]
    UnknownTimeZone {
        /// The name given.
        name: String,
        /// What the time-zone database said.
        reason: String,
    },
}

/// Seconds since local midnight, 0..=86_400.
type DaySecond = u32;

const DAY: DaySecond = 86_400;

/// Parses `HH:MM` or `HH:MM:SS`; `24:00` is allowed (as an end).
fn parse_clock(s: &str) -> Option<DaySecond> {
    let mut parts = s.trim().split(':');
    let mut field = |max: u32| {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|&v| v <= max)
    };
    let h = field(24)?;
    let m = field(59)?;
    let sec = match parts.next() {
        None => 0,
        Some(p) => p.parse::<u32>().ok().filter(|&v| v <= 59)?,
    };
    if parts.next().is_some() {
        return None;
    }
    let total = h * 3600 + m * 60 + sec;
    (total <= DAY).then_some(total)
}

/// One validated local time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeRange {
    start: DaySecond,
    end: DaySecond,
}

impl TimeRange {
    fn parse(s: &str) -> Result<Self, ScheduleProblem> {
        let bad = || ScheduleProblem::BadRange(s.into());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start, end) = (parse_clock(a).ok_or_else(bad)?, parse_clock(b).ok_or_else(bad)?);
        if start == DAY {
            return Err(bad());
        }
        if start == end {
            return Err(ScheduleProblem::EmptyRange(s.into()));
        }
        Ok(Self { start, end })
    }

    fn wraps(self) -> bool {
        self.end < self.start
    }
}

/// A validated schedule, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Bit `d` set when day `d` (Monday = 0) is armed.
    days: u8,
    /// Empty means the whole day.
    ranges: Vec<TimeRange>,
    tz: TimeZone,
}

impl Schedule {
    /// Validates a config; `default_tz` is the camera's `timezone`.
    pub fn new(cfg: &ScheduleConfig, default_tz: Option<&str>) -> Result<Self, ScheduleProblem> {
        let name = cfg
            .timezone
            .as_deref()
            .or(default_tz)
            .ok_or(ScheduleProblem::NoTimeZone)?;
        let tz = TimeZone::get(name).map_err(|e| ScheduleProblem::UnknownTimeZone {
            name: name.into(),
            reason: e.to_string(),
        })?;
        let ranges = cfg
            .times
            .iter()
            .map(|s| TimeRange::parse(s))
            .collect::<Result<_, _>>()?;
        let days = if cfg.days.is_empty() {
            0x7F
        } else {
            cfg.days.iter().fold(0, |acc, d| acc | d.bit())
        };
        Ok(Self { days, ranges, tz })
    }

    /// True when the schedule is armed at the instant `t`.
    pub fn is_active(&self, t: Timestamp) -> bool {
        let local = self.tz.to_datetime(t);
        let today = weekday_bit(local.weekday());
        let yesterday = weekday_bit(local.weekday().previous());
        let now = u32::from(local.hour().unsigned_abs()) * 3600
            + u32::from(local.minute().unsigned_abs()) * 60
            + u32::from(local.second().unsigned_abs());
        let armed = |bit: u8| self.days & bit != 0;
        if self.ranges.is_empty() {
            return armed(today);
        }
        self.ranges.iter().any(|r| {
            if r.wraps() {
                (armed(today) && now >= r.start) || (armed(yesterday) && now < r.end)
            } else {
                armed(today) && now >= r.start && now < r.end
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(days: &[Day], times: &[&str], tz: &str) -> Schedule {
        Schedule::new(
            &ScheduleConfig {
                days: days.to_vec(),
                times: times.iter().map(|s| s.to_string()).collect(),
                timezone: Some(tz.into()),
            },
            None,
        )
        .expect("valid schedule")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn midnight_wrap_in_shanghai() {
        // 2024-05-03 is a Friday. Shanghai is UTC+8 with no DST.
        let s = sched(&[Day::Fri], &["22:00-06:00"], "Asia/Shanghai");
        let cases = [
            ("2024-05-03T13:59:59Z", false), // Fri 21:59:59
            ("2024-05-03T14:00:00Z", true),  // Fri 22:00
            ("2024-05-03T16:00:00Z", true),  // Sat 00:00, still Friday's range
            ("2024-05-03T21:59:59Z", true),  // Sat 05:59:59
            ("2024-05-03T22:00:00Z", false), // Sat 06:00, end is exclusive
            ("2024-05-04T14:00:00Z", false), // Sat 22:00: Saturday is not armed
            ("2024-05-02T17:00:00Z", false), // Fri 01:00: belongs to Thursday's night
        ];
        for (t, want) in cases {
            assert_eq!(s.is_active(at(t)), want, "{t}");
        }
    }

    #[test]
    fn day_of_week_boundary_follows_the_local_zone() {
        // Monday 00:00 in Shanghai is still Sunday 16:00 in UTC.
        let s = sched(&[Day::Mon], &[], "Asia/Shanghai");
        assert!(!s.is_active(at("2024-05-05T15:59:59Z")));
        assert!(s.is_active(at("2024-05-05T16:00:00Z")));
        assert!(s.is_active(at("2024-05-06T15:59:59Z")));
        assert!(!s.is_active(at("2024-05-06T16:00:00Z")));
    }

    /// Minutes armed between two instants, sampled each minute.
    fn armed_minutes(s: &Schedule, from: &str, to: &str) -> i64 {
        let (mut t, end) = (at(from), at(to));
        let mut n = 0;
        while t < end {
            n += i64::from(s.is_active(t));
            t = t
                .checked_add(jiff::SignedDuration::from_mins(1))
                .expect("in range");
        }
        n
    }

    #[test]
    fn dst_changes_in_berlin_follow_the_wall_clock() {
        // From local midnight to the next local midnight (23 h in March, 25 h in October).
        let span = |day: &str| {
            let d: jiff::civil::Date = day.parse().expect("date");
            let tz = TimeZone::get("Europe/Berlin").expect("zone");
            let start = d.to_zoned(tz.clone()).expect("midnight exists").timestamp();
            let end = d
                .tomorrow()
                .expect("date")
                .to_zoned(tz)
                .expect("midnight exists")
                .timestamp();
            (start.to_string(), end.to_string())
        };
        // Spring forward, 2024-03-31: 02:00 CET jumps to 03:00 CEST.
        let (from, to) = span("2024-03-31");
        let wide = sched(&[Day::Sun], &["01:00-04:00"], "Europe/Berlin");
        assert_eq!(armed_minutes(&wide, &from, &to), 120);
        let skipped = sched(&[Day::Sun], &["02:00-03:00"], "Europe/Berlin");
        assert_eq!(armed_minutes(&skipped, &from, &to), 0);
        // Fall back, 2024-10-27: 03:00 CEST goes back to 02:00 CET; the hour happens twice.
        let (from, to) = span("2024-10-27");
        assert_eq!(armed_minutes(&wide, &from, &to), 240);
        assert_eq!(armed_minutes(&skipped, &from, &to), 120);
        // The instant after the jump reads 03:00 local: armed for a range starting at 03:00.
        let after_jump = sched(&[Day::Sun], &["03:00-03:30"], "Europe/Berlin");
        assert!(after_jump.is_active(at("2024-03-31T01:00:00Z")));
        assert!(!after_jump.is_active(at("2024-03-31T00:59:59Z")));
    }

    #[test]
    fn full_day_and_every_day_defaults() {
        let s = Schedule::new(&ScheduleConfig::default(), Some("UTC")).expect("valid");
        assert!(s.is_active(at("2024-05-05T23:59:59Z")));
        let all_day = sched(&[Day::Tue], &["00:00-24:00"], "UTC");
        assert!(all_day.is_active(at("2024-05-07T23:59:59Z")));
        assert!(!all_day.is_active(at("2024-05-08T00:00:00Z")));
    }

    #[test]
    fn bad_schedules_are_explained() {
        let cfg = |times: &[&str], tz: Option<&str>| ScheduleConfig {
            days: vec![],
            times: times.iter().map(|s| s.to_string()).collect(),
            timezone: tz.map(String::from),
        };
        let cases = [
            (
                cfg(&["22:00"], Some("UTC")),
                ScheduleProblem::BadRange("22:00".into()),
            ),
            (
                cfg(&["25:00-06:00"], Some("UTC")),
                ScheduleProblem::BadRange("25:00-06:00".into()),
            ),
            (
                cfg(&["24:00-06:00"], Some("UTC")),
                ScheduleProblem::BadRange("24:00-06:00".into()),
            ),
            (
                cfg(&["10:60-11:00"], Some("UTC")),
                ScheduleProblem::BadRange("10:60-11:00".into()),
            ),
            (
                cfg(&["08:00-08:00"], Some("UTC")),
                ScheduleProblem::EmptyRange("08:00-08:00".into()),
            ),
            (cfg(&[], None), ScheduleProblem::NoTimeZone),
        ];
        for (c, want) in cases {
            assert_eq!(Schedule::new(&c, None).map(|_| ()), Err(want));
        }
        assert!(matches!(
            Schedule::new(&cfg(&[], Some("Mars/Olympus")), None),
            Err(ScheduleProblem::UnknownTimeZone { .. })
        ));
        // Seconds are accepted; the camera default zone is used when the schedule has none.
        let ok = Schedule::new(&cfg(&["08:00:30-09:00:00"], None), Some("Asia/Shanghai")).expect("valid");
        assert!(ok.is_active(at("2024-05-06T00:00:30Z")));
        assert!(!ok.is_active(at("2024-05-06T00:00:29Z")));
    }

    #[test]
    fn day_names_parse_short_and_long() {
        #[derive(Deserialize)]
        struct W {
            d: Vec<Day>,
        }
        let w: W = toml::from_str("d = [\"mon\", \"sunday\"]").expect("parse");
        assert_eq!(w.d, vec![Day::Mon, Day::Sun]);
        assert!(toml::from_str::<W>("d = [\"funday\"]").is_err());
    }
}
