//! Model output in the chat view: Markdown rendered to safe HTML in Rust, and links opened in the
//! system browser (never in the webview, which must only ever show the app itself).

use crate::error::{CmdError, CmdResult};
use crate::state::AppState;
use gemma_desk_core::markdown;
use gemma_desk_core::Error;
use tauri::State;

/// Safe HTML for a (possibly half-streamed) answer. Async so a long answer never blocks the window.
#[tauri::command]
pub async fn render_markdown(text: String) -> String {
    markdown::render(&text)
}

/// Opens an `http` or `https` link in the user's browser; refuses anything else.
#[tauri::command]
pub async fn open_link(state: State<'_, AppState>, url: String) -> CmdResult<()> {
    let Some(target) = markdown::link_target(&url) else {
        let shown: String = url.chars().take(200).collect();
        let message = state.lang().pick(
            "Only web links (http, https) open from the chat. Not opened: ",
            "聊天中只能打开网页链接（http、https）。未打开：",
        );
        return Err(Error::Usage(format!("{message}{shown}")).into());
    };
    // Detached: the browser outlives nothing of ours and we do not wait for it.
    open::that_detached(target.as_str())
        .map_err(|e| CmdError::failed(("Could not open the link in your browser: ", "无法在浏览器中打开链接："), e))
}
