//! Text normalisation for TTS, per language: the "normalized text" every export writes beside the transcript.
//!
//! [`normalize()`] takes a transcript and the language Whisper reported for it (an ISO 639-1 code such as "es",
//! possibly with a region, "pt-PT"; empty means English) and gives the words a speaker says, NFC-composed, with
//! what it could not read listed in [`Normalized::issues`] rather than guessed:
//!
//! * **English** ("en", "en-GB", "eng", "english", empty): [`normalize_english`] ([`english`]): numbers, money,
//!   dates, times, units, abbreviations, acronyms.
//! * **Spanish, German, French, Italian, Portuguese, Dutch, Slovenian** ([`NUMBER_RULE_LANGUAGES`]): numbers are
//!   read in the language ([`numbers`]): cardinals to 999 999 999 999 with the thousands written with a dot or a
//!   space ("1.000", "1 000 000") or not at all; decimals with the decimal comma ("3,5" → "tres coma cinco",
//!   "drei Komma fünf"); `%` (percent word); `€ $ £` before or after a number, agreeing with it ("veintiún
//!   euros", "una libra", "trije evri") and with the cents ("5,50 €" → "cinco euros con cincuenta", "0,50 €" →
//!   "cincuenta céntimos"); a leading minus; `&` (the language's "and"); ordinals where their written form is
//!   unambiguous (Spanish, Portuguese and Italian "1º", "2.ª", Spanish "1.er"; French "1er", "1re", "2e";
//!   Dutch "1e", "2de", "8ste"). Years are cardinals ("dos mil veintiséis"), except that German and Dutch read a
//!   four-digit number from 1100 to 1999 written without a separator in hundreds, as they read years
//!   ("neunzehnhundertneunundneunzig"). A number longer than 12 digits, with a leading zero ("007") or of 7 digits
//!   or more without separators that does not end in 000 (telephone-like) is read digit by digit.
//! * **Every other language**: the text NFC-composed with its white space tidied (nothing inserted: Chinese,
//!   Japanese and Thai stay without spaces), and an `unnormalised_digits` issue when it holds digits or symbols
//!   that need reading (`% € $ £ & @ # + =`).
//!
//! What the rules do not cover is left as written and named in an issue, never guessed: times and dates written
//! with digits ("14:30", "3.5.2024"), a decimal point where the language writes a comma ("3.5"), fractions
//! ("1/2"), German and Slovenian ordinals ("3."), other symbols (`@ # + =`), abbreviations and units in these
//! languages (kept as written, "10 km" → "diez km"), and agreement with a following noun other than currency and
//! the scale words ("1 millón" → "un millón"; but "1 casa" reads "uno casa").

pub mod english;
pub mod numbers;

pub use english::normalize_english;

use numbers::{Form, Lang, MAX, cardinal, digit_by_digit, hundreds_reading, ordinal, sl_noun};
use unicode_normalization::UnicodeNormalization;

/// A transcript's normalised text and what could not be normalised in it, so that an export can write the text and
/// flag the clip instead of shipping unread digits as if they were words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    /// The words a speaker says: NFC, single spaces, no leading or trailing space.
    pub text: String,
    /// What was left as written, each `"<kind>: <detail>"` with kind [`UNNORMALISED_DIGITS`] or
    /// [`UNNORMALISED_SYMBOLS`]; empty when the whole text was read.
    pub issues: Vec<String>,
}

