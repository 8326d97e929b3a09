//! The house rules of `src/`, checked on the sources themselves: dependencies point inward, no
//! two modules import each other (directly or in a circle), no file grows past 500 lines.
//!
//! An import is a `use crate::…`/`use super::…` line or a `crate::a::b` path in code. Top-level
//! modules (`bot`, `store`, `engine`, …) form one graph; the files of each folder form another
//! (a folder's `mod.rs` is its parent, not a sibling: `super::Bot` is not a circle).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

/// What each top-level module may not import.
const FORBIDDEN: &[(&str, &[&str])] = &[
    // Pure rules: nothing of ours but themselves (checked separately: any other module).
    ("domain", &[]),
    (
        "botframework",
        &[
            "store",
            "engine",
            "bot",
            "routes",
            "campaigns",
            "broadcasts",
            "lists",
            "reports",
            "outbox",
            "startup",
            "texts",
        ],
    ),
    (
        "store",
        &[
            "bot",
            "engine",
            "routes",
            "campaigns",
            "broadcasts",
            "lists",
            "reports",
            "outbox",
            "startup",
            "texts",
            "botframework",
            "graph",
        ],
    ),
    ("engine", &["routes", "bot", "startup", "cli"]),
    ("outbox", &["engine", "bot", "routes", "startup"]),
    ("campaigns", &["bot", "routes", "startup", "cli"]),
    ("broadcasts", &["bot", "routes", "startup", "cli"]),
    ("lists", &["bot", "routes", "startup", "cli"]),
    ("reports", &["bot", "routes", "startup", "cli"]),
    ("progress", &["bot", "routes", "startup", "cli", "engine"]),
    ("bot", &["routes", "startup", "cli"]),
    ("approvals", &["bot", "routes", "startup", "cli"]),
];

struct Source {
    /// Module path of the file, e.g. `["bot", "admin"]`; `mod.rs` is its folder's module.
    module: Vec<String>,
    path: PathBuf,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).expect("under src");
            let mut module: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            out.push(Source { module, path, text });
        }
    }
    out
}

/// The code of a file without comments and without its `#[cfg(test)]` module at the end.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path a file names: `crate::a::b::{…}` gives `[a, b]`, `super::x` is resolved
/// against the file's own module.
fn imports(source: &Source) -> BTreeSet<Vec<String>> {
    let code = code(&source.text);
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        for (i, _) in code.match_indices(start) {
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                continue; // `$crate::`, `my_crate::`
            }
            if i > 0 && bytes[i - 1] == b'$' {
                continue;
            }
            let mut path: Vec<String> = Vec::new();
            let mut rest = &code[i..];
            // Take `super::super::…` and `crate::` heads, then identifiers.
            let mut base = if start == "crate::" {
                rest = &rest["crate::".len()..];
                Vec::new()
            } else {
                let mut base = own_parent(source);
                rest = &rest["super::".len()..];
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
                base
            };
            loop {
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if ident.is_empty() {
                    break;
                }
                path.push(ident.clone());
                rest = &rest[ident.len()..];
                match rest.strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            base.extend(path);
            out.insert(base);
        }
    }
    out
}

/// The module `super` names from this file.
fn own_parent(source: &Source) -> Vec<String> {
    // `bot/admin.rs` is `bot::admin` and `bot/mod.rs` is `bot`: either way `super` is one up.
    let mut m = source.module.clone();
    m.pop();
    m
}

fn modules(sources: &[Source]) -> BTreeSet<Vec<String>> {
    sources.iter().map(|s| s.module.clone()).collect()
}

/// The deepest file module a path lands in.
fn file_module(path: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
}

fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Depth-first search; reports each cycle found once by its path.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            found.push(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, found);
        }
        stack.pop();
        done.insert(node.to_string());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn no_file_in_src_is_over_500_lines() {
    let long: Vec<String> = sources()
        .iter()
        .map(|s| (s.path.display().to_string(), s.text.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(p, n)| format!("{p}: {n}"))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn top_level_modules_import_no_circle() {
    let sources = sources();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &sources {
        let Some(top) = s.module.first() else {
            continue;
        };
        for path in imports(s) {
            if let Some(to) = path.first()
                && to != top
            {
                graph.entry(top.clone()).or_default().insert(to.clone());
            }
        }
    }
    let found = cycles(&graph);
    assert!(found.is_empty(), "modules importing each other: {found:?}");
}

#[test]
fn files_of_a_folder_import_no_circle() {
    let sources = sources();
    let known = modules(&sources);
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for s in &sources {
        if s.module.is_empty() || s.path.file_name().is_some_and(|n| n == "mod.rs") {
            continue; // a folder's own module is the parent of its files
        }
        let folder = s.module[..s.module.len() - 1].to_vec();
        for path in imports(s) {
            let Some(target) = file_module(&path, &known) else {
                continue;
            };
            // A sibling file (or something inside a sibling folder).
            if target.len() > folder.len()
                && target[..folder.len()] == folder[..]
                && target[folder.len()] != s.module[folder.len()]
            {
                graphs
                    .entry(folder.clone())
                    .or_default()
                    .entry(s.module[folder.len()].clone())
                    .or_default()
                    .insert(target[folder.len()].clone());
            }
        }
    }
    let found: Vec<String> = graphs
        .iter()
        .flat_map(|(folder, g)| {
            cycles(g)
                .into_iter()
                .map(move |c| format!("{}: {}", folder.join("::"), c.join(" -> ")))
        })
        .collect();
    assert!(found.is_empty(), "files importing each other: {found:#?}");
}

#[test]
fn dependencies_point_inward() {
    let mut wrong = Vec::new();
    for s in &sources() {
        let Some(top) = s.module.first().map(String::as_str) else {
            continue;
        };
        for path in imports(s) {
            let Some(to) = path.first().map(String::as_str) else {
                continue;
            };
            if to == top {
                continue;
            }
            let forbidden = match FORBIDDEN.iter().find(|(m, _)| *m == top) {
                Some(("domain", _)) => true,
                Some((_, list)) => list.contains(&to),
                None => false,
            };
            if forbidden {
                wrong.push(format!("{} imports {}", s.path.display(), path.join("::")));
            }
        }
    }
    assert!(wrong.is_empty(), "forbidden imports: {wrong:#?}");
}

#[test]
fn the_import_scan_sees_imports() {
    // Guards the checks above against a scan that silently finds nothing.
    let sources = sources();
    let bot = sources
        .iter()
        .find(|s| s.module == ["bot"])
        .expect("src/bot/mod.rs");
    assert!(
        imports(bot)
            .iter()
            .any(|p| p.first().is_some_and(|m| m == "domain")),
        "bot/mod.rs imports domain"
    );
    let child = sources
        .iter()
        .find(|s| s.module == ["bot", "installs"])
        .expect("src/bot/installs.rs");
    assert!(
        imports(child).contains(&vec!["bot".to_string(), "Bot".to_string()])
            || imports(child)
                .iter()
                .any(|p| p.first().is_some_and(|m| m == "bot"))
    );
}
