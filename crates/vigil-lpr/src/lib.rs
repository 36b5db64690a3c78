//! The plate recognition stage: from a vehicle in a frame to [`PlateRead`]s.
//!
//! ```text
//! vehicle box ──margins──► crop (zero-copy view)
//!     ──localiser──► plate quads      PP-OCR DB text detector, or a YOLO plate detector
//!     ──rectify────► upright strips   perspective warp of each quad (vigil_infer::warp)
//!     ──recognise──► CTC outputs      PP-OCR recogniser, 48 px high, one batch per vehicle
//!     ──decode─────► PlateRead        grammar-constrained Viterbi (vigil_plate)
//! ```
//!
//! Design choices, each measured on the development sets (docs/accuracy.md):
//! - The localiser is chosen by the model manifest's family alone ([`localise`]): `ppocr-det`
//!   finds every text line and relies on the grammar to reject non-plates; a `yolox`/`yolov8`
//!   plate detector gives plate boxes directly. Swapping is a manifest, not a code change.
//! - The grammar is the filter: text that fits no plate format with enough confidence (box
//!   numbers, slogans, phone numbers) is never reported, so the localiser can be generous.
//! - Double-row plates (yellow trucks and buses) come out of the text detector as two lines;
//!   [`candidates::double_row_pairs`] pairs them and their CTC outputs are joined before
//!   decoding, so the grammar sees one plate.
//! - Every read gets a plate colour ([`colour`]): a pure classifier over the rectified strip's
//!   text/background luminance classes, refined by what the format implies (new-energy plates
//!   are green or yellow-green); `None` when unsure.
//! - Whole scenes ([`PlateReader::read_image`]) are read vehicle by vehicle, plus one
//!   whole-image pass for plates on vehicles the object detector misses.
//!
//! [`eval`] measures all of it; `vigil eval plates|scenes` prints the reports.
//!
//! [`PlateRead`]: vigil_core::plate::PlateRead

pub mod candidates;
pub mod colour;
mod config;
pub mod deskew;
mod error;
pub mod eval;
pub mod geometry;
pub mod localise;
mod reader;

pub use config::{CropPad, PlateReaderConfig};
pub use error::LprError;
pub use geometry::{Margins, PixelRect};
pub use localise::{Localiser, LocaliserKind, Quad, localiser_kind};
pub use reader::{PlateReader, SceneReads, VEHICLE_CLASSES, VehicleFinder};
