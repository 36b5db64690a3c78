//! Constant-velocity Kalman filter on a box, as in SORT/ByteTrack.
//!
//! State (8): `[cx, cy, a, h, vcx, vcy, va, vh]` — centre, aspect ratio `w / h`, height, and their
//! velocities per frame, in source-frame pixels. Measurement (4): `[cx, cy, a, h]`.
//!
//! Process and measurement noise scale with the box height, so a near, large object may move
//! more pixels per frame than a far, small one; the weights are ByteTrack's. The aspect ratio gets
//! a tiny, fixed noise because it changes slowly. Arithmetic is `f64`: covariances are squares of
//! pixel sizes and the 4×4 solve is done by Cholesky, both of which lose precision in `f32`.
//!
//! Written by hand (8×8 arrays) rather than with a linear-algebra crate: the matrices are fixed
//! and tiny, and only three operations are needed.

// Matrix code reads as the maths when written with indices; iterator chains would hide it.
#![allow(clippy::needless_range_loop)]

use vigil_core::BoxPx;

/// State dimension.
const N: usize = 8;
/// Measurement dimension.
const M: usize = 4;

/// Position noise per pixel of height (ByteTrack `_std_weight_position`).
const STD_WEIGHT_POSITION: f64 = 1.0 / 20.0;
/// Velocity noise per pixel of height (ByteTrack `_std_weight_velocity`).
const STD_WEIGHT_VELOCITY: f64 = 1.0 / 160.0;

type Mat8 = [[f64; N]; N];

/// A box measurement `[cx, cy, a, h]`; `None` for a box with no area or non-finite corners.
pub(crate) fn measure(b: &BoxPx) -> Option<[f64; M]> {
    let (w, h) = (b.width() as f64, b.height() as f64);
    if !b.is_finite() || w <= 0.0 || h <= 0.0 {
        return None;
    }
    let c = b.center();
    Some([c.x as f64, c.y as f64, w / h, h])
}

/// The box of a state or measurement vector's first four entries.
pub(crate) fn to_box(x: &[f64]) -> BoxPx {
    let (cx, cy, a, h) = (x[0], x[1], x[2], x[3]);
    let w = a * h;
    BoxPx::from_center(cx as f32, cy as f32, w as f32, h as f32)
}

/// Mean and covariance of one tracked box.
#[derive(Debug, Clone)]
pub(crate) struct KalmanBox {
    /// State mean.
    x: [f64; N],
    /// State covariance.
    p: Mat8,
}

impl KalmanBox {
    /// Starts a filter at a measured box with zero velocity and a wide velocity uncertainty.
    pub(crate) fn new(z: [f64; M]) -> Self {
        let h = z[3];
        let std = [
            2.0 * STD_WEIGHT_POSITION * h,
            2.0 * STD_WEIGHT_POSITION * h,
            1e-2,
            2.0 * STD_WEIGHT_POSITION * h,
            10.0 * STD_WEIGHT_VELOCITY * h,
            10.0 * STD_WEIGHT_VELOCITY * h,
            1e-5,
            10.0 * STD_WEIGHT_VELOCITY * h,
        ];
        let mut x = [0.0; N];
        x[..M].copy_from_slice(&z);
        let mut p = [[0.0; N]; N];
        for i in 0..N {
            p[i][i] = std[i] * std[i];
        }
        Self { x, p }
    }

    /// The current estimate as a box.
    pub(crate) fn bbox(&self) -> BoxPx {
        to_box(&self.x)
    }

    /// Current velocity of the centre, pixels per frame.
    #[cfg(test)]
    pub(crate) fn velocity(&self) -> (f64, f64) {
        (self.x[4], self.x[5])
    }

    /// True when every mean and covariance entry is finite (a filter fed absurd values can
    /// overflow; the tracker drops such a track instead of carrying NaN forward).
    pub(crate) fn is_finite(&self) -> bool {
        self.x.iter().all(|v| v.is_finite()) && self.p.iter().flatten().all(|v| v.is_finite())
    }

    /// Stops the height from changing while a track is unobserved (ByteTrack does this for lost
    /// tracks: an extrapolated growth or shrink is rarely real).
    pub(crate) fn freeze_height_velocity(&mut self) {
        self.x[7] = 0.0;
    }

