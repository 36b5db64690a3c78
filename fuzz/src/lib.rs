//! Helpers shared by the fuzz targets: turning raw fuzzer bytes into the values the parsers
//! take, in ways that reach the awkward cases (NaN, infinities, odd shapes) quickly.

/// Reads fuzzer bytes front to back; past the end every read gives zero, so a target never
/// has to handle "ran out of input" itself.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// Wraps the fuzzer's input.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next byte, or 0 when the input is exhausted.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes as a little-endian number.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The unread rest.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Maps one byte to a recogniser output value. Most bytes are plausible probabilities
/// (`b / 200`, so some exceed 1); the top of the range is the values a broken model or a
/// corrupt buffer produces, so the fuzzer hits them with one-byte mutations.
pub fn prob_from_byte(b: u8) -> f32 {
    match b {
        0..=239 => f32::from(b) / 200.0,
        240 => f32::NAN,
        241 => f32::INFINITY,
        242 => f32::NEG_INFINITY,
        243 => -0.0,
        244 => -1.0,
        245 => f32::MAX,
        246 => f32::MIN,
        247 => f32::MIN_POSITIVE,
        248 => 1e-45, // smallest subnormal
        249 => 1e30,
        250 => -f32::NAN,
        251 => 1.0 + f32::EPSILON,
        252 => 1.0 - f32::EPSILON,
        253 => 0.5,
        254 => 1.0,
        255 => 0.0,
    }
}
