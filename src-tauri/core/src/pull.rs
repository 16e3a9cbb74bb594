//! A model download as a progress bar sees it. Ollama's `/api/pull` reports each blob on its own
//! (`{"status":"pulling <digest>","digest","total","completed"}`, about every 60 ms, one blob
//! after another), a blob's size only once its download starts, and `completed` may even step
//! back when a part is retried. This module turns those lines into one overall figure that
//! never goes backwards, a smoothed speed and a time left. Pure arithmetic: time comes in as an
//! argument, so it is tested without waiting.

use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a pull is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullPhase {
    /// Asking the registry what the model is made of.
    Manifest,
    /// Fetching blobs.
    Downloading,
    /// Ollama hashes every new blob; for big models this takes a while and sends nothing.
    Verifying,
    Writing,
    /// Replacing an older version: its blobs that are no longer used are deleted.
    Pruning,
    Done,
}

impl PullPhase {
    /// A line for people; the CLI prints one per phase.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            PullPhase::Manifest => lang.pick("pulling manifest", "正在获取清单"),
            PullPhase::Downloading => lang.pick("downloading", "正在下载"),
            PullPhase::Verifying => lang.pick("verifying sha256 digest", "正在校验 SHA-256"),
            PullPhase::Writing => lang.pick("writing manifest", "正在写入清单"),
            PullPhase::Pruning => lang.pick("removing unused layers", "正在删除不再使用的层"),
            PullPhase::Done => lang.pick("success", "完成"),
        }
    }

    /// The phase a status line announces; `None` for text that is not a step of its own.
    fn of(status: &str, has_digest: bool) -> Option<PullPhase> {
        match status {
            "pulling manifest" => Some(PullPhase::Manifest),
            "verifying sha256 digest" => Some(PullPhase::Verifying),
            "writing manifest" => Some(PullPhase::Writing),
            "success" => Some(PullPhase::Done),
            // "removing unused layers" (older versions: "removing any unused layers").
            s if s.starts_with("removing") => Some(PullPhase::Pruning),
            // "pulling aeda25e63ebd"; newer Ollama reports tensor models as one "pulling model".
            s if has_digest || s.starts_with("pulling ") => Some(PullPhase::Downloading),
            _ => None,
        }
    }
}

/// One line of Ollama's `/api/pull` stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PullLine {
    #[serde(default)]
    pub status: String,
    pub digest: Option<String>,
    pub total: Option<u64>,
    /// Omitted while 0.
    pub completed: Option<u64>,
    pub error: Option<String>,
}

/// What a progress bar shows, after each line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullProgress {
    pub model: String,
    pub phase: PullPhase,
    /// Ollama's own words for the step, e.g. `pulling aeda25e63ebd`.
    pub status: String,
    /// Bytes on disk of the blobs seen so far; never decreases.
    pub completed: u64,
    /// Size of the blobs seen so far. Grows when a blob starts (the weights come first, so it is
    /// close to the final size early on).
    pub total: u64,
    /// `completed / total`, held so that it never goes backwards when a new blob adds to `total`;
    /// `None` until a size is known.
    pub fraction: Option<f64>,
    /// Smoothed over the last few seconds; `None` until half a second of downloading is measured.
    pub bytes_per_second: Option<f64>,
    /// Time left at that speed, while downloading.
    pub eta_seconds: Option<f64>,
    /// Blobs started so far.
    pub layers: usize,
    pub elapsed_ms: u64,
}

/// How a pull ended well.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullOutcome {
    pub model: String,
    /// Size of all the model's blobs.
    pub total: u64,
    /// Bytes actually fetched this time (blobs or parts already on disk are not counted).
    pub downloaded: u64,
    pub elapsed_ms: u64,
}

/// The shortest stretch a speed sample covers: Ollama's 60 ms ticks alone are too noisy.
const SAMPLE: Duration = Duration::from_millis(500);
/// Time constant of the speed's exponential smoothing, in seconds: steady, yet follows a change
/// of link within a few seconds.
const SMOOTHING_SECS: f64 = 3.0;

