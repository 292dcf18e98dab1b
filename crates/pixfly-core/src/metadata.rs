//! The metadata CSV: PixPlot's columns, joined to images on `filename`.

use crate::bundle::Metadata;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// A file name as a table names an image: `/`-separated, without a leading `./`, so that
/// `.\scans\a.png`, `./scans/a.png` and `scans/a.png` are one key.
pub fn normalise_filename(name: &str) -> String {
    let name = name.trim().replace('\\', "/");
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    parts.join("/")
}

/// A spreadsheet's CSV as UTF-8, and the character between its fields. Excel writes a BOM,
/// UTF-16 for "Unicode text" (tab-separated), and `;` where the decimal mark is a comma: each is
/// read as it is rather than rejected.
pub fn csv_text(bytes: &[u8]) -> (Cow<'_, [u8]>, u8) {
    let utf16 = |big_endian: bool, body: &[u8]| {
        let units = body.chunks_exact(2).map(|b| {
            if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) }
        });
        let text: String =
            char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
        Cow::Owned(text.into_bytes())
    };
    let text = match bytes {
        [0xFF, 0xFE, body @ ..] => utf16(false, body),
        [0xFE, 0xFF, body @ ..] => utf16(true, body),
        // No BOM, but ASCII with a zero byte after (or before) every character.
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => utf16(false, bytes),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => utf16(true, bytes),
        _ => Cow::Borrowed(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)),
    };
    let header = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if header.contains(&b',') {
        b','
    } else if header.contains(&b'\t') {
        b'\t'
    } else if header.contains(&b';') {
        b';'
    } else {
        b','
    };
    (text, delimiter)
}

/// Table keys that name more than one of `filenames` (a bare `a.jpg` when `x/a.jpg` and
/// `y/a.jpg` both exist), with the images each names: one row cannot describe two images.
pub fn shared_rows<'a, V>(
    rows: &HashMap<String, V>,
    filenames: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, Vec<&'a str>)> {
    let mut named: HashMap<&str, Vec<&'a str>> = HashMap::new();
    for filename in filenames {
        if let Some((key, _)) = find_by_filename(rows, filename) {
            named.entry(key).or_default().push(filename);
        }
    }
    let mut shared: Vec<(String, Vec<&str>)> =
        named.into_iter().filter(|(_, images)| images.len() > 1).map(|(k, v)| (k.to_string(), v)).collect();
    shared.sort();
    shared
}

/// One problem in the CSV, located for a person to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {}{message}", column.as_ref().map(|c| format!("column '{c}': ")).unwrap_or_default())]
pub struct MetadataError {
    pub file: String,
    /// 1-based line in the file.
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

/// All problems found, so that one pass fixes them all.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the metadata CSV:\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
pub struct MetadataErrors(pub Vec<MetadataError>);

/// The row for an image in a table keyed by file names: its relative path, else its bare file
/// name (as PixPlot does). Shared by every file that joins rows to images.
pub fn find_by_filename<'a, V>(rows: &'a HashMap<String, V>, filename: &str) -> Option<(&'a str, &'a V)> {
    let base = filename.rsplit('/').next().unwrap_or(filename);
    [filename, base].into_iter().find_map(|key| rows.get_key_value(key)).map(|(k, v)| (k.as_str(), v))
}

/// Metadata rows by `filename`.
#[derive(Debug, Default)]
pub struct MetadataTable {
    file: String,
    rows: HashMap<String, Metadata>,
    /// Where each row is in the file.
    lines: HashMap<String, u64>,
}

impl MetadataTable {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row for an image: by its relative path, else by its bare file name (as PixPlot does).
    pub fn lookup(&self, filename: &str) -> Option<(&str, &Metadata)> {
        find_by_filename(&self.rows, filename)
    }

