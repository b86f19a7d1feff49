//! The layout of `http/src` (see `docs/architecture.md`): no file depends on
//! a file that depends on it, and no top-level module (a capability folder or
//! a shared module) on one that depends on it. Capability folders use the
//! shared modules and the hosted-page kit; one capability uses another only
//! where a page shows it, in the one direction listed in [`ACROSS`].
//!
//! The dependencies are read from the source text: every `crate::…`,
//! `super::…` and `self::…` path (use declarations with their `{…}` groups,
//! and paths written inline), and every `mod x;` a file declares. A path
//! names the file of the longest module prefix it has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules that every capability may use.
const SHARED: &[&str] = &[
    "dto", "error", "extract", "hosted", "limits", "metrics", "openapi", "security", "state",
];

/// The one-way uses between capabilities: the sign-in page shows the
/// passkey button and the OAuth providers; the MFA step shows the passkey
/// button.
const ACROSS: &[(&str, &str)] = &[
    ("passwords", "passkeys"),
    ("passwords", "oauth"),
    ("mfa", "passkeys"),
];

/// A module path from the crate root (`[]` is `lib.rs`).
type ModPath = Vec<String>;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every file of `dir` with its module path.
fn files(dir: &Path, prefix: &[String], out: &mut BTreeMap<ModPath, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            files(&path, &p, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut p = prefix.to_vec();
            if !(stem == "mod" || (stem == "lib" && prefix.is_empty())) {
                p.push(stem.to_owned());
            }
            out.insert(p, std::fs::read_to_string(&path).unwrap());
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths of a path tree starting at `s` (`a::b::{c, d::e}` …), each with
/// how many characters it took.
fn path_tree(s: &[char]) -> (Vec<Vec<String>>, usize) {
    let mut i = 0;
    let mut segments = Vec::new();
    loop {
        while i < s.len() && s[i].is_whitespace() {
            i += 1;
        }
        if i < s.len() && s[i] == '{' {
            i += 1;
            let mut out = Vec::new();
            loop {
                let (subs, used) = path_tree(&s[i..]);
                i += used;
                out.extend(subs.into_iter().map(|sub| {
                    let mut p = segments.clone();
                    p.extend(sub);
                    p
                }));
                while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == '}' {
                    return (out, i + 1);
                }
            }
        }
        let start = i;
        while i < s.len() && is_ident(s[i]) {
            i += 1;
        }
        if i == start {
            return (vec![segments], i);
        }
        segments.push(s[start..i].iter().collect());
        if s.len() >= i + 2 && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
        } else {
            return (vec![segments], i);
        }
    }
}

/// The module paths the source of module `me` refers to.
fn references(me: &ModPath, text: &str) -> Vec<ModPath> {
    // Comment lines (docs included) say nothing about dependencies.
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let s: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    // Inline modules (`mod tests { … }`): their names, and the brace depth
    // each opened at, so that `super::` inside one means the file itself.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == '{' {
            let before: String = s[..i].iter().collect();
            let before = before.trim_end();
            let word_start = before.rfind(|c: char| !is_ident(c)).map_or(0, |p| p + 1);
            let head = before[..word_start].trim_end();
            if head.ends_with("mod") && !head[..head.len() - 3].ends_with(is_ident) {
                inline.push((before[word_start..].to_owned(), depth));
            }
            depth += 1;
        } else if c == '}' {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
        }
        let starts_path = (i == 0 || !(is_ident(s[i - 1]) || s[i - 1] == '$' || s[i - 1] == ':'))
            && ["crate::", "super::", "self::"]
                .iter()
                .any(|k| s[i..].starts_with(&k.chars().collect::<Vec<_>>()));
        if starts_path {
            let (paths, used) = path_tree(&s[i..]);
            let mut here: ModPath = me.clone();
            here.extend(inline.iter().map(|(n, _)| n.clone()));
            for p in paths {
                let mut abs = match p.first().map(String::as_str) {
                    Some("crate") => Vec::new(),
                    _ => here.clone(),
                };
                for seg in p {
                    match seg.as_str() {
                        "crate" | "self" => {}
                        "super" => {
                            abs.pop();
                        }
                        _ => abs.push(seg),
                    }
                }
                out.push(abs);
            }
            i += used.max(1);
            continue;
        }
        // `mod child;`: a module depends on the children it declares.
        if s[i..].starts_with(&['m', 'o', 'd', ' ']) && (i == 0 || !is_ident(s[i - 1])) {
            let rest: String = s[i + 4..].iter().take_while(|c| **c != '\n').collect();
            if let Some(name) = rest.trim().strip_suffix(';') {
                let mut child = me.clone();
                child.push(name.trim().to_owned());
                out.push(child);
            }
        }
        i += 1;
    }
    out
}

