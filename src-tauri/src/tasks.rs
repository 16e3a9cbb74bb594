//! Work the page can stop: answers, caption questions and model downloads. Each runs as a task registered under
//! an id the page knows (the id it gave an answer, `pull:<model>` for a download) until it ends; stopping aborts
//! the task, and dropping its future closes its HTTP request, so the server stops too.

use gemma_desk_core::Error;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use tokio::task::AbortHandle;

#[derive(Default)]
pub struct Tasks(Mutex<HashMap<String, AbortHandle>>);

impl Tasks {
    /// Runs `work` as a task that [`stop`](Self::stop)`(id)` cancels, and waits for it: its output, or
    /// `Error::Cancelled` when it was stopped.
    pub async fn run<T: Send + 'static>(
        &self,
        id: String,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Error> {
        let task = tokio::spawn(work);
        self.0.lock().unwrap().insert(id.clone(), task.abort_handle());
        let result = task.await;
        self.0.lock().unwrap().remove(&id);
        result.map_err(|_| Error::Cancelled)
    }

    /// Cancels the task running under `id`; whether there was one.
    pub fn stop(&self, id: &str) -> bool {
        self.0.lock().unwrap().remove(id).map(|task| task.abort()).is_some()
    }
}