    /// Rows that would describe more than one of the images, as errors to fix.
    pub fn check_unambiguous<'a>(
        &self,
        filenames: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), MetadataErrors> {
        let errors: Vec<MetadataError> = shared_rows(&self.rows, filenames)
            .into_iter()
            .map(|(key, images)| MetadataError {
                file: self.file.clone(),
                line: self.lines.get(&key).copied().unwrap_or(0),
                column: Some("filename".into()),
                message: format!(
                    "{key:?} names {} images ({}): write each one's path in the collection instead, e.g. {:?}",
                    images.len(),
                    images.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                    images[0]
                ),
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(MetadataErrors(errors)) }
    }

    /// Row keys that no image used, sorted: usually a typo or a missing file.
    pub fn unmatched<'a>(&'a self, used: &std::collections::HashSet<&str>) -> Vec<&'a str> {
        let mut left: Vec<&str> =
            self.rows.keys().map(String::as_str).filter(|k| !used.contains(k)).collect();
        left.sort_unstable();
        left
    }
}

pub fn read_metadata_csv(path: &Path) -> Result<MetadataTable, MetadataErrors> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        MetadataErrors(vec![MetadataError {
            file: file.clone(),
            line: 0,
            column: None,
            message: e.to_string(),
        }])
    })?;
    parse_metadata_csv(&bytes, &file)
}

const MAX_REPORTED: usize = 50;

pub fn parse_metadata_csv(bytes: &[u8], file: &str) -> Result<MetadataTable, MetadataErrors> {
    let mut errors = Vec::new();
    let mut err = |line: u64, column: Option<&str>, message: String| {
        errors.push(MetadataError {
            file: file.to_string(),
            line,
            column: column.map(String::from),
            message,
        });
    };
    let (text, delimiter) = csv_text(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(text.as_ref());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            err(1, None, e.to_string());
            return Err(MetadataErrors(errors));
        }
    };
    let Some(filename_col) = headers.iter().position(|h| h == "filename") else {
        err(1, None, format!("no 'filename' column (found: {})", headers.join(", ")));
        return Err(MetadataErrors(errors));
    };
    let mut repeated = false;
    for (i, column) in headers.iter().enumerate() {
        if let Some(first) = headers[..i].iter().position(|c| c == column) {
            err(
                1,
                Some(column),
                format!(
                    "appears twice in the header (columns {} and {}): rename or remove one",
                    first + 1,
                    i + 1
                ),
            );
            repeated = true;
        }
    }
    if repeated {
        return Err(MetadataErrors(errors));
    }
    let mut table = MetadataTable { file: file.to_string(), ..MetadataTable::default() };
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                err(line, None, e.to_string());
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            err(line, None, format!("{} fields, but the header has {}", record.len(), headers.len()));
            continue;
        }
        let filename = normalise_filename(&record[filename_col]);
        if filename.is_empty() {
            err(line, Some("filename"), "is empty".into());
            continue;
        }
        let mut meta = Metadata::default();
        for (column, raw) in headers.iter().zip(record.iter()) {
            let value = raw.trim();
            if value.is_empty() || column == "filename" {
                continue;
            }
            match parse_field(&mut meta, column, value) {
                Ok(()) => {}
                Err(message) => err(line, Some(column), message),
            }
        }
        if let Some(previous) = first_line.insert(filename.clone(), line) {
            err(line, Some("filename"), format!("{filename:?} already appears on line {previous}"));
            continue;
        }
        table.lines.insert(filename.clone(), line);
        table.rows.insert(filename, meta);
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        errors.truncate(MAX_REPORTED);
        Err(MetadataErrors(errors))
    }
}

