//! Replays the kept corpus and every input that once found a bug through
//! the fuzz targets, so that CI keeps checking what the fuzzers covered
//! without running them: `fuzz/corpus/<target>/` (minimized with
//! `cargo fuzz cmin`) and `fuzz/regressions/<target>/`.

use std::path::PathBuf;

/// Runs `target` on every file of the target's corpus and regressions;
/// returns how many there were.
fn replay(name: &str, target: fn(&[u8])) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(name)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} fails on {}", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn the_decode_v311_corpus_replays() {
    assert!(replay("decode_v311", super::decode_v311) > 0, "no corpus");
}

#[test]
fn the_decode_v5_corpus_replays() {
    assert!(replay("decode_v5", super::decode_v5) > 0, "no corpus");
}

#[test]
fn the_protocol_corpus_replays() {
    assert!(replay("protocol", super::protocol) > 0, "no corpus");
}

#[test]
fn the_file_store_corpus_replays() {
    assert!(replay("file_store", super::file_store) > 0, "no corpus");
}
