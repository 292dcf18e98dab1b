//! Text in the scripts egui cannot lay out itself. egui draws each character's glyph left to
//! right as it comes, so Arabic letters would stand apart (they join, each taking a form for the
//! start, middle or end of a word) and Arabic and Hebrew would read backwards. [`shown`] gives
//! the string to draw instead: letters in their joined presentation forms, in visual order.
//! Only what is drawn goes through it; search and the bundle keep the text as written.

use std::borrow::Cow;

use unicode_bidi::BidiInfo;

/// The face for letters egui's own lacks (Arabic, Hebrew, transliteration marks): a subset of
/// DejaVu Sans made by scripts/make-fallback-font.sh.
pub const FALLBACK_FONT: &[u8] = include_bytes!("../../assets/fonts/fallback.ttf");

/// `text` as it is to be drawn left to right: unchanged unless it holds right-to-left letters.
/// Each paragraph is ordered as one line: where egui wraps a long right-to-left one (a kiosk
/// card's description), its lines read from the bottom.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_right_to_left) {
        return Cow::Borrowed(text);
    }
    // Joining first: a letter's form depends on its neighbours in reading order.
    let joined = ar_reshaper::reshape_line(text);
    let bidi = BidiInfo::new(&joined, None);
    let mut visual = String::with_capacity(joined.len());
    for paragraph in &bidi.paragraphs {
        visual.push_str(&bidi.reorder_line(paragraph, paragraph.range.clone()));
    }
    Cow::Owned(visual)
}

/// Hebrew, Arabic and their presentation forms.
fn is_right_to_left(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy_egui::egui;

    #[test]
    fn left_to_right_text_is_untouched() {
        for text in ["m1dumont", "Ωρίων", "јастреб", "Image credit: Stephane Dumont"] {
            assert!(matches!(shown(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn arabic_is_joined_and_reversed() {
        // العقاب (the eagle, Aquila in Al-Sufi's sky): alef, lam, ain, qaf, alef, beh.
        let drawn = shown("العقاب");
        let forms: Vec<char> = drawn.chars().collect();
        // Drawn from the left: beh alone (alef never joins the letter after it), final alef,
        // medial qaf, medial ain, initial lam, alef alone.
        assert_eq!(forms, ['\u{FE8F}', '\u{FE8E}', '\u{FED8}', '\u{FECC}', '\u{FEDF}', '\u{FE8D}']);
        // Latin around it keeps its order; the Arabic word is reversed in place.
        let mixed = shown("Aql: العقاب, Al-Sufi");
        assert!(mixed.starts_with("Aql: ") && mixed.ends_with(", Al-Sufi"), "{mixed}");
        assert!(mixed.contains(&*drawn), "{mixed}");
        assert_eq!(shown("עיט").chars().collect::<String>(), "טיע");
    }

    /// Every letter the default collection's labels are drawn with has a glyph in the faces the
    /// viewer loads (egui draws a box or "?" for one that has none).
    #[test]
    fn the_faces_cover_what_is_drawn() {
        let context = egui::Context::default();
        context.set_fonts(super::super::ui::font_definitions());
        let samples = [
            "ساكب الماء, Arabic (Al-Sufi) sky culture (Khalid AlAjaji)",
            "المسلسلة المجمرة السفينة الدجاجة ذات الكرسي قنطورس الثور إلى الجاثي على ركبتيه",
            "ʿAqrab, Ṣūrat al-Ḥūt, ṁ ṇ ṛ ṣ ṭ, ʾ, r̥",
            "Ωρίων, Μεγάλη Άρκτος, гумно, јарем, Большая Медведица",
            "לוויתן עגלה",
        ];
        let font = egui::FontId::proportional(16.0);
        let _ = context.run_ui(Default::default(), |_| {});
        context.fonts_mut(|fonts| {
            for text in samples {
                let drawn = shown(text);
                let missing: String = drawn.chars().filter(|&c| !fonts.has_glyph(&font, c)).collect();
                assert!(missing.is_empty(), "no glyph for {missing:?} in {drawn:?}");
            }
        });
    }
}
