//! Built-in formats for mainland Chinese plates (GA 36-2018 and the 2021 new-energy rules), as
//! ordinary [`PlateFormatConfig`] data: they pass the same validation as an operator's formats.

use crate::format::PlateFormatConfig;

/// The 31 province-level abbreviations that open a mainland plate.
pub const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Letters used on plates: A–Z without I and O (too easily confused with 1 and 0).
const LETTERS: &str = "A-HJ-NP-Z";
/// Letters (without I, O) and digits.
const ALNUM: &str = "0-9A-HJ-NP-Z";
/// Third character of a small new-energy plate: D/F historically, A–K (without I) since 2021.
const NEW_ENERGY_CLASS: &str = "DFABCEGHJK";
/// Suffix characters of special plates: learner, police, trailer, Hong Kong, Macau, consulate,
/// embassy.
const SPECIAL_SUFFIXES: &str = "学警挂港澳领使";

/// Format name of ordinary 7-character plates (blue or yellow).
pub const CN_ORDINARY: &str = "cn-ordinary";
/// Format name of 8-character small new-energy plates (green).
pub const CN_NEW_ENERGY: &str = "cn-new-energy";
/// Format name of 8-character large-vehicle new-energy plates (yellow-green, D/F last).
pub const CN_NEW_ENERGY_LARGE: &str = "cn-new-energy-large";
/// Format name of 7-character plates ending in a special character (学, 警, 挂, 港, 澳, 领, 使).
pub const CN_SPECIAL_SUFFIX: &str = "cn-special-suffix";

/// The built-in mainland formats, most common first.
pub fn cn_mainland_formats() -> Vec<PlateFormatConfig> {
    let p = PROVINCES;
    let fmt = |name: &str, regex: String, positions: &[&str]| PlateFormatConfig {
        name: name.to_owned(),
        regex,
        positions: Some(positions.iter().map(|s| (*s).to_owned()).collect()),
    };
    vec![
        fmt(
            CN_ORDINARY,
            format!("[{p}][{LETTERS}][{ALNUM}]{{5}}"),
            &[p, LETTERS, ALNUM, ALNUM, ALNUM, ALNUM, ALNUM],
        ),
        fmt(
            CN_NEW_ENERGY,
            format!("[{p}][{LETTERS}][{NEW_ENERGY_CLASS}][0-9]{{5}}"),
            &[p, LETTERS, NEW_ENERGY_CLASS, "0-9", "0-9", "0-9", "0-9", "0-9"],
        ),
        fmt(
            CN_NEW_ENERGY_LARGE,
            format!("[{p}][{LETTERS}][0-9]{{5}}[DF]"),
            &[p, LETTERS, "0-9", "0-9", "0-9", "0-9", "0-9", "DF"],
        ),
        fmt(
            CN_SPECIAL_SUFFIX,
            format!("[{p}][{LETTERS}][{ALNUM}]{{4}}[{SPECIAL_SUFFIXES}]"),
            &[p, LETTERS, ALNUM, ALNUM, ALNUM, ALNUM, SPECIAL_SUFFIXES],
        ),
    ]
}
