//! `pixfly info BUNDLE`

use pixfly_core::bundle::Bundle;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct InfoArgs {
    /// The bundle folder.
    bundle: PathBuf,
    /// Also decode every atlas and thumbnail (slower: a minute or so per 100,000 images).
    #[arg(long)]
    deep: bool,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let bundle = Bundle::open(&args.bundle)?;
    let bars = crate::progress::Bars::default();
    let pictures =
        pixfly_core::bundle::pictures::check_pictures(&args.bundle, &bundle.manifest, args.deep, &bars);
    bars.finish();
    pictures?;
    let vectors = bundle.read_embeddings(&args.bundle)?;
    let m = &bundle.manifest;
    let size = |rel: &str| std::fs::metadata(args.bundle.join(rel)).map(|md| md.len()).unwrap_or(0);
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let thumbs: u64 = m.images.iter().map(|i| size(&i.thumb)).sum();
    let atlases: u64 = m.atlases.iter().map(|a| size(&a.path)).sum();
    let layouts: u64 = m.layouts.iter().map(|l| size(&l.path)).sum();
    let manifest = size(pixfly_core::bundle::MANIFEST_FILE);
    let neighbours = m.neighbours.as_ref().map_or(0, |n| size(&n.path));
    let with_metadata = m.images.iter().filter(|i| !i.metadata.is_empty()).count();

    println!("bundle     {} (format {} v{}, by {})", args.bundle.display(), m.format, m.version, m.generator);
    println!("images     {} ({} with metadata)", m.image_count, with_metadata);
    println!("cells      {} px; thumbnails {} px, {:.1} MiB", m.cell_size, m.thumb_size, mib(thumbs));
    println!("atlases    {}", m.atlases.len());
    for a in &m.atlases {
        println!("           {}  {}×{}  {:.1} MiB", a.path, a.width, a.height, mib(size(&a.path)));
    }
    println!("layouts    {}", m.layouts.len());
    for l in &m.layouts {
        println!("           {:<16} {}D  {}", l.name, l.dims, l.title);
    }
    // The fit is the build's record of the similarity layouts, kept in the bundle's cache.
    if let Some(fit) = pixfly_core::reduce::update::Fit::summary(&args.bundle)
        && fit.hashes.len() == m.images.len()
    {
        println!(
            "           similarity: {} images laid out in full, {} placed among them since (build --relayout redoes it)",
            fit.fitted, fit.transformed
        );
    }
    if let Some(n) = &m.neighbours {
        println!("similar    {} nearest images listed per image", n.k);
    }
    let clustered: usize = m.clusters.iter().map(|c| c.members.len()).sum();
    println!("hotspots   {} ({} images in them)", m.clusters.len(), clustered);
    for c in &m.clusters {
        let cover = &m.images[c.representative as usize].filename;
        println!("           {:>6}  {}  (cover {})", c.members.len(), c.name, cover);
    }
    match (&m.embedding, &vectors) {
        (Some(e), Some(v)) => {
            let tagged = m.images.iter().filter(|i| !i.auto_tags.is_empty()).count();
            println!(
                "vectors    {} × {} from {} ({:.1} MiB)",
                v.nrows(),
                v.ncols(),
                e.model,
                mib(size(&e.path))
            );
            println!("auto-tags  {} images, {} classes", tagged, e.classes.len());
        }
        _ => println!("vectors    none"),
    }
    println!("manifest   {:.1} MiB", mib(manifest));
    println!(
        "total      {:.1} MiB to serve (without cache/)",
        mib(thumbs + atlases + layouts + neighbours + manifest)
    );
    if args.deep {
        println!("valid      yes (every atlas and thumbnail decoded)");
    } else {
        println!("valid      yes (atlas sizes checked; --deep decodes every picture)");
    }
    Ok(())
}