impl Normalized {
    /// Whether everything in the text was read (no issues).
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

/// Issue kind: digits (or a number with them, "14:30") left as written, or a language without number rules.
pub const UNNORMALISED_DIGITS: &str = "unnormalised_digits";
/// Issue kind: a symbol that needs reading (`@ # + = % € $ £`) left as written.
pub const UNNORMALISED_SYMBOLS: &str = "unnormalised_symbols";

/// The languages [`normalize()`] reads numbers in (ISO 639-1), English first; every other language is only
/// NFC-composed and tidied.
pub const NUMBER_RULE_LANGUAGES: [&str; 8] = ["en", "es", "de", "fr", "it", "pt", "nl", "sl"];

/// Normalises `text`, spoken in `language` (ISO 639-1 as Whisper reports it, a region allowed: "en-GB", "pt-PT";
/// empty is English), for TTS; see the module documentation for what each language gets.
pub fn normalize(text: &str, language: &str) -> Normalized {
    let nfc: String = text.nfc().collect();
    match rules_for(language) {
        Rules::English => {
            let text: String = normalize_english(&nfc).nfc().collect();
            let mut issues = Vec::new();
            let left: String = text.chars().filter(|&c| needs_reading(c)).collect();
            if !left.is_empty() {
                let kind = if left.chars().any(char::is_numeric) { UNNORMALISED_DIGITS } else { UNNORMALISED_SYMBOLS };
                issues.push(format!("{kind}: {left:?} left as written (no rule for it in language \"en\")"));
            }
            Normalized { text, issues }
        }
        Rules::Numbers(lang, code) => Scanner::new(&tidy(&nfc), lang, code).run(),
        Rules::Plain(code) => {
            let text = tidy(&nfc);
            let issues = if text.chars().any(needs_reading) {
                vec![format!("{UNNORMALISED_DIGITS}: no number rules for language {code:?}")]
            } else {
                Vec::new()
            };
            Normalized { text, issues }
        }
    }
}

enum Rules {
    English,
    /// The language and its code as it appears in issues.
    Numbers(Lang, &'static str),
    /// No rules; the language's primary subtag, lower case.
    Plain(String),
}

fn rules_for(language: &str) -> Rules {
    let tag = language.trim().to_ascii_lowercase();
    let mut subtags = tag.split(['-', '_']);
    let primary = subtags.next().unwrap_or("");
    let region = subtags.next().unwrap_or("");
    match primary {
        "" | "en" | "eng" | "english" => Rules::English,
        "es" | "spa" | "spanish" => Rules::Numbers(Lang::Es, "es"),
        "de" | "deu" | "ger" | "german" => Rules::Numbers(Lang::De, "de"),
        "fr" | "fra" | "fre" | "french" => Rules::Numbers(Lang::Fr, "fr"),
        "it" | "ita" | "italian" => Rules::Numbers(Lang::It, "it"),
        "pt" | "por" | "portuguese" => Rules::Numbers(Lang::Pt { brazil: region != "pt" }, "pt"),
        "nl" | "nld" | "dut" | "dutch" | "flemish" => Rules::Numbers(Lang::Nl, "nl"),
        "sl" | "slv" | "slovenian" | "slovene" => Rules::Numbers(Lang::Sl, "sl"),
        other => Rules::Plain(other.to_string()),
    }
}

/// Characters a TTS model cannot be expected to read aloud by itself: digits of any script and the symbols with a
/// spoken form (ASCII and full-width).
fn needs_reading(c: char) -> bool {
    c.is_numeric() || "%€$£&@#+=％＄￡＆＠＃＋＝".contains(c)
}

/// White space of every kind (and control characters) collapsed to one space, the ends trimmed, byte-order marks
/// and zero-width spaces dropped. Nothing is inserted, so scripts written without spaces stay so.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{FEFF}' || c == '\u{200B}' {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

// ---------------------------------------------------------------------------------------------------------------
// What each language calls things

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Currency {
    Euro,
    Dollar,
    Pound,
    /// The Brazilian real, `R$` (read in Portuguese only).
    Real,
}

fn currency_of(c: char) -> Option<Currency> {
    match c {
        '€' => Some(Currency::Euro),
        '$' => Some(Currency::Dollar),
        '£' => Some(Currency::Pound),
        _ => None,
    }
}

/// A noun counted by a number: its singular and plural, the form the number takes before it, and for Slovenian
/// its four forms after numbers (see [`numbers::sl_noun`]).
#[derive(Debug, Clone, Copy)]
struct Noun {
    one: &'static str,
    many: &'static str,
    form: Form,
    sl: Option<[&'static str; 4]>,
}

const fn noun(one: &'static str, many: &'static str, form: Form) -> Noun {
    Noun { one, many, form, sl: None }
}

const fn sl(forms: [&'static str; 4]) -> Noun {
    Noun { one: forms[0], many: forms[3], form: Form::Masc, sl: Some(forms) }
}

fn percent_noun(lang: Lang) -> Noun {
    match lang {
        Lang::Es => noun("por ciento", "por ciento", Form::Count),
        Lang::De => noun("Prozent", "Prozent", Form::Masc),
        Lang::Fr => noun("pour cent", "pour cent", Form::Count),
        Lang::It => noun("per cento", "per cento", Form::Count),
        Lang::Pt { .. } => noun("por cento", "por cento", Form::Count),
        Lang::Nl => noun("procent", "procent", Form::Count),
        Lang::Sl => sl(["odstotek", "odstotka", "odstotki", "odstotkov"]),
    }
}

fn currency_noun(lang: Lang, currency: Currency) -> Option<Noun> {
    use Currency::*;
    Some(match (lang, currency) {
        (Lang::Pt { .. }, Real) => noun("real", "reais", Form::Masc),
        (_, Real) => return None,
        (Lang::Es, Euro) => noun("euro", "euros", Form::Masc),
        (Lang::Es, Dollar) => noun("dólar", "dólares", Form::Masc),
        (Lang::Es, Pound) => noun("libra", "libras", Form::Fem),
        // German counts these in the singular: "fünf Euro", "zehn Pfund".
        (Lang::De, Euro) => noun("Euro", "Euro", Form::Masc),
        (Lang::De, Dollar) => noun("Dollar", "Dollar", Form::Masc),
        (Lang::De, Pound) => noun("Pfund", "Pfund", Form::Masc),
        (Lang::Fr, Euro) => noun("euro", "euros", Form::Masc),
        (Lang::Fr, Dollar) => noun("dollar", "dollars", Form::Masc),
        (Lang::Fr, Pound) => noun("livre", "livres", Form::Fem),
        (Lang::It, Euro) => noun("euro", "euro", Form::Masc),
        (Lang::It, Dollar) => noun("dollaro", "dollari", Form::Masc),
        (Lang::It, Pound) => noun("sterlina", "sterline", Form::Fem),
        (Lang::Pt { .. }, Euro) => noun("euro", "euros", Form::Masc),
        (Lang::Pt { .. }, Dollar) => noun("dólar", "dólares", Form::Masc),
        (Lang::Pt { .. }, Pound) => noun("libra", "libras", Form::Fem),
        (Lang::Nl, Euro) => noun("euro", "euro", Form::Count),
        (Lang::Nl, Dollar) => noun("dollar", "dollar", Form::Count),
        (Lang::Nl, Pound) => noun("pond", "pond", Form::Count),
        (Lang::Sl, Euro) => sl(["evro", "evra", "evri", "evrov"]),
        (Lang::Sl, Dollar) => sl(["dolar", "dolarja", "dolarji", "dolarjev"]),
        (Lang::Sl, Pound) => sl(["funt", "funta", "funti", "funtov"]),
    })
}

/// The hundredth of a currency, for amounts under one ("0,50 €" → "cincuenta céntimos"); `None` for the pound,
/// whose pence are read as a decimal instead (and for the real outside Portuguese).
fn cents_noun(lang: Lang, currency: Currency) -> Option<Noun> {
    use Currency::*;
    Some(match (lang, currency) {
        (Lang::Pt { .. }, Real) => noun("centavo", "centavos", Form::Masc),
        (_, Pound | Real) => return None,
        (Lang::Es, Euro) => noun("céntimo", "céntimos", Form::Masc),
        (Lang::Es, Dollar) => noun("centavo", "centavos", Form::Masc),
        (Lang::De, _) => noun("Cent", "Cent", Form::Masc),
        (Lang::Fr, Euro) => noun("centime", "centimes", Form::Masc),
        (Lang::Fr, Dollar) => noun("cent", "cents", Form::Masc),
        (Lang::It, _) => noun("centesimo", "centesimi", Form::Masc),
        (Lang::Pt { brazil: false }, Euro) => noun("cêntimo", "cêntimos", Form::Masc),
        (Lang::Pt { .. }, _) => noun("centavo", "centavos", Form::Masc),
        (Lang::Nl, _) => noun("cent", "cent", Form::Count),
        (Lang::Sl, _) => sl(["cent", "centa", "centi", "centov"]),
    })
}

/// The noun after the whole number `n`.
fn noun_after(lang: Lang, noun: Noun, n: u64) -> &'static str {
    match (noun.sl, lang) {
        (Some(forms), _) => sl_noun(n, &forms),
        // French: singular for 0 and 1 ("zéro euro").
        (None, Lang::Fr) if n <= 1 => noun.one,
        (None, _) if n == 1 => noun.one,
        (None, _) => noun.many,
    }
}

/// The noun after a decimal number with whole part `whole`: Slovenian uses the genitive singular ("2,5 odstotka"),
/// French the singular below two ("1,5 euro"), the others the plural.
fn noun_after_decimal(lang: Lang, noun: Noun, whole: u64) -> &'static str {
    match (noun.sl, lang) {
        (Some(forms), _) => forms[1],
        (None, Lang::Fr) if whole < 2 => noun.one,
        (None, _) => noun.many,
    }
}

/// "de"/"di" between a round number of millions and its noun ("un millón de euros"), where the language has it.
fn of_word(lang: Lang, noun: &str) -> Option<&'static str> {
    match lang {
        Lang::Es | Lang::Pt { .. } => Some("de "),
        Lang::Fr if noun.starts_with(['a', 'e', 'é', 'i', 'o', 'u']) => Some("d'"),
        Lang::Fr => Some("de "),
        Lang::It => Some("di "),
        _ => None,
    }
}

fn decimal_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "coma",
        Lang::De => "Komma",
        Lang::Fr => "virgule",
        Lang::It => "virgola",
        Lang::Pt { .. } => "vírgula",
        Lang::Nl => "komma",
        Lang::Sl => "vejica",
    }
}

