//! With a state file, a write is acknowledged only once it is on disk: writers ask for
//! the generation their write produced, one thread saves the whole state (synced, then
//! renamed over the file) and wakes every writer the save covers, so concurrent writes
//! share one save (group commit). A crash loses nothing that was acknowledged.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use crate::api::ApiError;
use crate::mock::store::MockStore;

/// How long a writer waits for its save before answering 500 (the disk is failing).
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The saver of one state file.
#[derive(Debug)]
pub struct Persister {
    wanted: Mutex<Wanted>,
    wake: Condvar,
    durable: watch::Sender<u64>,
    last_error: Mutex<Option<String>>,
}

#[derive(Debug, Default)]
struct Wanted {
    generation: u64,
    stop: bool,
}

impl Persister {
    /// Starts the saver of `store` into `path` (a thread of its own: saving syncs the
    /// disk, which must not stall the runtime).
    pub fn start(store: Arc<MockStore>, path: PathBuf) -> std::io::Result<Arc<Persister>> {
        let initial = store.generation();
        let (durable, _) = watch::channel(initial);
        let p = Arc::new(Persister {
            wanted: Mutex::new(Wanted {
                generation: initial,
                stop: false,
            }),
            wake: Condvar::new(),
            durable,
            last_error: Mutex::new(None),
        });
        let saver = p.clone();
        std::thread::Builder::new()
            .name("state-file".into())
            .spawn(move || saver.run(&store, &path))?;
        Ok(p)
    }

    fn run(&self, store: &MockStore, path: &std::path::Path) {
        loop {
            {
                let mut w = self.wanted.lock();
                while !w.stop && w.generation <= *self.durable.borrow() {
                    self.wake.wait(&mut w);
                }
                if w.stop {
                    return;
                }
            }
            match store.save(path) {
                Ok(generation) => {
                    *self.last_error.lock() = None;
                    self.durable.send_replace(generation);
                }
                Err(e) => {
                    let text = format!("{}: {e}", path.display());
                    tracing::error!(target: "proxmox_sdk::server", "state file not written: {text}");
                    *self.last_error.lock() = Some(text);
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Returns once every write up to `generation` is on disk.
    pub async fn commit(&self, generation: u64) -> Result<(), ApiError> {
        {
            let mut w = self.wanted.lock();
            if w.generation < generation {
                w.generation = generation;
            }
        }
        self.wake.notify_one();
        let mut rx = self.durable.subscribe();
        let saved = tokio::time::timeout(COMMIT_TIMEOUT, rx.wait_for(|d| *d >= generation))
            .await
            .is_ok_and(|r| r.is_ok());
        if saved {
            Ok(())
        } else {
            Err(ApiError::new(
                500,
                format!(
                    "the change is made but not saved: {}",
                    self.last_error
                        .lock()
                        .clone()
                        .unwrap_or_else(|| "state file not written in time".into())
                ),
            ))
        }
    }

    /// Stops the saver (the final save is the server's, at shutdown).
    pub fn stop(&self) {
        self.wanted.lock().stop = true;
        self.wake.notify_one();
    }
}