    /// Advances the state by one frame: `x = F x`, `P = F P Fᵀ + Q`.
    pub(crate) fn predict(&mut self) {
        let h = self.x[3];
        let std = [
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_POSITION * h,
            1e-2,
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_VELOCITY * h,
            STD_WEIGHT_VELOCITY * h,
            1e-5,
            STD_WEIGHT_VELOCITY * h,
        ];
        for i in 0..M {
            self.x[i] += self.x[i + M];
        }
        // F = [[I, I], [0, I]]; F P Fᵀ adds the velocity rows/columns onto the position ones.
        let p = &mut self.p;
        for i in 0..M {
            for j in 0..N {
                p[i][j] += p[i + M][j];
            }
        }
        for row in p.iter_mut() {
            for j in 0..M {
                row[j] += row[j + M];
            }
        }
        for i in 0..N {
            p[i][i] += std[i] * std[i];
        }
    }

    /// Corrects the state with a measurement. Returns false (leaving the state as it was) when the
    /// innovation covariance is not positive definite, which only happens with absurd inputs.
    pub(crate) fn update(&mut self, z: [f64; M]) -> bool {
        let h = self.x[3];
        let r = [
            STD_WEIGHT_POSITION * h,
            STD_WEIGHT_POSITION * h,
            1e-1,
            STD_WEIGHT_POSITION * h,
        ];
        // S = H P Hᵀ + R, the top-left block of P plus measurement noise.
        let mut s = [[0.0; M]; M];
        for i in 0..M {
            for j in 0..M {
                s[i][j] = self.p[i][j];
            }
            s[i][i] += r[i] * r[i];
        }
        let Some(l) = cholesky(&s) else {
            return false;
        };
        // K = P Hᵀ S⁻¹: row i of K solves S kᵢ = (P Hᵀ)ᵢ, S symmetric.
        let mut k = [[0.0; M]; N];
        for i in 0..N {
            let pht = [self.p[i][0], self.p[i][1], self.p[i][2], self.p[i][3]];
            k[i] = cholesky_solve(&l, pht);
        }
        let innovation: [f64; M] = std::array::from_fn(|j| z[j] - self.x[j]);
        for i in 0..N {
            for j in 0..M {
                self.x[i] += k[i][j] * innovation[j];
            }
        }
        // P = P - K S Kᵀ = P - K (H P): H P is the first four rows of P.
        let hp: [[f64; N]; M] = std::array::from_fn(|j| self.p[j]);
        let mut p = self.p;
        for i in 0..N {
            for c in 0..N {
                let mut acc = 0.0;
                for j in 0..M {
                    acc += k[i][j] * hp[j][c];
                }
                p[i][c] -= acc;
            }
        }
        // Keep P exactly symmetric; rounding otherwise drifts it over thousands of frames.
        for i in 0..N {
            for j in (i + 1)..N {
                let v = 0.5 * (p[i][j] + p[j][i]);
                p[i][j] = v;
                p[j][i] = v;
            }
        }
        self.p = p;
        true
    }
}