fn minus_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Es | Lang::Pt { .. } => "menos",
        Lang::De | Lang::Sl => "minus",
        Lang::Fr => "moins",
        Lang::It => "meno",
        Lang::Nl => "min",
    }
}

fn and_word(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "y",
        Lang::De => "und",
        Lang::Fr => "et",
        Lang::It | Lang::Pt { .. } => "e",
        Lang::Nl => "en",
        Lang::Sl => "in",
    }
}

/// Between the whole units and the cents of an amount ("cinco euros con cincuenta", "cinque euro e cinquanta");
/// German, French and Dutch put nothing ("fünf Euro fünfzig").
fn cents_join(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => " con ",
        Lang::It | Lang::Pt { .. } => " e ",
        Lang::Sl => " in ",
        _ => " ",
    }
}

/// Scale nouns a number agrees with when they follow it ("1 millón" → "un millón", "1 Million" → "eine Million").
fn scale_form(lang: Lang, word: &str) -> Option<Form> {
    let w = word.to_lowercase();
    let w = w.as_str();
    match lang {
        Lang::Es if matches!(w, "millón" | "millones" | "billón" | "billones" | "millardo" | "millardos") => {
            Some(Form::Masc)
        }
        Lang::De if matches!(w, "million" | "millionen" | "milliarde" | "milliarden") => Some(Form::Fem),
        Lang::It if matches!(w, "milione" | "milioni" | "miliardo" | "miliardi") => Some(Form::Masc),
        Lang::Sl if w.starts_with("milijon") => Some(Form::Masc),
        Lang::Sl if w.starts_with("milijard") => Some(Form::Fem),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The scanner

/// A number as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Written {
    /// Digits, with thousands separators removed; `plain`: written without any.
    Whole { digits: String, plain: bool },
    /// Whole part (separators removed) and the digits after the decimal comma.
    Decimal { whole: String, frac: String },
    /// A shape the rules do not read ("14:30", "3.5", "1/2", "12.03.2024").
    Unread,
}

/// What follows a number and is read with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    None,
    Percent,
    Money(Currency),
}

