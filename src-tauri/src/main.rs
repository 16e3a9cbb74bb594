// A GUI app on Windows: no console window behind it. (The CLI is a separate binary.)
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod state;

use tauri::Manager;

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let dir = gemma_desk_core::settings::data_dir(app.path().app_config_dir()?);
            app.manage(state::AppState::load(&dir));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::server_status,
            commands::set_host,
            commands::set_language,
            commands::set_model,
            commands::send_chat,
            commands::stop_chat,
        ])
        .run(tauri::generate_context!())
        .expect("Gemma Desk could not start its window");
}