/// Lower-triangular Cholesky factor of a symmetric positive-definite 4×4 matrix.
fn cholesky(a: &[[f64; M]; M]) -> Option<[[f64; M]; M]> {
    let mut l = [[0.0; M]; M];
    for i in 0..M {
        for j in 0..=i {
            let mut sum = a[i][j];
            for k in 0..j {
                sum -= l[i][k] * l[j][k];
            }
            if i == j {
                if !(sum > 0.0 && sum.is_finite()) {
                    return None;
                }
                l[i][i] = sum.sqrt();
            } else {
                l[i][j] = sum / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` for `x`.
fn cholesky_solve(l: &[[f64; M]; M], b: [f64; M]) -> [f64; M] {
    let mut y = [0.0; M];
    for i in 0..M {
        let mut sum = b[i];
        for k in 0..i {
            sum -= l[i][k] * y[k];
        }
        y[i] = sum / l[i][i];
    }
    let mut x = [0.0; M];
    for i in (0..M).rev() {
        let mut sum = y[i];
        for k in (i + 1)..M {
            sum -= l[k][i] * x[k];
        }
        x[i] = sum / l[i][i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn z(cx: f64, cy: f64, w: f64, h: f64) -> [f64; M] {
        [cx, cy, w / h, h]
    }

    #[test]
    fn measure_rejects_degenerate_and_non_finite_boxes() {
        assert!(measure(&BoxPx::new(0.0, 0.0, 0.0, 10.0)).is_none());
        assert!(measure(&BoxPx::new(5.0, 5.0, 1.0, 10.0)).is_none());
        assert!(measure(&BoxPx::new(f32::NAN, 0.0, 10.0, 10.0)).is_none());
        assert!(measure(&BoxPx::new(0.0, 0.0, f32::INFINITY, 10.0)).is_none());
        let m = measure(&BoxPx::new(10.0, 20.0, 30.0, 60.0)).expect("valid box");
        assert_eq!(m, [20.0, 40.0, 0.5, 40.0]);
    }

    #[test]
    fn box_round_trips_through_measurement() {
        let b = BoxPx::new(12.0, 7.0, 52.0, 107.0);
        let back = to_box(&measure(&b).expect("valid"));
        assert!(
            (back.x1 - b.x1).abs() < 1e-4 && (back.y2 - b.y2).abs() < 1e-4,
            "{back:?}"
        );
    }

    #[test]
    fn velocity_converges_to_the_true_velocity() {
        let (vx, vy) = (4.0, -2.5);
        let mut kf = KalmanBox::new(z(100.0, 300.0, 40.0, 80.0));
        for t in 1..40 {
            kf.predict();
            assert!(kf.update(z(100.0 + vx * t as f64, 300.0 + vy * t as f64, 40.0, 80.0)));
        }
        let (ex, ey) = kf.velocity();
        assert!(
            (ex - vx).abs() < 0.05 && (ey - vy).abs() < 0.05,
            "velocity {ex},{ey}"
        );
        // The prediction one frame ahead lands on the true next position.
        kf.predict();
        let c = kf.bbox().center();
        assert!((c.x as f64 - (100.0 + vx * 40.0)).abs() < 0.5, "{c:?}");
        assert!((c.y as f64 - (300.0 + vy * 40.0)).abs() < 0.5, "{c:?}");
    }

    #[test]
    fn predict_grows_uncertainty_and_update_shrinks_it() {
        let mut kf = KalmanBox::new(z(0.0, 0.0, 10.0, 20.0));
        let p0 = kf.p[0][0];
        kf.predict();
        let p1 = kf.p[0][0];
        assert!(p1 > p0);
        assert!(kf.update(z(1.0, 0.0, 10.0, 20.0)));
        assert!(kf.p[0][0] < p1);
    }

    #[test]
    fn update_moves_the_mean_between_prediction_and_measurement() {
        let mut kf = KalmanBox::new(z(0.0, 0.0, 10.0, 20.0));
        kf.predict();
        assert!(kf.update(z(10.0, 0.0, 10.0, 20.0)));
        let cx = kf.bbox().center().x;
        assert!(cx > 0.0 && cx < 10.0, "cx {cx}");
    }

    #[test]
    fn freezing_height_velocity_stops_scale_extrapolation() {
        let mut kf = KalmanBox::new(z(0.0, 0.0, 10.0, 20.0));
        for t in 1..20 {
            kf.predict();
            kf.update(z(0.0, 0.0, 10.0 + t as f64, 20.0 + 2.0 * t as f64));
        }
        kf.freeze_height_velocity();
        let h = kf.bbox().height();
        kf.predict();
        assert!((kf.bbox().height() - h).abs() < 1e-3);
    }

    #[test]
    fn cholesky_solve_inverts_a_known_system() {
        let a = [
            [4.0, 2.0, 0.0, 0.0],
            [2.0, 5.0, 1.0, 0.0],
            [0.0, 1.0, 3.0, 0.5],
            [0.0, 0.0, 0.5, 2.0],
        ];
        let l = cholesky(&a).expect("spd");
        let b = [1.0, 2.0, 3.0, 4.0];
        let x = cholesky_solve(&l, b);
        for i in 0..M {
            let ax: f64 = (0..M).map(|j| a[i][j] * x[j]).sum();
            assert!((ax - b[i]).abs() < 1e-9);
        }
        assert!(cholesky(&[[0.0; M]; M]).is_none());
    }

    proptest! {
        /// Any plausible box sequence keeps the filter finite and the covariance symmetric with a
        /// positive diagonal.
        #[test]
        fn filter_stays_finite_and_symmetric(
            steps in prop::collection::vec((-2000.0f64..2000.0, -2000.0f64..2000.0, 1.0f64..500.0, 1.0f64..500.0), 1..60)
        ) {
            let (cx, cy, w, h) = steps[0];
            let mut kf = KalmanBox::new(z(cx, cy, w, h));
            for &(cx, cy, w, h) in &steps[1..] {
                kf.predict();
                kf.update(z(cx, cy, w, h));
                prop_assert!(kf.is_finite());
                for i in 0..N {
                    prop_assert!(kf.p[i][i] > 0.0);
                    for j in 0..N {
                        prop_assert!((kf.p[i][j] - kf.p[j][i]).abs() <= 1e-9 * (1.0 + kf.p[i][j].abs()));
                    }
                }
            }
        }
    }
}