struct Scanner<'a> {
    c: Vec<char>,
    lang: Lang,
    code: &'a str,
    out: String,
    issues: Vec<String>,
}

fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(char::is_ascii_digit)
}

fn value(digits: &str) -> Option<u64> {
    if digits.len() > 12 { None } else { digits.parse().ok() }
}

impl<'a> Scanner<'a> {
    fn new(text: &str, lang: Lang, code: &'a str) -> Self {
        Scanner {
            c: text.chars().collect(),
            lang,
            code,
            out: String::with_capacity(text.len() * 2),
            issues: Vec::new(),
        }
    }

    fn run(mut self) -> Normalized {
        let mut i = 0;
        while i < self.c.len() {
            i = self.step(i);
        }
        Normalized { text: tidy(&self.out), issues: self.issues }
    }

    fn issue(&mut self, kind: &str, what: &str) {
        let s = format!("{kind}: {what:?} left as written (no rule for it in language {:?})", self.code);
        if !self.issues.contains(&s) {
            self.issues.push(s);
        }
    }

    /// Words for a number, apart from a letter or digit before them.
    fn push_words(&mut self, words: &str) {
        if self.out.chars().next_back().is_some_and(char::is_alphanumeric) {
            self.out.push(' ');
        }
        self.out.push_str(words);
    }

