"""Backups of everything a vigil deployment cannot rebuild: the store, the CAE journal (revocations,
SSF streams and outbox), the signing keys and the settings; and restores that prove they worked.

``write_backup`` takes a consistent snapshot while the service runs; ``verify_backup`` refuses a
corrupt or partial one (the manifest is written last, and names every file with its SHA-256);
``restore_backup`` brings one back into a new folder and checks the row counts against the manifest.
"""
from vigil.backup.manifest import verify_backup
from vigil.backup.restore import restore_backup
from vigil.backup.write import backup_dir, snapshot_staging, staged, write_backup

__all__ = ["backup_dir", "restore_backup", "snapshot_staging", "staged", "verify_backup", "write_backup"]
