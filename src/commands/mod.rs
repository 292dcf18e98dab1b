pub mod build;
pub mod export_web;
pub mod info;
pub mod kiosk;
pub mod open;
pub mod serve;
pub mod view;
