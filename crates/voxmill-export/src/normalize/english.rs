//! English text normalisation for TTS: what [`super::normalize`] does for English clips (the "normalized text" of
//! every export).
//!
//! [`normalize_english`] turns written English into the words a speaker says, keeping the case of ordinary words and
//! the punctuation TTS models use for prosody (`, . ? ! ; :`, plus quotes, parentheses, apostrophes and hyphens, as
//! LJSpeech does). It is a single left-to-right scan with a little look-ahead, in the spirit of the classic
//! Tacotron `english_cleaners` (abbreviation table, `inflect`-style numbers, year reading) extended with the
//! semiotic classes NeMo text normalisation covers (money, measures, time, ordinals, decimals, telephone).
//!
//! Rules, in the order they are tried at each position:
//!
//! * **Unicode clean-up**: curly quotes become `'`/`"`, `…` becomes `...`, dash variants become `-` (hyphens),
//!   `–` (en dash) or a pause (em dash, `--`), zero-width characters and soft hyphens are dropped, every kind of
//!   white space collapses to one space.
//! * **Currency** `$ £ € ¥ ₹` before a number: `$5.50` → "five dollars fifty cents", `$1` → "one dollar",
//!   `$0.99` → "ninety-nine cents", `$5.5 million` → "five point five million dollars", `¥100` → "one hundred yen".
//! * **Telephone-like** digit strings are read digit by digit: hyphenated groups (`555-1234`, `1-800-555-0199`,
//!   groups of 1–4 digits, at least 7 digits in all, not two 4-digit groups, which are a range), plain runs of 7 or
//!   more digits that do not end in `000`, and any multi-digit number with a leading zero (`007`).
//! * **ISO dates** `2023-02-08` → "February eighth, twenty twenty-three".
//! * **Time** `h:mm[:ss]` with h ≤ 24: `3:30 pm` → "three thirty p m", `3:05` → "three oh five",
//!   `3:00` → "three o'clock", `15:00` → "fifteen hundred"; `3pm`/`3 p.m.` → "three p m".
//! * **Numbers**: cardinals with or without thousands commas up to 10³⁶ − 1 (`1,234` → "one thousand two hundred
//!   thirty-four"); decimals (`3.14` → "three point one four", `.5` → "point five"); negatives (`-5`, `−5` at the
//!   start of a word → "minus five"); ordinals (`21st` → "twenty-first"); plurals (`80s`, `'90s` → "nineties");
//!   simple fractions with a denominator up to 16 (`1/2` → "one half", `3/4` → "three quarters").
//! * **Years**: a bare four-digit number from 1001 to 2099 without commas is read as a year, as the Tacotron
//!   cleaners do (`1999` → "nineteen ninety-nine", `1905` → "nineteen oh five", `1900` → "nineteen hundred",
//!   `2005` → "two thousand five", `2010` → "twenty ten", `2010s` → "twenty tens"), unless a unit, `%` or an ordinal
//!   suffix follows or a currency symbol precedes it. A day number after a month name is an ordinal
//!   (`January 5` → "January fifth").
//! * **Ranges**: a number, an en dash (spaces allowed) or a hyphen (no spaces), a number: "to"
//!   (`1990–2000` → "nineteen ninety to two thousand").
//! * **After a number**: `%` → "percent", `°C`/`°F`/`°` → "degrees Celsius/Fahrenheit"/"degrees", and units
//!   (`km kg cm mm m g mg ft mi yd lb lbs oz mph kph km/h m/s ml L Hz kHz MHz GHz kB KB MB GB TB ms sec min hr`…),
//!   singular only for exactly 1.
//! * **Abbreviations** (with a dot; titles also without one before a capitalised word): Mr., Mrs., Ms., Dr.
//!   ("Doctor" before a capitalised word, "Drive" after one), St. ("Saint" before a capitalised word, else
//!   "Street"), Prof., Gen., Lt., Sgt., Capt., Col., Maj., Rev., Hon., Gov., Sen., Pres., Mt., Ft., Jr., Sr., Co.,
//!   Corp., Inc., Ltd., Bros., Esq., vs., etc., e.g., i.e., cf., approx., pp., Dept., Ave., Blvd., Rd., month names
//!   Jan.–Dec., and `No.` before a number → "number". An expansion is capitalised when the abbreviation was.
//!   `etc.`, `Inc.` and the like keep their full stop when they end the sentence.
//! * **Dotted initialisms** `U.S.A.` → "U S A", `Ph.D.` → "P H D", `a.m.`/`p.m.` → "a m"/"p m".
//! * **Acronyms**: an all-capitals ASCII word of 2–5 letters is spelled out letter by letter ("BBC" → "B B C",
//!   "FBI" → "F B I") when it has no vowel (A, E, I, O, U; vowel-less words such as "MY", "WHY", "HMM" are listed
//!   and kept) or is in a list of well-known initialisms (FBI, CIA, USA, CEO, …); any other all-capitals word
//!   ("NASA", "NATO", "OK") is kept for the model to read as a word. Text that is mostly capitals (shouting) is
//!   left alone.
//! * **Domain and file names**: a full stop between a letter or digit and a lower-case letter is "dot"
//!   (`example.com` → "example dot com").
//! * **Symbols**: `&` → "and", `@` → "at", `+` → "plus", `=` → "equals", `×` → "times", `%` → "percent",
//!   `#` before a number → "number"; other symbols (`* _ ~ ^ < > [ ] { } \ | / #` …) become spaces.

/// Normalises English text for TTS; see the module documentation for the rules.
pub fn normalize_english(text: &str) -> String {
    let chars = preclean(text);
    let shouting = is_shouting(&chars);
    let mut n = Normalizer {
        c: &chars,
        out: Out::default(),
        shouting,
        last_number: false,
        last_month: false,
        last_capitalised: false,
    };
    n.run();
    postclean(&n.out.s)
}

// ---------------------------------------------------------------------------------------------------------------
// Number words

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SCALES: [&str; 12] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
    "decillion",
];
/// Longest digit string read as a cardinal (10^36 − 1); longer ones are read digit by digit.
const MAX_CARDINAL_DIGITS: usize = 36;

fn under_100(n: u32) -> String {
    let n = n as usize;
    if n < 20 {
        ONES[n].to_string()
    } else if n.is_multiple_of(10) {
        TENS[n / 10].to_string()
    } else {
        format!("{}-{}", TENS[n / 10], ONES[n % 10])
    }
}

fn under_1000(n: u32) -> String {
    let (h, r) = (n / 100, n % 100);
    match (h, r) {
        (0, r) => under_100(r),
        (h, 0) => format!("{} hundred", ONES[h as usize]),
        (h, r) => format!("{} hundred {}", ONES[h as usize], under_100(r)),
    }
}

/// Cardinal number words: 1234 → "one thousand two hundred thirty-four".
pub fn cardinal(mut n: u128) -> String {
    if n == 0 {
        return "zero".into();
    }
    let mut groups = Vec::new();
    while n > 0 {
        groups.push((n % 1000) as u32);
        n /= 1000;
    }
    let mut parts = Vec::new();
    for (scale, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        parts.push(under_1000(g));
        if scale > 0 {
            parts.push(SCALES[scale].to_string());
        }
    }
    parts.join(" ")
}

