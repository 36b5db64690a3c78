//! Pure plane geometry in source-frame pixels: point in polygon, polygon validation, segment
//! intersection and directed line crossing.
//!
//! Everything is computed in `f64` from the `f32` inputs so that cross products of pixel
//! coordinates up to 8K stay exact enough for sign tests.

use vigil_core::PointPx;

/// Twice the signed area of the triangle `o, a, b`: `(a − o) × (b − o)`.
///
/// In image coordinates (y grows downwards) a positive value means `b` lies to the *right* of
/// the ray `o → a` as seen on screen, a negative one to the left, zero on the line.
pub fn cross(o: PointPx, a: PointPx, b: PointPx) -> f64 {
    let (ox, oy) = (f64::from(o.x), f64::from(o.y));
    (f64::from(a.x) - ox) * (f64::from(b.y) - oy) - (f64::from(a.y) - oy) * (f64::from(b.x) - ox)
}

/// Even-odd (crossing number) point-in-polygon test; the polygon is implicitly closed.
///
/// Points exactly on an edge follow the half-open convention of pixel rasterisers: on a
/// rectangle, the top and left edges are inside, the bottom and right edges outside. Two zones
/// that share an edge therefore never both claim a point on it (away from vertices), and a point
/// is never counted in neither. Fewer than 3 points contain nothing; NaN points are outside.
pub fn point_in_polygon(p: PointPx, poly: &[PointPx]) -> bool {
    if poly.len() < 3 {
        return false;
    }
    let (px, py) = (f64::from(p.x), f64::from(p.y));
    let mut inside = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let (ax, ay) = (f64::from(poly[i].x), f64::from(poly[i].y));
        let (bx, by) = (f64::from(poly[j].x), f64::from(poly[j].y));
        // The edge straddles the horizontal through p (half-open in y, so a vertex on the ray is
        // counted once); toggle when the edge is strictly to the right of p.
        if (ay > py) != (by > py) {
            let x_at = ax + (py - ay) * (bx - ax) / (by - ay);
            if px < x_at {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Signed area of a closed polygon (shoelace); positive when the points run clockwise on screen.
pub fn signed_area(poly: &[PointPx]) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            f64::from(a.x) * f64::from(b.y) - f64::from(b.x) * f64::from(a.y)
        })
        .sum::<f64>()
        / 2.0
}

/// True when `p`, known to be collinear with `a, b`, lies within their bounding box.
fn on_segment(a: PointPx, b: PointPx, p: PointPx) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// True when the closed segments `p1–p2` and `q1–q2` share at least one point (touching counts).
pub fn segments_intersect(p1: PointPx, p2: PointPx, q1: PointPx, q2: PointPx) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

/// What is wrong with a polygon or line, as found by [`validate_polygon`] / [`validate_line`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeProblem {
    /// Fewer than three points.
    #[error("has {count} point(s); a zone needs at least 3 (fix: list every corner of the area)")]
    TooFewPoints {
        /// Number of points given.
        count: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("point {index} is not a finite number (fix: write plain decimal numbers)")]
    NotFinite {
        /// Index of the point, from 0.
        index: usize,
    },
    /// A point lies outside the frame.
    #[error(
        "point {index} ({x}, {y}) is outside the frame 0..{max_x} × 0..{max_y} (fix: check `coords` — \
         normalised values run 0..1, pixel values up to the stream's resolution)"
    )]
    OutOfFrame {
        /// Index of the point, from 0.
        index: usize,
        /// Its x as configured.
        x: f32,
        /// Its y as configured.
        y: f32,
        /// Largest allowed x (1 for normalised coordinates, the width for pixels).
        max_x: f32,
        /// Largest allowed y.
        max_y: f32,
    },
    /// Two consecutive points are the same.
    #[error("points {index} and {next} are the same (fix: remove the duplicate)")]
    RepeatedPoint {
        /// Index of the first of the two.
        index: usize,
        /// Index of the second (wraps to 0 after the last).
        next: usize,
    },
    /// Two edges cross or overlap.
    #[error(
        "edges {first} and {second} cross each other, the polygon is self-intersecting (fix: list the \
         points in order around the area, e.g. clockwise, without a figure-of-eight)"
    )]
    SelfIntersection {
        /// Index of the first edge (edge i runs from point i to point i+1).
        first: usize,
        /// Index of the second edge.
        second: usize,
    },
    /// All points lie on one line.
    #[error("all points lie on one line, the zone has no area (fix: spread the corners out)")]
    ZeroArea,
    /// A line's two ends are the same point.
    #[error("both ends are the same point (fix: give `a` and `b` distinct positions)")]
    DegenerateLine,
}

