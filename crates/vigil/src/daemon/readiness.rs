//! `/readyz`: can this daemon serve its API and analyse video?
//!
//! Required (a failure answers 503, so an orchestrator stops routing to the pod):
//! * `model:<name>` — the detector is loaded.
//! * `outbox` — alerts can be stored for delivery (a full or broken disk is a lost alert).
//! * `cameras` — more than half of the configured cameras are not dark (streaming, stopped on
//!   purpose, or still connecting within [`CONNECT_GRACE`] of start). One dark camera is an
//!   incident to show, not a reason to hide the console; most of them dark means the node
//!   cannot do its job.
//!
//! Reported only (never 503): each `camera:<id>` and each `sink:<name>`. A broker incident must
//! not take the API and console out of a Kubernetes Service; sink health is in these checks, in
//! `vigil_sink_state` and on the console.

use std::time::Duration;

use vigil_alert::CircuitState;
use vigil_http::{Readiness, ReadinessCheck};
use vigil_ingest::CameraState;

/// How long after start a camera may still be connecting without counting as dark.
pub const CONNECT_GRACE: Duration = Duration::from_secs(30);

/// One camera as readiness sees it.
#[derive(Debug, Clone)]
pub struct CameraReadiness {
    /// Camera id.
    pub id: String,
    /// Ingest state now.
    pub state: CameraState,
}

/// Everything readiness looks at, gathered by the backend.
#[derive(Debug, Clone)]
pub struct ReadinessInput {
    /// Detector model name (loaded: the pipeline does not start without it).
    pub model: String,
    /// Whether alerts can be stored, and why not.
    pub outbox: Result<String, String>,
    /// Cameras in config order.
    pub cameras: Vec<CameraReadiness>,
    /// Time since the pipeline started.
    pub uptime: Duration,
    /// Sinks and their circuit state.
    pub sinks: Vec<(String, CircuitState)>,
}

/// Whether a camera in `state` is dark, `uptime` after start.
fn dark(state: CameraState, uptime: Duration) -> bool {
    match state {
        CameraState::Streaming | CameraState::Stopped => false,
        CameraState::Connecting => uptime > CONNECT_GRACE,
        CameraState::Backoff | CameraState::Failed => true,
    }
}

/// The readiness answer for `input`.
pub fn evaluate(input: &ReadinessInput) -> Readiness {
    let mut checks = vec![ReadinessCheck {
        name: format!("model:{}", input.model),
        ok: true,
        required: true,
        detail: "loaded".into(),
    }];
    let (ok, detail) = match &input.outbox {
        Ok(d) => (true, d.clone()),
        Err(d) => (false, d.clone()),
    };
    checks.push(ReadinessCheck {
        name: "outbox".into(),
        ok,
        required: true,
        detail,
    });
    let total = input.cameras.len();
    let dark_ids: Vec<&str> = input
        .cameras
        .iter()
        .filter(|c| dark(c.state, input.uptime))
        .map(|c| c.id.as_str())
        .collect();
    checks.push(ReadinessCheck {
        name: "cameras".into(),
        ok: dark_ids.len() * 2 <= total,
        required: true,
        detail: if dark_ids.is_empty() {
            format!("{total} of {total} up")
        } else {
            format!(
                "{} of {total} up; dark: {}",
                total - dark_ids.len(),
                dark_ids.join(", ")
            )
        },
    });
    for c in &input.cameras {
        checks.push(ReadinessCheck {
            name: format!("camera:{}", c.id),
            ok: !dark(c.state, input.uptime),
            required: false,
            detail: c.state.as_str().into(),
        });
    }
    for (name, st) in &input.sinks {
        checks.push(ReadinessCheck {
            name: format!("sink:{name}"),
            ok: *st != CircuitState::Down,
            required: false,
            detail: format!("{st:?}").to_lowercase(),
        });
    }
    Readiness::from_checks(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(states: &[CameraState], sink: CircuitState, outbox: Result<&str, &str>) -> ReadinessInput {
        ReadinessInput {
            model: "yolox-nano".into(),
            outbox: outbox.map(str::to_owned).map_err(str::to_owned),
            cameras: states
                .iter()
                .enumerate()
                .map(|(i, s)| CameraReadiness {
                    id: format!("cam{i}"),
                    state: *s,
                })
                .collect(),
            uptime: Duration::from_secs(120),
            sinks: vec![("nats".into(), sink)],
        }
    }

    use CameraState::{Backoff, Connecting, Failed, Streaming};

    #[test]
    fn a_sink_down_is_reported_but_does_not_make_the_daemon_unready() {
        let r = evaluate(&input(&[Streaming, Streaming], CircuitState::Down, Ok("ok")));
        assert!(r.ready);
        let sink = r
            .checks
            .iter()
            .find(|c| c.name == "sink:nats")
            .expect("sink check");
        assert!(!sink.ok && !sink.required);
    }

    #[test]
    fn most_cameras_dark_or_a_broken_outbox_make_it_unready() {
        // 5 of 8 dark (the attack): not ready, and the body names them.
        let states = [
            Failed, Backoff, Failed, Backoff, Failed, Streaming, Streaming, Streaming,
        ];
        let r = evaluate(&input(&states, CircuitState::Up, Ok("ok")));
        assert!(!r.ready);
        let cams = r.checks.iter().find(|c| c.name == "cameras").expect("cameras");
        assert_eq!(cams.detail, "3 of 8 up; dark: cam0, cam1, cam2, cam3, cam4");
        // One of four dark: ready, the camera reported.
        let r = evaluate(&input(
            &[Failed, Streaming, Streaming, Streaming],
            CircuitState::Up,
            Ok("ok"),
        ));
        assert!(r.ready);
        assert!(r.checks.iter().any(|c| c.name == "camera:cam0" && !c.ok));
        // Outbox refusing writes: not ready.
        let r = evaluate(&input(
            &[Streaming],
            CircuitState::Up,
            Err("No space left on device"),
        ));
        assert!(!r.ready);
    }

    #[test]
    fn connecting_cameras_are_given_a_grace_period_after_start() {
        let mut i = input(&[Connecting, Connecting], CircuitState::Up, Ok("ok"));
        i.uptime = Duration::from_secs(5);
        assert!(evaluate(&i).ready);
        i.uptime = CONNECT_GRACE + Duration::from_secs(1);
        assert!(!evaluate(&i).ready);
        // No cameras at all (an API-only node) is not "dark".
        assert!(evaluate(&input(&[], CircuitState::Up, Ok("ok"))).ready);
    }
}
