//! Embedding matrices as `.npy` files (the format numpy users load with one call), and vectors
//! that users bring themselves (`--embeddings`), from another model or another tool.

use crate::metadata::{csv_text, find_by_filename, normalise_filename};
use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A problem with user vectors, located (file and line) for a person to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct VectorsError(pub String);

/// Vectors by image file name, all of one length.
#[derive(Debug)]
pub struct UserVectors {
    pub dims: usize,
    rows: HashMap<String, Vec<f32>>,
}

impl UserVectors {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row for an image, matched like metadata rows (relative path, else bare name).
    pub fn lookup(&self, filename: &str) -> Option<(&str, &[f32])> {
        find_by_filename(&self.rows, filename).map(|(k, v)| (k, v.as_slice()))
    }

    /// A row that would give its vector to more than one of the images is an error.
    pub fn check_unambiguous<'a>(
        &self,
        filenames: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), VectorsError> {
        match crate::metadata::shared_rows(&self.rows, filenames).first() {
            Some((key, images)) => Err(VectorsError(format!(
                "the vector for {key:?} would go to {} images ({}): name each one by its path in the collection",
                images.len(),
                images.iter().take(5).copied().collect::<Vec<_>>().join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Rows no image used, sorted.
    pub fn unmatched(&self, used: &HashSet<&str>) -> Vec<&str> {
        let mut left: Vec<&str> =
            self.rows.keys().map(String::as_str).filter(|k| !used.contains(k)).collect();
        left.sort_unstable();
        left
    }
}

/// Read `FILE.npy` (rows named, in order, by the lines of `list`) or `FILE.csv` (a `filename`
/// column; every other column is one dimension).
pub fn read_user_vectors(path: &Path, list: Option<&Path>) -> Result<UserVectors, VectorsError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| VectorsError(format!("cannot read {name}: {e}")))?;
    let named: Vec<(String, u64, Vec<f32>)> = match (path.extension().and_then(|e| e.to_str()), list) {
        (Some("npy"), Some(list)) => {
            let array = from_npy(&bytes).map_err(|e| VectorsError(format!("{name}: {e}")))?;
            let names = read_list(list)?;
            if names.len() != array.nrows() {
                return Err(VectorsError(format!(
                    "{name} has {} rows but {} names {} files; they must match one to one",
                    array.nrows(),
                    list.display(),
                    names.len()
                )));
            }
            names.into_iter().zip(array.rows()).map(|((n, line), row)| (n, line, row.to_vec())).collect()
        }
        (Some("npy"), None) => {
            return Err(VectorsError(format!(
                "{name} is a bare matrix: give --list FILE with the file name of each row, one per line"
            )));
        }
        (Some("csv"), _) => read_csv(&bytes, &name)?,
        _ => return Err(VectorsError(format!("{name}: expected a .npy or .csv file"))),
    };
    let source = list.map_or(name.clone(), |l| l.display().to_string());
    let dims = named.first().map_or(0, |(_, _, v)| v.len());
    if dims == 0 {
        return Err(VectorsError(format!("{name} holds no vectors")));
    }
    let mut rows = HashMap::new();
    let mut lines = HashMap::new();
    for (filename, line, vector) in named {
        if let Some(i) = vector.iter().position(|v| !v.is_finite()) {
            return Err(VectorsError(format!(
                "{source}:{line}: value {} of {filename:?} is not finite",
                i + 1
            )));
        }
        if let Some(previous) = lines.insert(filename.clone(), line) {
            return Err(VectorsError(format!(
                "{source}:{line}: {filename:?} already appears on line {previous}"
            )));
        }
        rows.insert(filename, vector);
    }
    Ok(UserVectors { dims, rows })
}

/// Non-empty lines of a list file, with their line numbers.
fn read_list(path: &Path) -> Result<Vec<(String, u64)>, VectorsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| VectorsError(format!("cannot read the list {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .zip(1..)
        .filter(|(l, _)| !l.trim().is_empty())
        .map(|(l, n)| (normalise_filename(l), n))
        .collect())
}

fn read_csv(bytes: &[u8], name: &str) -> Result<Vec<(String, u64, Vec<f32>)>, VectorsError> {
    let at = |line: u64, message: String| VectorsError(format!("{name}:{line}: {message}"));
    let (text, delimiter) = csv_text(bytes);
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_ref());
    let headers: Vec<String> =
        reader.headers().map_err(|e| at(1, e.to_string()))?.iter().map(|h| h.trim().to_lowercase()).collect();
    let filename_col = headers
        .iter()
        .position(|h| h == "filename")
        .ok_or_else(|| at(1, format!("no 'filename' column (found: {})", headers.join(", "))))?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| at(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut vector = Vec::with_capacity(headers.len() - 1);
        for (column, value) in headers.iter().zip(record.iter()).filter(|(c, _)| *c != "filename") {
            let value: f32 = value
                .trim()
                .parse()
                .map_err(|_| at(line, format!("column '{column}': {:?} is not a number", value.trim())))?;
            vector.push(value);
        }
        rows.push((normalise_filename(&record[filename_col]), line, vector));
    }
    Ok(rows)
}

/// `rows` (all of length `dims`) as a float32 `.npy` file's bytes.
pub fn to_npy(rows: &[&[f32]], dims: usize) -> Vec<u8> {
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let array = Array2::from_shape_vec((rows.len(), dims), flat).expect("every row has `dims` values");
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// A float32 or float64 2-D `.npy` file as rows of f32.
pub fn from_npy(bytes: &[u8]) -> Result<Array2<f32>, String> {
    match Array2::<f32>::read_npy(bytes) {
        Ok(array) => Ok(array),
        Err(_) => Array2::<f64>::read_npy(bytes)
            .map(|a| a.mapv(|v| v as f32))
            .map_err(|e| format!("not a 2-D float32 or float64 .npy array ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips() {
        let rows: [&[f32]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.5]];
        let bytes = to_npy(&rows, 3);
        assert!(bytes.starts_with(b"\x93NUMPY"));
        let back = from_npy(&bytes).unwrap();
        assert_eq!(back.shape(), [2, 3]);
        assert_eq!(back[[1, 2]], 6.5);
        assert!(from_npy(b"not npy").is_err());
    }

    #[test]
    fn user_vectors_from_npy_with_list_and_from_csv() {
        let dir = tempfile::tempdir().unwrap();
        let rows: [&[f32]; 2] = [&[1.0, 0.0], &[0.0, 2.0]];
        std::fs::write(dir.path().join("v.npy"), to_npy(&rows, 2)).unwrap();
        std::fs::write(dir.path().join("list.txt"), "a/one.jpg\n\ntwo.png\n").unwrap();
        let v = read_user_vectors(&dir.path().join("v.npy"), Some(&dir.path().join("list.txt"))).unwrap();
        assert_eq!((v.dims, v.len()), (2, 2));
        assert_eq!(v.lookup("a/one.jpg").unwrap().1, [1.0, 0.0]);
        assert_eq!(v.lookup("b/two.png").unwrap(), ("two.png", &[0.0, 2.0][..]));

        std::fs::write(dir.path().join("v.csv"), "filename,x,y\none.jpg,1,2\ntwo.jpg,3,oops\n").unwrap();
        let e = read_user_vectors(&dir.path().join("v.csv"), None).unwrap_err();
        assert!(e.0.ends_with("v.csv:3: column 'y': \"oops\" is not a number"), "{e}");
        std::fs::write(dir.path().join("short.txt"), "one.jpg\n").unwrap();
        let e =
            read_user_vectors(&dir.path().join("v.npy"), Some(&dir.path().join("short.txt"))).unwrap_err();
        assert!(e.0.contains("has 2 rows but") && e.0.contains("names 1 files"), "{e}");
        assert!(read_user_vectors(&dir.path().join("v.npy"), None).unwrap_err().0.contains("--list"));
    }
}