fn check_point(index: usize, p: PointPx, max_x: f32, max_y: f32) -> Result<(), ShapeProblem> {
    if !p.x.is_finite() || !p.y.is_finite() {
        return Err(ShapeProblem::NotFinite { index });
    }
    if p.x < 0.0 || p.y < 0.0 || p.x > max_x || p.y > max_y {
        return Err(ShapeProblem::OutOfFrame {
            index,
            x: p.x,
            y: p.y,
            max_x,
            max_y,
        });
    }
    Ok(())
}

/// Checks that `poly` (in its configured coordinates, bounded by `0..=max_x`, `0..=max_y`) is a
/// simple polygon: at least 3 finite points inside the frame, no repeated consecutive points, no
/// two edges crossing or overlapping, a non-zero area. Reports the first problem found.
///
/// O(n²) in the number of points, which is fine for hand-drawn zones.
pub fn validate_polygon(poly: &[PointPx], max_x: f32, max_y: f32) -> Result<(), ShapeProblem> {
    let n = poly.len();
    if n < 3 {
        return Err(ShapeProblem::TooFewPoints { count: n });
    }
    for (i, &p) in poly.iter().enumerate() {
        check_point(i, p, max_x, max_y)?;
    }
    for i in 0..n {
        if poly[i] == poly[(i + 1) % n] {
            return Err(ShapeProblem::RepeatedPoint {
                index: i,
                next: (i + 1) % n,
            });
        }
    }
    let edge = |i: usize| (poly[i], poly[(i + 1) % n]);
    for i in 0..n {
        let (a1, a2) = edge(i);
        for j in i + 1..n {
            let (b1, b2) = edge(j);
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if !adjacent {
                if segments_intersect(a1, a2, b1, b2) {
                    return Err(ShapeProblem::SelfIntersection { first: i, second: j });
                }
                continue;
            }
            // Adjacent edges share one vertex by construction; they are only wrong when they
            // fold back onto each other (collinear and pointing the same way from the vertex).
            let (shared, other_a, other_b) = if j == i + 1 { (a2, a1, b2) } else { (a1, a2, b1) };
            let folded = cross(shared, other_a, other_b) == 0.0 && {
                let (ux, uy) = (other_a.x - shared.x, other_a.y - shared.y);
                let (vx, vy) = (other_b.x - shared.x, other_b.y - shared.y);
                f64::from(ux) * f64::from(vx) + f64::from(uy) * f64::from(vy) > 0.0
            };
            if folded && n > 3 {
                return Err(ShapeProblem::SelfIntersection { first: i, second: j });
            }
        }
    }
    if signed_area(poly) == 0.0 {
        return Err(ShapeProblem::ZeroArea);
    }
    Ok(())
}

/// Checks a line's ends: finite, inside the frame, distinct.
pub fn validate_line(a: PointPx, b: PointPx, max_x: f32, max_y: f32) -> Result<(), ShapeProblem> {
    check_point(0, a, max_x, max_y)?;
    check_point(1, b, max_x, max_y)?;
    if a == b {
        return Err(ShapeProblem::DegenerateLine);
    }
    Ok(())
}

