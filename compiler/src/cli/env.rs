//! What the command line reads from the environment, in one place: the issue time's
//! fallbacks (`SOURCE_DATE_EPOCH`, then the clock) and the key-generation thread count
//! (`KBC_THREADS`). The library below never reads the environment.

use crate::pki::{IssueTime, IssueTimeError};

/// The issue time: `--issued-at`, else `SOURCE_DATE_EPOCH`, else the clock.
pub(crate) fn issue_time(flag: Option<&str>) -> Result<IssueTime, IssueTimeError> {
    if let Some(s) = flag {
        return IssueTime::parse_rfc3339(s);
    }
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = v
            .trim()
            .parse()
            .map_err(|_| IssueTimeError::SourceDateEpoch(v.clone()))?;
        return IssueTime::from_unix(secs);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    IssueTime::from_unix(now)
}

/// The thread count for key generation: `KBC_THREADS` if set to a positive number, else the
/// available parallelism. The output never depends on it.
pub fn key_threads() -> usize {
    std::env::var("KBC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}
