//! Backups: a copy of a disk's whole image chain in another failure domain.
//!
//! A snapshot lives on the same host disk as the image it protects, so when that disk dies
//! the snapshot dies with it. A backup is only a backup if it is somewhere that does not fail
//! together with the original: another disk, another host, another building.

use serde::{Deserialize, Serialize};

use super::pool::{Pool, PoolError};

/// Why a backup or restore failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum BackupError {
    /// Source and destination fail together.
    #[error("`{destination}` is in the same failure domain (`{domain}`) as `{source_pool}`: when that fails, the copy is lost with the original, so it is not a backup")]
    SameFailureDomain {
        /// Source pool.
        source_pool: String,
        /// Destination pool.
        destination: String,
        /// The shared failure domain.
        domain: String,
    },
    /// A pool refused.
    #[error("{0}")]
    Pool(#[from] PoolError),
}

/// What a backup or restore copied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupReport {
    /// Disk name.
    pub disk: String,
    /// Images copied (base and snapshots).
    pub images: usize,
    /// Host bytes copied.
    pub bytes: u64,
    /// From which failure domain.
    pub from_domain: String,
    /// To which failure domain.
    pub to_domain: String,
}

/// Copies disk `name` with all its snapshots from `source` into `destination`, which must be
/// in another failure domain.
pub fn backup(
    source: &Pool,
    name: &str,
    destination: &mut Pool,
) -> Result<BackupReport, BackupError> {
    if source.failure_domain() == destination.failure_domain() {
        return Err(BackupError::SameFailureDomain {
            source_pool: source.name().to_string(),
            destination: destination.name().to_string(),
            domain: source.failure_domain().to_string(),
        });
    }
    copy(source, name, destination)
}

/// Restores disk `name` from a backup pool into `target` (a replacement host disk, say).
pub fn restore(backup: &Pool, name: &str, target: &mut Pool) -> Result<BackupReport, BackupError> {
    copy(backup, name, target)
}

fn copy(from: &Pool, name: &str, to: &mut Pool) -> Result<BackupReport, BackupError> {
    let chain = from.disk(name)?.clone();
    let report = BackupReport {
        disk: name.to_string(),
        images: chain.images().len(),
        bytes: chain.host_bytes().map_err(PoolError::from)?,
        from_domain: from.failure_domain().to_string(),
        to_domain: to.failure_domain().to_string(),
    };
    to.insert_chain(name, chain)?;
    Ok(report)
}
