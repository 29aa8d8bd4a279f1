use super::*;

/// Each input normalised in `language` must give exactly the expected text and no issues.
fn check(language: &str, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (input, want) in cases {
        let got = normalize(input, language);
        if got.text != *want || !got.issues.is_empty() {
            failures
                .push(format!("  {language} {input:?}\n    want {want:?}\n    got  {:?} {:?}", got.text, got.issues));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn spanish() {
    check(
        "es",
        &[
            ("Tengo 0 euros.", "Tengo cero euros."),
            ("Tiene 15 años.", "Tiene quince años."),
            ("el 21 de marzo", "el veintiuno de marzo"),
            ("Nació en 1999.", "Nació en mil novecientos noventa y nueve."),
            ("Estamos en 2026.", "Estamos en dos mil veintiséis."),
            ("Página 100, línea 101.", "Página cien, línea ciento uno."),
            ("Son 1.000 habitantes.", "Son mil habitantes."),
            ("Unos 1 000 000 de votos.", "Unos un millón de votos."),
            ("21 millones de personas", "veintiún millones de personas"),
            ("La tasa es 3,5 %.", "La tasa es tres coma cinco por ciento."),
            ("Pi vale 3,14.", "Pi vale tres coma catorce."),
            ("Sube un 0,05", "Sube un cero coma cero cinco"),
            ("El 50% de 200", "El cincuenta por ciento de doscientos"),
            ("Cuesta 5,50 €.", "Cuesta cinco euros con cincuenta."),
            ("Cuesta €20.", "Cuesta veinte euros."),
            ("Pagó $1.", "Pagó un dólar."),
            ("Son 21 €.", "Son veintiún euros."),
            ("Son 21 £.", "Son veintiuna libras."),
            ("Son 200 £.", "Son doscientas libras."),
            ("Vale 0,50 €.", "Vale cincuenta céntimos."),
            ("Ganó 1.000.000 €.", "Ganó un millón de euros."),
            ("el 1.º de la clase", "el primero de la clase"),
            ("la 2.ª vez", "la segunda vez"),
            ("el 1er día", "el primer día"),
            ("el 3.er puesto", "el tercer puesto"),
            ("el 21º", "el vigésimo primero"),
            ("Hace -5 grados.", "Hace menos cinco grados."),
            ("Llama al 612345678.", "Llama al seis uno dos tres cuatro cinco seis siete ocho."),
            ("Pan & vino", "Pan y vino"),
        ],
    );
}

#[test]
fn german() {
    check(
        "de",
        &[
            ("Es kostet 5 Euro.", "Es kostet fünf Euro."),
            ("Null ist 0.", "Null ist null."),
            ("Er ist 17.", "Er ist siebzehn."),
            ("Es dauert 21 Tage.", "Es dauert einundzwanzig Tage."),
            ("Im Jahr 1999 und 2026", "Im Jahr neunzehnhundertneunundneunzig und zweitausendsechsundzwanzig"),
            ("100 oder 101 Seiten", "einhundert oder einhunderteins Seiten"),
            ("1.000 Menschen", "eintausend Menschen"),
            ("1 000 000 Menschen", "eine Million Menschen"),
            ("1 Million", "eine Million"),
            ("Die Quote liegt bei 3,5 %.", "Die Quote liegt bei drei Komma fünf Prozent."),
            ("Pi ist 3,14.", "Pi ist drei Komma eins vier."),
            ("50% mehr", "fünfzig Prozent mehr"),
            ("nur 1 %", "nur ein Prozent"),
            ("Das kostet 5,50 €.", "Das kostet fünf Euro fünfzig."),
            ("Preis: € 1.", "Preis: ein Euro."),
            ("Das kostet £10.", "Das kostet zehn Pfund."),
            ("Das kostet 0,99 €.", "Das kostet neunundneunzig Cent."),
            ("Er gewann 1.000.000 €.", "Er gewann eine Million Euro."),
            ("Es hat -3 Grad.", "Es hat minus drei Grad."),
        ],
    );
}

#[test]
fn french() {
    check(
        "fr",
        &[
            ("Il a 0 enfant.", "Il a zéro enfant."),
            ("Il a 16 ans.", "Il a seize ans."),
            ("Elle a 21 ans.", "Elle a vingt et un ans."),
            (
                "70, 71, 80, 81, 90, 91 et 99",
                "soixante-dix, soixante et onze, quatre-vingts, quatre-vingt-un, quatre-vingt-dix, quatre-vingt-onze et quatre-vingt-dix-neuf",
            ),
            ("Il a 80 ans.", "Il a quatre-vingts ans."),
            ("En 2026 comme en 1999", "En deux mille vingt-six comme en mille neuf cent quatre-vingt-dix-neuf"),
            ("100, 101 et 1000", "cent, cent un et mille"),
            ("1 000 000 d'habitants", "un million d'habitants"),
            ("1.000 personnes", "mille personnes"),
            ("Le taux est de 3,5 %.", "Le taux est de trois virgule cinq pour cent."),
            ("Ça coûte 5,50 €.", "Ça coûte cinq euros cinquante."),
            ("Ça coûte 1 €.", "Ça coûte un euro."),
            ("Ça coûte 1,5 €.", "Ça coûte un virgule cinq euro."),
            ("Ça coûte 21 £.", "Ça coûte vingt et une livres."),
            ("Ça coûte 0,50 €.", "Ça coûte cinquante centimes."),
            ("Ça coûte $5.", "Ça coûte cinq dollars."),
            ("Il a gagné 1 000 000 €.", "Il a gagné un million d'euros."),
            ("le 1er mai", "le premier mai"),
            ("la 1re fois", "la première fois"),
            ("le 2e étage", "le deuxième étage"),
            ("le 21e siècle", "le vingt et unième siècle"),
            ("Il fait -5 degrés.", "Il fait moins cinq degrés."),
        ],
    );
}

#[test]
fn italian() {
    check(
        "it",
        &[
            ("Ho 0 euro.", "Ho zero euro."),
            ("Ha 17 anni.", "Ha diciassette anni."),
            ("21, 23 e 28", "ventuno, ventitré e ventotto"),
            ("Nel 2026 e nel 1999", "Nel duemilaventisei e nel millenovecentonovantanove"),
            ("100, 101 e 1.000", "cento, centouno e mille"),
            ("1.000.000 di persone", "un milione di persone"),
            ("Il tasso è del 3,5 %.", "Il tasso è del tre virgola cinque per cento."),
            ("il 50% dei voti", "il cinquanta per cento dei voti"),
            ("Costa 5,50 €.", "Costa cinque euro e cinquanta."),
            ("Costa 1 €.", "Costa un euro."),
            ("Costa 1 £.", "Costa una sterlina."),
            ("Costa $2.", "Costa due dollari."),
            ("Costa 0,50 €.", "Costa cinquanta centesimi."),
            ("Ha vinto 1.000.000 €.", "Ha vinto un milione di euro."),
            ("il 1º maggio", "il primo maggio"),
            ("la 3ª volta", "la terza volta"),
        ],
    );
}

#[test]
fn portuguese() {
    check(
        "pt",
        &[
            ("Tenho 0 reais.", "Tenho zero reais."),
            ("Ela tem 16 anos.", "Ela tem dezesseis anos."),
            ("Ele tem 21 anos.", "Ele tem vinte e um anos."),
            ("Em 2026 e em 1999", "Em dois mil e vinte e seis e em mil novecentos e noventa e nove"),
            ("100, 101 e 1.000", "cem, cento e um e mil"),
            ("1.000.000 de pessoas", "um milhão de pessoas"),
            ("A taxa é de 3,5 %.", "A taxa é de três vírgula cinco por cento."),
            ("Custa 5,50 €.", "Custa cinco euros e cinquenta."),
            ("Custa 2 £.", "Custa duas libras."),
            ("Custa 0,50 $.", "Custa cinquenta centavos."),
            ("Ganhou 1.000.000 €.", "Ganhou um milhão de euros."),
            ("Custa R$ 1,00 ou R$21,50.", "Custa um real ou vinte e um reais e cinquenta."),
            ("Custa US$ 3.", "Custa três dólares."),
            ("o 1º lugar", "o primeiro lugar"),
            ("a 2ª vez", "a segunda vez"),
        ],
    );
    check("pt-PT", &[("Ela tem 16 anos.", "Ela tem dezasseis anos."), ("Custa 0,50 €.", "Custa cinquenta cêntimos.")]);
}

#[test]
fn dutch() {
    check(
        "nl",
        &[
            ("Ik heb 0 euro.", "Ik heb nul euro."),
            ("Hij is 13.", "Hij is dertien."),
            ("21 en 22 en 23", "eenentwintig en tweeëntwintig en drieëntwintig"),
            ("In 1999 en 2026", "In negentienhonderdnegenennegentig en tweeduizend zesentwintig"),
            ("100, 101 en 1.000", "honderd, honderdeen en duizend"),
            ("1.000.000 mensen", "één miljoen mensen"),
            ("Het is 3,5 %.", "Het is drie komma vijf procent."),
            ("Het kost € 5,50.", "Het kost vijf euro vijftig."),
            ("Het kost 1 €.", "Het kost één euro."),
            ("de 1e keer", "de eerste keer"),
            ("de 3de plaats", "de derde plaats"),
            ("de 8ste dag", "de achtste dag"),
        ],
    );
}

#[test]
fn slovenian() {
    check(
        "sl",
        &[
            ("Imam 0 evrov.", "Imam nič evrov."),
            ("Star je 11 let.", "Star je enajst let."),
            ("Leto 2026", "Leto dva tisoč šestindvajset"),
            ("21 in 99", "enaindvajset in devetindevetdeset"),
            ("100, 101 in 1.000", "sto, sto ena in tisoč"),
            ("1.000.000", "milijon"),
            ("Stopnja je 3,5 %.", "Stopnja je tri vejica pet odstotka."),
            ("1 %, 2 %, 3 % in 5 %", "en odstotek, dva odstotka, trije odstotki in pet odstotkov"),
            ("Stane 1 €.", "Stane en evro."),
            ("Stane 2 €.", "Stane dva evra."),
            ("Cena: 3 €.", "Cena: trije evri."),
            ("Stane 5 €.", "Stane pet evrov."),
            ("Stane 21 €.", "Stane enaindvajset evrov."),
            ("Stane 5,50 €.", "Stane pet evrov in petdeset centov."),
        ],
    );
}

/// What the rules do not read is kept as written and named, never guessed.
#[test]
fn unread_numbers_are_kept_and_named() {
    let n = normalize("a las 14:30 y 1/2", "es");
    assert_eq!(n.text, "a las 14:30 y 1/2");
    assert_eq!(
        n.issues,
        [
            "unnormalised_digits: \"14:30\" left as written (no rule for it in language \"es\")",
            "unnormalised_digits: \"1/2\" left as written (no rule for it in language \"es\")",
        ]
    );
    let n = normalize("am 3. Mai", "de");
    assert_eq!(n.text, "am 3. Mai");
    assert_eq!(n.issues, ["unnormalised_digits: \"3.\" left as written (no rule for it in language \"de\")"]);
    let n = normalize("Er kam am 1. und ging. Sie kam 2. Dann", "de");
    assert_eq!(n.text, "Er kam am 1. und ging. Sie kam zwei. Dann");
    assert_eq!(n.issues, ["unnormalised_digits: \"1.\" left as written (no rule for it in language \"de\")"]);
    assert!(!normalize("Je 3. mesto.", "sl").is_clean());
    assert_eq!(normalize("Bilo jih je 3. Nato", "sl").text, "Bilo jih je tri. Nato");
    // A decimal point where the language writes a comma is not guessed at.
    assert!(!normalize("um 14.30 Uhr", "de").is_clean());
    let n = normalize("Escríbeme a ana@example.com", "es");
    assert_eq!(n.text, "Escríbeme a ana@example.com");
    assert_eq!(n.issues, ["unnormalised_symbols: \"@\" left as written (no rule for it in language \"es\")"]);
}

#[test]
fn unsupported_language_is_flagged_not_guessed() {
    let n = normalize("  我有3个苹果，\u{3000}价格是10%。 ", "zh");
    assert_eq!(n.text, "我有3个苹果， 价格是10%。");
    assert_eq!(n.issues, ["unnormalised_digits: no number rules for language \"zh\""]);
    // Chinese and Japanese without digits: left exactly as they are, no spaces put in.
    assert_eq!(normalize("我们今天去北京。", "zh"), Normalized { text: "我们今天去北京。".into(), issues: vec![] });
    assert_eq!(normalize("東京に行きます。", "ja").text, "東京に行きます。");
    // Full-width digits are digits too.
    assert!(!normalize("１０月", "ja").is_clean());
    let n = normalize("Мне 5 лет", "ru-RU");
    assert_eq!(n.text, "Мне 5 лет");
    assert_eq!(n.issues, ["unnormalised_digits: no number rules for language \"ru\""]);
    assert!(normalize("ราคาถูก", "th").is_clean());
}

#[test]
fn output_is_nfc() {
    let decomposed = "Cafe\u{301} a 3,5 €";
    assert_eq!(normalize(decomposed, "es").text, "Café a tres coma cinco euros");
    assert_eq!(normalize("cafe\u{301}", "zh").text, "café");
    assert_eq!(normalize("cafe\u{301}", "en").text, "café");
    assert_eq!(normalize("Mu\u{308}ller zahlt 2 €", "de").text, "Müller zahlt zwei Euro");
}

#[test]
fn languages_and_english() {
    for tag in ["en", "en-GB", "EN_us", "", "english"] {
        let n = normalize("It costs $5 at 3 pm.", tag);
        assert_eq!(n.text, normalize_english("It costs $5 at 3 pm."), "{tag:?}");
        assert!(n.is_clean());
    }
    assert_eq!(normalize("21", "es-MX").text, "veintiuno");
    assert_eq!(normalize("21", "de-AT").text, "einundzwanzig");
    assert_eq!(normalize("21", "fr-CA").text, "vingt et un");
    assert_eq!(normalize("21", "nl-BE").text, "eenentwintig");
    assert_eq!(normalize("21", "slv").text, "enaindvajset");
    assert_eq!(normalize("  a   b \n c ", "es").text, "a b c");
}

/// Random strings full of the characters the rules look at never panic, and in every language with rules the
/// output holds no ASCII digit unless an issue says so.
#[test]
fn never_panics_and_names_what_it_leaves() {
    let alphabet: Vec<char> = "0123456789 ..,,:/-−%€$£&@º ªer aeMmilónj\u{301}\u{A0}".chars().collect();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let len = (next() % 20) as usize;
        let s: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
        for lang in ["es", "de", "fr", "it", "pt", "nl", "sl"] {
            let n = normalize(&s, lang);
            assert!(n.is_clean() || !n.issues.is_empty());
            if n.text.chars().any(|c| c.is_ascii_digit()) {
                assert!(!n.issues.is_empty(), "{lang} {s:?} -> {:?}", n.text);
            }
            assert!(!n.text.contains("  ") && n.text.trim() == n.text, "{lang} {s:?} -> {:?}", n.text);
        }
    }
}