    /// Reads from `i`; returns where to go on.
    fn step(&mut self, i: usize) -> usize {
        let c = self.c[i];
        let next = self.c.get(i + 1);
        let prev_is_word = i > 0 && self.c[i - 1].is_alphanumeric();
        if c.is_ascii_digit() {
            return self.number(i, i, false, None);
        }
        if matches!(c, '-' | '−') && is_digit(next) && !prev_is_word {
            return self.number(i, i + 1, true, None);
        }
        if let Some((currency, len)) = self.currency_at(i) {
            let mut j = i + len;
            let minus = matches!(self.c.get(j), Some('-' | '−')) && is_digit(self.c.get(j + 1));
            // Past a minus ("€-5") or a space ("€ 5").
            if minus || (self.c.get(j) == Some(&' ') && is_digit(self.c.get(j + 1))) {
                j += 1;
            }
            if is_digit(self.c.get(j)) {
                return self.number(i, j, minus, Some(currency));
            }
        }
        if c == '&' {
            let and = and_word(self.lang);
            self.out.push_str(&format!(" {and} "));
            return i + 1;
        }
        if needs_reading(c) {
            let kind = if c.is_numeric() { UNNORMALISED_DIGITS } else { UNNORMALISED_SYMBOLS };
            self.issue(kind, &c.to_string());
        }
        self.out.push(c);
        i + 1
    }

    /// A currency sign starting at `i` and its length: `€ $ £`, and at the start of a word `US$` and `R$`.
    fn currency_at(&self, i: usize) -> Option<(Currency, usize)> {
        let at_word_start = i == 0 || !self.c[i - 1].is_alphanumeric();
        let rest = &self.c[i..];
        match rest {
            ['U', 'S', '$', ..] if at_word_start => Some((Currency::Dollar, 3)),
            ['R', '$', ..] if at_word_start => Some((Currency::Real, 2)),
            [c, ..] => currency_of(*c).map(|cur| (cur, 1)),
            [] => None,
        }
    }

    /// The digits and separators from `start`: groups of digits joined by `. , : /`, or by single spaces when they
    /// are thousands ("1 000 000": a first group of at most three digits, then groups of exactly three).
    fn scan(&self, start: usize) -> (usize, Written) {
        let c = &self.c;
        let digits_from = |mut j: usize| {
            let from = j;
            while is_digit(c.get(j)) {
                j += 1;
            }
            (j, c[from..j].iter().collect::<String>())
        };
        let (mut j, first) = digits_from(start);
        let mut groups = vec![first];
        let mut seps: Vec<char> = Vec::new();
        loop {
            let sep = c.get(j).copied();
            if matches!(sep, Some('.' | ',' | ':' | '/')) && is_digit(c.get(j + 1)) {
                let (end, g) = digits_from(j + 1);
                seps.push(sep.unwrap_or('.'));
                groups.push(g);
                j = end;
            } else if sep == Some(' ')
                && seps.iter().all(|&s| s == ' ')
                && groups[0].len() <= 3
                && (1..=3).all(|k| is_digit(c.get(j + k)))
                && !is_digit(c.get(j + 4))
            {
                seps.push(' ');
                groups.push(c[j + 1..j + 4].iter().collect());
                j += 4;
            } else {
                break;
            }
        }
        (j, parse(&groups, &seps))
    }

