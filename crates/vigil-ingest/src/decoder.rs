//! Decoder choice: hardware decoders when their element exists, else libav, or the camera's
//! override.
//!
//! The choice itself ([`choose_decoder`]) is a pure function of the codec, the override and an
//! availability predicate, so it is tested without any plugin installed. For codecs other than
//! H.264/H.265 (MPEG-4 part 2 in old AVI files, MJPEG from HTTP cameras) the registry's highest
//! ranked decoder that accepts the caps is used.

use gstreamer as gst;
use gstreamer::prelude::*;

/// Video codecs with an explicit decoder preference list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    H265,
    /// Anything else; decoded by the best-ranked registry decoder.
    Other,
}

impl Codec {
    /// Codec of a parsed elementary stream, from its caps structure name.
    pub fn from_caps_name(name: &str) -> Self {
        match name {
            "video/x-h264" => Self::H264,
            "video/x-h265" => Self::H265,
            _ => Self::Other,
        }
    }

    /// Decoders in order of preference: NVIDIA, VA-API (new `va` then legacy `vaapi`), Jetson,
    /// then software.
    pub fn preference(self) -> &'static [&'static str] {
        match self {
            Self::H264 => &[
                "nvh264dec",
                "vah264dec",
                "vaapih264dec",
                "nvv4l2decoder",
                "avdec_h264",
                "openh264dec",
            ],
            Self::H265 => &[
                "nvh265dec",
                "vah265dec",
                "vaapih265dec",
                "nvv4l2decoder",
                "avdec_h265",
                "libde265dec",
            ],
            Self::Other => &[],
        }
    }
}

/// Outcome of the decoder choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecoderChoice {
    /// The camera's override.
    Override(String),
    /// The first available entry of the codec's preference list.
    Preferred(&'static str),
    /// No preference list applies: ask the registry by caps.
    ByRank,
}

/// Picks the decoder for `codec`.
///
/// Errors with the missing element name when the override is not installed, or when none of the
/// preferred decoders exists (then the caller reports a missing plugin).
pub fn choose_decoder(
    codec: Codec,
    override_name: Option<&str>,
    available: impl Fn(&str) -> bool,
) -> Result<DecoderChoice, String> {
    if let Some(name) = override_name {
        return if available(name) {
            Ok(DecoderChoice::Override(name.to_owned()))
        } else {
            Err(name.to_owned())
        };
    }
    match codec {
        Codec::Other => Ok(DecoderChoice::ByRank),
        _ => codec
            .preference()
            .iter()
            .copied()
            .find(|n| available(n))
            .map(DecoderChoice::Preferred)
            .ok_or_else(|| codec.preference().join(" | ")),
    }
}

/// Whether an element factory named `name` is registered.
pub fn element_available(name: &str) -> bool {
    gst::ElementFactory::find(name).is_some()
}

/// The highest-ranked video decoder that accepts `caps`.
pub fn best_decoder_for_caps(caps: &gst::CapsRef) -> Option<gst::ElementFactory> {
    let mut factories: Vec<gst::ElementFactory> = gst::ElementFactory::factories_with_type(
        gst::ElementFactoryType::DECODER | gst::ElementFactoryType::MEDIA_VIDEO,
        gst::Rank::MARGINAL,
    )
    .into_iter()
    .filter(|f| f.can_sink_any_caps(caps))
    .collect();
    factories.sort_by_key(|f| std::cmp::Reverse(f.rank()));
    factories.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_wins_when_present() {
        let avail = |n: &str| matches!(n, "vah264dec" | "avdec_h264");
        assert_eq!(
            choose_decoder(Codec::H264, None, avail),
            Ok(DecoderChoice::Preferred("vah264dec"))
        );
    }

    #[test]
    fn software_fallback_per_codec() {
        let avail = |n: &str| n.starts_with("avdec_");
        assert_eq!(
            choose_decoder(Codec::H264, None, avail),
            Ok(DecoderChoice::Preferred("avdec_h264"))
        );
        assert_eq!(
            choose_decoder(Codec::H265, None, avail),
            Ok(DecoderChoice::Preferred("avdec_h265"))
        );
        assert_eq!(
            choose_decoder(Codec::Other, None, avail),
            Ok(DecoderChoice::ByRank)
        );
    }

    #[test]
    fn override_must_exist() {
        let avail = |n: &str| n == "avdec_h264";
        assert_eq!(
            choose_decoder(Codec::H265, Some("avdec_h264"), avail),
            Ok(DecoderChoice::Override("avdec_h264".into()))
        );
        assert_eq!(
            choose_decoder(Codec::H264, Some("nvh264dec"), avail),
            Err("nvh264dec".into())
        );
    }

    #[test]
    fn nothing_available_names_the_candidates() {
        let err = choose_decoder(Codec::H265, None, |_| false).expect_err("none");
        assert!(err.contains("avdec_h265") && err.contains("nvh265dec"), "{err}");
    }

    #[test]
    fn caps_names_map_to_codecs() {
        assert_eq!(Codec::from_caps_name("video/x-h264"), Codec::H264);
        assert_eq!(Codec::from_caps_name("video/x-h265"), Codec::H265);
        assert_eq!(Codec::from_caps_name("video/x-msmpeg"), Codec::Other);
    }
}
