//! Which paths are images: a folder dropped or picked expands to the image files directly inside it, in natural
//! order (`IMG_2` before `IMG_10`), while files given one by one are kept whatever they hold so that a bad one gets
//! its own error. Apart from the preparing because it is about file names and folders, not pixels.

use std::path::{Path, PathBuf};

use super::sniff::sniff;

/// Whether the file at `path` starts like an image this module can prepare (reads at most 4 KiB).
pub fn is_image_file(path: &Path) -> bool {
    read_head(path).is_some_and(|head| sniff(&head).is_ok())
}

/// File name extensions of the image formats prepared here (and of SVG, so that such files get a clear error).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "bmp", "dib", "tif", "tiff", "heic", "heif", "hif",
    "avif", "svg",
];

/// Expands a list of dropped or picked paths into the image files to prepare, in a stable order.
///
/// - Files are kept as given, whatever they contain (so that a bad one gets its own clear error), in input order.
/// - A folder expands to the image files directly inside it (not in subfolders), sorted by name with numbers in
///   natural order (`IMG_2` before `IMG_10`). A file counts as an image when its bytes say so or its extension is an
///   image extension ([`IMAGE_EXTENSIONS`]: a damaged `photo.jpg` is listed, and gets its error, while `notes.txt`
///   is skipped). Hidden files (`.name`) are skipped.
/// - Paths that cannot be read are kept, so that preparing them reports why. Duplicates are dropped.
pub fn collect_images(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |p: PathBuf, out: &mut Vec<PathBuf>| {
        if seen.insert(p.clone()) {
            out.push(p);
        }
    };
    for path in paths {
        if !path.is_dir() {
            push(path.clone(), &mut out);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            push(path.clone(), &mut out);
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| !is_hidden(p) && p.is_file() && (has_image_extension(p) || is_image_file(p)))
            .collect();
        found.sort_by(|a, b| natural_cmp(&file_name_lossy(a), &file_name_lossy(b)));
        for p in found {
            push(p, &mut out);
        }
    }
    out
}

fn read_head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path).ok()?.take(4096).read_to_end(&mut head).ok()?;
    Some(head)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|known| known.eq_ignore_ascii_case(e)))
}

fn file_name_lossy(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Compares names case-insensitively, with runs of digits compared as numbers (`IMG_2` < `IMG_10`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a_chars, mut b_chars) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a_chars.peek().copied(), b_chars.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let take = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut digits = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(c);
                        it.next();
                    }
                    digits
                };
                let (da, db) = (take(&mut a_chars), take(&mut b_chars));
                let (ta, tb) = (da.trim_start_matches('0'), db.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb)).then_with(|| da.len().cmp(&db.len()));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a_chars.next();
                b_chars.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec!["IMG_10.jpg", "img_2.jpg", "IMG_1.jpg", "b.png", "a.png", "IMG_02.jpg"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["a.png", "b.png", "IMG_1.jpg", "img_2.jpg", "IMG_02.jpg", "IMG_10.jpg"]);
    }
}
