//! Writing files whole or not at all.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

/// Replaces the file at `path` with `contents`, whole or not at all: they are written to a
/// temporary file beside it (`tempfile`), which is then renamed over it, so that a write that
/// fails (a full disk, an interrupted run) leaves the old file as it was. The new file keeps
/// the old one's permissions.
pub(crate) fn replace(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    if let Ok(old) = fs::metadata(path) {
        fs::set_permissions(temp.path(), old.permissions())?;
    }
    // A temporary file that is not persisted is removed when dropped.
    temp.persist(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("xtask-files-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("README.md");
        replace(&path, b"first").unwrap();
        assert_eq!(
            fs::read(&path).unwrap(),
            b"first",
            "a missing file is created"
        );
        // A link to the old file still reads the old text: the new one was written beside it
        // and renamed over it, never written into it.
        let old = dir.join("old.md");
        fs::hard_link(&path, &old).unwrap();
        replace(&path, b"second").unwrap();
        assert_eq!(fs::read(&old).unwrap(), b"first");
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["README.md", "old.md"], "no temporary file left");
        // A write that fails (here the rename: a directory stands at the path) leaves what
        // was there as it was, and no temporary file behind.
        let busy = dir.join("busy");
        fs::create_dir(&busy).unwrap();
        fs::write(busy.join("kept"), "kept").unwrap();
        assert!(replace(&busy, b"third").is_err());
        assert_eq!(fs::read(busy.join("kept")).unwrap(), b"kept");
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["README.md", "busy", "old.md"],
            "no temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
