//! Tours: the stops a kiosk's attract mode glides between, and the captions it shows at each
//! (the format is in docs/kiosk.md). A tour file is checked against the bundle it tours, and
//! every mistake is reported with the stop and the field it is in.

use crate::bundle::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A bundle's own tour, in its folder (the viewer's tour editor saves it there).
pub const TOUR_FILE: &str = "tour.json";
pub const TOUR_VERSION: u32 = 1;
/// How long the camera stays at a stop unless the tour says otherwise.
pub const DEFAULT_LINGER_SECONDS: f32 = 12.0;
/// The tour made from a bundle's hotspots visits this many, largest first.
const DEFAULT_STOPS: usize = 8;

/// A tour file as written.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TourFile {
    pub version: u32,
    /// Language codes of the captions, the first shown by default ("en", "fr"...); empty when
    /// captions are in one language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The layout the tour is seen in, by name; the bundle's first by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Seconds at each stop, unless a stop says otherwise.
    #[serde(default = "default_linger")]
    pub linger_seconds: f32,
    pub stops: Vec<StopFile>,
}

fn default_linger() -> f32 {
    DEFAULT_LINGER_SECONDS
}

/// An empty tour, to add stops to.
impl Default for TourFile {
    fn default() -> Self {
        TourFile {
            version: TOUR_VERSION,
            languages: Vec::new(),
            layout: None,
            linger_seconds: DEFAULT_LINGER_SECONDS,
            stops: Vec::new(),
        }
    }
}

/// One stop as written: exactly one of `hotspot`, `image` and `camera`, and its caption.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct StopFile {
    /// A hotspot, by name or by number (0 is the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotspot: Option<Reference>,
    /// An image, by file name or by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Reference>,
    /// A view, in the layout's own coordinates (those of its file in the bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<CameraPose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger_seconds: Option<f32>,
}

/// A hotspot or an image, by name or number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Reference {
    Number(u32),
    Name(String),
}

/// Where the camera looks from: it looks at `focus` from `distance` away, turned `yaw` radians
/// about the vertical and tilted `pitch` radians down (0, 0: straight onto a flat layout).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CameraPose {
    pub focus: [f32; 3],
    pub distance: f32,
    #[serde(default)]
    pub yaw: f32,
    #[serde(default)]
    pub pitch: f32,
}

/// Caption text: the same in every language, or one text per language code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Text {
    Same(String),
    Translated(BTreeMap<String, String>),
}

impl Text {
    /// The text in `language`, else in the tour's first language, else any.
    pub fn get(&self, language: &str, first: &str) -> &str {
        match self {
            Text::Same(text) => text,
            Text::Translated(texts) => texts
                .get(language)
                .or_else(|| texts.get(first))
                .or_else(|| texts.values().next())
                .map_or("", String::as_str),
        }
    }
}

/// A tour checked against its bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct Tour {
    /// At least one; `[""]` for captions in one language.
    pub languages: Vec<String>,
    /// Index of the layout it is seen in.
    pub layout: usize,
    pub stops: Vec<Stop>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub target: Target,
    pub caption: Caption,
    pub linger_seconds: f32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Index into the manifest's clusters.
    Hotspot(usize),
    Image(u32),
    Camera(CameraPose),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Caption {
    pub title: Option<Text>,
    pub text: Option<Text>,
    pub credit: Option<Text>,
}

/// A tour file that cannot be used, with where in it the mistake is.
#[derive(Debug, thiserror::Error)]
pub enum TourError {
    #[error("not a tour file: {0}")]
    Json(String),
    #[error("{0}")]
    Tour(String),
    #[error("stop {stop}: {message}")]
    Stop { stop: usize, message: String },
}