    /// Reads the number whose digits start at `digits` (`begin` is where its sign or currency sign starts), with a
    /// `%`, currency sign or ordinal ending after it; returns where to go on.
    fn number(&mut self, begin: usize, digits: usize, minus: bool, before: Option<Currency>) -> usize {
        let (end, written) = self.scan(digits);
        let lang = self.lang;
        // German and Slovenian write ordinals with a full stop ("am 3. Mai", "3. maja"), declined in a case the
        // rules do not know. Where it is surely one (a month name or a lower-case word follows, which a sentence
        // does not start with; German "am 3."), it is left as written; otherwise "3." ends a sentence.
        if matches!(written, Written::Whole { plain: true, .. })
            && matches!(lang, Lang::De | Lang::Sl)
            && self.c.get(end) == Some(&'.')
            && (self.next_word(end + 1).is_some_and(|w| is_month(lang, &w) || w.starts_with(char::is_lowercase))
                || (lang == Lang::De && self.word_before(begin).is_some_and(|w| DE_DAY_BEFORE.contains(&w.as_str()))))
        {
            return self.verbatim(begin, end + 1);
        }
        let mut unit = before.map_or(Unit::None, Unit::Money);
        let mut stop = end;
        // An ordinal ending, only on plain digits with nothing around them.
        if let (Written::Whole { digits: d, plain: true }, Unit::None, false) = (&written, unit, minus)
            && let Some((fem, shortened, len)) = self.ordinal_ending(end)
        {
            let words = value(d).and_then(|n| ordinal(lang, n, fem)).map(|w| if shortened { shorten(&w) } else { w });
            return match words {
                Some(w) => {
                    self.push_words(&w);
                    self.after(end + len)
                }
                None => self.verbatim(begin, end + len),
            };
        }
        // A `%` or currency sign after it, with or without a space.
        let gap = usize::from(self.c.get(end) == Some(&' '));
        match self.c.get(end + gap) {
            Some('%') if unit == Unit::None => {
                unit = Unit::Percent;
                stop = end + gap + 1;
            }
            Some(&s) if unit == Unit::None && currency_of(s).is_some() => {
                unit = currency_of(s).map_or(Unit::None, Unit::Money);
                stop = end + gap + 1;
            }
            _ => {}
        }
        let Some(mut words) = self.read(&written, unit, stop) else {
            return self.verbatim(begin, stop);
        };
        if minus {
            words = format!("{} {words}", minus_word(lang));
        }
        self.push_words(&words);
        self.after(stop)
    }

    /// Goes on after a number's words at `j`, apart from a letter or digit that follows.
    fn after(&mut self, j: usize) -> usize {
        if self.c.get(j).is_some_and(|c| c.is_alphanumeric()) {
            self.out.push(' ');
        }
        j
    }

    /// Copies `begin..end` as written and notes it.
    fn verbatim(&mut self, begin: usize, end: usize) -> usize {
        let raw: String = self.c[begin..end].iter().collect();
        self.push_words(&raw);
        self.issue(UNNORMALISED_DIGITS, &raw);
        self.after(end)
    }

    /// The ordinal ending at `j`, if the language writes one there: (feminine, shortened "primer"/"tercer", length).
    fn ordinal_ending(&self, j: usize) -> Option<(bool, bool, usize)> {
        let c = &self.c;
        let mut k = j;
        let dot = c.get(k) == Some(&'.');
        if dot {
            k += 1;
        }
        let from = k;
        while c.get(k).is_some_and(|c| c.is_alphabetic()) {
            k += 1;
        }
        let ending: String = c[from..k].iter().collect();
        if ending.is_empty() || c.get(k).is_some_and(|c| c.is_alphanumeric()) {
            return None;
        }
        let found = match (self.lang, ending.as_str()) {
            (Lang::Es | Lang::Pt { .. } | Lang::It, "º") => (false, false),
            (Lang::Es | Lang::Pt { .. } | Lang::It, "ª") => (true, false),
            (Lang::Es, "er") => (false, true),
            (Lang::Fr, "er" | "ᵉʳ") if !dot => (false, false),
            (Lang::Fr, "re" | "ère" | "ʳᵉ") if !dot => (true, false),
            (Lang::Fr, "e" | "ème" | "eme" | "è" | "ᵉ") if !dot => (false, false),
            (Lang::Nl, "e" | "de" | "ste") if !dot => (false, false),
            _ => return None,
        };
        Some((found.0, found.1, k - j))
    }

