//! Number words for the languages with number rules besides English: Spanish, German, French, Italian,
//! Portuguese, Dutch and Slovenian.
//!
//! Each language's cardinals are built group by group (units, thousands, millions, billions) with its own joins:
//! German and Dutch compounds ("einundzwanzig", "eenentwintig"), the French vigesimal tens ("soixante-dix",
//! "quatre-vingt-dix", "vingt et un") and plural `s` of "cents"/"quatre-vingts", the Spanish fused twenties and
//! irregular hundreds ("veintiuno", "quinientos"), Italian elisions and the accent of a final "tré" ("ventuno",
//! "ventotto", "ventitré"), the Portuguese "e" between groups ("dois mil e vinte e seis"), the Slovenian units
//! before tens ("enaindvajset"). [`Form`] gives the shape a number takes before a noun where the language makes
//! it agree (Spanish "veintiún euros", "doscientas libras"; German "ein Euro"; Slovenian "trije evri").
//!
//! Everything here covers 0 to 999 999 999 999; [`MAX`] is that bound and callers read longer numbers digit by
//! digit.

/// The languages with number rules (English has its own, richer module: [`super::english`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    De,
    Fr,
    It,
    /// `brazil`: Brazilian spelling ("dezesseis", "bilhão") rather than European ("dezasseis", "mil milhões").
    /// Whisper only says "pt"; Brazil has most speakers, so plain "pt" is Brazilian and "pt-PT" European.
    Pt {
        brazil: bool,
    },
    Nl,
    Sl,
}

/// How a number agrees with what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Counting, or with nothing to agree with: "uno", "eins", "ena".
    Count,
    /// Before a masculine (or German neuter) noun: "un euro", "ein Euro", "en evro", "trije evri".
    Masc,
    /// Before a feminine noun: "una libra", "doscientas libras", "eine Million", "dve milijardi".
    Fem,
}

/// The largest number read as a cardinal; longer numbers are read digit by digit.
pub const MAX: u64 = 999_999_999_999;

/// The cardinal `n` (at most [`MAX`]) in `lang`, agreeing as `form` says.
pub fn cardinal(lang: Lang, n: u64, form: Form) -> String {
    debug_assert!(n <= MAX);
    match lang {
        Lang::Es => es_cardinal(n, form),
        Lang::De => de_cardinal(n, form),
        Lang::Fr => fr_cardinal(n, form),
        Lang::It => it_cardinal(n, form),
        Lang::Pt { brazil } => pt_cardinal(n, form, brazil),
        Lang::Nl => nl_cardinal(n),
        Lang::Sl => sl_cardinal(n, form),
    }
}