/// Reads a string of ASCII digits as a cardinal, or digit by digit when it is too long.
fn cardinal_digits(digits: &str) -> String {
    if digits.is_empty() {
        return String::new();
    }
    if digits.len() > MAX_CARDINAL_DIGITS {
        return digit_by_digit(digits);
    }
    digits.parse::<u128>().map(cardinal).unwrap_or_else(|_| digit_by_digit(digits))
}

fn digit_by_digit(digits: &str) -> String {
    digits.chars().filter_map(|c| c.to_digit(10)).map(|d| ONES[d as usize]).collect::<Vec<_>>().join(" ")
}

/// Year reading: 1999 → "nineteen ninety-nine", 2005 → "two thousand five", 1905 → "nineteen oh five".
pub fn year(n: u32) -> String {
    if n % 1000 < 10 || !(1000..10000).contains(&n) {
        return cardinal(n.into());
    }
    let (hi, lo) = (n / 100, n % 100);
    match lo {
        0 => format!("{} hundred", under_100(hi)),
        1..=9 => format!("{} oh {}", under_100(hi), ONES[lo as usize]),
        _ => format!("{} {}", under_100(hi), under_100(lo)),
    }
}

/// Splits number words into everything before the last word (including the separator) and the last word.
fn split_last(words: &str) -> (&str, &str) {
    match words.rfind([' ', '-']) {
        Some(p) => (&words[..=p], &words[p + 1..]),
        None => ("", words),
    }
}

/// "twenty-one" → "twenty-first", "one hundred" → "one hundredth".
pub fn ordinal_words(words: &str) -> String {
    let (head, last) = split_last(words);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// "ninety" → "nineties", "six" → "sixes", "ten" → "tens".
fn plural_words(words: &str) -> String {
    let (head, last) = split_last(words);
    let last = if let Some(stem) = last.strip_suffix('y') {
        format!("{stem}ies")
    } else if last.ends_with('x') {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    format!("{head}{last}")
}

fn minute_words(mm: u32) -> String {
    if mm < 10 { format!("oh {}", ONES[mm as usize]) } else { under_100(mm) }
}

// ---------------------------------------------------------------------------------------------------------------
// Tables

/// Abbreviations written with a full stop: (abbreviation without the dot, expansion, may end a sentence).
/// Matched case-insensitively, except entries starting with a capital (month names), which match exactly.
const DOT_ABBREVIATIONS: &[(&str, &str, bool)] = &[
    ("mr", "mister", false),
    ("mrs", "missus", false),
    ("ms", "miz", false),
    ("messrs", "messieurs", false),
    ("prof", "professor", false),
    ("gen", "general", false),
    ("lt", "lieutenant", false),
    ("sgt", "sergeant", false),
    ("capt", "captain", false),
    ("col", "colonel", false),
    ("maj", "major", false),
    ("rev", "reverend", false),
    ("hon", "honorable", false),
    ("gov", "governor", false),
    ("sen", "senator", false),
    ("pres", "president", false),
    ("mt", "mount", false),
    ("ft", "fort", false),
    ("drs", "doctors", false),
    ("jr", "junior", true),
    ("sr", "senior", true),
    ("co", "company", true),
    ("corp", "corporation", true),
    ("inc", "incorporated", true),
    ("ltd", "limited", true),
    ("bros", "brothers", true),
    ("esq", "esquire", true),
    ("vs", "versus", false),
    ("etc", "et cetera", true),
    ("cf", "compare", false),
    ("approx", "approximately", false),
    ("pp", "pages", false),
    ("dept", "department", true),
    ("ave", "avenue", true),
    ("blvd", "boulevard", true),
    ("rd", "road", true),
    ("Jan", "January", true),
    ("Feb", "February", true),
    ("Mar", "March", true),
    ("Apr", "April", true),
    ("Jun", "June", true),
    ("Jul", "July", true),
    ("Aug", "August", true),
    ("Sep", "September", true),
    ("Sept", "September", true),
    ("Oct", "October", true),
    ("Nov", "November", true),
    ("Dec", "December", true),
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Titles expanded without a dot too, when a capitalised word follows ("Dr Smith").
const DOTLESS_TITLES: &[&str] = &["mr", "mrs", "ms", "dr", "st"];

/// Multi-dot abbreviations, keyed by their letters in lower case.
const DOTTED: &[(&str, &str)] =
    &[("eg", "for example"), ("ie", "that is"), ("am", "a m"), ("pm", "p m"), ("phd", "P H D")];

/// All-capitals words read as words although a rule might spell them.
const CAPS_WORDS: &[&str] = &[
    "MY", "BY", "WHY", "SHY", "SPY", "TRY", "CRY", "DRY", "FLY", "FRY", "SKY", "SLY", "GYM", "HYMN", "MYTH", "LYNX",
    "HMM", "SHH", "PSST", "TSK", "NTH", "RHYTHM", "CRYPT", "GYP", "PRY", "PLY", "WRY", "STY", "SYNC", "LYMPH",
];

/// Well-known initialisms with a vowel, spelled letter by letter.
const SPELLED: &[&str] = &[
    "FBI", "CIA", "USA", "UK", "EU", "UN", "CEO", "CFO", "CTO", "COO", "IBM", "API", "AI", "UI", "IOU", "ATM", "UFO",
    "USB", "GPU", "CPU", "IQ", "IP", "IRS", "EPA", "FDA", "FAQ", "DOJ", "BBC", "HIV", "DIY", "ETA", "PDF", "URL",
    "VIP", "AOL", "EU", "UAE", "USSR", "OECD", "ASAP", "MIT", "UCLA", "HTML", "HTTP", "HTTPS", "MP", "PE", "IV",
];

/// Units after a number: (written form, singular, plural). Case-sensitive.
const UNITS: &[(&str, &str, &str)] = &[
    ("km", "kilometer", "kilometers"),
    ("m", "meter", "meters"),
    ("cm", "centimeter", "centimeters"),
    ("mm", "millimeter", "millimeters"),
    ("kg", "kilogram", "kilograms"),
    ("g", "gram", "grams"),
    ("mg", "milligram", "milligrams"),
    ("lb", "pound", "pounds"),
    ("lbs", "pound", "pounds"),
    ("oz", "ounce", "ounces"),
    ("ft", "foot", "feet"),
    ("mi", "mile", "miles"),
    ("yd", "yard", "yards"),
    ("mph", "mile per hour", "miles per hour"),
    ("kph", "kilometer per hour", "kilometers per hour"),
    ("km/h", "kilometer per hour", "kilometers per hour"),
    ("m/s", "meter per second", "meters per second"),
    ("ml", "milliliter", "milliliters"),
    ("mL", "milliliter", "milliliters"),
    ("L", "liter", "liters"),
    ("kW", "kilowatt", "kilowatts"),
    ("Hz", "hertz", "hertz"),
    ("kHz", "kilohertz", "kilohertz"),
    ("MHz", "megahertz", "megahertz"),
    ("GHz", "gigahertz", "gigahertz"),
    ("kB", "kilobyte", "kilobytes"),
    ("KB", "kilobyte", "kilobytes"),
    ("MB", "megabyte", "megabytes"),
    ("GB", "gigabyte", "gigabytes"),
    ("TB", "terabyte", "terabytes"),
    ("ms", "millisecond", "milliseconds"),
    ("sec", "second", "seconds"),
    ("secs", "second", "seconds"),
    ("min", "minute", "minutes"),
    ("mins", "minute", "minutes"),
    ("hr", "hour", "hours"),
    ("hrs", "hour", "hours"),
];

/// Currency symbols: (symbol, singular, plural, subunit singular/plural).
/// (singular, plural) of a currency's subunit.
type Subunit = Option<(&'static str, &'static str)>;

const CURRENCIES: &[(char, &str, &str, Subunit)] = &[
    ('$', "dollar", "dollars", Some(("cent", "cents"))),
    ('£', "pound", "pounds", Some(("penny", "pence"))),
    ('€', "euro", "euros", Some(("cent", "cents"))),
    ('¥', "yen", "yen", None),
    ('₹', "rupee", "rupees", Some(("paisa", "paise"))),
];

const SCALE_WORDS: &[&str] = &["thousand", "million", "billion", "trillion"];

// ---------------------------------------------------------------------------------------------------------------
// Pre- and post-processing

fn preclean(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}' | '\u{00BB}' => out.push('"'),
            '\u{2010}' | '\u{2011}' => out.push('-'),
            '\u{2012}' | '\u{2013}' => out.push('–'),
            '\u{2014}' | '\u{2015}' => out.push('—'),
            '-' if it.peek() == Some(&'-') => {
                while it.peek() == Some(&'-') {
                    it.next();
                }
                out.push('—');
            }
            '\u{2026}' => out.extend(['.', '.', '.']),
            '\u{2103}' => out.extend(['°', 'C']),
            '\u{2109}' => out.extend(['°', 'F']),
            '\u{00BA}' => out.push('°'),
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => {}
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn is_shouting(chars: &[char]) -> bool {
    let upper = chars.iter().filter(|c| c.is_uppercase()).count();
    let lower = chars.iter().filter(|c| c.is_lowercase()).count();
    let letters = upper + lower;
    letters >= 12 && upper * 10 >= letters * 7
}

const PROSODY: [char; 6] = [',', '.', '?', '!', ';', ':'];

/// Collapses white space, drops spaces before prosody punctuation and at either end.
fn postclean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == ' ' {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            if PROSODY.contains(&c) && out.ends_with(' ') {
                out.pop();
            }
            out.push(c);
        }
    }
    let trimmed = out.trim_start_matches([' ', ',', ';', ':']).trim_end();
    trimmed.to_string()
}

// ---------------------------------------------------------------------------------------------------------------
// The scanner

#[derive(Default)]
struct Out {
    s: String,
    /// The last thing written was generated words (a letter right after it needs a space).
    generated: bool,
}

impl Out {
    fn words(&mut self, w: &str) {
        if w.is_empty() {
            return;
        }
        if self.s.chars().last().is_some_and(|l| l.is_alphanumeric()) {
            self.s.push(' ');
        }
        self.s.push_str(w);
        self.generated = true;
    }

    fn raw(&mut self, c: char) {
        if self.generated && c.is_alphanumeric() {
            self.s.push(' ');
        }
        self.s.push(c);
        self.generated = false;
    }

    fn raw_str(&mut self, w: &str) {
        for c in w.chars() {
            self.raw(c);
        }
    }

    fn space(&mut self) {
        if !self.s.is_empty() && !self.s.ends_with(' ') {
            self.s.push(' ');
        }
        self.generated = false;
    }

    /// A pause (em dash): a comma unless punctuation is already there.
    fn pause(&mut self) {
        let trimmed = self.s.trim_end_matches(' ').len();
        self.s.truncate(trimmed);
        if !self.s.is_empty() && !self.s.ends_with(PROSODY) {
            self.s.push(',');
        }
        self.space();
    }
}

/// A parsed numeral: integer digits (commas removed), fractional digit groups.
struct Numeral {
    int: String,
    commas: bool,
    /// Digit groups after each `.`: one for a decimal, more for "1.2.3".
    frac: Vec<String>,
    end: usize,
}

impl Numeral {
    fn is_integer(&self) -> bool {
        self.frac.is_empty() && !self.int.is_empty()
    }

    fn is_one(&self) -> bool {
        self.is_integer() && self.int.trim_start_matches('0') == "1"
    }

    fn value(&self) -> Option<u128> {
        if self.int.len() > MAX_CARDINAL_DIGITS {
            return None;
        }
        self.int.parse().ok()
    }

    /// Plain reading: cardinal plus "point d d d" for each fractional group.
    fn words(&self) -> String {
        let mut s = cardinal_digits(&self.int);
        for group in &self.frac {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str("point ");
            s.push_str(&digit_by_digit(group));
        }
        s
    }
}

struct Normalizer<'a> {
    c: &'a [char],
    out: Out,
    shouting: bool,
    last_number: bool,
    last_month: bool,
    last_capitalised: bool,
}