    /// The words for a number and its unit; `None` when the rules do not read it. `stop` is where the next word
    /// starts (for agreement with a scale word: "1 millón").
    fn read(&self, written: &Written, unit: Unit, stop: usize) -> Option<String> {
        let lang = self.lang;
        if let Unit::Money(currency) = unit
            && currency_noun(lang, currency).is_none()
        {
            return None;
        }
        match written {
            Written::Unread => None,
            Written::Whole { digits, plain } => {
                let n = value(digits);
                let telephone = *plain && digits.len() >= 7 && !digits.ends_with("000");
                let one_by_one = (digits.len() > 1 && digits.starts_with('0')) || telephone || n.is_none();
                if one_by_one {
                    if !*plain {
                        return None;
                    }
                    let words = digit_by_digit(lang, digits);
                    return Some(match unit_noun(lang, unit) {
                        Some(noun) => format!("{words} {}", noun.many),
                        None => words,
                    });
                }
                let n = n?;
                let Some(noun) = unit_noun(lang, unit) else {
                    if let Some(years) = hundreds_reading(lang, n).filter(|_| *plain) {
                        return Some(years);
                    }
                    let form = self.next_word(stop).and_then(|w| scale_form(lang, &w)).unwrap_or(Form::Count);
                    return Some(cardinal(lang, n, form));
                };
                Some(self.whole_with_noun(n, *plain, noun, matches!(unit, Unit::Money(_))))
            }
            Written::Decimal { whole, frac } => {
                let w = value(whole).filter(|&w| w <= MAX)?;
                let decimal =
                    || format!("{} {} {}", cardinal(lang, w, Form::Count), decimal_word(lang), self.fraction(frac));
                let Unit::Money(currency) = unit else {
                    return Some(match unit_noun(lang, unit) {
                        Some(noun) => format!("{} {}", decimal(), noun_after_decimal(lang, noun, w)),
                        None => decimal(),
                    });
                };
                let noun = currency_noun(lang, currency)?;
                let cents = value(frac).filter(|_| frac.len() == 2);
                match (cents, cents_noun(lang, currency)) {
                    (Some(0), _) => Some(self.whole_with_noun(w, false, noun, true)),
                    (Some(c), Some(sub)) if w == 0 => {
                        Some(format!("{} {}", cardinal(lang, c, sub.form), noun_after(lang, sub, c)))
                    }
                    (Some(c), sub) if w > 0 && (lang != Lang::Sl || sub.is_some()) => {
                        let cents = match (lang, sub) {
                            (Lang::Sl, Some(sub)) => {
                                format!("{} {}", cardinal(lang, c, sub.form), noun_after(lang, sub, c))
                            }
                            _ => cardinal(lang, c, Form::Count),
                        };
                        Some(format!("{}{}{cents}", self.whole_with_noun(w, false, noun, true), cents_join(lang)))
                    }
                    _ => Some(format!("{} {}", decimal(), noun_after_decimal(lang, noun, w))),
                }
            }
        }
    }

    /// A whole number and the noun it counts ("veintiún euros", "trije evri"); an amount of money in round millions
    /// takes the language's "of" ("un millón de euros", "un milione di euro").
    fn whole_with_noun(&self, n: u64, plain: bool, noun: Noun, money: bool) -> String {
        let lang = self.lang;
        let number = match hundreds_reading(lang, n).filter(|_| plain) {
            Some(hundreds) => hundreds,
            None => cardinal(lang, n, noun.form),
        };
        let after = noun_after(lang, noun, n);
        let round_millions = n >= 1_000_000 && n.is_multiple_of(1_000_000);
        match of_word(lang, after).filter(|_| money && round_millions) {
            Some(of) => format!("{number} {of}{after}"),
            None => format!("{number} {after}"),
        }
    }

