//! How long preparing one image takes, as the app does it (read, decode, orient, shrink, encode, base64).
//!
//! `cargo bench -p gemma-desk-core --bench images -- [FILE] [RUNS]` (default: the 12 MP fixture, 30 runs).
//! `docs/bench-images.sh` runs this and Pillow's draft-mode pipeline on the same file and prints the ratio.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gemma_desk_core::images::{prepare_file, prepare_many, PrepareOptions};

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; anything starting with `-` is not ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let file = args.first().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/images/coffee-12mp.jpg")
    });
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(30).max(1);
    let opts = PrepareOptions::default();

    for _ in 0..3 {
        prepare_file(&file, &opts).expect("the benchmark file prepares");
    }
    let mut times = Vec::with_capacity(runs);
    let mut prepared = None;
    for _ in 0..runs {
        let start = Instant::now();
        prepared = Some(prepare_file(&file, &opts).unwrap());
        times.push(start.elapsed());
    }
    let p = prepared.unwrap();
    let min = times.iter().min().unwrap().as_secs_f64() * 1000.0;
    let med = median(times);
    let original = std::fs::metadata(&file).unwrap().len();
    let original_b64 = original.div_ceil(3) * 4;

    // Several images at once: the same file 8 times, one after another and with prepare_many.
    let batch: Vec<PathBuf> = vec![file.clone(); 8];
    let start = Instant::now();
    for path in &batch {
        prepare_file(path, &opts).unwrap();
    }
    let sequential = start.elapsed().as_secs_f64() * 1000.0;
    let start = Instant::now();
    let results = prepare_many(&batch, &opts);
    let parallel = start.elapsed().as_secs_f64() * 1000.0;
    assert!(results.iter().all(|r| r.is_ok()));

    println!("file: {} ({original} bytes)", file.display());
    println!(
        "prepared: {}x{} from {}x{} ({}), {} {} bytes, base64 {} characters",
        p.width,
        p.height,
        p.source_width,
        p.source_height,
        p.format,
        p.mime,
        p.bytes,
        p.base64.len()
    );
    println!("original file as base64: {original_b64} characters");
    println!("gemma-desk: median {med:.1} ms, min {min:.1} ms over {runs} runs");
    println!("gemma-desk: 8 images: {sequential:.0} ms one by one, {parallel:.0} ms with prepare_many");
    println!("RESULT rust_ms={med:.2} base64_len={} original_base64_len={original_b64}", p.base64.len());
}
