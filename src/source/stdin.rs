//! Standard input as a source: read whole, but never more than the size limit, so a pipe that
//! does not end (`keyhound scan - < /dev/zero`) cannot exhaust memory.

use std::io::Read;

/// Why stdin could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum StdinError {
    #[error(
        "stdin is larger than {limit} bytes (--max-file-size); nothing was scanned. Raise \
         --max-file-size, or write the input to a file and scan that"
    )]
    TooLarge { limit: u64 },
    #[error("cannot read stdin")]
    Read(#[from] std::io::Error),
}

/// Reads `input` into `buf`, failing once more than `max` bytes have arrived.
pub fn read(mut input: impl Read, max: u64, buf: &mut Vec<u8>) -> Result<(), StdinError> {
    buf.clear();
    input
        .by_ref()
        .take(max.saturating_add(1))
        .read_to_end(buf)?;
    if buf.len() as u64 > max {
        buf.clear();
        buf.shrink_to_fit();
        return Err(StdinError::TooLarge { limit: max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_limit() {
        let mut buf = Vec::new();
        let endless = std::io::repeat(b'a');
        let e = read(endless, 1000, &mut buf).unwrap_err();
        assert!(matches!(e, StdinError::TooLarge { limit: 1000 }));
        assert!(buf.capacity() < 1000);
        read(&b"short"[..], 5, &mut buf).unwrap();
        assert_eq!(buf, b"short");
        read(&b"short"[..], u64::MAX, &mut buf).unwrap();
        assert_eq!(buf, b"short");
    }
}
