// A GUI app on Windows: no console window behind it. (The CLI is a separate binary.)
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod about;
mod attach;
mod captions;
mod chat;
mod clipboard;
mod conversations;
mod error;
mod lifecycle;
mod logging;
mod markdown;
mod models;
mod servers;
mod settings;
mod state;
mod tasks;

use tauri::{DragDropEvent, Manager, WindowEvent};

fn main() {
    logging::mark_start();
    let context = tauri::generate_context!();
    let instance = lifecycle::instance_id(&context.config().identifier);
    tauri::Builder::default()
        // First, so that a second launch hands over to the running app before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance)
                .callback(|app, _args, _cwd| lifecycle::focus_main_window(app))
                .build(),
        )
        // Size, position and maximised state, restored on start and saved on exit (commands not granted).
        .plugin(tauri_plugin_window_state::Builder::new().with_state_flags(lifecycle::remembered()).build())
        // Used from Rust only (the `copy_text` command); the webview is granted none of its commands.
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            let logs = gemma_desk_core::settings::log_dir(app.path().app_log_dir()?);
            let log_dir = match logging::init(&logs) {
                Ok(()) => Some(logs),
                Err(e) => {
                    eprintln!("Gemma Desk runs without a log file: {e}");
                    None
                }
            };
            tracing::info!(version = env!("CARGO_PKG_VERSION"), webview = ?tauri::webview_version().ok(), "starting");
            // GEMMA_DESK_DATA_DIR (tests, portable installs) holds both; else the OS's config and data folders.
            let config = gemma_desk_core::settings::data_dir(app.path().app_config_dir()?);
            let data = gemma_desk_core::settings::data_dir(app.path().app_data_dir()?);
            app.manage(state::AppState::load(&config, &data));
            app.manage(lifecycle::Shell::new(log_dir));
            lifecycle::exit_on_signals(app.handle());
            // Test builds grant their drop command at run time; no capability file names it.
            #[cfg(feature = "e2e")]
            app.add_capability(tauri::ipc::CapabilityBuilder::new("e2e").window("main").permission("allow-e2e-drop"))?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Tauri's own drop event carries the paths; the webview never sees them.
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                attach::on_drop(window.app_handle(), paths.clone());
            }
        })
        .invoke_handler(handlers())
        .run(context)
        .expect("Gemma Desk could not start its window");
}

/// The commands the webview may call (each also needs a grant in capabilities/), plus `extra`.
macro_rules! handlers_with {
    ($($extra:path),*) => {
        tauri::generate_handler![
            // Settings: what is in effect at start, the host, the language, the model and its options
            settings::app_info,
            settings::set_host,
            settings::set_language,
            settings::set_model,
            settings::set_hide_cloud_models,
            settings::context_window,
            settings::model_options,
            settings::set_model_options,
            // Servers: the list in Settings, and the status of the one in use
            servers::server_status,
            servers::list_servers,
            servers::add_server,
            servers::remove_server,
            servers::set_default_server,
            servers::test_server,
            // A saved turn of a conversation, and Stop (for caption questions too)
            chat::chat_send,
            chat::chat_regenerate,
            chat::chat_edit,
            chat::stop_chat,
            // Conversations: the sidebar, opening, versions, export and import
            conversations::list_conversations,
            conversations::open_conversation,
            conversations::switch_version,
            conversations::rename_conversation,
            conversations::delete_conversation,
            conversations::image_data,
            conversations::export_conversation,
            conversations::export_all,
            conversations::import_conversations,
            // Photos attached: picked, pasted, removed (drops arrive as a window event)
            attach::pick_images,
            attach::pick_folder,
            attach::attach_pasted,
            attach::attach_clipboard_image,
            attach::remove_attachment,
            // Caption all: one unsaved question per photo, and the captions saved to a file
            captions::ask_once,
            captions::export_captions,
            // The Models dialog
            models::pull_model,
            models::cancel_pull,
            models::delete_model,
            models::model_details,
            models::model_catalogue,
            // Answers on screen: Markdown, links, copying
            markdown::render_markdown,
            markdown::open_link,
            clipboard::copy_text,
            // The window's life: first paint, quit
            lifecycle::ui_ready,
            lifecycle::quit,
            // The About box and diagnostics
            about::about,
            about::diagnostics,
            $($extra),*
        ]
    };
}

#[cfg(not(feature = "e2e"))]
fn handlers() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    handlers_with!()
}

#[cfg(feature = "e2e")]
fn handlers() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    handlers_with!(attach::e2e_drop)
}