/// The file-level dependency graph of `src` (module path → module paths).
fn graph(modules: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut g = BTreeMap::new();
    for (me, text) in modules {
        let mut deps = BTreeSet::new();
        for mut r in references(me, text) {
            while !modules.contains_key(&r) {
                r.pop();
            }
            if r != *me {
                deps.insert(r);
            }
        }
        g.insert(me.clone(), deps);
    }
    g
}

/// A cycle of `g`, if it has one (as the list of its nodes).
fn cycle<N: Ord + Clone>(g: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        n: &N,
        g: &BTreeMap<N, BTreeSet<N>>,
        done: &mut BTreeSet<N>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        if let Some(at) = stack.iter().position(|m| m == n) {
            return Some(stack[at..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.clone());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut done, &mut Vec::new()))
}

fn name(p: &ModPath) -> String {
    if p.is_empty() {
        "lib".into()
    } else {
        p.join("::")
    }
}

/// The graph between top-level modules (`lib` for the crate root).
fn top_level(g: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |p: &ModPath| p.first().cloned().unwrap_or_else(|| "lib".into());
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, deps) in g {
        let entry = out.entry(top(from)).or_default();
        for to in deps {
            if top(to) != top(from) {
                entry.insert(top(to));
            }
        }
    }
    out
}

fn src_graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut modules = BTreeMap::new();
    files(&src(), &[], &mut modules);
    graph(&modules)
}

fn path(s: &str) -> ModPath {
    s.split("::").map(str::to_owned).collect()
}

#[test]
fn no_file_of_http_src_depends_on_itself_through_others() {
    let g = src_graph();
    // The reader sees real dependencies (so a pass is not an empty graph).
    assert!(
        g[&path("passwords::pages")].contains(&path("passkeys")),
        "{g:?}"
    );
    assert!(g[&path("passwords::pages")].contains(&path("hosted")));
    assert!(g[&path("hosted::csrf")].contains(&path("hosted::cookies")));
    assert!(
        g[&path("email")].contains(&path("email::send")),
        "mod declarations"
    );
    if let Some(c) = cycle(&g) {
        let names: Vec<String> = c.iter().map(name).collect();
        panic!(
            "files depend on each other in a circle: {}",
            names.join(" -> ")
        );
    }
}

#[test]
fn no_top_level_module_depends_on_itself_through_others() {
    let g = top_level(&src_graph());
    if let Some(c) = cycle(&g) {
        panic!(
            "modules depend on each other in a circle: {}",
            c.join(" -> ")
        );
    }
}

#[test]
fn capabilities_use_shared_modules_and_only_the_declared_capabilities() {
    let g = top_level(&src_graph());
    let shared: BTreeSet<&str> = SHARED.iter().copied().collect();
    let mut seen_across = BTreeSet::new();
    for (from, deps) in &g {
        if from == "lib" {
            continue;
        }
        for to in deps {
            assert_ne!(
                to, "lib",
                "{from} uses the crate root: import from the module itself"
            );
            if shared.contains(to.as_str()) {
                continue;
            }
            assert!(
                !shared.contains(from.as_str()),
                "the shared module {from} uses the capability {to}"
            );
            assert!(
                ACROSS.contains(&(from.as_str(), to.as_str())),
                "the capability {from} uses the capability {to}: give {to} a small function for \
                 {from} to call and list the pair in ACROSS (one direction only)"
            );
            seen_across.insert((from.clone(), to.clone()));
        }
    }
    for (from, to) in ACROSS {
        assert!(
            seen_across.contains(&(from.to_string(), to.to_string())),
            "ACROSS lists {from} -> {to}, which no longer exists: remove it"
        );
    }
}

/// The reader and the cycle finder on sources with a known shape.
#[test]
fn the_reader_finds_grouped_relative_and_inline_paths_and_cycles() {
    let me = path("a::b");
    let text = "//! crate::ignored::in_docs\n\
        use crate::{x::{Y, z::W}, v};\n\
        use super::sibling::Thing;\n\
        mod child;\n\
        fn f() { crate::inline::call(); $crate::macro_path::X; }\n\
        #[cfg(test)]\nmod tests {\n    use super::*;\n}\n";
    let refs: BTreeSet<String> = references(&me, text).iter().map(name).collect();
    let expected: BTreeSet<String> = [
        "x::Y",
        "x::z::W",
        "v",
        "a::sibling::Thing",
        "a::b::child",
        "inline::call",
        "a::b",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(refs, expected);
    let g: BTreeMap<&str, BTreeSet<&str>> = [
        ("a", ["b"].into()),
        ("b", ["c"].into()),
        ("c", ["a"].into()),
        ("d", ["a"].into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(cycle(&g).map(|c| c.len()), Some(3));
    let acyclic: BTreeMap<&str, BTreeSet<&str>> = [("a", ["b"].into()), ("b", BTreeSet::new())]
        .into_iter()
        .collect();
    assert_eq!(cycle(&acyclic), None);
}