/// `digits` read one digit at a time ("007" → "cero cero siete").
pub fn digit_by_digit(lang: Lang, digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| match (lang, d) {
            // A lone "één" is the numeral; "een" would be read as the article.
            (Lang::Nl, 1) => "één".to_string(),
            _ => cardinal(lang, u64::from(d), Form::Count),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A four-digit number from 1100 to 1999 read in hundreds, as German and Dutch read years and often counts
/// ("neunzehnhundertneunundneunzig", "negentienhonderdnegenennegentig"); `None` for other languages and numbers.
pub fn hundreds_reading(lang: Lang, n: u64) -> Option<String> {
    if !(1100..=1999).contains(&n) {
        return None;
    }
    let (hi, lo) = (n / 100, n % 100);
    match lang {
        Lang::De => Some(format!(
            "{}hundert{}",
            DE_ONES[hi as usize],
            if lo > 0 { de_under_100(lo, true) } else { String::new() }
        )),
        Lang::Nl => {
            Some(format!("{}honderd{}", NL_ONES[hi as usize], if lo > 0 { nl_under_100(lo) } else { String::new() }))
        }
        _ => None,
    }
}

/// The ordinal of `n` (masculine, or feminine with `fem`), where the language's rules here cover it: Spanish and
/// Portuguese 1-100, Italian, French and Dutch 1-999; `None` otherwise (and always for German and Slovenian, whose
/// written ordinals, "3.", cannot be told from a number ending a sentence).
pub fn ordinal(lang: Lang, n: u64, fem: bool) -> Option<String> {
    let masc = match lang {
        Lang::Es if (1..=100).contains(&n) => es_ordinal(n),
        Lang::Pt { .. } if (1..=100).contains(&n) => pt_ordinal(n),
        Lang::It if (1..1000).contains(&n) => it_ordinal(n),
        Lang::Fr if (1..1000).contains(&n) => return Some(fr_ordinal(n, fem)),
        Lang::Nl if (1..1000).contains(&n) => return Some(nl_ordinal(n)),
        _ => return None,
    };
    Some(if fem { feminine_ordinal(&masc) } else { masc })
}

/// Spanish, Portuguese and Italian feminine ordinals: every word's final "o" becomes "a" ("vigésima primera").
fn feminine_ordinal(masc: &str) -> String {
    masc.split(' ')
        .map(|w| w.strip_suffix('o').map_or_else(|| w.to_string(), |s| format!("{s}a")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits `n` into (billions, millions, thousands, units), each 0-999.
fn groups(n: u64) -> [u64; 4] {
    [n / 1_000_000_000, n / 1_000_000 % 1000, n / 1000 % 1000, n % 1000]
}

// ---------------------------------------------------------------------------------------------------------------
// Spanish

const ES_ONES: [&str; 30] = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
];
const ES_TENS: [&str; 10] =
    ["", "", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"];
const ES_HUNDREDS: [&str; 10] = [
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
];

fn es_under_100(n: u64, form: Form) -> String {
    let one = |w: &str| -> String {
        // "uno" → "un"/"una", "veintiuno" → "veintiún"/"veintiuna" before a noun.
        let stem = &w[..w.len() - 3];
        match form {
            Form::Count => w.to_string(),
            Form::Masc if stem.is_empty() => "un".to_string(),
            Form::Masc => format!("{stem}ún"),
            Form::Fem => format!("{stem}una"),
        }
    };
    if n < 30 {
        let w = ES_ONES[n as usize];
        if n == 1 || n == 21 { one(w) } else { w.to_string() }
    } else if n.is_multiple_of(10) {
        ES_TENS[(n / 10) as usize].to_string()
    } else {
        format!("{} y {}", ES_TENS[(n / 10) as usize], es_under_100(n % 10, form))
    }
}

fn es_under_1000(n: u64, form: Form) -> String {
    let (h, r) = (n / 100, n % 100);
    let mut words = Vec::new();
    if h == 1 && r == 0 {
        words.push("cien".to_string());
    } else if h > 0 {
        let w = ES_HUNDREDS[h as usize];
        words.push(if form == Form::Fem && h > 1 { format!("{}as", &w[..w.len() - 2]) } else { w.to_string() });
    }
    if r > 0 || h == 0 {
        words.push(es_under_100(r, form));
    }
    words.join(" ")
}

/// 0-999 999; the thousands agree as a feminine noun needs ("doscientas mil libras"), and otherwise take the
/// shortened "un" ("veintiún mil").
fn es_under_million(n: u64, form: Form) -> String {
    let (th, r) = (n / 1000, n % 1000);
    let mut words = Vec::new();
    if th == 1 {
        words.push("mil".to_string());
    } else if th > 1 {
        words.push(format!("{} mil", es_under_1000(th, if form == Form::Fem { Form::Fem } else { Form::Masc })));
    }
    if r > 0 || th == 0 {
        words.push(es_under_1000(r, form));
    }
    words.join(" ")
}

fn es_cardinal(n: u64, form: Form) -> String {
    let (millions, rest) = (n / 1_000_000, n % 1_000_000);
    let mut words = Vec::new();
    if millions == 1 {
        words.push("un millón".to_string());
    } else if millions > 1 {
        // "mil millones", "dos mil millones": Spanish counts thousands of millions.
        words.push(format!("{} millones", es_under_million(millions, Form::Masc)));
    }
    if rest > 0 || millions == 0 {
        words.push(es_under_million(rest, form));
    }
    words.join(" ")
}

const ES_ORDINAL_ONES: [&str; 10] =
    ["", "primero", "segundo", "tercero", "cuarto", "quinto", "sexto", "séptimo", "octavo", "noveno"];
const ES_ORDINAL_TENS: [&str; 11] = [
    "",
    "décimo",
    "vigésimo",
    "trigésimo",
    "cuadragésimo",
    "quincuagésimo",
    "sexagésimo",
    "septuagésimo",
    "octogésimo",
    "nonagésimo",
    "centésimo",
];

fn es_ordinal(n: u64) -> String {
    let (t, u) = ((n / 10) as usize, (n % 10) as usize);
    match (t, u) {
        (0, _) => ES_ORDINAL_ONES[u].to_string(),
        (_, 0) => ES_ORDINAL_TENS[t].to_string(),
        (1, 1) => "undécimo".to_string(),
        (1, 2) => "duodécimo".to_string(),
        // One word from 13 to 19 ("decimotercero", "decimoctavo").
        (1, 8) => "decimoctavo".to_string(),
        (1, _) => format!("decimo{}", ES_ORDINAL_ONES[u]),
        _ => format!("{} {}", ES_ORDINAL_TENS[t], ES_ORDINAL_ONES[u]),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// German

const DE_ONES: [&str; 20] = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
];
const DE_TENS: [&str; 10] =
    ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"];

/// 1-99; a final 1 is "eins" only at the very end of the number (`last`), "ein" inside a compound.
fn de_under_100(n: u64, last: bool) -> String {
    let unit = |u: u64| if u == 1 { "ein" } else { DE_ONES[u as usize] };
    if n == 1 {
        if last { "eins" } else { "ein" }.to_string()
    } else if n < 20 {
        DE_ONES[n as usize].to_string()
    } else if n.is_multiple_of(10) {
        DE_TENS[(n / 10) as usize].to_string()
    } else {
        format!("{}und{}", unit(n % 10), DE_TENS[(n / 10) as usize])
    }
}

/// 1-999 as one word ("einhunderteins").
fn de_under_1000(n: u64, last: bool) -> String {
    let (h, r) = (n / 100, n % 100);
    let mut s = String::new();
    if h > 0 {
        s.push_str(if h == 1 { "ein" } else { DE_ONES[h as usize] });
        s.push_str("hundert");
    }
    if r > 0 {
        s.push_str(&de_under_100(r, last));
    }
    s
}

fn de_cardinal(n: u64, form: Form) -> String {
    match (n, form) {
        (0, _) => return "null".to_string(),
        (1, Form::Count) => return "eins".to_string(),
        (1, Form::Masc) => return "ein".to_string(),
        (1, Form::Fem) => return "eine".to_string(),
        _ => {}
    }
    let [b, m, th, u] = groups(n);
    let mut words = Vec::new();
    // Millions and billions are feminine nouns, written apart: "eine Million", "zwei Milliarden".
    for (g, one, many) in [(b, "eine Milliarde", "Milliarden"), (m, "eine Million", "Millionen")] {
        if g == 1 {
            words.push(one.to_string());
        } else if g > 1 {
            words.push(format!("{} {many}", de_under_1000(g, false)));
        }
    }
    // Below a million, one word: "zweitausendsechsundzwanzig".
    let mut low = String::new();
    if th > 0 {
        low.push_str(&de_under_1000(th, false));
        low.push_str("tausend");
    }
    if u > 0 {
        low.push_str(&de_under_1000(u, true));
    }
    if !low.is_empty() {
        words.push(low);
    }
    words.join(" ")
}

// ---------------------------------------------------------------------------------------------------------------
// French

const FR_ONES: [&str; 17] = [
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze", "treize",
    "quatorze", "quinze", "seize",
];
const FR_TENS: [&str; 7] = ["", "dix", "vingt", "trente", "quarante", "cinquante", "soixante"];

/// 0-99. `fem`: "une" for a final one; `last`: "quatre-vingts" takes its `s` only when nothing follows.
fn fr_under_100(n: u64, fem: bool, last: bool) -> String {
    let un = if fem { "une" } else { "un" };
    if n == 1 {
        return un.to_string();
    }
    if n < 17 {
        return FR_ONES[n as usize].to_string();
    }
    let (t, u) = ((n / 10) as usize, n % 10);
    match t {
        1 => format!("dix-{}", FR_ONES[u as usize]),
        2..=6 => match u {
            0 => FR_TENS[t].to_string(),
            1 => format!("{} et {un}", FR_TENS[t]),
            _ => format!("{}-{}", FR_TENS[t], FR_ONES[u as usize]),
        },
        // 70-79: sixty and ten to nineteen ("soixante-dix", "soixante et onze", "soixante-dix-sept").
        7 if u == 1 => "soixante et onze".to_string(),
        7 => format!("soixante-{}", fr_under_100(10 + u, fem, last)),
        // 80-99: four twenties ("quatre-vingts", "quatre-vingt-un", "quatre-vingt-dix-neuf").
        8 if u == 0 => if last { "quatre-vingts" } else { "quatre-vingt" }.to_string(),
        _ => format!("quatre-vingt-{}", fr_under_100(n - 80, fem, last)),
    }
}

/// 0-999; "deux cents" takes its `s` only when nothing follows (`last`).
fn fr_under_1000(n: u64, fem: bool, last: bool) -> String {
    let (h, r) = (n / 100, n % 100);
    let mut words = Vec::new();
    if h == 1 {
        words.push("cent".to_string());
    } else if h > 1 {
        words.push(format!("{} {}", FR_ONES[h as usize], if r == 0 && last { "cents" } else { "cent" }));
    }
    if r > 0 || h == 0 {
        words.push(fr_under_100(r, fem, last));
    }
    words.join(" ")
}

fn fr_cardinal(n: u64, form: Form) -> String {
    let fem = form == Form::Fem;
    let [b, m, th, u] = groups(n);
    let mut words = Vec::new();
    // "milliard" and "million" are nouns: "deux cents millions" keeps its s, "quatre-vingt mille" does not.
    for (g, one, many) in [(b, "un milliard", "milliards"), (m, "un million", "millions")] {
        if g == 1 {
            words.push(one.to_string());
        } else if g > 1 {
            words.push(format!("{} {many}", fr_under_1000(g, false, true)));
        }
    }
    if th == 1 {
        words.push("mille".to_string());
    } else if th > 1 {
        words.push(format!("{} mille", fr_under_1000(th, false, false)));
    }
    if u > 0 || n == 0 {
        words.push(fr_under_1000(u, fem, true));
    }
    words.join(" ")
}

/// French ordinals from the cardinal: "premier"/"première", else the last word takes "-ième" ("cinquième",
/// "neuvième", "vingt et unième", "quatre-vingtième", "deux centième").
fn fr_ordinal(n: u64, fem: bool) -> String {
    if n == 1 {
        return if fem { "première" } else { "premier" }.to_string();
    }
    let card = fr_cardinal(n, Form::Count);
    let cut = card.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = card.split_at(cut);
    let last = last.strip_suffix('s').filter(|_| last.ends_with("cents") || last.ends_with("vingts")).unwrap_or(last);
    let stem = match last {
        "cinq" => "cinqu".to_string(),
        "neuf" => "neuv".to_string(),
        w => w.strip_suffix('e').unwrap_or(w).to_string(),
    };
    format!("{head}{stem}ième")
}

// ---------------------------------------------------------------------------------------------------------------
// Italian

const IT_ONES: [&str; 20] = [
    "zero",
    "uno",
    "due",
    "tre",
    "quattro",
    "cinque",
    "sei",
    "sette",
    "otto",
    "nove",
    "dieci",
    "undici",
    "dodici",
    "tredici",
    "quattordici",
    "quindici",
    "sedici",
    "diciassette",
    "diciotto",
    "diciannove",
];
const IT_TENS: [&str; 10] =
    ["", "", "venti", "trenta", "quaranta", "cinquanta", "sessanta", "settanta", "ottanta", "novanta"];

/// 0-99; the tens lose their vowel before "uno" and "otto" ("ventuno", "ventotto").
fn it_under_100(n: u64) -> String {
    if n < 20 {
        return IT_ONES[n as usize].to_string();
    }
    let tens = IT_TENS[(n / 10) as usize];
    match n % 10 {
        0 => tens.to_string(),
        u @ (1 | 8) => format!("{}{}", &tens[..tens.len() - 1], IT_ONES[u as usize]),
        u => format!("{tens}{}", IT_ONES[u as usize]),
    }
}

/// 0-999 as one word; "cento" loses its "o" before "otto" and "ottanta" ("centotto", "centottanta").
fn it_under_1000(n: u64) -> String {
    let (h, r) = (n / 100, n % 100);
    if h == 0 {
        return it_under_100(r);
    }
    let hundreds = if h == 1 { "cento".to_string() } else { format!("{}cento", IT_ONES[h as usize]) };
    if r == 0 {
        return hundreds;
    }
    let rest = it_under_100(r);
    if rest.starts_with('o') {
        format!("{}{rest}", &hundreds[..hundreds.len() - 1])
    } else {
        format!("{hundreds}{rest}")
    }
}

/// A compound ending in "tre" is written "tré" ("ventitré", "centotré"); "tre" alone is not.
fn it_accent(word: String) -> String {
    match word.strip_suffix("tre") {
        Some(stem) if !stem.is_empty() => format!("{stem}tré"),
        _ => word,
    }
}

/// 0-999 999 as one word ("duemilaventisei"); a multiplier ending in "uno" drops its "o" before "mila"
/// ("ventunmila").
fn it_under_million(n: u64) -> String {
    let (th, r) = (n / 1000, n % 1000);
    let mut s = match th {
        0 => String::new(),
        1 => "mille".to_string(),
        _ => {
            let m = it_under_1000(th);
            format!("{}mila", m.strip_suffix("uno").map_or_else(|| m.clone(), |stem| format!("{stem}un")))
        }
    };
    if r > 0 || th == 0 {
        s.push_str(&it_under_1000(r));
    }
    it_accent(s)
}

fn it_cardinal(n: u64, form: Form) -> String {
    match (n, form) {
        (1, Form::Masc) => return "un".to_string(),
        (1, Form::Fem) => return "una".to_string(),
        _ => {}
    }
    let (b, m, rest) = (n / 1_000_000_000, n / 1_000_000 % 1000, n % 1_000_000);
    let mut words = Vec::new();
    for (g, one, many) in [(b, "un miliardo", "miliardi"), (m, "un milione", "milioni")] {
        if g == 1 {
            words.push(one.to_string());
        } else if g > 1 {
            words.push(format!("{} {many}", it_under_million(g)));
        }
    }
    if rest > 0 || n == 0 {
        words.push(it_under_million(rest));
    }
    words.join(" ")
}

const IT_ORDINALS: [&str; 11] =
    ["", "primo", "secondo", "terzo", "quarto", "quinto", "sesto", "settimo", "ottavo", "nono", "decimo"];

/// Italian ordinals: 1-10 have their own words; from 11 the cardinal drops its last vowel and takes "-esimo"
/// ("undicesimo", "ventunesimo"), except a final "tré" or "sei", which keeps it ("ventitreesimo", "ventiseiesimo").
fn it_ordinal(n: u64) -> String {
    if n <= 10 {
        return IT_ORDINALS[n as usize].to_string();
    }
    let card = it_cardinal(n, Form::Count);
    if let Some(stem) = card.strip_suffix("tré") {
        return format!("{stem}treesimo");
    }
    if card.ends_with("sei") {
        return format!("{card}esimo");
    }
    let mut stem = card;
    stem.pop();
    format!("{stem}esimo")
}

// ---------------------------------------------------------------------------------------------------------------
// Portuguese

const PT_ONES: [&str; 20] = [
    "zero",
    "um",
    "dois",
    "três",
    "quatro",
    "cinco",
    "seis",
    "sete",
    "oito",
    "nove",
    "dez",
    "onze",
    "doze",
    "treze",
    "catorze",
    "quinze",
    "dezesseis",
    "dezessete",
    "dezoito",
    "dezenove",
];
const PT_TENS: [&str; 10] =
    ["", "", "vinte", "trinta", "quarenta", "cinquenta", "sessenta", "setenta", "oitenta", "noventa"];
const PT_HUNDREDS: [&str; 10] = [
    "",
    "cento",
    "duzentos",
    "trezentos",
    "quatrocentos",
    "quinhentos",
    "seiscentos",
    "setecentos",
    "oitocentos",
    "novecentos",
];

fn pt_under_20(n: u64, fem: bool, brazil: bool) -> &'static str {
    match (n, fem, brazil) {
        (1, true, _) => "uma",
        (2, true, _) => "duas",
        (16, _, false) => "dezasseis",
        (17, _, false) => "dezassete",
        (19, _, false) => "dezanove",
        _ => PT_ONES[n as usize],
    }
}

/// 0-999 with "e" between hundreds, tens and units ("cento e vinte e três"); `fem` for "uma", "duas",
/// "duzentas".
fn pt_under_1000(n: u64, fem: bool, brazil: bool) -> String {
    let (h, t, u) = (n / 100, n / 10 % 10, n % 10);
    let mut words = Vec::new();
    if h == 1 && n.is_multiple_of(100) {
        words.push("cem".to_string());
    } else if h > 0 {
        let w = PT_HUNDREDS[h as usize];
        words.push(if fem && h > 1 { format!("{}as", &w[..w.len() - 2]) } else { w.to_string() });
    }
    let r = n % 100;
    if r >= 20 {
        words.push(PT_TENS[t as usize].to_string());
        if u > 0 {
            words.push(pt_under_20(u, fem, brazil).to_string());
        }
    } else if r > 0 || h == 0 {
        words.push(pt_under_20(r, fem, brazil).to_string());
    }
    words.join(" e ")
}

fn pt_cardinal(n: u64, form: Form, brazil: bool) -> String {
    let fem = form == Form::Fem;
    // Each part with its group's value, for where "e" goes between groups.
    let mut parts: Vec<(u64, String)> = Vec::new();
    let (b, m, th, u) = if brazil {
        let [b, m, th, u] = groups(n);
        (b, m, th, u)
    } else {
        // European Portuguese counts thousands of millions ("mil milhões").
        (0, n / 1_000_000, n / 1000 % 1000, n % 1000)
    };
    if b == 1 {
        parts.push((b, "um bilhão".to_string()));
    } else if b > 1 {
        parts.push((b, format!("{} bilhões", pt_under_1000(b, false, brazil))));
    }
    if m == 1 {
        parts.push((m, "um milhão".to_string()));
    } else if m > 1 {
        parts.push((m, format!("{} milhões", pt_cardinal(m, Form::Count, brazil))));
    }
    if th == 1 {
        parts.push((th, "mil".to_string()));
    } else if th > 1 {
        parts.push((th, format!("{} mil", pt_under_1000(th, fem, brazil))));
    }
    if u > 0 || n == 0 {
        parts.push((u, pt_under_1000(u, fem, brazil)));
    }
    // "e" before the last group when it is under a hundred or a round hundred: "dois mil e vinte e seis",
    // "mil e cem", "um milhão e quinhentos mil"; but "mil cento e vinte".
    let mut s = String::new();
    for (i, (g, words)) in parts.iter().enumerate() {
        if i > 0 {
            let last = i == parts.len() - 1;
            s.push_str(if last && (*g < 100 || g.is_multiple_of(100)) { " e " } else { " " });
        }
        s.push_str(words);
    }
    s
}

const PT_ORDINAL_ONES: [&str; 10] =
    ["", "primeiro", "segundo", "terceiro", "quarto", "quinto", "sexto", "sétimo", "oitavo", "nono"];
const PT_ORDINAL_TENS: [&str; 11] = [
    "",
    "décimo",
    "vigésimo",
    "trigésimo",
    "quadragésimo",
    "quinquagésimo",
    "sexagésimo",
    "septuagésimo",
    "octogésimo",
    "nonagésimo",
    "centésimo",
];

fn pt_ordinal(n: u64) -> String {
    let (t, u) = ((n / 10) as usize, (n % 10) as usize);
    match (t, u) {
        (0, _) => PT_ORDINAL_ONES[u].to_string(),
        (_, 0) => PT_ORDINAL_TENS[t].to_string(),
        _ => format!("{} {}", PT_ORDINAL_TENS[t], PT_ORDINAL_ONES[u]),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Dutch

const NL_ONES: [&str; 20] = [
    "nul",
    "een",
    "twee",
    "drie",
    "vier",
    "vijf",
    "zes",
    "zeven",
    "acht",
    "negen",
    "tien",
    "elf",
    "twaalf",
    "dertien",
    "veertien",
    "vijftien",
    "zestien",
    "zeventien",
    "achttien",
    "negentien",
];
const NL_TENS: [&str; 10] =
    ["", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig"];

/// 0-99; units before tens with "en", "ën" after a vowel ("eenentwintig", "tweeëntwintig").
fn nl_under_100(n: u64) -> String {
    if n < 20 {
        return NL_ONES[n as usize].to_string();
    }
    let (t, u) = ((n / 10) as usize, (n % 10) as usize);
    match u {
        0 => NL_TENS[t].to_string(),
        2 | 3 => format!("{}ën{}", NL_ONES[u], NL_TENS[t]),
        _ => format!("{}en{}", NL_ONES[u], NL_TENS[t]),
    }
}

/// 0-999 as one word ("honderdeen", "tweehonderd").
fn nl_under_1000(n: u64) -> String {
    let (h, r) = (n / 100, n % 100);
    let mut s = String::new();
    if h > 0 {
        if h > 1 {
            s.push_str(NL_ONES[h as usize]);
        }
        s.push_str("honderd");
    }
    if r > 0 || h == 0 {
        s.push_str(&nl_under_100(r));
    }
    s
}

/// A group on its own: the numeral one is "één" (plain "een" reads as the article).
fn nl_alone(n: u64) -> String {
    if n == 1 { "één".to_string() } else { nl_under_1000(n) }
}

fn nl_cardinal(n: u64) -> String {
    let [b, m, th, u] = groups(n);
    let mut words = Vec::new();
    for (g, name) in [(b, "miljard"), (m, "miljoen")] {
        if g > 0 {
            words.push(format!("{} {name}", nl_alone(g)));
        }
    }
    // Written together up to the thousands, a space after "duizend": "tweeduizend zesentwintig".
    if th > 0 {
        words.push(if th == 1 { "duizend".to_string() } else { format!("{}duizend", nl_under_1000(th)) });
    }
    if u > 0 || n == 0 {
        words.push(nl_alone(u));
    }
    words.join(" ")
}

/// Dutch ordinals: "eerste", "derde", "achtste"; "-ste" after tens, hundreds and thousands ("twintigste",
/// "honderdste"), "-de" otherwise ("tweede", "negentiende").
fn nl_ordinal(n: u64) -> String {
    let card = nl_under_1000(n);
    let r = n % 100;
    match r {
        1 => format!("{}eerste", &card[..card.len() - 3]),
        3 => format!("{}derde", &card[..card.len() - 4]),
        8 => format!("{card}ste"),
        0 | 20.. => format!("{card}ste"),
        _ => format!("{card}de"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Slovenian

const SL_ONES: [&str; 20] = [
    "nič",
    "ena",
    "dva",
    "tri",
    "štiri",
    "pet",
    "šest",
    "sedem",
    "osem",
    "devet",
    "deset",
    "enajst",
    "dvanajst",
    "trinajst",
    "štirinajst",
    "petnajst",
    "šestnajst",
    "sedemnajst",
    "osemnajst",
    "devetnajst",
];
const SL_TENS: [&str; 10] =
    ["", "", "dvajset", "trideset", "štirideset", "petdeset", "šestdeset", "sedemdeset", "osemdeset", "devetdeset"];

/// 0-99; units before tens with "in" ("enaindvajset"); 1-4 alone agree with the noun ("en evro", "dve
/// milijardi", "trije evri").
fn sl_under_100(n: u64, form: Form) -> String {
    match (n, form) {
        (1, Form::Masc) => return "en".to_string(),
        (2, Form::Fem) => return "dve".to_string(),
        (3, Form::Masc) => return "trije".to_string(),
        (4, Form::Masc) => return "štirje".to_string(),
        _ => {}
    }
    if n < 20 {
        return SL_ONES[n as usize].to_string();
    }
    let (t, u) = ((n / 10) as usize, (n % 10) as usize);
    if u == 0 { SL_TENS[t].to_string() } else { format!("{}in{}", SL_ONES[u], SL_TENS[t]) }
}

/// 0-999; hundreds are one word ("dvesto", "šeststo"), the rest apart ("sto ena").
fn sl_under_1000(n: u64, form: Form) -> String {
    let (h, r) = (n / 100, n % 100);
    let mut words = Vec::new();
    match h {
        0 => {}
        1 => words.push("sto".to_string()),
        2 => words.push("dvesto".to_string()),
        _ => words.push(format!("{}sto", SL_ONES[h as usize])),
    }
    if r > 0 || h == 0 {
        words.push(sl_under_100(r, form));
    }
    words.join(" ")
}

/// The form of a Slovenian noun after the number `n`: singular after 1, dual after 2, plural after 3 and 4,
/// genitive plural otherwise, by the last two digits ("sto en evro", "enaindvajset evrov"); `forms` lists them in
/// that order.
pub fn sl_noun<'a>(n: u64, forms: &[&'a str; 4]) -> &'a str {
    match n % 100 {
        1 => forms[0],
        2 => forms[1],
        3 | 4 => forms[2],
        _ => forms[3],
    }
}

fn sl_cardinal(n: u64, form: Form) -> String {
    let [b, m, th, u] = groups(n);
    let mut words = Vec::new();
    if b == 1 {
        words.push("milijarda".to_string());
    } else if b > 1 {
        words.push(format!(
            "{} {}",
            sl_under_1000(b, Form::Fem),
            sl_noun(b, &["milijarda", "milijardi", "milijarde", "milijard"])
        ));
    }
    if m == 1 {
        words.push("milijon".to_string());
    } else if m > 1 {
        words.push(format!(
            "{} {}",
            sl_under_1000(m, Form::Masc),
            sl_noun(m, &["milijon", "milijona", "milijoni", "milijonov"])
        ));
    }
    if th == 1 {
        words.push("tisoč".to_string());
    } else if th > 1 {
        words.push(format!("{} tisoč", sl_under_1000(th, Form::Count)));
    }
    if u > 0 || n == 0 {
        words.push(sl_under_1000(u, form));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BR: Lang = Lang::Pt { brazil: true };
    const PT: Lang = Lang::Pt { brazil: false };

    fn check(lang: Lang, cases: &[(u64, &str)]) {
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|&(n, want)| {
                let got = cardinal(lang, n, Form::Count);
                (got != want).then(|| format!("{lang:?} {n}: want {want:?}, got {got:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn spanish_cardinals() {
        check(
            Lang::Es,
            &[
                (0, "cero"),
                (1, "uno"),
                (15, "quince"),
                (16, "dieciséis"),
                (21, "veintiuno"),
                (22, "veintidós"),
                (30, "treinta"),
                (31, "treinta y uno"),
                (77, "setenta y siete"),
                (99, "noventa y nueve"),
                (100, "cien"),
                (101, "ciento uno"),
                (115, "ciento quince"),
                (200, "doscientos"),
                (500, "quinientos"),
                (555, "quinientos cincuenta y cinco"),
                (700, "setecientos"),
                (900, "novecientos"),
                (1000, "mil"),
                (1001, "mil uno"),
                (1999, "mil novecientos noventa y nueve"),
                (2026, "dos mil veintiséis"),
                (21_000, "veintiún mil"),
                (100_000, "cien mil"),
                (101_000, "ciento un mil"),
                (1_000_000, "un millón"),
                (2_000_000, "dos millones"),
                (21_000_000, "veintiún millones"),
                (1_500_000, "un millón quinientos mil"),
                (1_000_000_000, "mil millones"),
                (
                    999_999_999,
                    "novecientos noventa y nueve millones novecientos noventa y nueve mil novecientos noventa y nueve",
                ),
            ],
        );
        assert_eq!(cardinal(Lang::Es, 1, Form::Masc), "un");
        assert_eq!(cardinal(Lang::Es, 21, Form::Masc), "veintiún");
        assert_eq!(cardinal(Lang::Es, 31, Form::Fem), "treinta y una");
        assert_eq!(cardinal(Lang::Es, 200, Form::Fem), "doscientas");
        assert_eq!(cardinal(Lang::Es, 500_000, Form::Fem), "quinientas mil");
        assert_eq!(cardinal(Lang::Es, 2_000_000, Form::Fem), "dos millones");
    }

    #[test]
    fn german_cardinals() {
        check(
            Lang::De,
            &[
                (0, "null"),
                (1, "eins"),
                (11, "elf"),
                (16, "sechzehn"),
                (17, "siebzehn"),
                (21, "einundzwanzig"),
                (30, "dreißig"),
                (70, "siebzig"),
                (99, "neunundneunzig"),
                (100, "einhundert"),
                (101, "einhunderteins"),
                (121, "einhunderteinundzwanzig"),
                (1000, "eintausend"),
                (1001, "eintausendeins"),
                (2026, "zweitausendsechsundzwanzig"),
                (21_000, "einundzwanzigtausend"),
                (123_456, "einhundertdreiundzwanzigtausendvierhundertsechsundfünfzig"),
                (1_000_000, "eine Million"),
                (1_000_001, "eine Million eins"),
                (2_000_000, "zwei Millionen"),
                (3_000_000_000, "drei Milliarden"),
                (
                    999_999_999,
                    "neunhundertneunundneunzig Millionen neunhundertneunundneunzigtausendneunhundertneunundneunzig",
                ),
            ],
        );
        assert_eq!(cardinal(Lang::De, 1, Form::Masc), "ein");
        assert_eq!(cardinal(Lang::De, 1, Form::Fem), "eine");
        assert_eq!(hundreds_reading(Lang::De, 1999).unwrap(), "neunzehnhundertneunundneunzig");
        assert_eq!(hundreds_reading(Lang::De, 1901).unwrap(), "neunzehnhunderteins");
        assert_eq!(hundreds_reading(Lang::De, 2026), None);
    }

    #[test]
    fn french_cardinals() {
        check(
            Lang::Fr,
            &[
                (0, "zéro"),
                (1, "un"),
                (16, "seize"),
                (17, "dix-sept"),
                (21, "vingt et un"),
                (22, "vingt-deux"),
                (61, "soixante et un"),
                (70, "soixante-dix"),
                (71, "soixante et onze"),
                (72, "soixante-douze"),
                (77, "soixante-dix-sept"),
                (80, "quatre-vingts"),
                (81, "quatre-vingt-un"),
                (90, "quatre-vingt-dix"),
                (91, "quatre-vingt-onze"),
                (99, "quatre-vingt-dix-neuf"),
                (100, "cent"),
                (101, "cent un"),
                (200, "deux cents"),
                (201, "deux cent un"),
                (280, "deux cent quatre-vingts"),
                (1000, "mille"),
                (1001, "mille un"),
                (2026, "deux mille vingt-six"),
                (1999, "mille neuf cent quatre-vingt-dix-neuf"),
                (80_000, "quatre-vingt mille"),
                (200_000, "deux cent mille"),
                (1_000_000, "un million"),
                (2_000_000, "deux millions"),
                (200_000_000, "deux cents millions"),
                (1_000_000_000, "un milliard"),
            ],
        );
        assert_eq!(cardinal(Lang::Fr, 21, Form::Fem), "vingt et une");
        assert_eq!(cardinal(Lang::Fr, 81, Form::Fem), "quatre-vingt-une");
    }

    #[test]
    fn italian_cardinals() {
        check(
            Lang::It,
            &[
                (0, "zero"),
                (1, "uno"),
                (3, "tre"),
                (11, "undici"),
                (17, "diciassette"),
                (21, "ventuno"),
                (23, "ventitré"),
                (28, "ventotto"),
                (33, "trentatré"),
                (70, "settanta"),
                (99, "novantanove"),
                (100, "cento"),
                (101, "centouno"),
                (103, "centotré"),
                (108, "centotto"),
                (180, "centottanta"),
                (200, "duecento"),
                (1000, "mille"),
                (1001, "milleuno"),
                (2000, "duemila"),
                (2026, "duemilaventisei"),
                (21_000, "ventunmila"),
                (23_000, "ventitremila"),
                (1_000_000, "un milione"),
                (2_000_000, "due milioni"),
                (999_999_999, "novecentonovantanove milioni novecentonovantanovemilanovecentonovantanove"),
            ],
        );
        assert_eq!(cardinal(Lang::It, 1, Form::Fem), "una");
    }

    #[test]
    fn portuguese_cardinals() {
        check(
            BR,
            &[
                (0, "zero"),
                (1, "um"),
                (14, "catorze"),
                (16, "dezesseis"),
                (19, "dezenove"),
                (21, "vinte e um"),
                (70, "setenta"),
                (99, "noventa e nove"),
                (100, "cem"),
                (101, "cento e um"),
                (123, "cento e vinte e três"),
                (500, "quinhentos"),
                (1000, "mil"),
                (1001, "mil e um"),
                (1100, "mil e cem"),
                (1120, "mil cento e vinte"),
                (1999, "mil novecentos e noventa e nove"),
                (2026, "dois mil e vinte e seis"),
                (2500, "dois mil e quinhentos"),
                (1_000_000, "um milhão"),
                (2_000_000, "dois milhões"),
                (1_500_000, "um milhão e quinhentos mil"),
                (1_200_300, "um milhão duzentos mil e trezentos"),
                (2_000_000_000, "dois bilhões"),
            ],
        );
        check(PT, &[(16, "dezasseis"), (17, "dezassete"), (19, "dezanove"), (2_000_000_000, "dois mil milhões")]);
        assert_eq!(cardinal(BR, 2, Form::Fem), "duas");
        assert_eq!(cardinal(BR, 22, Form::Fem), "vinte e duas");
        assert_eq!(cardinal(BR, 200_000, Form::Fem), "duzentas mil");
    }

    #[test]
    fn dutch_cardinals() {
        check(
            Lang::Nl,
            &[
                (0, "nul"),
                (1, "één"),
                (13, "dertien"),
                (21, "eenentwintig"),
                (22, "tweeëntwintig"),
                (23, "drieëntwintig"),
                (28, "achtentwintig"),
                (70, "zeventig"),
                (99, "negenennegentig"),
                (100, "honderd"),
                (101, "honderdeen"),
                (250, "tweehonderdvijftig"),
                (1000, "duizend"),
                (2026, "tweeduizend zesentwintig"),
                (200_000, "tweehonderdduizend"),
                (1_000_000, "één miljoen"),
                (3_000_000, "drie miljoen"),
                (1_000_000_000, "één miljard"),
            ],
        );
        assert_eq!(hundreds_reading(Lang::Nl, 1999).unwrap(), "negentienhonderdnegenennegentig");
    }

    #[test]
    fn slovenian_cardinals() {
        check(
            Lang::Sl,
            &[
                (0, "nič"),
                (1, "ena"),
                (2, "dva"),
                (11, "enajst"),
                (21, "enaindvajset"),
                (22, "dvaindvajset"),
                (45, "petinštirideset"),
                (70, "sedemdeset"),
                (99, "devetindevetdeset"),
                (100, "sto"),
                (101, "sto ena"),
                (200, "dvesto"),
                (600, "šeststo"),
                (1000, "tisoč"),
                (2000, "dva tisoč"),
                (2026, "dva tisoč šestindvajset"),
                (1_000_000, "milijon"),
                (2_000_000, "dva milijona"),
                (3_000_000, "trije milijoni"),
                (5_000_000, "pet milijonov"),
                (2_000_000_000, "dve milijardi"),
            ],
        );
        assert_eq!(cardinal(Lang::Sl, 1, Form::Masc), "en");
        assert_eq!(cardinal(Lang::Sl, 3, Form::Masc), "trije");
        assert_eq!(cardinal(Lang::Sl, 2, Form::Fem), "dve");
        assert_eq!(sl_noun(21, &["evro", "evra", "evri", "evrov"]), "evrov");
        assert_eq!(sl_noun(102, &["evro", "evra", "evri", "evrov"]), "evra");
    }

    #[test]
    fn ordinals() {
        let cases: &[(Lang, u64, bool, &str)] = &[
            (Lang::Es, 1, false, "primero"),
            (Lang::Es, 1, true, "primera"),
            (Lang::Es, 3, false, "tercero"),
            (Lang::Es, 11, false, "undécimo"),
            (Lang::Es, 13, false, "decimotercero"),
            (Lang::Es, 18, true, "decimoctava"),
            (Lang::Es, 21, true, "vigésima primera"),
            (Lang::Es, 100, false, "centésimo"),
            (BR, 2, true, "segunda"),
            (BR, 11, false, "décimo primeiro"),
            (BR, 40, false, "quadragésimo"),
            (Lang::It, 1, false, "primo"),
            (Lang::It, 11, false, "undicesimo"),
            (Lang::It, 21, false, "ventunesimo"),
            (Lang::It, 23, false, "ventitreesimo"),
            (Lang::It, 26, true, "ventiseiesima"),
            (Lang::It, 100, false, "centesimo"),
            (Lang::Fr, 1, false, "premier"),
            (Lang::Fr, 1, true, "première"),
            (Lang::Fr, 2, false, "deuxième"),
            (Lang::Fr, 5, false, "cinquième"),
            (Lang::Fr, 9, false, "neuvième"),
            (Lang::Fr, 19, false, "dix-neuvième"),
            (Lang::Fr, 21, false, "vingt et unième"),
            (Lang::Fr, 80, false, "quatre-vingtième"),
            (Lang::Fr, 200, false, "deux centième"),
            (Lang::Nl, 1, false, "eerste"),
            (Lang::Nl, 2, false, "tweede"),
            (Lang::Nl, 3, false, "derde"),
            (Lang::Nl, 8, false, "achtste"),
            (Lang::Nl, 19, false, "negentiende"),
            (Lang::Nl, 20, false, "twintigste"),
            (Lang::Nl, 21, false, "eenentwintigste"),
            (Lang::Nl, 101, false, "honderdeerste"),
        ];
        for &(lang, n, fem, want) in cases {
            assert_eq!(ordinal(lang, n, fem).as_deref(), Some(want), "{lang:?} {n}");
        }
        assert_eq!(ordinal(Lang::De, 3, false), None);
        assert_eq!(ordinal(Lang::Sl, 3, false), None);
        assert_eq!(ordinal(Lang::Es, 101, false), None);
    }

    #[test]
    fn digits() {
        assert_eq!(digit_by_digit(Lang::Es, "007"), "cero cero siete");
        assert_eq!(digit_by_digit(Lang::Nl, "10"), "één nul");
        assert_eq!(digit_by_digit(Lang::De, "41"), "vier eins");
    }

    /// Every language reads every number up to the bound without panicking, and never leaves a digit or a double
    /// space.
    #[test]
    fn whole_range_is_words() {
        let langs = [Lang::Es, Lang::De, Lang::Fr, Lang::It, BR, PT, Lang::Nl, Lang::Sl];
        let mut n: u64 = 0;
        while n <= MAX {
            for lang in langs {
                for form in [Form::Count, Form::Masc, Form::Fem] {
                    let w = cardinal(lang, n, form);
                    assert!(!w.is_empty() && !w.contains("  ") && w.trim() == w, "{lang:?} {n}: {w:?}");
                    assert!(!w.chars().any(|c| c.is_ascii_digit()), "{lang:?} {n}: {w:?}");
                }
            }
            n = if n < 3000 { n + 1 } else { n * 3 / 2 + 7 };
        }
    }
}
