pub mod build;
pub mod info;
pub mod view;
