//! Text the user copies (an answer, a code block, captions, the diagnostics) goes to the system clipboard from
//! Rust: the webview's clipboard API is not available everywhere, and no clipboard permission is granted to the
//! webview. (Photos pasted from the clipboard are `attach.rs`'s.)

use crate::error::{CmdError, CmdResult};
use tauri::AppHandle;

/// Put text on the system clipboard.
#[tauri::command]
pub fn copy_text(app: AppHandle, text: String) -> CmdResult<()> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    app.clipboard()
        .write_text(text)
        .map_err(|e| CmdError::failed(("Could not copy to the clipboard: ", "无法复制到剪贴板："), e))
}
