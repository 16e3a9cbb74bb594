// What the page finds on `window` without importing it: Tauri's API (`app.withGlobalTauri` in
// src-tauri/tauri.conf.json) and the vendored libraries markdown.js loads on first need (ui/vendor/). Only the
// parts the UI uses, typed as the UI uses them.

/** A channel a command streams over (`tauri::ipc::Channel<T>` in Rust). */
interface TauriChannel<T> {
  onmessage: (message: T) => void;
}

interface Window {
  __TAURI__: {
    core: {
      /**
       * Calls a command. What it resolves with is declared where it is awaited (`@type` in ui/types.js's
       * names); it rejects with an `ErrorReport`, or with what `toReport` (ui/errors.js) makes one of.
       */
      invoke<T = any>(cmd: string, args?: unknown, options?: { headers?: Record<string, string> }): Promise<T>;
      Channel: new <T = unknown>() => TauriChannel<T>;
    };
    event: {
      listen<T>(event: string, handler: (event: { payload: T }) => void): Promise<() => void>;
    };
  };
  /** highlight.js (ui/vendor/highlight), once loaded. */
  hljs?: {
    getLanguage(name: string): unknown;
    highlight(code: string, options: { language: string; ignoreIllegals: boolean }): { value: string };
  };
  /** KaTeX (ui/vendor/katex), once loaded. */
  katex?: {
    render(tex: string, element: HTMLElement, options: Record<string, unknown>): void;
  };
}
