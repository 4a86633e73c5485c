//! CodePipeline artifacts: zip files in the pipeline's artifact bucket. Tests and releases build them from
//! (path, contents) pairs, deflated as CodeBuild and the source actions write them.

use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// A zip artifact holding `files`, each `(path inside the zip, contents)`, deflated.
pub fn zip_artifact<P: AsRef<str>, C: AsRef<[u8]>>(files: impl IntoIterator<Item = (P, C)>) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (path, contents) in files {
        // Writing to memory fails only on a duplicate or invalid path: a broken test, said plainly.
        zip.start_file(path.as_ref(), options)
            .unwrap_or_else(|e| panic!("zip_artifact: cannot add {}: {e}", path.as_ref()));
        zip.write_all(contents.as_ref())
            .unwrap_or_else(|e| panic!("zip_artifact: cannot write {}: {e}", path.as_ref()));
    }
    zip.finish()
        .unwrap_or_else(|e| panic!("zip_artifact: cannot finish the archive: {e}"))
        .into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn files_read_back_as_written() {
        let bytes = zip_artifact([("checks/smoke.json", "{\"checks\": []}"), ("README.md", "# app")]);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut text = String::new();
        let mut file = archive.by_name("checks/smoke.json").unwrap();
        assert_eq!(file.compression(), CompressionMethod::Deflated);
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "{\"checks\": []}");
    }
}