fn is_digit(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

fn is_letter(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphabetic())
}

fn capitalise(s: &str) -> String {
    let mut it = s.chars();
    match it.next() {
        Some(f) => f.to_uppercase().chain(it).collect(),
        None => String::new(),
    }
}

impl Normalizer<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }

    /// Index of the first non-space character at or after `i`.
    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.at(i) == Some(' ') {
            i += 1;
        }
        i
    }

    fn run(&mut self) {
        let mut i = 0;
        while i < self.c.len() {
            let was_number = std::mem::replace(&mut self.last_number, false);
            let was_month = std::mem::replace(&mut self.last_month, false);
            let was_capitalised = std::mem::replace(&mut self.last_capitalised, false);
            let c = self.c[i];
            let next = self.at(i + 1);
            let prev = if i > 0 { self.at(i - 1) } else { None };
            let word_start = prev.is_none_or(|p| !p.is_alphanumeric() && !matches!(p, '.' | ',' | ')'));
            i = match c {
                ' ' => {
                    self.out.space();
                    // White space does not end a number, month or name context.
                    self.last_number = was_number;
                    self.last_month = was_month;
                    self.last_capitalised = was_capitalised;
                    i + 1
                }
                '0'..='9' => self.number(i, false, was_month),
                '.' if is_digit(next) && word_start => self.number(i, false, false),
                '-' | '−' if is_digit(next) && word_start && !was_number => self.number(i + 1, true, false),
                '–' if was_number && is_digit(self.at(self.skip_spaces(i + 1))) => {
                    self.out.words("to");
                    self.skip_spaces(i + 1)
                }
                '-' if was_number && is_digit(next) && is_digit(prev) => {
                    self.out.words("to");
                    i + 1
                }
                '–' | '—' => {
                    self.out.pause();
                    i + 1
                }
                '−' => {
                    self.out.raw('-');
                    i + 1
                }
                c if CURRENCIES.iter().any(|cur| cur.0 == c) && is_digit(next) => self.currency(i),
                '#' if is_digit(self.at(self.skip_spaces(i + 1))) => {
                    self.out.words("number");
                    i + 1
                }
                '&' => self.symbol("and", i),
                '@' => self.symbol("at", i),
                '+' => self.symbol("plus", i),
                '=' => self.symbol("equals", i),
                '×' => self.symbol("times", i),
                '%' => self.symbol("percent", i),
                '\'' if is_digit(next) && word_start => i + 1,
                '.' if prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_lowercase) => {
                    // Domain names and file names: "example.com" → "example dot com".
                    self.out.words("dot");
                    self.out.space();
                    i + 1
                }
                c if c.is_alphabetic() => self.word(i, was_capitalised),
                ',' | ';' | ':' => {
                    self.out.raw(c);
                    if next.is_some_and(|n| n.is_alphanumeric()) {
                        self.out.space();
                    }
                    i + 1
                }
                '.' | '?' | '!' | '\'' | '"' | '(' | ')' | '-' | '¿' | '¡' => {
                    self.out.raw(c);
                    i + 1
                }
                c if c.is_alphanumeric() => {
                    self.out.raw(c);
                    i + 1
                }
                _ => {
                    self.out.space();
                    i + 1
                }
            };
        }
    }

    fn symbol(&mut self, word: &str, i: usize) -> usize {
        self.out.words(word);
        i + 1
    }

    // --- numbers ---------------------------------------------------------------------------------------------

    /// Parses digits with thousands commas and `.`-separated fractional groups starting at `i`.
    fn numeral(&self, i: usize) -> Numeral {
        let mut j = i;
        let mut int = String::new();
        let mut commas = false;
        let mut group = 0;
        while let Some(d) = self.at(j).filter(char::is_ascii_digit) {
            int.push(d);
            group += 1;
            j += 1;
            // A comma continues the number only before exactly three digits, after a well-formed group.
            let group_ok = if commas { group == 3 } else { group <= 3 };
            if self.at(j) == Some(',')
                && group_ok
                && (1..=3).all(|k| is_digit(self.at(j + k)))
                && !is_digit(self.at(j + 4))
            {
                commas = true;
                group = 0;
                j += 1;
            }
        }
        let mut frac = Vec::new();
        while self.at(j) == Some('.') && is_digit(self.at(j + 1)) {
            j += 1;
            let mut g = String::new();
            while let Some(d) = self.at(j).filter(char::is_ascii_digit) {
                g.push(d);
                j += 1;
            }
            frac.push(g);
        }
        Numeral { int, commas, frac, end: j }
    }

    /// Hyphen-separated telephone-like digit groups at `i`: returns the groups and the end index.
    fn phone(&self, i: usize) -> Option<(Vec<String>, usize)> {
        let mut groups = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while is_digit(self.at(j)) {
                j += 1;
            }
            let len = j - start;
            if !(1..=4).contains(&len) || (!groups.is_empty() && len < 2) {
                return None;
            }
            groups.push(self.c[start..j].iter().collect::<String>());
            if self.at(j) == Some('-') && is_digit(self.at(j + 1)) {
                j += 1;
            } else {
                break;
            }
        }
        if is_letter(self.at(j)) || matches!(self.at(j), Some('.' | ',')) && is_digit(self.at(j + 1)) {
            return None;
        }
        let total: usize = groups.iter().map(String::len).sum();
        let lens: Vec<usize> = groups.iter().map(String::len).collect();
        let ok = total >= 7 && (groups.len() >= 3 || lens == [3, 4]);
        ok.then_some((groups, j))
    }

    /// `a.m.`/`pm`/… after a number, optionally after one space: ("a m" or "p m", end, keep a full stop).
    fn am_pm(&self, i: usize) -> Option<(&'static str, usize, bool)> {
        let j = if self.at(i) == Some(' ') { i + 1 } else { i };
        let first = self.at(j)?.to_ascii_lowercase();
        let words = match first {
            'a' => "a m",
            'p' => "p m",
            _ => return None,
        };
        let (end, dotted) = match (self.at(j + 1), self.at(j + 2), self.at(j + 3)) {
            (Some('.'), Some('m' | 'M'), Some('.')) => (j + 4, true),
            (Some('m' | 'M'), _, _) => (j + 2, false),
            _ => return None,
        };
        if is_letter(self.at(end)) || is_digit(self.at(end)) {
            return None;
        }
        let keep_stop = dotted && self.sentence_ends_at(end, true);
        Some((words, end, keep_stop))
    }

    /// Whether the text after an abbreviation's full stop (at `i`) starts a new sentence: end of text, or (when
    /// `capital_counts`) a space and then a capital letter.
    fn sentence_ends_at(&self, i: usize, capital_counts: bool) -> bool {
        let mut k = i;
        while matches!(self.at(k), Some('"' | '\'' | ')')) {
            k += 1;
        }
        let after = self.skip_spaces(k);
        if after >= self.c.len() {
            return true;
        }
        capital_counts && after > k && self.at(after).is_some_and(char::is_uppercase)
    }

    /// A unit after a number (optionally after one space): (singular, plural, end).
    fn unit(&self, i: usize) -> Option<(&'static str, &'static str, usize)> {
        let j = if self.at(i) == Some(' ') { i + 1 } else { i };
        // Degrees.
        if self.at(j) == Some('°') {
            let k = self.skip_spaces(j + 1);
            return Some(match self.at(k) {
                Some('C') if !is_letter(self.at(k + 1)) => ("degree Celsius", "degrees Celsius", k + 1),
                Some('F') if !is_letter(self.at(k + 1)) => ("degree Fahrenheit", "degrees Fahrenheit", k + 1),
                _ => ("degree", "degrees", j + 1),
            });
        }
        let mut k = j;
        while is_letter(self.at(k)) {
            k += 1;
        }
        if k == j {
            return None;
        }
        if self.at(k) == Some('/') && is_letter(self.at(k + 1)) {
            let mut m = k + 1;
            while is_letter(self.at(m)) {
                m += 1;
            }
            let token: String = self.c[j..m].iter().collect();
            if let Some(u) = UNITS.iter().find(|u| u.0 == token)
                && !is_digit(self.at(m))
            {
                return Some((u.1, u.2, m));
            }
        }
        if is_digit(self.at(k)) || self.at(k) == Some('/') {
            return None;
        }
        let token: String = self.c[j..k].iter().collect();
        UNITS.iter().find(|u| u.0 == token).map(|u| (u.1, u.2, k))
    }

    /// Reads a number starting at `i` (a digit, or the `.` of ".5"); `negative` when a minus sign preceded it.
    fn number(&mut self, i: usize, negative: bool, after_month: bool) -> usize {
        let minus = |s: String| if negative { format!("minus {s}") } else { s };
        // ISO dates: 2023-02-08.
        if !negative && let Some(end) = self.iso_date(i) {
            return end;
        }
        // Telephone-like groups.
        if !negative && let Some((groups, end)) = self.phone(i) {
            let spoken: Vec<String> = groups.iter().map(|g| digit_by_digit(g)).collect();
            self.out.words(&spoken.join(", "));
            return end;
        }
        // Time of day.
        if !negative && let Some(end) = self.time(i) {
            return end;
        }
        let n = self.numeral(i);
        let j = n.end;
        if n.frac.len() > 1 {
            self.out.words(&minus(n.words()));
            self.last_number = true;
            return j;
        }
        let suffix: String = self.c[j..].iter().take_while(|c| c.is_alphabetic()).collect();
        let after_suffix = j + suffix.chars().count();
        // Ordinal: 21st, 2nd, 100th.
        if n.is_integer()
            && matches!(suffix.to_ascii_lowercase().as_str(), "st" | "nd" | "rd" | "th")
            && !is_digit(self.at(after_suffix))
        {
            self.out.words(&minus(ordinal_words(&cardinal_digits(&n.int))));
            return after_suffix;
        }
        // Plural / decade: 1990s, 80s, 1990's.
        let plural_end = match (self.at(j), self.at(j + 1)) {
            (Some('s'), _) if suffix == "s" => Some(j + 1),
            (Some('\''), Some('s')) if !is_letter(self.at(j + 2)) => Some(j + 2),
            _ => None,
        };
        if n.is_integer()
            && let Some(end) = plural_end
        {
            let base =
                if self.is_year(&n, negative) { year(n.value().unwrap_or(0) as u32) } else { cardinal_digits(&n.int) };
            self.out.words(&minus(plural_words(&base)));
            return end;
        }
        // Percent.
        let pct = if self.at(j) == Some(' ') { j + 1 } else { j };
        if self.at(pct) == Some('%') {
            self.out.words(&minus(format!("{} percent", n.words())));
            self.last_number = true;
            return pct + 1;
        }
        // a.m. / p.m.
        if n.is_integer()
            && !negative
            && n.value().is_some_and(|v| (1..=12).contains(&v))
            && let Some((ampm, end, keep_stop)) = self.am_pm(j)
        {
            self.out.words(&format!("{} {ampm}", cardinal_digits(&n.int)));
            if keep_stop {
                self.out.raw('.');
            }
            return end;
        }
        // Units.
        if let Some((one, many, end)) = self.unit(j) {
            let unit = if n.is_one() { one } else { many };
            self.out.words(&minus(format!("{} {unit}", n.words())));
            self.last_number = true;
            return end;
        }
        // Fractions: 1/2, 3/4 (not dates like 3/4/2020, not 24/7).
        if n.is_integer() && self.at(j) == Some('/') && !(i > 0 && self.at(i - 1) == Some('/')) {
            let den = self.numeral(j + 1);
            if den.is_integer()
                && den.frac.is_empty()
                && self.at(den.end) != Some('/')
                && !is_letter(self.at(den.end))
                && let (Some(a), Some(b)) = (n.value(), den.value())
                && a < b
                && (2..=16).contains(&b)
            {
                let denom = match (b, a) {
                    (2, 1) => "half".to_string(),
                    (2, _) => "halves".to_string(),
                    (4, 1) => "quarter".to_string(),
                    (4, _) => "quarters".to_string(),
                    (_, 1) => ordinal_words(&cardinal(b)),
                    _ => plural_words(&ordinal_words(&cardinal(b))),
                };
                self.out.words(&minus(format!("{} {denom}", cardinal(a))));
                return den.end;
            }
        }
        // Bare numbers.
        let words = if n.int.is_empty() {
            n.words()
        } else if self.is_digit_string(&n) {
            digit_by_digit(&n.int)
        } else if after_month && n.is_integer() && n.value().is_some_and(|v| (1..=31).contains(&v)) {
            ordinal_words(&cardinal_digits(&n.int))
        } else if self.is_year(&n, negative) {
            year(n.value().unwrap_or(0) as u32)
        } else {
            n.words()
        };
        self.out.words(&minus(words));
        self.last_number = true;
        j
    }

    /// Read digit by digit: a leading zero ("007") or a long run without commas that is not round ("5551234").
    fn is_digit_string(&self, n: &Numeral) -> bool {
        n.is_integer()
            && !n.commas
            && ((n.int.len() >= 2 && n.int.starts_with('0')) || (n.int.len() >= 7 && !n.int.ends_with("000")))
    }

    fn is_year(&self, n: &Numeral, negative: bool) -> bool {
        !negative
            && n.is_integer()
            && !n.commas
            && n.int.len() == 4
            && n.value().is_some_and(|v| (1001..=2099).contains(&v))
    }

    /// `YYYY-MM-DD` with a valid month and day: "February eighth, twenty twenty-three".
    fn iso_date(&mut self, i: usize) -> Option<usize> {
        let digits = |from: usize, len: usize| -> Option<u32> {
            let s: String = self.c.get(from..from + len)?.iter().collect();
            if s.len() == len && s.chars().all(|c| c.is_ascii_digit()) { s.parse().ok() } else { None }
        };
        let y = digits(i, 4)?;
        if self.at(i + 4) != Some('-') || self.at(i + 7) != Some('-') {
            return None;
        }
        let m = digits(i + 5, 2)?;
        let d = digits(i + 8, 2)?;
        let end = i + 10;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || is_digit(self.at(end)) || self.at(end) == Some('-') {
            return None;
        }
        let y_words = if (1001..=2099).contains(&y) { year(y) } else { cardinal(y.into()) };
        let words = format!("{} {}, {y_words}", MONTHS[m as usize - 1], ordinal_words(&cardinal(d.into())));
        self.out.words(&words);
        Some(end)
    }

    /// `h:mm[:ss]` with an optional a.m./p.m.; returns the end index when it matched.
    fn time(&mut self, i: usize) -> Option<usize> {
        let mut j = i;
        while is_digit(self.at(j)) {
            j += 1;
        }
        if !(1..=2).contains(&(j - i)) || self.at(j) != Some(':') {
            return None;
        }
        let two = |k: usize| -> Option<u32> {
            if is_digit(self.at(k)) && is_digit(self.at(k + 1)) && !is_digit(self.at(k + 2)) {
                Some(self.at(k)?.to_digit(10)? * 10 + self.at(k + 1)?.to_digit(10)?)
            } else {
                None
            }
        };
        let h: u32 = self.c[i..j].iter().collect::<String>().parse().ok()?;
        let mm = two(j + 1)?;
        if h > 24 || mm > 59 {
            return None;
        }
        let mut end = j + 3;
        let mut ss = None;
        if self.at(end) == Some(':')
            && let Some(s) = two(end + 1)
            && s <= 59
        {
            ss = Some(s);
            end += 3;
        }
        let ampm = self.am_pm(end);
        let mut words = cardinal(h.into());
        match (mm, ss, &ampm) {
            (0, None, Some(_)) => {}
            (0, None, None) if h <= 12 => words.push_str(" o'clock"),
            (0, None, None) => words.push_str(" hundred"),
            (mm, _, _) => {
                words.push(' ');
                words.push_str(&minute_words(mm));
            }
        }
        if let Some(s) = ss {
            words.push_str(&format!(" and {} second{}", cardinal(s.into()), if s == 1 { "" } else { "s" }));
        }
        if let Some((ap, ap_end, keep_stop)) = ampm {
            words.push(' ');
            words.push_str(ap);
            self.out.words(&words);
            if keep_stop {
                self.out.raw('.');
            }
            return Some(ap_end);
        }
        self.out.words(&words);
        Some(end)
    }

    fn currency(&mut self, i: usize) -> usize {
        let (_, one, many, sub) = *CURRENCIES.iter().find(|c| c.0 == self.c[i]).expect("checked by caller");
        let n = self.numeral(i + 1);
        let mut j = n.end;
        // "$5 million", "$2.5 billion".
        let k = self.skip_spaces(j);
        if k == j + 1 {
            let word: String = self.c[k..].iter().take_while(|c| c.is_alphabetic()).collect();
            if SCALE_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                self.out.words(&format!("{} {} {many}", n.words(), word.to_ascii_lowercase()));
                self.last_number = true;
                return k + word.chars().count();
            }
        }
        let main = cardinal_digits(&n.int);
        let main_word = if n.is_one() { one } else { many };
        let words = match (n.frac.first(), sub) {
            (None, _) => format!("{main} {main_word}"),
            (Some(f), Some((sub_one, sub_many))) if f.len() <= 2 => {
                let cents: u32 = if f.len() == 1 { f.parse::<u32>().unwrap_or(0) * 10 } else { f.parse().unwrap_or(0) };
                let whole_zero = n.int.trim_start_matches('0').is_empty();
                let sub_word = if cents == 1 { sub_one } else { sub_many };
                match (whole_zero, cents) {
                    (true, 0) => format!("zero {many}"),
                    (true, c) => format!("{} {sub_word}", cardinal(c.into())),
                    (false, 0) => format!("{main} {}", if n.int.trim_start_matches('0') == "1" { one } else { many }),
                    (false, c) => {
                        let w = if n.int.trim_start_matches('0') == "1" { one } else { many };
                        format!("{main} {w} {} {sub_word}", cardinal(c.into()))
                    }
                }
            }
            (Some(_), _) => format!("{} {many}", n.words()),
        };
        self.out.words(&words);
        j = n.end;
        self.last_number = true;
        j
    }

    // --- words -----------------------------------------------------------------------------------------------

    fn word(&mut self, i: usize, prev_capitalised: bool) -> usize {
        let mut j = i;
        while j < self.c.len() {
            let inner_apostrophe = self.c[j] == '\'' && is_letter(self.at(j + 1)) && j > i;
            if !(self.c[j].is_alphabetic() || inner_apostrophe) {
                break;
            }
            j += 1;
        }
        let w: String = self.c[i..j].iter().collect();
        let lower = w.to_lowercase();
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        let next_capitalised = |k: usize| {
            let k = self.skip_spaces(k);
            k > 0 && self.at(k).is_some_and(char::is_uppercase)
        };
        let with_case = |s: &str| if capital { capitalise(s) } else { s.to_string() };

        // Dotted initialisms: U.S.A., e.g., a.m., Ph.D.
        if self.at(j) == Some('.')
            && w.chars().count() <= 2
            && let Some((chunks, end)) = self.dotted(i)
        {
            let key: String = chunks.concat().to_lowercase();
            let (spoken, capital_ends) = match DOTTED.iter().find(|d| d.0 == key) {
                Some((k, s)) => (s.to_string(), matches!(*k, "am" | "pm")),
                None if chunks.iter().all(|c| c.chars().count() == 1) => (chunks.join(" "), false),
                None => (chunks.join(". ") + ".", false),
            };
            let keep_stop = !matches!(key.as_str(), "eg" | "ie") && self.sentence_ends_at(end, capital_ends);
            self.out.words(&spoken);
            if keep_stop && !spoken.ends_with('.') {
                self.out.raw('.');
            }
            return end;
        }

        if self.at(j) == Some('.') {
            let after = j + 1;
            // "No. 5" → "number five".
            if lower == "no" && is_digit(self.at(self.skip_spaces(after))) {
                self.out.words("number");
                return after;
            }
            match lower.as_str() {
                "st" => {
                    let s = if next_capitalised(after) { "saint" } else { "street" };
                    self.out.words(&with_case(s));
                    self.last_capitalised = capital;
                    return after;
                }
                "dr" => {
                    let s = if !next_capitalised(after) && prev_capitalised { "drive" } else { "doctor" };
                    self.out.words(&with_case(s));
                    self.last_capitalised = capital;
                    return after;
                }
                _ => {}
            }
            let found = DOT_ABBREVIATIONS
                .iter()
                .find(|(abbr, _, _)| if abbr.starts_with(char::is_uppercase) { *abbr == w } else { *abbr == lower });
            if let Some((abbr, expansion, may_end)) = found {
                let month = abbr.starts_with(char::is_uppercase);
                let spoken = if month { expansion.to_string() } else { with_case(expansion) };
                self.out.words(&spoken);
                if *may_end && self.sentence_ends_at(after, true) {
                    self.out.raw('.');
                }
                self.last_month = month;
                self.last_capitalised = capital;
                return after;
            }
        }

        // Dotless titles before a capitalised word: "Dr Smith", "St Louis".
        if DOTLESS_TITLES.contains(&lower.as_str()) && capital && self.at(j) == Some(' ') && next_capitalised(j) {
            let s = match lower.as_str() {
                "mr" => "mister",
                "mrs" => "missus",
                "ms" => "miz",
                "dr" => "doctor",
                _ => "saint",
            };
            self.out.words(&capitalise(s));
            self.last_capitalised = true;
            return j;
        }
        match lower.as_str() {
            "vs" => {
                self.out.words("versus");
                return j;
            }
            "etc" => {
                self.out.words("et cetera");
                return j;
            }
            _ => {}
        }

        if let Some(spelled) = self.spell_acronym(&w) {
            self.out.words(&spelled);
            self.last_capitalised = true;
            return j;
        }
        self.out.raw_str(&w);
        self.last_month = MONTHS.contains(&w.as_str());
        self.last_capitalised = capital;
        j
    }

    /// `U.S.A.`-style chunks of 1–2 letters each followed by a full stop, at least two of them.
    fn dotted(&self, i: usize) -> Option<(Vec<String>, usize)> {
        let mut chunks = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while is_letter(self.at(j)) && j - start < 3 {
                j += 1;
            }
            let len = j - start;
            if !(1..=2).contains(&len) || self.at(j) != Some('.') {
                // Not a chunk: the pattern ends before `start`.
                j = start;
                break;
            }
            chunks.push(self.c[start..j].iter().collect::<String>());
            j += 1;
            if !is_letter(self.at(j)) {
                break;
            }
        }
        if chunks.len() < 2 || is_letter(self.at(j)) || is_digit(self.at(j)) {
            return None;
        }
        Some((chunks, j))
    }

    fn spell_acronym(&self, w: &str) -> Option<String> {
        if self.shouting || !(2..=5).contains(&w.len()) || !w.chars().all(|c| c.is_ascii_uppercase()) {
            return None;
        }
        if CAPS_WORDS.contains(&w) {
            return None;
        }
        let no_vowel = !w.chars().any(|c| "AEIOU".contains(c));
        if no_vowel || SPELLED.contains(&w) {
            Some(w.chars().map(String::from).collect::<Vec<_>>().join(" "))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (input, want) in cases {
            let got = normalize_english(input);
            if got != *want {
                failures.push(format!("  {input:?}\n    want {want:?}\n    got  {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn cardinals() {
        check(&[
            ("0", "zero"),
            ("7", "seven"),
            ("13", "thirteen"),
            ("40", "forty"),
            ("42", "forty-two"),
            ("100", "one hundred"),
            ("101", "one hundred one"),
            ("999", "nine hundred ninety-nine"),
            ("1,000", "one thousand"),
            ("1,234", "one thousand two hundred thirty-four"),
            ("12,345", "twelve thousand three hundred forty-five"),
            ("12345", "twelve thousand three hundred forty-five"),
            ("1,000,000", "one million"),
            ("2,500,000", "two million five hundred thousand"),
            ("1,000,000,000", "one billion"),
            ("3,000,000,000,000", "three trillion"),
            (
                "1,234,567,891,234",
                "one trillion two hundred thirty-four billion five hundred sixty-seven million eight hundred \
                 ninety-one thousand two hundred thirty-four",
            ),
            ("1000000", "one million"),
            ("I have 3 cats.", "I have three cats."),
            ("She has 2,000 sheep and 15 goats", "She has two thousand sheep and fifteen goats"),
        ]);
    }

    #[test]
    fn decimals_and_negatives() {
        check(&[
            ("3.14", "three point one four"),
            ("0.5", "zero point five"),
            (".5", "point five"),
            ("pi is 3.14159.", "pi is three point one four one five nine."),
            ("-5", "minus five"),
            ("it was −3.5 today", "it was minus three point five today"),
            ("(-2)", "(minus two)"),
            ("version 2.0.1", "version two point zero point one"),
            ("1,234.5", "one thousand two hundred thirty-four point five"),
        ]);
    }

    #[test]
    fn ordinals() {
        check(&[
            ("1st", "first"),
            ("2nd", "second"),
            ("3rd", "third"),
            ("4th", "fourth"),
            ("5th", "fifth"),
            ("8th", "eighth"),
            ("9th", "ninth"),
            ("12th", "twelfth"),
            ("20th", "twentieth"),
            ("21st", "twenty-first"),
            ("42nd", "forty-second"),
            ("100th", "one hundredth"),
            ("1,000th", "one thousandth"),
            ("the 19th century", "the nineteenth century"),
            ("January 5, 2020", "January fifth, twenty twenty"),
            ("on Mar. 3", "on March third"),
        ]);
    }

    #[test]
    fn years() {
        check(&[
            ("1999", "nineteen ninety-nine"),
            ("in 1066", "in ten sixty-six"),
            ("1900", "nineteen hundred"),
            ("1905", "nineteen oh five"),
            ("2000", "two thousand"),
            ("2005", "two thousand five"),
            ("2010", "twenty ten"),
            ("2024", "twenty twenty-four"),
            ("1990s", "nineteen nineties"),
            ("the 2010s", "the twenty tens"),
            ("2000s", "two thousands"),
            ("1800s", "eighteen hundreds"),
            ("the '90s", "the nineties"),
            ("the 80s", "the eighties"),
            ("the 1960's", "the nineteen sixties"),
            ("1990–2000", "nineteen ninety to two thousand"),
            ("1990 – 2000", "nineteen ninety to two thousand"),
            ("1939-1945", "nineteen thirty-nine to nineteen forty-five"),
            ("1000", "one thousand"),
            ("2100", "two thousand one hundred"),
        ]);
    }

    #[test]
    fn currency() {
        check(&[
            ("$5.50", "five dollars fifty cents"),
            ("$5", "five dollars"),
            ("$1", "one dollar"),
            ("$1.01", "one dollar one cent"),
            ("$0.99", "ninety-nine cents"),
            ("$5.00", "five dollars"),
            ("$5.5", "five dollars fifty cents"),
            ("$1,000,000", "one million dollars"),
            ("$1999", "one thousand nine hundred ninety-nine dollars"),
            ("$5 million", "five million dollars"),
            ("$2.5 billion", "two point five billion dollars"),
            ("£3", "three pounds"),
            ("£1", "one pound"),
            ("£3.50", "three pounds fifty pence"),
            ("€20", "twenty euros"),
            ("€2.05", "two euros five cents"),
            ("¥100", "one hundred yen"),
            ("It costs $12.", "It costs twelve dollars."),
            ("$", ""),
        ]);
    }

    #[test]
    fn percent_units_and_degrees() {
        check(&[
            ("50%", "fifty percent"),
            ("3.5%", "three point five percent"),
            ("-2%", "minus two percent"),
            ("5–10%", "five to ten percent"),
            ("10 km", "ten kilometers"),
            ("1 km", "one kilometer"),
            ("5km", "five kilometers"),
            ("2.5 kg", "two point five kilograms"),
            ("30 cm", "thirty centimeters"),
            ("3mm", "three millimeters"),
            ("100 m", "one hundred meters"),
            ("6 ft", "six feet"),
            ("1 ft", "one foot"),
            ("150 lbs", "one hundred fifty pounds"),
            ("60 mph", "sixty miles per hour"),
            ("100 km/h", "one hundred kilometers per hour"),
            ("20°C", "twenty degrees Celsius"),
            ("-5 °C", "minus five degrees Celsius"),
            ("98.6°F", "ninety-eight point six degrees Fahrenheit"),
            ("1°", "one degree"),
            ("90°", "ninety degrees"),
            ("25℃", "twenty-five degrees Celsius"),
            ("16 GB", "sixteen gigabytes"),
            ("5 min", "five minutes"),
            ("5 men", "five men"),
            ("2 in the box", "two in the box"),
        ]);
    }

    #[test]
    fn times() {
        check(&[
            ("3:30 pm", "three thirty p m"),
            ("3:30pm", "three thirty p m"),
            ("3:30 PM", "three thirty p m"),
            ("at 3:30 p.m. today", "at three thirty p m today"),
            ("It ended at 3:30 p.m.", "It ended at three thirty p m."),
            ("3:05", "three oh five"),
            ("3:00", "three o'clock"),
            ("3:00 am", "three a m"),
            ("15:45", "fifteen forty-five"),
            ("15:00", "fifteen hundred"),
            ("3pm", "three p m"),
            ("7 a.m. The", "seven a m. The"),
            ("12:30:15", "twelve thirty and fifteen seconds"),
            ("ratio 2:1", "ratio two: one"),
        ]);
    }

    #[test]
    fn phone_and_digit_strings() {
        check(&[
            ("555-1234", "five five five, one two three four"),
            ("on 2023-02-08 at", "on February eighth, twenty twenty-three at"),
            ("2023-13-08", "two zero two three, one three, zero eight"),
            ("call 555-123-4567 now", "call five five five, one two three, four five six seven now"),
            ("1-800-555-0199", "one, eight zero zero, five five five, zero one nine nine"),
            ("5551234567", "five five five one two three four five six seven"),
            ("agent 007", "agent zero zero seven"),
            ("10-20", "ten to twenty"),
            ("pages 10–20", "pages ten to twenty"),
            ("12345678901234567890123456789012345678", {
                "one two three four five six seven eight nine zero one two three four five six seven eight nine \
                 zero one two three four five six seven eight nine zero one two three four five six seven eight"
            }),
        ]);
    }

    #[test]
    fn fractions() {
        check(&[
            ("1/2", "one half"),
            ("3/4", "three quarters"),
            ("2/3", "two thirds"),
            ("1/3 cup", "one third cup"),
            ("24/7", "twenty-four seven"),
        ]);
    }

    #[test]
    fn abbreviations() {
        check(&[
            ("Mr. Smith", "Mister Smith"),
            ("Mrs. Smith", "Missus Smith"),
            ("Ms. Jones", "Miz Jones"),
            ("Dr. Who", "Doctor Who"),
            ("Dr Watson", "Doctor Watson"),
            ("He lives on Mulholland Dr.", "He lives on Mulholland Drive"),
            ("St. Louis", "Saint Louis"),
            ("St Paul's", "Saint Paul's"),
            ("Baker st. is long", "Baker street is long"),
            ("221 Baker St.", "two hundred twenty-one Baker Street"),
            ("Martin Luther King Jr. said", "Martin Luther King Junior said"),
            ("Martin Luther King Jr.", "Martin Luther King Junior."),
            ("Ali vs. Frazier", "Ali versus Frazier"),
            ("apples, pears, etc. and more", "apples, pears, et cetera and more"),
            ("apples, pears, etc.", "apples, pears, et cetera."),
            ("fruit, e.g. apples", "fruit, for example apples"),
            ("one thing, i.e. this", "one thing, that is this"),
            ("No. 5", "number five"),
            ("No.10", "number ten"),
            ("No. I refuse.", "No. I refuse."),
            ("Prof. Plum", "Professor Plum"),
            ("pp. 12-34", "pages twelve to thirty-four"),
            ("Gen. Lee", "General Lee"),
            ("Lt. Dan", "Lieutenant Dan"),
            ("Sgt. Pepper", "Sergeant Pepper"),
            ("Capt. Hook", "Captain Hook"),
            ("Smith & Co. The firm", "Smith and Company. The firm"),
            ("Acme Ltd. and Foo Inc. merged", "Acme Limited and Foo Incorporated merged"),
            ("Jan. 1", "January first"),
            ("Sept. 11", "September eleventh"),
            ("Dec. 25, 1999", "December twenty-fifth, nineteen ninety-nine"),
            ("a Ph.D. student", "a P H D student"),
            ("the U.S. Army", "the U S Army"),
            ("in the U.S.A.", "in the U S A."),
            ("don't stop", "don't stop"),
        ]);
    }

    #[test]
    fn acronyms() {
        check(&[
            ("the FBI agent", "the F B I agent"),
            ("NASA launched", "NASA launched"),
            ("NATO", "NATO"),
            ("on the BBC", "on the B B C"),
            ("watch TV", "watch T V"),
            ("the CEO said", "the C E O said"),
            ("an MP3 file", "an M P three file"),
            ("WHY", "WHY"),
            ("I am OK", "I am OK"),
            ("A cat", "A cat"),
            ("THE FBI IS WATCHING YOU NOW", "THE FBI IS WATCHING YOU NOW"),
        ]);
    }

    #[test]
    fn symbols() {
        check(&[
            ("salt & pepper", "salt and pepper"),
            ("me@home", "me at home"),
            ("mail help@example.com.", "mail help at example dot com."),
            ("see readme.txt", "see readme dot txt"),
            ("end.Next", "end.Next"),
            ("2+2=4", "two plus two equals four"),
            ("#1 hit", "number one hit"),
            ("# 5", "number five"),
            ("#hashtag", "hashtag"),
            ("a * b", "a b"),
            ("3 × 4", "three times four"),
            ("and/or", "and or"),
            ("[laughs] ok", "laughs ok"),
        ]);
    }

    #[test]
    fn unicode_punctuation_and_whitespace() {
        check(&[
            ("\u{201C}Hello,\u{201D} she said.", "\"Hello,\" she said."),
            ("it\u{2019}s", "it's"),
            ("wait\u{2026}", "wait..."),
            ("yes \u{2014} no", "yes, no"),
            ("yes\u{2014}no", "yes, no"),
            ("yes -- no", "yes, no"),
            ("well\u{2010}known", "well-known"),
            ("  lots   of\t\nspace  ", "lots of space"),
            ("a\u{00A0}b", "a b"),
            ("zero\u{200B}width", "zerowidth"),
            ("Really?! Yes; no: maybe.", "Really?! Yes; no: maybe."),
            ("one ,two", "one, two"),
            ("1,2,3", "one, two, three"),
            ("Caf\u{00E9} cr\u{00E8}me", "Caf\u{00E9} cr\u{00E8}me"),
            ("", ""),
            ("COVID-19", "COVID-nineteen"),
            ("pre-1990 cars", "pre-nineteen ninety cars"),
            ("B52", "B fifty-two"),
            ("5x", "five x"),
        ]);
    }

    #[test]
    fn number_words_helpers() {
        assert_eq!(cardinal(u128::from(u64::MAX)), {
            "eighteen quintillion four hundred forty-six quadrillion seven hundred forty-four trillion seventy-three \
             billion seven hundred nine million five hundred fifty-one thousand six hundred fifteen"
        });
        assert_eq!(ordinal_words("twenty-one"), "twenty-first");
        assert_eq!(ordinal_words("one hundred"), "one hundredth");
        assert_eq!(ordinal_words("zero"), "zeroth");
        assert_eq!(year(1066), "ten sixty-six");
        assert_eq!(plural_words("six"), "sixes");
    }
}

#[cfg(test)]
mod robustness {
    use super::normalize_english;

    /// Random strings over an alphabet full of the characters the rules look at must never panic, and the output
    /// never holds digits (every ASCII digit is read out), line breaks or doubled spaces.
    #[test]
    fn never_panics_and_reads_every_digit() {
        let alphabet: Vec<char> =
            "0123456789 .,:;-–—−'\"$£€¥%°/#&@+=×()aAmMpPsStThHdDrRnNoOkKgCF\u{2019}\u{2026}\u{00A0}é\n|"
                .chars()
                .collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let s: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let out = normalize_english(&s);
            assert!(!out.chars().any(|c| c.is_ascii_digit()), "{s:?} -> {out:?}");
            assert!(!out.contains('\n') && !out.contains("  "), "{s:?} -> {out:?}");
            assert_eq!(out, out.trim(), "{s:?}");
        }
    }
}