/// Which side of a directed line `A → B` a point is on, as seen on screen standing at A and
/// looking towards B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Left of A → B (cross product negative in image coordinates).
    Left,
    /// Right of A → B (cross product positive in image coordinates).
    Right,
}

/// Side of `p` relative to the directed line `a → b`; `None` when `p` is on the (infinite) line.
pub fn side_of(a: PointPx, b: PointPx, p: PointPx) -> Option<Side> {
    let c = cross(a, b, p);
    if c > 0.0 {
        Some(Side::Right)
    } else if c < 0.0 {
        Some(Side::Left)
    } else {
        None
    }
}

/// Direction of a line crossing, relative to the line's `A → B` direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// From the left side of A → B to the right side.
    LeftToRight,
    /// From the right side of A → B to the left side.
    RightToLeft,
}

impl Crossing {
    /// Name used in config files and alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            Crossing::LeftToRight => "left_to_right",
            Crossing::RightToLeft => "right_to_left",
        }
    }
}

/// Memory of one moving point against one line: the last position that was *off* the line.
///
/// Keeping the last off-line position (rather than the previous frame's) is what makes
/// "stepped onto the line, then off on the far side" a crossing, and "touched the line, went
/// back" not one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LineTracker {
    last: Option<(Side, PointPx)>,
}

impl LineTracker {
    /// Feeds the point's next position; returns the crossing it completes, if any.
    ///
    /// A crossing needs the side to flip *and* the movement since the last off-line position to
    /// pass through the segment A–B itself (passing beyond an end of the line is not a
    /// crossing). NaN points are ignored.
    pub fn step(&mut self, a: PointPx, b: PointPx, p: PointPx) -> Option<Crossing> {
        if !p.x.is_finite() || !p.y.is_finite() {
            return None;
        }
        let side = side_of(a, b, p)?;
        let crossed = match self.last {
            Some((prev, from)) if prev != side && segments_intersect(from, p, a, b) => Some(match side {
                Side::Right => Crossing::LeftToRight,
                Side::Left => Crossing::RightToLeft,
            }),
            _ => None,
        };
        self.last = Some((side, p));
        crossed
    }
}

