//! Cheap container sanity check for local files: is the file as long as its header says?
//!
//! Demuxers play a truncated file up to the cut and then send an ordinary EOS (avidemux only logs
//! "Short read … (truncated file?)" at debug level), so a camera fed a half-copied file would
//! silently loop over its first seconds. Reading the declared sizes of the outer container —
//! RIFF/AVI, ISO-BMFF (MP4/MOV) top-level boxes, Matroska/WebM segment — catches that before the
//! pipeline starts. Unknown formats pass.

use std::io::{Read, Seek, SeekFrom};

/// Checks `reader` (a whole file of `len` bytes); `Err` says how it is cut short.
pub fn check_container<R: Read + Seek>(reader: &mut R, len: u64) -> Result<(), String> {
    let mut head = [0u8; 12];
    let n = read_up_to(reader, &mut head)?;
    let head = &head[..n];
    if head.len() >= 8 && &head[..4] == b"RIFF" {
        let declared = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]])) + 8;
        return if len < declared {
            Err(format!(
                "file has {len} bytes but its RIFF header declares {declared}: truncated"
            ))
        } else {
            Ok(())
        };
    }
    if head.len() >= 8 && &head[4..8] == b"ftyp" {
        return check_iso_boxes(reader, len);
    }
    if head.len() >= 4 && head[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return check_matroska(reader, len);
    }
    Ok(())
}

fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, String> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    Ok(filled)
}

/// Walks the top-level boxes of an MP4/MOV file; a box reaching past the end means truncation.
fn check_iso_boxes<R: Read + Seek>(reader: &mut R, len: u64) -> Result<(), String> {
    let mut offset = 0u64;
    // A real file has a handful of top-level boxes; the bound stops a malicious loop.
    for _ in 0..10_000 {
        if offset + 8 > len {
            return Ok(());
        }
        reader
            .seek(SeekFrom::Start(offset))
            .map_err(|e| format!("cannot seek: {e}"))?;
        let mut hdr = [0u8; 16];
        let n = read_up_to(reader, &mut hdr)?;
        let size32 = u64::from(u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]));
        let kind = String::from_utf8_lossy(&hdr[4..8]).into_owned();
        let size = match size32 {
            0 => return Ok(()), // box runs to the end of the file
            1 if n >= 16 => u64::from_be_bytes([
                hdr[8], hdr[9], hdr[10], hdr[11], hdr[12], hdr[13], hdr[14], hdr[15],
            ]),
            1 => return Err(format!("box `{kind}` header cut at byte {offset}: truncated")),
            s => s,
        };
        if size < 8 {
            return Err(format!(
                "box `{kind}` at byte {offset} has invalid size {size}: corrupt"
            ));
        }
        let end = offset.saturating_add(size);
        if end > len {
            return Err(format!(
                "box `{kind}` at byte {offset} declares {size} bytes but the file ends at {len}: truncated"
            ));
        }
        offset = end;
    }
    Ok(())
}

/// Reads an EBML variable-length integer; returns (value, length, all-ones = unknown size).
fn read_vint<R: Read>(reader: &mut R, keep_marker: bool) -> Result<(u64, u64, bool), String> {
    let mut first = [0u8; 1];
    if read_up_to(reader, &mut first)? == 0 {
        return Err("EBML header cut short: truncated".into());
    }
    let width = first[0].leading_zeros() as u64 + 1;
    if width > 8 {
        return Err("invalid EBML number: corrupt".into());
    }
    // Bits after the length marker; empty for an 8-byte number (width 8 shifts a u8 out entirely).
    let low_mask = (0xFFu16 >> width) as u8;
    let mask = if keep_marker { 0xFF } else { low_mask };
    let mut value = u64::from(first[0] & mask);
    let mut all_ones = first[0] & low_mask == low_mask;
    for _ in 1..width {
        let mut b = [0u8; 1];
        if read_up_to(reader, &mut b)? == 0 {
            return Err("EBML number cut short: truncated".into());
        }
        all_ones &= b[0] == 0xFF;
        value = (value << 8) | u64::from(b[0]);
    }
    Ok((value, width, all_ones))
}

