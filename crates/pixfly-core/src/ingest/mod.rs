//! Reading a folder of images: finding files, decoding them safely, making thumbnails.

pub mod decode;
pub mod discover;
mod reduced;
pub mod thumbnail;

pub use decode::{DEFAULT_MAX_PIXELS, DecodeError, Decoded, Picture, decode};
pub use discover::{Discovered, SourceFile, WalkProblem, discover};
pub use thumbnail::{Thumbnails, fit, make_thumbnails};