/// Every crossing of line `a → b` along a path of points (oldest first).
pub fn path_crossings(a: PointPx, b: PointPx, path: &[PointPx]) -> Vec<Crossing> {
    let mut t = LineTracker::default();
    path.iter().filter_map(|&p| t.step(a, b, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(x: f32, y: f32) -> PointPx {
        PointPx { x, y }
    }

    fn square() -> Vec<PointPx> {
        vec![p(0.0, 0.0), p(10.0, 0.0), p(10.0, 10.0), p(0.0, 10.0)]
    }

    #[test]
    fn point_in_square_and_concave_polygon() {
        let sq = square();
        let cases = [
            (p(5.0, 5.0), true),
            (p(-1.0, 5.0), false),
            (p(5.0, 11.0), false),
            (p(f32::NAN, 5.0), false),
            // Edge convention: top and left in, bottom and right out.
            (p(0.0, 5.0), true),
            (p(5.0, 0.0), true),
            (p(10.0, 5.0), false),
            (p(5.0, 10.0), false),
        ];
        for (pt, want) in cases {
            assert_eq!(point_in_polygon(pt, &sq), want, "{pt:?}");
        }
        // A "U" shape: the notch between the arms is outside.
        let u = [
            p(0.0, 0.0),
            p(3.0, 0.0),
            p(3.0, 7.0),
            p(7.0, 7.0),
            p(7.0, 0.0),
            p(10.0, 0.0),
            p(10.0, 10.0),
            p(0.0, 10.0),
        ];
        assert!(!point_in_polygon(p(5.0, 3.0), &u));
        assert!(point_in_polygon(p(1.0, 3.0), &u));
        assert!(point_in_polygon(p(5.0, 9.0), &u));
        assert!(!point_in_polygon(p(1.0, 1.0), &u[..2]));
    }

    #[test]
    fn shared_edge_belongs_to_exactly_one_zone() {
        let left = square();
        let right = [p(10.0, 0.0), p(20.0, 0.0), p(20.0, 10.0), p(10.0, 10.0)];
        for y in [0.5, 3.0, 9.5] {
            let pt = p(10.0, y);
            assert!(
                point_in_polygon(pt, &left) ^ point_in_polygon(pt, &right),
                "y={y}"
            );
        }
    }

    #[test]
    fn validation_reports_each_problem() {
        let cases: Vec<(Vec<PointPx>, ShapeProblem)> = vec![
            (
                vec![p(0.0, 0.0), p(1.0, 1.0)],
                ShapeProblem::TooFewPoints { count: 2 },
            ),
            (
                // Bow-tie: edges 0 (top-left → bottom-right) and 2 cross.
                vec![p(0.0, 0.0), p(8.0, 8.0), p(8.0, 0.0), p(0.0, 8.0)],
                ShapeProblem::SelfIntersection { first: 0, second: 2 },
            ),
            (
                vec![p(0.0, 0.0), p(20.0, 0.0), p(20.0, 5.0)],
                ShapeProblem::OutOfFrame {
                    index: 1,
                    x: 20.0,
                    y: 0.0,
                    max_x: 16.0,
                    max_y: 9.0,
                },
            ),
            (
                vec![p(0.0, 0.0), p(f32::INFINITY, 0.0), p(5.0, 5.0)],
                ShapeProblem::NotFinite { index: 1 },
            ),
            (
                vec![p(0.0, 0.0), p(4.0, 0.0), p(4.0, 0.0), p(0.0, 4.0)],
                ShapeProblem::RepeatedPoint { index: 1, next: 2 },
            ),
            (
                vec![p(0.0, 0.0), p(2.0, 2.0), p(4.0, 4.0)],
                ShapeProblem::ZeroArea,
            ),
            (
                // A spike: edge 1 runs back along edge 0.
                vec![p(0.0, 0.0), p(8.0, 0.0), p(4.0, 0.0), p(4.0, 6.0)],
                ShapeProblem::SelfIntersection { first: 0, second: 1 },
            ),
        ];
        for (poly, want) in cases {
            assert_eq!(validate_polygon(&poly, 16.0, 9.0), Err(want), "{poly:?}");
        }
        assert_eq!(validate_polygon(&square(), 10.0, 10.0), Ok(()));
    }

    #[test]
    fn line_validation() {
        assert_eq!(validate_line(p(0.0, 0.0), p(1.0, 1.0), 1.0, 1.0), Ok(()));
        assert_eq!(
            validate_line(p(0.5, 0.5), p(0.5, 0.5), 1.0, 1.0),
            Err(ShapeProblem::DegenerateLine)
        );
        assert!(matches!(
            validate_line(p(0.5, 0.5), p(0.5, 1.5), 1.0, 1.0),
            Err(ShapeProblem::OutOfFrame { index: 1, .. })
        ));
    }

    #[test]
    fn side_convention_on_screen() {
        // A → B points right on screen; "right of it" is below (larger y) on screen.
        let (a, b) = (p(0.0, 5.0), p(10.0, 5.0));
        assert_eq!(side_of(a, b, p(5.0, 9.0)), Some(Side::Right));
        assert_eq!(side_of(a, b, p(5.0, 1.0)), Some(Side::Left));
        assert_eq!(side_of(a, b, p(50.0, 5.0)), None);
    }

    #[test]
    fn crossings_along_paths() {
        // Vertical line, A at the top, B at the bottom: looking down the screen, right is -x.
        let (a, b) = (p(10.0, 0.0), p(10.0, 20.0));
        let cases: Vec<(&str, Vec<PointPx>, Vec<Crossing>)> = vec![
            (
                "east-bound",
                vec![p(5.0, 10.0), p(15.0, 10.0)],
                vec![Crossing::RightToLeft],
            ),
            (
                "west-bound",
                vec![p(15.0, 10.0), p(5.0, 10.0)],
                vec![Crossing::LeftToRight],
            ),
            (
                "touch and back",
                vec![p(5.0, 10.0), p(10.0, 10.0), p(5.0, 11.0)],
                vec![],
            ),
            (
                "onto the line, then over",
                vec![p(5.0, 10.0), p(10.0, 10.0), p(15.0, 10.0)],
                vec![Crossing::RightToLeft],
            ),
            (
                "past the end of the line",
                vec![p(5.0, 30.0), p(15.0, 30.0)],
                vec![],
            ),
            (
                "there and back",
                vec![p(5.0, 10.0), p(15.0, 10.0), p(5.0, 12.0)],
                vec![Crossing::RightToLeft, Crossing::LeftToRight],
            ),
            (
                "stays on one side",
                vec![p(1.0, 1.0), p(2.0, 19.0), p(9.0, 5.0)],
                vec![],
            ),
        ];
        for (name, path, want) in cases {
            assert_eq!(path_crossings(a, b, &path), want, "{name}");
        }
    }

    #[test]
    fn segment_intersection_cases() {
        let (o, x) = (p(0.0, 0.0), p(10.0, 0.0));
        assert!(segments_intersect(o, x, p(5.0, -5.0), p(5.0, 5.0)));
        assert!(
            segments_intersect(o, x, p(10.0, 0.0), p(10.0, 5.0)),
            "touching at an end"
        );
        assert!(
            segments_intersect(o, x, p(5.0, 0.0), p(15.0, 0.0)),
            "collinear overlap"
        );
        assert!(
            !segments_intersect(o, x, p(11.0, 0.0), p(15.0, 0.0)),
            "collinear apart"
        );
        assert!(!segments_intersect(o, x, p(5.0, 1.0), p(6.0, 5.0)));
    }

    fn coord() -> impl Strategy<Value = f32> {
        (0u32..=200).prop_map(|v| v as f32 * 0.5)
    }

    proptest! {
        /// On an axis-aligned rectangle the even-odd test agrees with the box test under the
        /// documented half-open edge rule, whatever vertex the polygon starts at and whichever
        /// way it runs.
        #[test]
        fn rectangle_matches_half_open_box(
            x1 in coord(), y1 in coord(), w in 1u32..50, h in 1u32..50,
            px in coord(), py in coord(), start in 0usize..4, reverse: bool,
        ) {
            let (x2, y2) = (x1 + w as f32, y1 + h as f32);
            let mut poly = vec![p(x1, y1), p(x2, y1), p(x2, y2), p(x1, y2)];
            poly.rotate_left(start);
            if reverse {
                poly.reverse();
            }
            let want = px >= x1 && px < x2 && py >= y1 && py < y2;
            prop_assert_eq!(point_in_polygon(p(px, py), &poly), want);
        }

        /// A crossing is reported exactly when the two off-line points are on opposite sides and
        /// the movement passes through the segment; reversing the movement flips its direction.
        #[test]
        fn crossing_reverses_with_movement(
            ax in coord(), ay in coord(), bx in coord(), by in coord(),
            p1x in coord(), p1y in coord(), p2x in coord(), p2y in coord(),
        ) {
            let (a, b, p1, p2) = (p(ax, ay), p(bx, by), p(p1x, p1y), p(p2x, p2y));
            prop_assume!(a != b);
            let fwd = path_crossings(a, b, &[p1, p2]);
            let back = path_crossings(a, b, &[p2, p1]);
            prop_assert_eq!(fwd.len(), back.len());
            if let (Some(f), Some(r)) = (fwd.first(), back.first()) {
                prop_assert_ne!(f, r);
            }
            let opposite = matches!(
                (side_of(a, b, p1), side_of(a, b, p2)),
                (Some(s1), Some(s2)) if s1 != s2
            );
            prop_assert_eq!(fwd.len() == 1, opposite && segments_intersect(p1, p2, a, b));
        }
    }
}
