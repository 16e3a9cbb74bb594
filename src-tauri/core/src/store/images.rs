//! Images, stored once each under the SHA-256 of their bytes and listed by messages in order.

use super::{MessageId, Store};
use crate::error::{Error, Result};
use crate::images::PreparedImage;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An image to attach to a message: the prepared bytes (what is sent to the model).
#[derive(Clone, PartialEq, Eq)]
pub struct ImageInput {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImageInput({} {}x{}, {} bytes)", self.mime, self.width, self.height, self.bytes.len())
    }
}

impl From<&PreparedImage> for ImageInput {
    fn from(p: &PreparedImage) -> Self {
        ImageInput { bytes: p.encoded(), mime: p.mime.to_string(), width: p.width, height: p.height }
    }
}

/// An image as a message lists it; [`Store::image`] gives its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// Lowercase hex SHA-256 of the bytes: the image's name.
    pub sha256: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

/// A stored image with its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub info: ImageRef,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for StoredImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoredImage({:?}, {} bytes)", self.info, self.bytes.len())
    }
}

impl StoredImage {
    /// Standard base64 without a prefix: what Ollama's `images` takes.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }

    /// A `data:` URI for the webview.
    pub fn data_uri(&self) -> String {
        format!("data:{};base64,{}", self.info.mime, self.base64())
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

impl Store {
    /// The image named `sha256`, with its bytes.
    pub fn image(&self, sha256: &str) -> Result<StoredImage> {
        let conn = self.conn();
        conn.query_row("SELECT sha256, mime, width, height, data FROM images WHERE sha256 = ?1", [sha256], |r| {
            Ok(StoredImage {
                info: ImageRef { sha256: r.get(0)?, mime: r.get(1)?, width: r.get(2)?, height: r.get(3)? },
                bytes: r.get(4)?,
            })
        })
        .optional()?
        .ok_or_else(|| Error::StorageNotFound { what: format!("image {sha256}") })
    }
}

/// Stores the image unless it is already there; returns its name.
pub(super) fn put_image(conn: &Connection, image: &ImageInput) -> Result<String> {
    let sha = sha256_hex(&image.bytes);
    put_image_named(conn, &sha, &image.mime, image.width, image.height, &image.bytes)?;
    Ok(sha)
}

/// Returns whether the image was new.
pub(super) fn put_image_named(
    conn: &Connection,
    sha: &str,
    mime: &str,
    width: u32,
    height: u32,
    bytes: &[u8],
) -> Result<bool> {
    let added = conn
        .prepare_cached(
            "INSERT INTO images (sha256, mime, width, height, data) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (sha256) DO NOTHING",
        )?
        .execute(params![sha, mime, width, height, bytes])?;
    Ok(added > 0)
}

/// Lists images (already stored) on a message, in order.
pub(super) fn link_images(conn: &Connection, message: MessageId, shas: &[String]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT INTO message_images (message_id, position, sha256) VALUES (?1, ?2, ?3)")?;
    for (i, sha) in shas.iter().enumerate() {
        stmt.execute(params![message, i as i64, sha])?;
    }
    Ok(())
}

pub(super) fn images_of(conn: &Connection, message: MessageId) -> Result<Vec<ImageRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.sha256, i.mime, i.width, i.height FROM message_images mi JOIN images i ON i.sha256 = mi.sha256
         WHERE mi.message_id = ?1 ORDER BY mi.position",
    )?;
    let rows = stmt.query_map([message], |r| {
        Ok(ImageRef { sha256: r.get(0)?, mime: r.get(1)?, width: r.get(2)?, height: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes images no message lists any more.
pub(super) fn remove_orphans(conn: &Connection) -> Result<usize> {
    Ok(conn.execute("DELETE FROM images WHERE sha256 NOT IN (SELECT sha256 FROM message_images)", [])?)
}
