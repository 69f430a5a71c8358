//! Change notifications for the spec file.
//!
//! The parent folder is watched, not the file, because editors and
//! `nixos-rebuild` replace a file by renaming a new one over it, which ends a
//! watch on the old inode.

use std::path::Path;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Quiet time after the last event before a changed spec is read, so that a
/// write in several steps is read once, complete.
const SETTLE: Duration = Duration::from_millis(100);

/// Starts watching `spec`; each relevant event sends `()`. Keep the returned
/// watcher alive for as long as events are wanted.
pub fn spec_file(spec: &Path) -> notify::Result<(RecommendedWatcher, mpsc::UnboundedReceiver<()>)> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let file_name = spec.file_name().map(|n| n.to_owned());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.paths.iter().any(|p| p.file_name() == file_name.as_deref()) {
            let _ = sender.send(());
        }
    })?;
    let folder = spec.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    watcher.watch(folder, RecursiveMode::NonRecursive)?;
    Ok((watcher, receiver))
}

/// Drains events until none has arrived for [`SETTLE`].
pub async fn settle(events: &mut mpsc::UnboundedReceiver<()>) {
    while let Ok(Some(())) = tokio::time::timeout(SETTLE, events.recv()).await {}
}
