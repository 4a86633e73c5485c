//! Reading the suite file out of an artifact (a zip file), bounded: whatever the archive holds or claims, at most
//! [`MAX_SUITE_FILE_BYTES`] are read, and every problem says what is wrong with the file and how to fix it.

use std::io::{Read, Seek};

use zip::ZipArchive;

/// The largest suite file the runner reads: far beyond any real suite (1000 checks fit in about 200 KiB), small
/// enough for a 128 MB function.
pub const MAX_SUITE_FILE_BYTES: u64 = 256 * 1024;
/// The most entries an artifact may hold: far beyond a build output with a suite in it, few enough that its
/// central directory is read in moments.
pub const MAX_ARCHIVE_ENTRIES: usize = 10_000;
/// How many of the artifact's entries a "not found" problem lists.
const LISTED_ENTRIES: usize = 5;

/// What is wrong with the file: completes "<path> in input artifact <name>: …", then "Fix: …".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    pub problem: String,
    pub fix: String,
}

impl FileProblem {
    fn new(problem: impl Into<String>, fix: impl Into<String>) -> FileProblem {
        FileProblem {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// The text of the file at `path` in the zip `archive` (UTF-8, a leading byte-order mark dropped).
pub fn read_text(archive: impl Read + Seek, path: &str) -> Result<String, FileProblem> {
    read_text_within(archive, path, MAX_ARCHIVE_ENTRIES)
}

/// [`read_text`] from an archive of at most `max_entries` entries.
fn read_text_within(archive: impl Read + Seek, path: &str, max_entries: usize) -> Result<String, FileProblem> {
    let mut archive = ZipArchive::new(archive).map_err(|e| {
        FileProblem::new(
            format!("the artifact is not a readable zip file ({e})"),
            "give the action an input artifact CodePipeline stores as a zip (a source or build output), not a \
             single uploaded file",
        )
    })?;
    if archive.len() > max_entries {
        return Err(FileProblem::new(
            format!(
                "cannot be looked for: the artifact holds {} entries, more than the {max_entries} the runner reads",
                archive.len()
            ),
            "give the action a smaller input artifact holding the suite (for CodeBuild, a secondary artifact with \
             only the checks directory)",
        ));
    }
    let missing = |archive: &ZipArchive<_>| {
        let total = archive.len();
        let mut shown: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| !n.ends_with('/'))
            .map(|n| n.into_owned())
            .collect();
        shown.sort_unstable();
        shown.truncate(LISTED_ENTRIES);
        let more = total.saturating_sub(shown.len());
        let listing = match (shown.is_empty(), more) {
            (true, _) => "the artifact holds no files".to_owned(),
            (false, 0) => format!("the artifact holds {}", shown.join(", ")),
            (false, more) => format!("the artifact holds {} and {more} more entries", shown.join(", ")),
        };
        FileProblem::new(
            format!("no such file ({listing})"),
            "put the suite in the artifact at that path (for a CodeBuild output, list it under the buildspec's \
             artifacts.files), or correct the path in suite_from_artifact",
        )
    };
    let Some(index) = archive.index_for_name(path) else {
        return Err(missing(&archive));
    };
    let entry = match archive.by_index(index) {
        Ok(entry) => entry,
        Err(e) => {
            return Err(FileProblem::new(
                format!("cannot be read from the artifact ({e})"),
                "store the suite file unencrypted, compressed with deflate or not at all",
            ));
        }
    };
    let too_large = |size: u64| {
        FileProblem::new(
            format!("is {size} bytes, more than the {MAX_SUITE_FILE_BYTES} a suite file may have"),
            "split the checks into smaller suites, one test action each",
        )
    };
    if entry.size() > MAX_SUITE_FILE_BYTES {
        return Err(too_large(entry.size()));
    }
    // The size in the header bounds nothing by itself: read one byte past the limit to catch a file that lies.
    let mut bytes = Vec::new();
    entry
        .take(MAX_SUITE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            FileProblem::new(
                format!("cannot be read from the artifact: it is damaged or uses an unsupported compression ({e})"),
                "rebuild the artifact; store the file compressed with deflate or not at all",
            )
        })?;
    if bytes.len() as u64 > MAX_SUITE_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        FileProblem::new(
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save the suite as UTF-8 JSON",
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::CompressionMethod;
    use zip::write::{SimpleFileOptions, ZipWriter};

    fn zip(files: &[(&str, &[u8])]) -> Cursor<Vec<u8>> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (path, contents) in files {
            if let Some(dir) = path.strip_suffix('/') {
                writer.add_directory(dir, options).unwrap();
            } else {
                writer.start_file(*path, options).unwrap();
                writer.write_all(contents).unwrap();
            }
        }
        Cursor::new(writer.finish().unwrap().into_inner())
    }

    #[test]
    fn the_file_is_read_as_text() {
        let archive = zip(&[
            ("README.md", b"# app"),
            ("checks/smoke.json", b"\xef\xbb\xbf{\"checks\": []}"),
        ]);
        assert_eq!(read_text(archive, "checks/smoke.json").unwrap(), "{\"checks\": []}");
    }

    #[test]
    fn every_problem_says_what_and_how_to_fix_it() {
        let many: Vec<(String, Vec<u8>)> = (0..8).map(|i| (format!("src/f{i}.rs"), b"x".to_vec())).collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
        let big = vec![b' '; MAX_SUITE_FILE_BYTES as usize + 1];
        // (archive, path, words of the problem, words of the fix)
        let cases = [
            (
                Cursor::new(b"not a zip at all".to_vec()),
                "checks/smoke.json",
                "not a readable zip",
                "zip",
            ),
            (
                zip(&[("a.json", b"{}")]),
                "checks/smoke.json",
                "no such file (the artifact holds a.json)",
                "buildspec",
            ),
            (
                zip(&many),
                "checks/smoke.json",
                "src/f4.rs and 3 more entries",
                "correct the path",
            ),
            (zip(&[]), "checks/smoke.json", "holds no files", "put the suite"),
            (zip(&[("checks/", b"")]), "checks", "no such file", "put the suite"),
            (
                zip(&[("checks/smoke.json", &big)]),
                "checks/smoke.json",
                "more than the 262144",
                "split",
            ),
            (
                zip(&[("checks/smoke.json", b"{\"a\": \"\xff\"}")]),
                "checks/smoke.json",
                "not UTF-8",
                "UTF-8",
            ),
        ];
        for (archive, path, problem, fix) in cases {
            let err = read_text(archive, path).unwrap_err();
            assert!(err.problem.contains(problem), "{problem:?} not in {err:?}");
            assert!(err.fix.contains(fix), "{fix:?} not in {err:?}");
        }
    }

    #[test]
    fn archives_with_too_many_entries_are_refused() {
        let files: Vec<(String, Vec<u8>)> = (0..4).map(|i| (format!("f{i}.txt"), b"x".to_vec())).collect();
        let mut files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
        files.push(("checks/smoke.json", b"{}"));
        // (most entries, read)
        let cases = [
            (5, Ok("{}")),
            (100, Ok("{}")),
            (4, Err("the artifact holds 5 entries, more than the 4")),
        ];
        for (most, expected) in cases {
            match (read_text_within(zip(&files), "checks/smoke.json", most), expected) {
                (Ok(text), Ok(want)) => assert_eq!(text, want),
                (Err(err), Err(problem)) => {
                    assert!(err.problem.contains(problem), "{problem:?} not in {err:?}");
                    assert!(err.fix.contains("smaller input artifact"), "{err:?}");
                }
                (got, _) => panic!("at most {most}: {got:?}"),
            }
        }
        assert_eq!(MAX_ARCHIVE_ENTRIES, 10_000);
    }
}
