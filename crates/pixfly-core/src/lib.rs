//! pixfly's pipeline, without Bevy: everything from a folder of images to a bundle, and the
//! bundle reader every viewer uses.
//!
//! With the default `build` feature this crate ingests images and writes bundles; without it
//! (as in the wasm viewer) it only reads and validates them.

pub mod bundle;
pub mod layout;
pub mod mipmaps;
pub mod names;
#[cfg(feature = "build")]
pub mod reduce;
pub mod tour;

#[cfg(feature = "build")]
pub mod atlas;
#[cfg(feature = "build")]
pub mod build;
#[cfg(feature = "build")]
pub mod cache;
#[cfg(feature = "build")]
pub mod embed;
#[cfg(feature = "build")]
pub mod encode;
#[cfg(feature = "build")]
pub mod ingest;
#[cfg(feature = "build")]
pub mod metadata;
