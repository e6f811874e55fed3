//! Secrets from the kernel's random source: API keys and passwords uaiso generates.

use base64::Engine as _;

use super::Error;

/// `n` random bytes from getrandom(2), hex- or base64-encoded.
pub fn token(n: usize, base64: bool) -> Result<String, Error> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        filled +=
            rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty())
                .map_err(|e| Error::Random {
                    source: std::io::Error::from(e),
                })?;
    }
    Ok(if base64 {
        base64::engine::general_purpose::STANDARD.encode(&buf)
    } else {
        buf.iter().map(|b| format!("{b:02x}")).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_have_the_asked_length() {
        let a = super::token(32, false).unwrap();
        let b = super::token(32, false).unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(super::token(24, true).unwrap().len(), 32);
    }
}
