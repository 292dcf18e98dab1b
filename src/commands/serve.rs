//! `pixfly serve SITE`: preview a web export on this machine. A plain static file server on
//! 127.0.0.1 with what the web viewer needs (application/wasm, range requests) and nothing
//! reachable outside the folder.

use anyhow::{Context, anyhow, bail};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT_ENCODING, HeaderValue, RANGE};
use hyper::{Method, Request, Response};
use std::convert::Infallible;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The folder to serve (made by `pixfly export-web`).
    site: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let root = args.site.canonicalize().with_context(|| format!("cannot open {}", args.site.display()))?;
    if !root.is_dir() {
        bail!("{} is not a folder", root.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_io().build()?;
    runtime.block_on(serve(Arc::new(root), args.port))
}

/// Every connection gets its own task, kept alive as long as the browser keeps it (a page asks
/// for its atlases over a handful of connections at once).
async fn serve(root: Arc<PathBuf>, port: u16) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let address = listener.local_addr()?;
    // On stdout, so scripts (and the tests) can read the address when the port was 0.
    println!("serving {} at http://{address}/ (Ctrl-C stops)", root.display());
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(connection) => connection,
            Err(e) => {
                warn!("cannot accept a connection: {e}");
                continue;
            }
        };
        let root = root.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(root.clone(), request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                // The browser went away mid-answer (a cancelled fetch): nothing to do but note it.
                info!("connection closed early: {e}");
            }
        });
    }
}

async fn answer(root: Arc<PathBuf>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (method, url) = (request.method().clone(), request.uri().to_string());
    let field =
        |name| request.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let (range, accepted) = (field(RANGE), field(ACCEPT_ENCODING).unwrap_or_default());
    let reply = if method == Method::GET || method == Method::HEAD {
        // Files are read in the blocking pool, off the threads that serve connections.
        let url = url.clone();
        tokio::task::spawn_blocking(move || file_for_url(&root, &url, range, &accepted))
            .await
            .unwrap_or_else(|e| Err(Refusal::new(500, format!("the reply failed: {e}"))))
    } else {
        Err(Refusal::new(405, "only GET and HEAD"))
    };
    let response = match reply {
        Ok(file) => {
            info!("{method} {url} {}", file.summary);
            file.response
        }
        Err(refusal) => {
            warn!("{method} {url} {}: {}", refusal.status, refusal.why);
            let body = format!("{} {}\n", refusal.status, refusal.why);
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = hyper::StatusCode::from_u16(refusal.status).expect("a valid status");
            response
        }
    };
    Ok(response)
}

/// The file a GET or HEAD for `url` answers with: the one named, a precompressed copy, or a part.
fn file_for_url(root: &Path, url: &str, range: Option<String>, accepted: &str) -> Result<FileReply, Refusal> {
    let path = site_file(root, url)?;
    // A part of the file is a part of it as stored, never of a compressed copy.
    match precompressed(root, &path, accepted).filter(|_| range.is_none()) {
        Some((copy, coding)) => file_reply(&copy, &path, Some(coding), None),
        None => file_reply(&path, &path, None, range.as_deref()),
    }
}

/// Why a request gets no file.
#[derive(Debug, PartialEq)]
struct Refusal {
    status: u16,
    why: String,
}

impl Refusal {
    fn new(status: u16, why: impl Into<String>) -> Refusal {
        Refusal { status, why: why.into() }
    }
}

/// The file a URL names inside the site, or why there is none. Anything that would leave the
/// folder (`..`, encoded or not, or a link pointing out) is refused.
fn site_file(root: &Path, url: &str) -> Result<PathBuf, Refusal> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| Refusal::new(400, "the path is not UTF-8"))?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(Refusal::new(403, "paths may not climb out of the site")),
            s if s.contains(['\\', '\0', ':']) => return Err(Refusal::new(400, "bad character in the path")),
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let real = file.canonicalize().map_err(|_| Refusal::new(404, "no such file"))?;
    if !real.starts_with(root) {
        return Err(Refusal::new(403, "links out of the site are not followed"));
    }
    if !real.is_file() {
        return Err(Refusal::new(404, "not a file"));
    }
    Ok(real)
}

/// A copy of `path` compressed ahead of time (`NAME.br`, `NAME.gz`: scripts/build-web.sh writes
/// them for the wasm) in a coding the browser accepts, as static hosts serve them (nginx's
/// `brotli_static` and `gzip_static`, for instance); with its `Content-Encoding`.
fn precompressed(root: &Path, path: &Path, accepted: &str) -> Option<(PathBuf, &'static str)> {
    let accepts = |coding: &str| {
        accepted.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next() == Some(coding) && !parts.any(|p| p.replace(' ', "") == "q=0")
        })
    };
    [("br", "br"), ("gz", "gzip")].into_iter().find_map(|(extension, coding)| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{extension}"));
        let copy = PathBuf::from(name).canonicalize().ok()?;
        (accepts(coding) && copy.starts_with(root) && copy.is_file()).then_some((copy, coding))
    })
}

/// A file's answer, and what the log says of it.
struct FileReply {
    response: Response<Full<Bytes>>,
    summary: String,
}