/// Matroska: the Segment element after the EBML header declares its size (unless "unknown", as
/// live-written files do).
fn check_matroska<R: Read + Seek>(reader: &mut R, len: u64) -> Result<(), String> {
    const SEGMENT_ID: u64 = 0x1853_8067;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot seek: {e}"))?;
    let mut offset = 0u64;
    for _ in 0..2 {
        let (id, id_len, _) = read_vint(reader, true)?;
        let (size, size_len, unknown) = read_vint(reader, false)?;
        let data_start = offset + id_len + size_len;
        if id == SEGMENT_ID {
            return if !unknown && data_start.saturating_add(size) > len {
                Err(format!(
                    "Matroska segment declares {} bytes but the file ends at {len}: truncated",
                    data_start.saturating_add(size)
                ))
            } else {
                Ok(())
            };
        }
        if unknown {
            return Ok(());
        }
        offset = data_start.saturating_add(size);
        reader
            .seek(SeekFrom::Start(offset))
            .map_err(|e| format!("cannot seek: {e}"))?;
    }
    Ok(())
}

/// Opens a local file and checks it; `Ok` for files that cannot be opened (the pipeline reports
/// those with GStreamer's own, more specific error).
pub fn check_file(path: &std::path::Path) -> Result<(), String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(meta) = file.metadata() else { return Ok(()) };
    check_container(&mut file, meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn check(bytes: &[u8]) -> Result<(), String> {
        check_container(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn riff(declared_payload: u32, actual_payload: usize) -> Vec<u8> {
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&(declared_payload + 4).to_le_bytes());
        v.extend_from_slice(b"AVI ");
        v.extend(std::iter::repeat_n(0u8, actual_payload));
        v
    }

    #[test]
    fn riff_size_is_checked() {
        assert!(check(&riff(100, 100)).is_ok());
        let err = check(&riff(100, 40)).expect_err("truncated");
        assert!(err.contains("truncated") && err.contains("RIFF"), "{err}");
    }

    fn bx(kind: &[u8; 4], payload: usize) -> Vec<u8> {
        let mut v = ((payload + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend(std::iter::repeat_n(7u8, payload));
        v
    }

    #[test]
    fn iso_boxes_must_fit() {
        let mut mp4 = bx(b"ftyp", 16);
        mp4.extend(bx(b"moov", 100));
        mp4.extend(bx(b"mdat", 1000));
        assert!(check(&mp4).is_ok());
        let cut = &mp4[..mp4.len() - 10];
        let err = check(cut).expect_err("truncated");
        assert!(err.contains("mdat"), "{err}");
        let mut zero = bx(b"ftyp", 16);
        zero.extend_from_slice(&[0, 0, 0, 0]);
        zero.extend_from_slice(b"mdat");
        zero.extend([1u8; 50]);
        assert!(check(&zero).is_ok(), "size 0 = to end of file");
    }

    fn mkv(declared: u8, actual: usize) -> Vec<u8> {
        // EBML header element with 4 bytes of payload, then Segment with a 1-byte size.
        let mut v = vec![
            0x1A,
            0x45,
            0xDF,
            0xA3,
            0x84,
            1,
            2,
            3,
            4,
            0x18,
            0x53,
            0x80,
            0x67,
            0x80 | declared,
        ];
        v.extend(std::iter::repeat_n(0u8, actual));
        v
    }

    #[test]
    fn matroska_segment_size_is_checked() {
        assert!(check(&mkv(100, 100)).is_ok());
        assert!(check(&mkv(100, 50)).expect_err("truncated").contains("Matroska"));
        assert!(
            check(&mkv(0x7F, 10)).is_ok(),
            "unknown size (all ones) is allowed"
        );
    }

    #[test]
    fn unknown_and_tiny_inputs_pass() {
        assert!(check(b"").is_ok());
        assert!(check(b"\x00\x00\x01\xba mpeg-ps").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(prefix in 0usize..3, bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let heads: [&[u8]; 3] = [b"RIFF", &[0, 0, 0, 9, b'f', b't', b'y', b'p'], &[0x1A, 0x45, 0xDF, 0xA3]];
            let mut v = heads[prefix].to_vec();
            v.extend_from_slice(&bytes);
            let _ = check(&v);
        }
    }
}