    /// The digits after the decimal comma: German and Slovenian read them one by one ("drei Komma eins vier"), the
    /// others read one or two digits as a number ("tres coma catorce") and longer runs, or a leading zero, one by
    /// one.
    fn fraction(&self, frac: &str) -> String {
        let lang = self.lang;
        let as_number = !matches!(lang, Lang::De | Lang::Sl) && frac.len() <= 2 && !frac.starts_with('0');
        match value(frac).filter(|_| as_number) {
            Some(n) => cardinal(lang, n, Form::Count),
            None => digit_by_digit(lang, frac),
        }
    }

    /// The word before a single space before `j`, lower case, if there is one.
    fn word_before(&self, j: usize) -> Option<String> {
        if j < 2 || self.c[j - 1] != ' ' {
            return None;
        }
        let start = self.c[..j - 1].iter().rposition(|c| !c.is_alphabetic()).map_or(0, |k| k + 1);
        let word: String = self.c[start..j - 1].iter().collect();
        (!word.is_empty()).then(|| word.to_lowercase())
    }

    /// The word after a single space at `j`, if there is one.
    fn next_word(&self, j: usize) -> Option<String> {
        if self.c.get(j) != Some(&' ') {
            return None;
        }
        let word: String = self.c[j + 1..].iter().take_while(|c| c.is_alphabetic()).collect();
        (!word.is_empty()).then_some(word)
    }
}

/// German words before which "3." is a day of the month ("am 3.", "vom 1. bis zum 5.").
const DE_DAY_BEFORE: [&str; 4] = ["am", "vom", "zum", "beim"];

/// Whether `word` is a month name in German or Slovenian (any case ending).
fn is_month(lang: Lang, word: &str) -> bool {
    let w = word.to_lowercase();
    let stems: &[&str] = match lang {
        Lang::De => &[
            "januar",
            "jänner",
            "februar",
            "märz",
            "april",
            "mai",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "dezember",
        ],
        Lang::Sl => &[
            "januar", "februar", "marec", "marca", "april", "maj", "junij", "julij", "avgust", "septemb", "oktob",
            "novemb", "decemb",
        ],
        _ => &[],
    };
    stems.iter().any(|s| w.starts_with(s))
}

/// "primero"/"tercero" before a noun, as "1.er"/"3.er" write them: "primer", "tercer".
fn shorten(ordinal: &str) -> String {
    match ordinal.strip_suffix("ero") {
        Some(stem) => format!("{stem}er"),
        None => ordinal.to_string(),
    }
}

fn unit_noun(lang: Lang, unit: Unit) -> Option<Noun> {
    match unit {
        Unit::None => None,
        Unit::Percent => Some(percent_noun(lang)),
        Unit::Money(c) => currency_noun(lang, c),
    }
}

/// What the groups of digits and the separators between them say: thousands with `.` or a space (or `,` when there
/// are several, "1,000,000"), a decimal comma last, or nothing the rules read.
fn parse(groups: &[String], seps: &[char]) -> Written {
    if seps.is_empty() {
        return Written::Whole { digits: groups[0].clone(), plain: true };
    }
    let all_commas = seps.iter().all(|&s| s == ',');
    let (whole_groups, whole_seps, frac) = match seps.last() {
        Some(',') if !(all_commas && seps.len() >= 2) => {
            (&groups[..groups.len() - 1], &seps[..seps.len() - 1], Some(&groups[groups.len() - 1]))
        }
        _ => (groups, seps, None),
    };
    let thousands = whole_seps.is_empty()
        || (whole_seps.iter().all(|&s| s == whole_seps[0])
            && matches!(whole_seps[0], '.' | ' ' | ',')
            && (1..=3).contains(&whole_groups[0].len())
            && whole_groups[1..].iter().all(|g| g.len() == 3));
    if !thousands {
        return Written::Unread;
    }
    let whole = whole_groups.concat();
    match frac {
        Some(frac) => Written::Decimal { whole, frac: frac.clone() },
        None => Written::Whole { digits: whole, plain: false },
    }
}

#[cfg(test)]
mod tests;