/// The whole file, or the byte range asked for. `named` is the file the URL names (its type is
/// the answer's type), `path` what is sent: the same file, or a copy of it compressed in `coding`.
fn file_reply(
    path: &Path,
    named: &Path,
    coding: Option<&str>,
    range: Option<&str>,
) -> Result<FileReply, Refusal> {
    let mut file = File::open(path).map_err(|e| Refusal::new(403, format!("cannot read it: {e}")))?;
    let metadata = file.metadata().map_err(|e| Refusal::new(500, e.to_string()))?;
    let size = metadata.len();
    let mime = mime_guess::from_path(named).first_or_octet_stream();
    // As static hosts do: a file replaced on disk gets a new tag (a kiosk page watches it).
    let modified = metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let tag = format!("\"{size:x}-{:x}\"", modified.map_or(0, |d| d.as_nanos()));
    let mut response = Response::builder()
        .header("Content-Type", mime.as_ref())
        .header("ETag", tag)
        .header("Accept-Ranges", "bytes")
        // A preview: a rebuilt site shows at the next reload.
        .header("Cache-Control", "no-cache")
        .header("Vary", "Accept-Encoding");
    if let Some(coding) = coding {
        response = response.header("Content-Encoding", coding);
    }
    let (status, start, length) = match range.map(|r| byte_range(r, size)) {
        None | Some(RangeAnswer::Ignore) => (200, 0, size),
        Some(RangeAnswer::Part(first, last)) => {
            response = response.header("Content-Range", format!("bytes {first}-{last}/{size}"));
            (206, first, last - first + 1)
        }
        Some(RangeAnswer::Unsatisfiable) => {
            return Err(Refusal::new(416, format!("the range is outside the file's {size} bytes")));
        }
    };
    let mut body = Vec::with_capacity(length as usize);
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.take(length).read_to_end(&mut body))
        .map_err(|e| Refusal::new(500, format!("cannot read it: {e}")))?;
    let response = response
        .status(status)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Refusal::new(500, e.to_string()))?;
    let coded = coding.map(|c| format!(" ({c})")).unwrap_or_default();
    Ok(FileReply { response, summary: format!("{status} {length} bytes {mime}{coded}") })
}

#[derive(Debug, PartialEq)]
enum RangeAnswer {
    /// Send the whole file (no usable range, or several: allowed by RFC 9110).
    Ignore,
    Part(u64, u64),
    Unsatisfiable,
}

fn byte_range(value: &str, size: u64) -> RangeAnswer {
    use http_range_header::RangeUnsatisfiableError;
    match http_range_header::parse_range_header(value).and_then(|r| r.validate(size)) {
        Ok(ranges) if ranges.len() == 1 => RangeAnswer::Part(*ranges[0].start(), *ranges[0].end()),
        Err(RangeUnsatisfiableError::Unsatisfiable) => RangeAnswer::Unsatisfiable,
        _ => RangeAnswer::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_inside_the_site_only() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("bundle")).unwrap();
        std::fs::write(root.join("index.html"), "page").unwrap();
        std::fs::write(root.join("bundle/manifest.json"), "{}").unwrap();
        assert_eq!(site_file(&root, "/").unwrap(), root.join("index.html"));
        assert_eq!(site_file(&root, "/?bundle=x").unwrap(), root.join("index.html"));
        assert_eq!(site_file(&root, "/bundle/manifest.json").unwrap(), root.join("bundle/manifest.json"));
        assert_eq!(site_file(&root, "/bundle/%6Danifest.json").unwrap(), root.join("bundle/manifest.json"));
        for climbing in ["/../x", "/bundle/../../x", "/%2e%2e/x", "/bundle/%2E%2E/%2e%2e/x"] {
            assert_eq!(site_file(&root, climbing).unwrap_err().status, 403, "{climbing}");
        }
        assert_eq!(site_file(&root, "/bundle/..%5c..%5cx").unwrap_err().status, 400);
        assert_eq!(site_file(&root, "/missing.png").unwrap_err().status, 404);
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_site_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "no").unwrap();
        let site = tempfile::tempdir().unwrap();
        let root = site.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("link.txt")).unwrap();
        assert_eq!(site_file(&root, "/link.txt").unwrap_err().status, 403);
    }

    #[test]
    fn compressed_copies_go_to_browsers_that_accept_them() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().canonicalize().unwrap();
        let wasm = root.join("pixfly_bg.wasm");
        for name in ["pixfly_bg.wasm", "pixfly_bg.wasm.br", "pixfly_bg.wasm.gz", "index.html"] {
            std::fs::write(root.join(name), name).unwrap();
        }
        let chosen = |accepted: &str| precompressed(&root, &wasm, accepted).map(|(p, c)| (p, c.to_owned()));
        assert_eq!(chosen("gzip, deflate, br, zstd"), Some((root.join("pixfly_bg.wasm.br"), "br".into())));
        assert_eq!(chosen("gzip;q=1.0, br;q=0"), Some((root.join("pixfly_bg.wasm.gz"), "gzip".into())));
        assert_eq!(chosen("identity"), None);
        assert_eq!(chosen(""), None);
        // No copy beside it: the file itself.
        assert_eq!(precompressed(&root, &root.join("index.html"), "br, gzip"), None);
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), RangeAnswer::Part(0, 9));
        assert_eq!(byte_range("bytes=90-", 100), RangeAnswer::Part(90, 99));
        assert_eq!(byte_range("bytes=-10", 100), RangeAnswer::Part(90, 99));
        assert_eq!(byte_range("bytes=50-500", 100), RangeAnswer::Part(50, 99));
        assert_eq!(byte_range("bytes=100-", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), RangeAnswer::Ignore);
        assert_eq!(byte_range("lines=1-2", 100), RangeAnswer::Ignore);
    }
}
