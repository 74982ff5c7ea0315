use super::*;

fn toy_examples() -> Vec<Example<'static>> {
    let risky = [
        "i want to hurt myself tonight",
        "gonna hurt myself again",
        "i hurt myself last night",
        "want to hurt myself so bad",
    ];
    let benign = ["see you at football", "what time is the session", "my mum is picking me up", "lol ok"];
    let mut v: Vec<Example<'static>> = risky
        .iter()
        .map(|t| Example { text: t, labels: vec![Category::SelfHarm], severity: Severity::High, weight: 1.0 })
        .collect();
    v.extend(benign.iter().map(|t| Example { text: t, labels: vec![], severity: Severity::None, weight: 1.0 }));
    v
}

fn toy_model() -> Model {
    train(&toy_examples(), &TrainConfig { bits: 12, epochs: 40, min_features: 1, ..TrainConfig::default() })
}

#[test]
fn round_trip_and_learns() {
    let m = toy_model();
    let bytes = m.to_bytes();
    let back = Model::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.checksum(), m.checksum());
    let risky = back.assess("hurt myself again tonight");
    assert_eq!(risky.categories, vec![Category::SelfHarm]);
    assert!(risky.severity >= Severity::High, "{risky:?}");
    assert_eq!(back.assess("see you at the session").severity, Severity::None);
}

#[test]
fn training_is_deterministic() {
    assert_eq!(toy_model().to_bytes(), toy_model().to_bytes());
}

#[test]
fn thresholds_are_kept() {
    let mut t = [0.5f32; OUTPUTS];
    t[3] = -1.25;
    let m = toy_model().with_thresholds(t);
    assert_eq!(Model::from_bytes(&m.to_bytes()).unwrap().thresholds(), t);
}

fn err(b: &[u8]) -> String {
    match Model::from_bytes(b) {
        Ok(_) => panic!("loaded a bad model"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn loading_errors_say_what_is_wrong() {
    let good = toy_model().to_bytes();
    assert!(err(b"").contains("not a Talk Zone model file"));
    assert!(err(b"PK\x03\x04 a zip file").contains("not a Talk Zone model file"));
    assert!(err(&good[..20]).contains("truncated"), "{}", err(&good[..20]));
    assert!(err(&good[..good.len() - 1]).contains("truncated"));
    let mut long = good.clone();
    long.push(0);
    assert!(err(&long).contains("too long"));
    // one flipped bit in the weights
    let mut bad = good.clone();
    let mid = HEADER + 5;
    bad[mid] ^= 0x10;
    assert!(err(&bad).contains("checksum mismatch"), "{}", err(&bad));
    // another version
    let mut v1 = good.clone();
    v1[8] = 1;
    assert!(err(&v1).contains("format version 1"));
    // a file whose checksum is right but whose content is not
    let reseal = |mut b: Vec<u8>| {
        let n = b.len() - 4;
        let c = crc32(&b[..n]);
        b[n..].copy_from_slice(&c.to_le_bytes());
        b
    };
    let mut bits = good.clone();
    bits[12] = 30;
    assert!(err(&reseal(bits)).contains("bucket bits"));
    let mut nan = good.clone();
    nan[28..32].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
    assert!(err(&reseal(nan)).contains("finite"));
    let rows = read_u32(&good, 20) as usize;
    assert!(rows >= 2);
    let mut order = good.clone();
    let (a, b) = (HEADER, HEADER + ROW);
    let first: Vec<u8> = order[a..a + 4].to_vec();
    let second: Vec<u8> = order[b..b + 4].to_vec();
    order[a..a + 4].copy_from_slice(&second);
    order[b..b + 4].copy_from_slice(&first);
    assert!(err(&reseal(order)).contains("out of order"));
    assert!(ModelError::new("x").to_string().starts_with("moderation model error: "));
}

#[test]
fn crc32_matches_zlib() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn builtin_model_loads() {
    let m = Model::builtin().unwrap();
    assert_eq!(Model::from_bytes(BUILTIN_MODEL).unwrap().checksum(), m.checksum());
    assert_eq!(m.assess("").severity, Severity::None);
}

#[test]
fn top_words_point_at_the_risk() {
    let m = toy_model();
    let n = crate::normalise::normalise("see u later, gonna hurt myself");
    let top = m.top_words(&n, Category::SelfHarm.index(), 2);
    let words: Vec<&str> = features::words(&n).collect();
    assert!(top.iter().any(|&i| words[i] == "hurt" || words[i] == "myself"), "{top:?} {words:?}");
}
