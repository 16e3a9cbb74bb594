fn main() {
    // Listing the commands makes each one need a grant in capabilities/ (allow-<command>):
    // without this, every registered command would be open to every window.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "server_status",
        "set_host",
        "set_language",
        "set_model",
        "ask_once",
        "chat_send",
        "chat_regenerate",
        "chat_edit",
        "list_conversations",
        "open_conversation",
        "switch_version",
        "rename_conversation",
        "delete_conversation",
        "image_data",
        "export_conversation",
        "export_all",
        "import_conversations",
        "stop_chat",
        "pick_images",
        "pick_folder",
        "remove_attachment",
        "pull_model",
        "cancel_pull",
        "delete_model",
        "model_details",
        "model_catalogue",
        "attach_pasted",
        "attach_clipboard_image",
        "copy_text",
        "export_captions",
        "render_markdown",
        "open_link",
        // Registered only in test builds (`--features e2e`); granted by no capability file.
        "e2e_drop",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri-build failed");
}
