//! Checks the floors written in the crate's module doc (`lib.rs`, "Floors"): every `crate::`
//! and `super::` path in the sources (test modules aside) names a module on the same floor or
//! a lower one, and no modules import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`conversations::access`) -> its source, with comments and test modules removed.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let src = std::fs::read_to_string(&path).expect("read source");
                let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
                let rel = path.strip_prefix(&root).expect("under src").with_extension("");
                let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    parts.pop();
                }
                out.insert(parts.join("::"), code_of(&src));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The code of a file without `//` comments and without its `#[cfg(test)]` items (test
/// modules sit at the end of a file, so everything from the first one on is dropped).
fn code_of(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every path that follows `crate::` or `super::` in `code`, with `{a, b::c}` groups expanded,
/// made absolute from `module`.
fn paths(module: &str, code: &str) -> Vec<Vec<String>> {
    fn ident(s: &[u8], i: &mut usize) -> Option<String> {
        let start = *i;
        while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_') {
            *i += 1;
        }
        (*i > start).then(|| String::from_utf8_lossy(&s[start..*i]).into_owned())
    }
    fn skip_ws(s: &[u8], i: &mut usize) {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    // Reads `a::b::{c, d::e}` from `i`, pushing each full path onto `out`.
    fn tree(s: &[u8], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut path = prefix;
        loop {
            skip_ws(s, i);
            if *i < s.len() && s[*i] == b'{' {
                *i += 1;
                loop {
                    skip_ws(s, i);
                    if *i >= s.len() || s[*i] == b'}' {
                        *i += 1;
                        return;
                    }
                    tree(s, i, path.clone(), out);
                    skip_ws(s, i);
                    if *i < s.len() && s[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            match ident(s, i) {
                Some(id) => path.push(id),
                None => break,
            }
            if s.get(*i..*i + 2) == Some(b"::") {
                *i += 2;
            } else {
                break;
            }
        }
        out.push(path);
    }
    let s = code.as_bytes();
    let here: Vec<String> = module.split("::").filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let boundary = i == 0 || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] == b':');
        let rest = &s[i..];
        let (skip, base) = if boundary && rest.starts_with(b"crate::") {
            (7, Vec::new())
        } else if boundary && rest.starts_with(b"super::") {
            (7, here[..here.len().saturating_sub(1)].to_vec())
        } else {
            i += 1;
            continue;
        };
        i += skip;
        tree(s, &mut i, base, &mut out);
    }
    out
}

/// The floors from the module doc: `N. label: a, b::c, …` -> module prefix -> N.
fn floors() -> BTreeMap<String, usize> {
    let lib = include_str!("lib.rs");
    let mut out = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((n, rest)) = line.split_once(". ") else { continue };
        let Ok(n) = n.trim().parse::<usize>() else { continue };
        let (_, modules) = rest.split_once(": ").expect("a floor line is `N. label: modules`");
        for m in modules.split(',') {
            assert!(out.insert(m.trim().to_owned(), n).is_none(), "{m} is on two floors");
        }
    }
    assert!(out.len() > 20, "the floors list in lib.rs was not found");
    out
}

/// The longest known module that `path` starts with.
fn module_of(modules: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| modules.contains(m))
}

fn floor_of(floors: &BTreeMap<String, usize>, module: &str) -> Option<usize> {
    let parts: Vec<&str> = module.split("::").collect();
    (1..=parts.len()).rev().find_map(|n| floors.get(&parts[..n].join("::")).copied())
}

/// module -> the modules it uses (not itself, not its own ancestors' declarations).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (module, code) in &sources {
        let mut to = BTreeSet::new();
        for path in paths(module, code) {
            if let Some(target) = module_of(&modules, &path) {
                if target != *module && !target.is_empty() && !module.starts_with(&format!("{target}::")) {
                    to.insert(target);
                }
            }
        }
        edges.insert(module.clone(), to);
    }
    edges
}

#[test]
fn every_module_is_on_a_floor_and_imports_only_downwards() {
    let floors = floors();
    let mut wrong = Vec::new();
    for (module, uses) in graph() {
        if module.is_empty() || module == "floors" {
            continue;
        }
        let Some(mine) = floor_of(&floors, &module) else {
            wrong.push(format!("{module} is on no floor: add it to the list in lib.rs"));
            continue;
        };
        for target in uses {
            match floor_of(&floors, &target) {
                Some(theirs) if theirs > mine => {
                    wrong.push(format!("{module} (floor {mine}) imports {target} (floor {theirs})"))
                }
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "imports that go up a floor:\n{}", wrong.join("\n"));
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let edges = graph();
    // Tarjan's strongly connected components; any of more than one module is a circle.
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        circles: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.circles.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    assert!(walk.circles.is_empty(), "modules that import each other in a circle: {:?}", walk.circles);
}

#[test]
fn the_reader_finds_grouped_and_relative_paths() {
    let code =
        "use crate::{audit, store::{Store, UserRecord}};\nuse super::access::load;\nx = crate::ids::random_id();";
    let found = paths("conversations::send", code);
    let joined: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert!(joined.contains(&"audit".to_owned()), "{joined:?}");
    assert!(joined.contains(&"store::Store".to_owned()), "{joined:?}");
    assert!(joined.contains(&"store::UserRecord".to_owned()), "{joined:?}");
    assert!(joined.contains(&"conversations::access::load".to_owned()), "{joined:?}");
    assert!(joined.contains(&"ids::random_id".to_owned()), "{joined:?}");
}