fn parse_field(meta: &mut Metadata, column: &str, value: &str) -> Result<(), String> {
    let number = |lo: f64, hi: f64| -> Result<f64, String> {
        value
            .parse::<f64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| format!("{value:?} is not a number between {lo} and {hi}"))
    };
    match column {
        "category" => meta.category = Some(value.into()),
        "tags" => {
            meta.tags = value.split('|').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
        }
        "description" => meta.description = Some(value.into()),
        "permalink" => meta.permalink = Some(value.into()),
        "label" => meta.label = Some(value.into()),
        "year" => {
            meta.year =
                Some(value.parse().map_err(|_| format!("{value:?} is not a whole year, e.g. 1887 or -300"))?)
        }
        "lat" => meta.lat = Some(number(-90.0, 90.0)?),
        "lng" => meta.lng = Some(number(-180.0, 180.0)?),
        // A custom layout's coordinates: kept as text like other columns, but checked here so a
        // typo is reported with its line instead of silently dropping the image from the layout.
        "x" | "y" | "z" => {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{value:?} is not a number"))?;
            meta.extra.insert(column.to_string(), value.to_string());
        }
        other => {
            meta.extra.insert(other.to_string(), value.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pixplot_columns_and_keeps_extras() {
        let csv = "filename,category,tags,year,lat,lng,Photographer\n\
                   a.jpg,Nebula,red | gas,1887,51.5,-0.12,Ada\n";
        let table = parse_metadata_csv(csv.as_bytes(), "m.csv").unwrap();
        let (_, m) = table.lookup("sub/a.jpg").unwrap();
        assert_eq!(m.category.as_deref(), Some("Nebula"));
        assert_eq!(m.tags, ["red", "gas"]);
        assert_eq!((m.year, m.lat, m.lng), (Some(1887), Some(51.5), Some(-0.12)));
        assert_eq!(m.extra["photographer"], "Ada");
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let csv = "filename,year,lat,x\na.jpg,1887,10,0\nb.jpg,circa 1900,10,1\nc.jpg,1900,95,2\na.jpg,1,1,3\nd.jpg,1,1,x3\n";
        let errors = parse_metadata_csv(csv.as_bytes(), "m.csv").unwrap_err().0;
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "m.csv:3: column 'year': \"circa 1900\" is not a whole year, e.g. 1887 or -300",
                "m.csv:4: column 'lat': \"95\" is not a number between -90 and 90",
                "m.csv:5: column 'filename': \"a.jpg\" already appears on line 2",
                "m.csv:6: column 'x': \"x3\" is not a number",
            ]
        );
    }

    #[test]
    fn spreadsheet_exports_are_read_as_they_come() {
        let expect = |bytes: &[u8]| {
            let table = parse_metadata_csv(bytes, "m.csv").unwrap();
            let (_, m) = table.lookup("mono.png").expect("the row for mono.png");
            assert_eq!((m.year, m.category.as_deref()), (Some(1887), Some("Moon")));
        };
        expect(b"filename;year;category\n./mono.png;1887;Moon\n");
        expect(b"filename\tyear\tcategory\r\nmono.png\t1887\tMoon\r\n");
        let text = "filename\tyear\tcategory\r\nmono.png\t1887\tMoon\r\n";
        let le: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        expect(&le);
        let be: Vec<u8> =
            [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        expect(&be);
    }

    #[test]
    fn repeated_columns_and_rows_naming_two_images_are_errors() {
        let err = parse_metadata_csv(b"filename,year,Year\na.png,1,2\n", "m.csv").unwrap_err();
        assert!(
            err.to_string().contains("m.csv:1: column 'year': appears twice in the header (columns 2 and 3)"),
            "{err}"
        );
        let table = parse_metadata_csv(b"filename,year\nb.png,1\na.png,2\n", "m.csv").unwrap();
        let err = table.check_unambiguous(["x/a.png", "y/a.png", "b.png"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("m.csv:3: column 'filename': \"a.png\" names 2 images (x/a.png, y/a.png)"),
            "{err}"
        );
        table.check_unambiguous(["x/a.png", "b.png"]).unwrap();
    }

    #[test]
    fn missing_filename_column_is_reported() {
        let err = parse_metadata_csv(b"name,year\na,1\n", "m.csv").unwrap_err();
        assert!(err.to_string().contains("no 'filename' column"), "{err}");
    }
}
