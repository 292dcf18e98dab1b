//! Embedding: each image becomes the feature vector of a pretrained network (its "way of
//! seeing"), plus the network's best-guess ImageNet classes as auto-tags.

pub mod cache;
pub mod model;
pub mod preprocess;
pub mod serve;
pub mod vectors;

pub use cache::EmbeddingCache;
pub use model::{
    DEFAULT_MODEL, Device, EmbedError, Embedding, Model, ModelInfo, Precision, TOP_CLASSES, fast_int8,
    find_model, find_runtime,
};
pub use preprocess::{min_short_side, model_input};
pub use serve::{load_sessions, serve};
