pub mod build;
pub mod info;