#[derive(Debug, Clone)]
struct Blob {
    digest: String,
    total: u64,
    /// Highest `completed` seen: a retried part rolls Ollama's figure back for a moment.
    done: u64,
}

/// Folds pull lines into progress.
#[derive(Debug, Clone)]
pub struct PullTracker {
    model: String,
    phase: PullPhase,
    status: String,
    blobs: Vec<Blob>,
    fraction: Option<f64>,
    /// Bytes fetched during this pull (what was on disk before is excluded).
    downloaded: u64,
    sample_start: Option<Duration>,
    sample_bytes: u64,
    speed: Option<f64>,
    elapsed: Duration,
}

impl PullTracker {
    pub fn new(model: &str) -> PullTracker {
        PullTracker {
            model: model.to_string(),
            phase: PullPhase::Manifest,
            status: String::new(),
            blobs: Vec::new(),
            fraction: None,
            downloaded: 0,
            sample_start: None,
            sample_bytes: 0,
            speed: None,
            elapsed: Duration::ZERO,
        }
    }

    pub fn phase(&self) -> PullPhase {
        self.phase
    }

    /// Size of the blobs seen so far.
    pub fn total(&self) -> u64 {
        self.blobs.iter().map(|b| b.total).sum()
    }

    fn completed(&self) -> u64 {
        self.blobs.iter().map(|b| b.done.min(b.total)).sum()
    }

    /// Takes one line, `at` being the time since the pull started.
    pub fn update(&mut self, line: &PullLine, at: Duration) -> PullProgress {
        self.elapsed = self.elapsed.max(at);
        if let Some(phase) = PullPhase::of(&line.status, line.digest.is_some()) {
            self.phase = phase;
        }
        if !line.status.is_empty() {
            self.status = line.status.clone();
        }
        if let Some(total) = line.total.filter(|_| self.phase == PullPhase::Downloading) {
            let digest = line.digest.clone().unwrap_or_default();
            let completed = line.completed.unwrap_or(0);
            match self.blobs.iter_mut().find(|b| b.digest == digest) {
                Some(b) => {
                    b.total = b.total.max(total);
                    let fetched = completed.min(b.total).saturating_sub(b.done.min(b.total));
                    b.done = b.done.max(completed);
                    // Ticks without new bytes count too: a stalled link must slow the speed down.
                    self.count(fetched, at);
                }
                None => {
                    // What a blob already has when first seen was on disk before (a resumed or
                    // cached download): it counts towards the bar, not towards the speed.
                    self.blobs.push(Blob { digest, total, done: completed });
                    self.sample_start.get_or_insert(at);
                }
            }
        }
        if self.phase == PullPhase::Done {
            self.fraction = Some(1.0);
        } else {
            let total = self.total();
            if total > 0 {
                let now = self.completed() as f64 / total as f64;
                self.fraction = Some(self.fraction.map_or(now, |f| f.max(now)));
            }
        }
        self.snapshot()
    }

    /// Adds fetched bytes to the speed sample, closing it once it is long enough.
    fn count(&mut self, bytes: u64, at: Duration) {
        self.downloaded += bytes;
        self.sample_bytes += bytes;
        let start = *self.sample_start.get_or_insert(at);
        let span = at.saturating_sub(start);
        if span < SAMPLE {
            return;
        }
        let secs = span.as_secs_f64();
        let rate = self.sample_bytes as f64 / secs;
        // Exponential smoothing weighted by the sample's length, so uneven ticks weigh fairly.
        let alpha = 1.0 - (-secs / SMOOTHING_SECS).exp();
        self.speed = Some(self.speed.map_or(rate, |s| s + alpha * (rate - s)));
        self.sample_start = Some(at);
        self.sample_bytes = 0;
    }

