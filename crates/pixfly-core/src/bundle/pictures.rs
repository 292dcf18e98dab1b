//! The pictures a bundle names, checked beyond the manifest: each atlas is a JPEG of the size the
//! manifest records (read from its header, cheap), and with `deep` every atlas and thumbnail
//! decodes whole, each thumbnail the shape of its image.

use super::folder::BundleFolder;
use super::{BundleError, Manifest};
use crate::build::Progress;
use rayon::prelude::*;
use std::io::BufReader;
use std::path::Path;

fn reader(
    folder: &mut BundleFolder,
    rel: &str,
) -> Result<image::ImageReader<BufReader<std::fs::File>>, BundleError> {
    let (file, _) = folder.open(rel)?;
    let reader = image::ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| BundleError::Invalid(format!("{rel}: {e}")))?;
    if reader.format() != Some(image::ImageFormat::Jpeg) {
        return Err(BundleError::Invalid(format!("{rel} is not a JPEG")));
    }
    Ok(reader)
}

fn picture(folder: &mut BundleFolder, rel: &str, deep: bool) -> Result<(u32, u32), BundleError> {
    let damaged = |e: image::ImageError| BundleError::Invalid(format!("{rel} is damaged: {e}"));
    let reader = reader(folder, rel)?;
    if deep {
        let image = reader.decode().map_err(damaged)?;
        Ok((image.width(), image.height()))
    } else {
        reader.into_dimensions().map_err(damaged)
    }
}

pub fn check_pictures(
    dir: &Path,
    m: &Manifest,
    deep: bool,
    progress: &dyn Progress,
) -> Result<(), BundleError> {
    let total = m.atlases.len() + if deep { m.images.len() } else { 0 };
    progress.stage(if deep { "Decoding every picture" } else { "Reading atlas headers" }, total as u64);
    m.atlases.par_iter().try_for_each(|atlas| {
        let (width, height) = picture(&mut BundleFolder::new(dir)?, &atlas.path, deep)?;
        progress.advance();
        if (width, height) != (atlas.width, atlas.height) {
            return Err(BundleError::Invalid(format!(
                "{} is {width}×{height}, but the manifest records {}×{}",
                atlas.path, atlas.width, atlas.height
            )));
        }
        Ok(())
    })?;
    if !deep {
        return Ok(());
    }
    m.images.par_chunks(256).try_for_each(|images| {
        let mut folder = BundleFolder::new(dir)?;
        for image in images {
            let (tw, th) = picture(&mut folder, &image.thumb, true)?;
            progress.advance();
            // Along the longer side the thumbnail is exact; the shorter may be a pixel off.
            let (w, h) = (f64::from(image.width), f64::from(image.height));
            let off = if w >= h {
                (f64::from(th) - f64::from(tw) * h / w).abs()
            } else {
                (f64::from(tw) - f64::from(th) * w / h).abs()
            };
            if tw.max(th) > m.thumb_size || off > 1.5 {
                return Err(BundleError::Invalid(format!(
                    "{} ({}) is {tw}×{th}, not a thumbnail of a {}×{} image within {} px",
                    image.thumb, image.filename, image.width, image.height, m.thumb_size
                )));
            }
        }
        Ok(())
    })
}
