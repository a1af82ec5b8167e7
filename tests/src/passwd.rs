//! mosquitto 2 password-file lines, for machines where `mosquitto_passwd`
//! is missing.
//!
//! mosquitto 2 stores `user:$7$ITERATIONS$SALT$HASH`, where HASH is
//! PBKDF2-HMAC-SHA512 of the password over the salt (64 bytes), and SALT and
//! HASH are standard base64 with padding. `mosquitto_passwd` uses 101
//! iterations and a 12-byte salt. Written from RFC 2104 (HMAC), RFC 8018
//! (PBKDF2) and RFC 4648 (base64).

use sha2::{Digest, Sha512};

const ITERATIONS: u32 = 101;
const SALT_LEN: usize = 12;
const BLOCK: usize = 128; // SHA-512 block size in bytes

/// The password-file line for `user` with `password`, with a fresh salt.
pub fn password_line(user: &str, password: &str) -> String {
    password_line_with_salt(user, password, &fresh_salt(), ITERATIONS)
}

/// The password-file line for `user` with `password` over `salt`.
pub fn password_line_with_salt(user: &str, password: &str, salt: &[u8], iterations: u32) -> String {
    let hash = pbkdf2_hmac_sha512(password.as_bytes(), salt, iterations);
    format!("{user}:$7${iterations}${}${}", base64(salt), base64(&hash))
}

/// A salt that differs per call; it only has to be unique, not secret.
fn fresh_salt() -> [u8; SALT_LEN] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut salt = [0u8; SALT_LEN];
    for chunk in salt.chunks_mut(8) {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        let bytes = hasher.finish().to_le_bytes();
        let n = chunk.len();
        chunk.copy_from_slice(&bytes[..n]);
    }
    salt
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> [u8; 64] {
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..64].copy_from_slice(&Sha512::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha512::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha512::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// PBKDF2 with HMAC-SHA512, one output block (64 bytes), as mosquitto uses.
fn pbkdf2_hmac_sha512(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 64] {
    let mut u = hmac_sha512(password, &[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha512(password, &[&u]);
        out.iter_mut().zip(u.iter()).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn line_matches_one_written_by_mosquitto_passwd() {
        // Written by `mosquitto_passwd -b FILE alice s3cret` (mosquitto 2.0.11).
        let expected = "alice:$7$101$HOhmdTeYSoHMK975$Z/8BTnH6xUZvqX3/XKHebf4En92alWxHfISwnOWdrOIt8XxCljGzUEyU62f/P2w9IA9HGfuEKB7wotnryv37mQ==";
        let salt = [
            0x1c, 0xe8, 0x66, 0x75, 0x37, 0x98, 0x4a, 0x81, 0xcc, 0x2b, 0xde, 0xf9,
        ];
        assert_eq!(base64(&salt), "HOhmdTeYSoHMK975");
        assert_eq!(password_line_with_salt("alice", "s3cret", &salt, 101), expected);
    }

    #[test]
    fn fresh_salts_differ() {
        assert_ne!(fresh_salt(), fresh_salt());
    }
}
