//! Plate watchlists for a video centre: hotlists (stolen, wanted) and allowlists (residents at
//! a gate camera).
//!
//! * [`model`]: validated entries and lists ([`WatchlistEntry`], [`Watchlist`]); the matching
//!   key is [`normalize_plate`] (width, case, separators — deliberately not the plate grammar).
//! * [`distance`]: OCR-aware weighted edit distance (`0`/`O`/`D`/`Q`, `1`/`I`/`L`/`7`, `2`/`Z`,
//!   `5`/`S`, `8`/`B`, `6`/`G` substitute cheaply).
//! * [`index`]: an immutable index answering exact and fuzzy lookups in microseconds at a
//!   million entries (confusion-class hashing + SymSpell deletion neighbourhood). Matching takes
//!   `now` explicitly — there is no hidden clock — and skips entries outside their validity window.
//! * [`csv_io`] / [`json_io`]: strict, streaming import with row/column errors and fix hints, and
//!   export. A bad row rejects the whole file.
//! * [`store`]: lists on disk, replaced atomically (temp file, fsync, rename, fsync directory),
//!   every change appended to the hash-chained [`audit`] log first.
//!
//! * [`policy`]: file-owned lists are read-only to the API; entries must be plates of the
//!   configured grammar.
//!
//! The index is rebuilt off the hot path from the store and swapped as an `Arc<WatchlistIndex>`;
//! [`live::LiveWatchlists`] keeps the two in step for a running daemon.

pub mod audit;
pub mod csv_io;
pub mod distance;
pub mod import;
pub mod index;
pub mod json_io;
pub mod live;
pub mod model;
mod multimap;
mod normalize;
pub mod policy;
pub mod store;

pub use distance::{CONFUSION_GROUPS, confusion_class, weighted_distance};
pub use import::{ImportError, ImportOptions};
pub use index::{IndexError, ListSummary, Match, MatchConfig, MatchKind, Matches, WatchlistIndex};
pub use live::LiveWatchlists;
pub use model::{
    InvalidValue, ListKind, ListName, MAX_PLATE_CHARS, Plate, Priority, Watchlist, WatchlistEntry,
    WatchlistError,
};
pub use normalize::normalize_plate;
pub use policy::{ListPolicy, PolicyError};

/// The timestamp type of validity windows and lookups (re-exported so callers need no `jiff`
/// dependency of their own).
pub use jiff::Timestamp;
