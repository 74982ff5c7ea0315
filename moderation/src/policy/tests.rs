use super::*;

#[test]
fn builtin_policy_parses() {
    let p = Policy::from_toml(DEFAULT_POLICY);
    assert!(p.is_ok(), "{:?}", p.err());
    let p = Policy::builtin();
    assert_eq!(p.action(Category::Suicide), Action::Escalate);
}

fn err(src: &str) -> PolicyError {
    match Policy::from_toml(src) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn bad_regex_names_the_rule() {
    let e = err(
        "version = 1\n[[rule]]\nid = \"x.bad\"\ncategory = \"weapons\"\nseverity = \"high\"\nregex = \"(unclosed\"\n",
    );
    assert!(e.location.contains("x.bad"), "{e}");
    assert!(e.to_string().contains("bad regex"), "{e}");
}

#[test]
fn unknown_category_and_severity() {
    let e =
        err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapon\"\nseverity = \"high\"\nphrases = [\"knife\"]\n");
    assert!(e.to_string().contains("unknown category \"weapon\""), "{e}");
    let e =
        err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"huge\"\nphrases = [\"knife\"]\n");
    assert!(e.to_string().contains("unknown severity"), "{e}");
}

#[test]
fn unknown_variable_and_syntax() {
    let e = err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"{nope} knife\"]\n");
    assert!(e.to_string().contains("unknown variable {nope}"), "{e}");
    let e = err("version = 1\n[[rule]\n");
    assert_eq!(e.location, "toml");
    let e =
        err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrase = [\"knife\"]\n");
    assert!(e.to_string().contains("phrase"), "{e}");
}

#[test]
fn rule_needs_one_kind_and_unique_id() {
    let e = err("version = 1\n[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\n");
    assert!(e.to_string().contains("exactly one"), "{e}");
    let r = "[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"knife\"]\n";
    let e = err(&format!("version = 1\n{r}{r}"));
    assert!(e.to_string().contains("duplicate"), "{e}");
}

#[test]
fn bounds_model_is_for_a_cap_without_near() {
    let r = "[[rule]]\nid = \"a\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"knife\"]\n";
    let adj = |extra: &str| {
        format!("version = 1\n{r}[[adjust]]\nid = \"j\"\ncategories = [\"weapons\"]\ncues = [\"lol\"]\n{extra}")
    };
    let e = err(&adj("mode = \"raise\"\nto = \"critical\"\nbounds_model = true\n"));
    assert!(e.location.contains("\"j\"") && e.to_string().contains("bounds_model"), "{e}");
    let e = err(&adj("mode = \"cap\"\nto = \"none\"\nnear = 3\nbounds_model = true\n"));
    assert!(e.to_string().contains("bounds_model"), "{e}");
    assert!(Policy::from_toml(&adj("mode = \"cap\"\nto = \"none\"\nbounds_model = true\n")).is_ok());
}

#[test]
fn small_policy_works() {
    let p = Policy::from_toml(
        "version = 1\n[vars]\nw = [\"knife\", \"blade\"]\n[[rule]]\nid = \"w\"\ncategory = \"weapons\"\nseverity = \"high\"\nphrases = [\"got a {w}\"]\n[actions.support]\ndefault = \"flag\"\nweapons = \"escalate\"\n",
    );
    let p = match p {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let v = crate::check(&p, &crate::Draft::new("i got a BLAAADE"));
    assert_eq!(v.severity, Severity::High);
    assert_eq!(v.flags[0].matched, "got a BLAAADE");
    assert_eq!(p.action(Category::Weapons), Action::Escalate);
    assert_eq!(p.action(Category::Hate), Action::Flag);
}

#[test]
fn rules_are_filed_under_the_list_that_starts_them_in_policy_order() {
    let s = super::RuleStarts::new(3, [Some(1), None, Some(1), Some(0)].into_iter());
    assert_eq!(s.of(0), &[3]);
    assert_eq!(s.of(1), &[0, 2]);
    assert_eq!(s.of(2), &[] as &[u32]);
    assert!(s.any(0) && s.any(1) && !s.any(2));
    assert_eq!(s.ungated(), &[1]);
}