impl Tour {
    /// Read and check a tour file for the bundle `manifest` describes. Stops are numbered from 1
    /// in errors, as a person counts them.
    pub fn parse(bytes: &[u8], manifest: &Manifest) -> Result<Tour, TourError> {
        // Each stop is read on its own, so that a misspelt field is reported with its stop.
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TourError::Json(e.to_string()))?;
        let mut value = match value {
            serde_json::Value::Object(map) => map,
            _ => return Err(TourError::Json("expected an object with \"version\" and \"stops\"".into())),
        };
        let stops = match value.remove("stops") {
            Some(serde_json::Value::Array(stops)) => stops,
            Some(_) => return Err(TourError::Tour("field `stops`: expected a list of stops".into())),
            None => return Err(TourError::Tour("missing field `stops` (the list of stops)".into())),
        };
        value.insert("stops".into(), serde_json::Value::Array(Vec::new()));
        let mut file: TourFile = serde_json::from_value(serde_json::Value::Object(value))
            .map_err(|e| TourError::Tour(e.to_string()))?;
        for (i, stop) in stops.into_iter().enumerate() {
            let stop = serde_json::from_value(stop)
                .map_err(|e| TourError::Stop { stop: i + 1, message: e.to_string() })?;
            file.stops.push(stop);
        }
        Tour::check(&file, manifest)
    }

    /// Check a tour against the bundle and resolve its names.
    pub fn check(file: &TourFile, manifest: &Manifest) -> Result<Tour, TourError> {
        if file.version != TOUR_VERSION {
            return Err(TourError::Tour(format!(
                "field `version`: {} is not a tour version this pixfly reads (it reads {TOUR_VERSION})",
                file.version
            )));
        }
        if file.stops.is_empty() {
            return Err(TourError::Tour("field `stops`: a tour needs at least one stop".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for language in &file.languages {
            if language.trim().is_empty() || !seen.insert(language) {
                return Err(TourError::Tour(format!(
                    "field `languages`: {language:?} is empty or listed twice"
                )));
            }
        }
        let layout = match &file.layout {
            None => 0,
            Some(name) => manifest.layouts.iter().position(|l| &l.name == name).ok_or_else(|| {
                let known: Vec<_> = manifest.layouts.iter().map(|l| l.name.as_str()).collect();
                TourError::Tour(format!(
                    "field `layout`: the bundle has no layout {name:?} (it has: {})",
                    known.join(", ")
                ))
            })?,
        };
        check_linger(file.linger_seconds)
            .map_err(|m| TourError::Tour(format!("field `linger_seconds`: {m}")))?;
        let stops = file
            .stops
            .iter()
            .enumerate()
            .map(|(i, stop)| {
                check_stop(stop, file, manifest).map_err(|message| TourError::Stop { stop: i + 1, message })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let languages = if file.languages.is_empty() { vec![String::new()] } else { file.languages.clone() };
        Ok(Tour { languages, layout, stops })
    }

    /// The tour a bundle gets without a tour file (see [`TourFile::of_hotspots`]), each stop
    /// captioned with its hotspot's name and size or its image's label.
    pub fn from_hotspots(manifest: &Manifest) -> Tour {
        let empty = Tour { languages: vec![String::new()], layout: 0, stops: Vec::new() };
        // Only a bundle without images has no stops to make.
        Tour::check(&TourFile::of_hotspots(manifest), manifest).unwrap_or(empty)
    }
}

impl TourFile {
    /// The bundle's largest hotspots; or, without hotspots, a few images across the collection.
    pub fn of_hotspots(manifest: &Manifest) -> TourFile {
        let mut order: Vec<usize> = (0..manifest.clusters.len()).collect();
        order.sort_by_key(|&c| std::cmp::Reverse(manifest.clusters[c].members.len()));
        let hotspot =
            |c: usize| StopFile { hotspot: Some(Reference::Number(c as u32)), ..Default::default() };
        let mut stops: Vec<StopFile> = order.into_iter().take(DEFAULT_STOPS).map(hotspot).collect();
        if stops.is_empty() {
            let count = manifest.images.len();
            let image =
                |id: usize| StopFile { image: Some(Reference::Number(id as u32)), ..Default::default() };
            stops =
                (0..count).step_by((count / DEFAULT_STOPS).max(1)).take(DEFAULT_STOPS).map(image).collect();
        }
        TourFile { stops, ..TourFile::default() }
    }
}

fn check_linger(seconds: f32) -> Result<(), String> {
    if (2.0..=600.0).contains(&seconds) {
        Ok(())
    } else {
        Err(format!("{seconds} seconds: a stop lasts from 2 to 600 seconds"))
    }
}

fn check_stop(stop: &StopFile, file: &TourFile, manifest: &Manifest) -> Result<Stop, String> {
    let targets = [stop.hotspot.is_some(), stop.image.is_some(), stop.camera.is_some()];
    let target = match (&stop.hotspot, &stop.image, &stop.camera) {
        _ if targets.iter().filter(|&&t| t).count() != 1 => {
            return Err("give exactly one of `hotspot`, `image` and `camera` (where the stop looks)".into());
        }
        (Some(hotspot), _, _) => Target::Hotspot(find_hotspot(hotspot, manifest)?),
        (_, Some(image), _) => Target::Image(find_image(image, manifest)?),
        (_, _, Some(pose)) => {
            let numbers = pose.focus.iter().chain([&pose.distance, &pose.yaw, &pose.pitch]);
            if !numbers.into_iter().all(|v| v.is_finite()) || pose.distance <= 0.0 {
                return Err("field `camera`: numbers must be finite and `distance` above 0".into());
            }
            if pose.pitch.abs() > 1.5 {
                return Err("field `camera.pitch`: from -1.5 to 1.5 radians".into());
            }
            Target::Camera(*pose)
        }
        _ => unreachable!("one target is set"),
    };
    for (name, text) in [("title", &stop.title), ("text", &stop.text), ("credit", &stop.credit)] {
        if let Some(Text::Translated(texts)) = text {
            if file.languages.is_empty() {
                return Err(format!(
                    "field `{name}`: texts in several languages need the tour's `languages` list"
                ));
            }
            if let Some(language) = texts.keys().find(|l| !file.languages.contains(l)) {
                return Err(format!(
                    "field `{name}`: language {language:?} is not in the tour's `languages` ({})",
                    file.languages.join(", ")
                ));
            }
        }
    }
    let linger_seconds = stop.linger_seconds.unwrap_or(file.linger_seconds);
    check_linger(linger_seconds).map_err(|m| format!("field `linger_seconds`: {m}"))?;
    let caption = Caption { title: stop.title.clone(), text: stop.text.clone(), credit: stop.credit.clone() };
    Ok(Stop { target, caption, linger_seconds })
}

fn find_hotspot(reference: &Reference, manifest: &Manifest) -> Result<usize, String> {
    let clusters = &manifest.clusters;
    match reference {
        Reference::Number(n) if (*n as usize) < clusters.len() => Ok(*n as usize),
        Reference::Number(n) => {
            Err(format!("field `hotspot`: there is no hotspot {n} (the bundle has {})", clusters.len()))
        }
        Reference::Name(name) => clusters.iter().position(|c| &c.name == name).ok_or_else(|| {
            let known: Vec<_> = clusters.iter().take(12).map(|c| format!("{:?}", c.name)).collect();
            let more = if clusters.len() > 12 { ", …" } else { "" };
            format!(
                "field `hotspot`: the bundle has no hotspot {name:?} (it has: {}{more})",
                known.join(", ")
            )
        }),
    }
}

fn find_image(reference: &Reference, manifest: &Manifest) -> Result<u32, String> {
    let images = &manifest.images;
    match reference {
        Reference::Number(id) if (*id as usize) < images.len() => Ok(*id),
        Reference::Number(id) => {
            Err(format!("field `image`: there is no image {id} (the bundle has {})", images.len()))
        }
        Reference::Name(name) => images
            .iter()
            .position(|i| &i.filename == name)
            .map(|id| id as u32)
            .ok_or_else(|| format!("field `image`: the bundle has no image named {name:?}")),
    }
}

#[cfg(test)]
pub(crate) mod tests;