    /// The progress as of the last line.
    pub fn snapshot(&self) -> PullProgress {
        let (completed, total) = (self.completed(), self.total());
        // Speed and time left describe the download; afterwards they would be stale.
        let speed = self.speed.filter(|_| self.phase == PullPhase::Downloading);
        // Nothing left of the blobs seen so far, more may come: no figure is better than "0s".
        let left = total - completed;
        let eta_seconds = speed.filter(|s| *s > 0.0 && left > 0).map(|s| left as f64 / s);
        PullProgress {
            model: self.model.clone(),
            phase: self.phase,
            status: self.status.clone(),
            completed,
            total,
            fraction: self.fraction,
            bytes_per_second: speed,
            eta_seconds,
            layers: self.blobs.len(),
            elapsed_ms: self.elapsed.as_millis() as u64,
        }
    }

    /// The summary once Ollama said `success`.
    pub fn outcome(&self) -> PullOutcome {
        PullOutcome {
            model: self.model.clone(),
            total: self.total(),
            downloaded: self.downloaded,
            elapsed_ms: self.elapsed.as_millis() as u64,
        }
    }
}

/// `75` → `1m 15s`, `4000` → `1h 06m`, `42` → `42s`: time left, as precise as it deserves.
pub fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: &str) -> PullLine {
        PullLine { status: s.into(), ..PullLine::default() }
    }

    fn blob(digest: &str, total: u64, completed: u64) -> PullLine {
        PullLine {
            status: format!("pulling {digest}"),
            digest: Some(format!("sha256:{digest}")),
            total: Some(total),
            completed: (completed > 0).then_some(completed),
            error: None,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn phases_follow_ollamas_statuses() {
        let mut t = PullTracker::new("gemma3:4b");
        assert_eq!(t.update(&status("pulling manifest"), ms(0)).phase, PullPhase::Manifest);
        let p = t.update(&blob("aaa", 1000, 0), ms(10));
        assert_eq!((p.phase, p.status.as_str()), (PullPhase::Downloading, "pulling aaa"));
        assert_eq!(p.fraction, Some(0.0));
        assert_eq!(t.update(&status("verifying sha256 digest"), ms(20)).phase, PullPhase::Verifying);
        assert_eq!(t.update(&status("writing manifest"), ms(30)).phase, PullPhase::Writing);
        assert_eq!(t.update(&status("removing any unused layers"), ms(40)).phase, PullPhase::Pruning);
        // Text that is not a step (a warning) keeps the phase but is shown.
        let p = t.update(&status("couldn't remove unused layers: busy"), ms(45));
        assert_eq!((p.phase, p.status.as_str()), (PullPhase::Pruning, "couldn't remove unused layers: busy"));
        let p = t.update(&status("success"), ms(50));
        assert_eq!((p.phase, p.fraction), (PullPhase::Done, Some(1.0)));
    }

    #[test]
    fn totals_add_up_across_blobs_and_the_bar_never_goes_back() {
        let mut t = PullTracker::new("m");
        t.update(&status("pulling manifest"), ms(0));
        let a = t.update(&blob("aaa", 900, 450), ms(100));
        assert_eq!((a.completed, a.total, a.layers), (450, 900, 1));
        assert_eq!(a.fraction, Some(0.5));
        let a = t.update(&blob("aaa", 900, 900), ms(200));
        assert_eq!(a.fraction, Some(1.0));
        // The next blob appears: the total grows, the bar holds instead of dropping to 90 %.
        let b = t.update(&blob("bbb", 100, 0), ms(300));
        assert_eq!((b.completed, b.total, b.layers), (900, 1000, 2));
        assert_eq!(b.fraction, Some(1.0));
        let b = t.update(&blob("bbb", 100, 100), ms(400));
        assert_eq!((b.completed, b.total), (1000, 1000));
        assert_eq!(b.eta_seconds, None, "nothing known to be left");
        assert_eq!(t.outcome(), PullOutcome { model: "m".into(), total: 1000, downloaded: 550, elapsed_ms: 400 });
    }

    #[test]
    fn a_retried_part_does_not_move_the_bar_back() {
        let mut t = PullTracker::new("m");
        t.update(&blob("aaa", 1000, 600), ms(0));
        let p = t.update(&blob("aaa", 1000, 400), ms(100));
        assert_eq!((p.completed, p.fraction), (600, Some(0.6)));
        let p = t.update(&blob("aaa", 1000, 700), ms(200));
        assert_eq!(p.completed, 700);
        assert_eq!(t.outcome().downloaded, 100, "only bytes beyond what was already counted");
    }

    #[test]
    fn speed_is_smoothed_and_excludes_what_was_on_disk() {
        let mut t = PullTracker::new("m");
        // Resumed: 5 MB were already there; they must not read as a burst of speed.
        let p = t.update(&blob("aaa", 100_000_000, 5_000_000), ms(1000));
        assert_eq!(p.bytes_per_second, None);
        assert_eq!(p.eta_seconds, None);
        // 10 MB/s in 60 ms ticks: no speed until half a second is measured.
        let mut done = 5_000_000;
        let mut at = 1000;
        for _ in 0..8 {
            done += 600_000;
            at += 60;
            assert_eq!(t.update(&blob("aaa", 100_000_000, done), ms(at)).bytes_per_second, None);
        }
        done += 600_000;
        at += 60;
        t.update(&blob("aaa", 100_000_000, done), ms(at));
        let p = t.snapshot();
        let speed = p.bytes_per_second.expect("measured after 0.5 s");
        assert!((speed - 10_000_000.0).abs() < 1.0, "{speed}");
        let eta = p.eta_seconds.unwrap();
        assert!((eta - (100_000_000 - done) as f64 / speed).abs() < 1e-6, "{eta}");
        // The link halves: the speed moves towards 5 MB/s without jumping there.
        for _ in 0..10 {
            done += 300_000;
            at += 60;
            t.update(&blob("aaa", 100_000_000, done), ms(at));
        }
        let slower = t.snapshot().bytes_per_second.unwrap();
        assert!(slower < speed && slower > 5_000_000.0, "{slower}");
        // A stall (Ollama keeps ticking with no new bytes) drags the speed down, the ETA up.
        let eta_before = t.snapshot().eta_seconds.unwrap();
        for _ in 0..20 {
            at += 60;
            t.update(&blob("aaa", 100_000_000, done), ms(at));
        }
        assert!(t.snapshot().bytes_per_second.unwrap() < slower);
        assert!(t.snapshot().eta_seconds.unwrap() > eta_before);
        // Neither speed nor time left is shown once the download is over.
        let p = t.update(&status("verifying sha256 digest"), ms(at + 10));
        assert_eq!((p.bytes_per_second, p.eta_seconds), (None, None));
    }

    #[test]
    fn cached_blobs_count_as_done_not_as_downloaded() {
        let mut t = PullTracker::new("m");
        t.update(&status("pulling manifest"), ms(0));
        t.update(&blob("aaa", 500, 500), ms(5));
        let p = t.update(&blob("bbb", 500, 500), ms(6));
        assert_eq!((p.completed, p.total, p.fraction, p.bytes_per_second), (1000, 1000, Some(1.0), None));
        t.update(&status("success"), ms(7));
        assert_eq!(t.outcome().downloaded, 0);
    }

    #[test]
    fn lines_are_read_as_ollama_writes_them() {
        let l: PullLine =
            serde_json::from_str(r#"{"status":"pulling aeda25e63ebd","digest":"sha256:aeda","total":3338801804}"#)
                .unwrap();
        assert_eq!((l.total, l.completed), (Some(3_338_801_804), None));
        let e: PullLine = serde_json::from_str(r#"{"error":"pull model manifest: file does not exist"}"#).unwrap();
        assert_eq!(e.error.as_deref(), Some("pull model manifest: file does not exist"));
        assert_eq!(e.status, "");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.4), "0s");
        assert_eq!(human_duration(42.0), "42s");
        assert_eq!(human_duration(75.0), "1m 15s");
        assert_eq!(human_duration(4000.0), "1h 06m");
        assert_eq!(human_duration(-3.0), "0s");
    }
}
