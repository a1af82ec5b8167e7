//! The MQTT 5.0 conformance matrix: every normative statement that binds a
//! client (`tests/conformance/mqtt5-normative.json`) is mapped, in
//! `tests/conformance/map.json`, to the tests that check it or to the
//! reason it does not apply. This test fails when a statement has neither,
//! when a named test no longer exists, or when `CONFORMANCE.md` at the
//! repository root is not what the map renders to; run it with
//! `MQTTX_BLESS=1` to rewrite that file.
//!
//! An entry is `{"tests": [...], "note": "..."}` (the note optional: how
//! the tests bear on the statement) or `{"reason": "..."}` (one specific
//! line). A test is named `path/to/file.rs::function`, the path from the
//! repository root: the file must declare `fn function(`. A test marked
//! `#[ignore = "..."]` is a statement the client does not keep yet; the
//! matrix lists it with the ignore reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How to regenerate CONFORMANCE.md, as the file and the failures say it.
const REGENERATE: &str = "MQTTX_BLESS=1 cargo test -p mqttx-tests --test conformance";

/// The longest a statement's text is shown in the table.
const SHOWN: usize = 100;

#[derive(Debug, Deserialize)]
struct Statement {
    id: String,
    statement: String,
    applies_to_client: bool,
}

/// One client statement in the map: the tests that check it (with an
/// optional note on how), or the reason it does not apply.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default)]
    tests: Vec<String>,
    note: Option<String>,
    reason: Option<String>,
}

/// A named test as found in its file.
#[derive(Debug, Clone)]
struct Found {
    /// The `ignore` reason, when the test is ignored.
    ignored: Option<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package sits in the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

/// Finds `fn name(` (or `fn name<`) in `source`, and the `#[ignore]`
/// among the attributes right above it.
fn find_test(source: &str, name: &str) -> Option<Found> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines.iter().position(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("pub ").unwrap_or(line);
        let line = line.strip_prefix("async ").unwrap_or(line);
        line.strip_prefix("fn ")
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with('(') || rest.starts_with('<'))
    })?;
    let mut ignored = None;
    for line in lines[..at].iter().rev().map(|line| line.trim()) {
        if !(line.starts_with("#[") || line.starts_with("//") || line.ends_with(")]")) {
            break;
        }
        if let Some(rest) = line.strip_prefix("#[ignore") {
            let reason = rest
                .split_once('"')
                .and_then(|(_, reason)| reason.rsplit_once('"'))
                .map_or("ignored", |(reason, _)| reason);
            ignored = Some(reason.to_string());
        }
    }
    Some(Found { ignored })
}

/// What the map says, checked against the statements and the sources.
struct Matrix {
    statements: Vec<Statement>,
    entries: BTreeMap<String, Entry>,
    found: BTreeMap<String, Found>,
}

impl Matrix {
    fn load(root: &Path) -> Result<Matrix, Vec<String>> {
        let conformance = root.join("tests/conformance");
        let statements: Vec<Statement> =
            serde_json::from_str(&read(&conformance.join("mqtt5-normative.json"))).expect("the statements");
        let entries: BTreeMap<String, Entry> =
            serde_json::from_str(&read(&conformance.join("map.json"))).expect("the map");
        let mut problems = Vec::new();
        let client: BTreeSet<&str> = statements
            .iter()
            .filter(|s| s.applies_to_client)
            .map(|s| s.id.as_str())
            .collect();
        for id in &client {
            match entries.get(*id) {
                None => problems.push(format!("{id}: binds a client but has neither tests nor a reason")),
                Some(entry) => problems.extend(check_entry(id, entry)),
            }
        }
        for id in entries.keys() {
            if !client.contains(id.as_str()) {
                problems.push(format!("{id}: in the map, but not a client statement"));
            }
        }
        let mut sources: BTreeMap<&str, Option<String>> = BTreeMap::new();
        let mut found = BTreeMap::new();
        for test in entries.values().flat_map(|entry| &entry.tests) {
            let Some((file, name)) = test.rsplit_once("::") else {
                problems.push(format!("{test}: name a test as path/to/file.rs::function"));
                continue;
            };
            let source = sources.entry(file).or_insert_with(|| {
                let path = root.join(file);
                (file.ends_with(".rs") && path.is_file()).then(|| read(&path))
            });
            let Some(source) = source else {
                problems.push(format!("{test}: no such file {file}"));
                continue;
            };
            match find_test(source, name) {
                Some(test_found) => {
                    found.insert(test.clone(), test_found);
                }
                None => problems.push(format!("{test}: no `fn {name}(` in {file}")),
            }
        }
        if problems.is_empty() {
            Ok(Matrix {
                statements,
                entries,
                found,
            })
        } else {
            Err(problems)
        }
    }

    fn client_statements(&self) -> impl Iterator<Item = (&Statement, &Entry)> {
        self.statements
            .iter()
            .filter(|s| s.applies_to_client)
            .filter_map(|s| Some((s, self.entries.get(&s.id)?)))
    }

    /// The ignore reasons of a statement's tests, in the map's order.
    fn gaps<'a>(&'a self, entry: &'a Entry) -> Vec<(&'a str, &'a str)> {
        entry
            .tests
            .iter()
            .filter_map(|test| {
                let reason = self.found.get(test)?.ignored.as_deref()?;
                Some((test.as_str(), reason))
            })
            .collect()
    }

    fn render(&self) -> String {
        let total = self.statements.len();
        let client = self.client_statements().count();
        let tested = self
            .client_statements()
            .filter(|(_, e)| !e.tests.is_empty())
            .count();
        let not_kept: Vec<(&Statement, &Entry)> = self
            .client_statements()
            .filter(|(_, e)| !self.gaps(e).is_empty())
            .collect();
        let reasons = client - tested;

        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "# MQTT 5.0 conformance\n");
        let _ = writeln!(
            w,
            "<!-- Generated by `cargo test -p mqttx-tests --test conformance` from \
             tests/conformance/map.json. Do not edit: change the map or the tests, then run \
             `{REGENERATE}`. -->\n"
        );
        let _ = writeln!(
            w,
            "The MQTT 5.0 specification has {total} normative statements \
             ([`tests/conformance/mqtt5-normative.json`](tests/conformance/mqtt5-normative.json)); \
             {client} of them bind a client. Each of those is listed below with the tests that \
             check it, or the reason it does not apply to this client. The list is generated, \
             and checked in CI, by `cargo test -p mqttx-tests --test conformance` from \
             [`tests/conformance/map.json`](tests/conformance/map.json): the test fails when a \
             statement has neither tests nor a reason, when a test it names no longer exists, \
             or when this file is out of date. After changing the map or the tests, regenerate \
             it with `{REGENERATE}`.\n"
        );
        let _ = writeln!(
            w,
            "A test is named `file::function`. Tests under `tests/tests/` run against the \
             brokers and scripted servers the test harness starts; the others are unit tests \
             of the codec (`packet`), the sans-IO state machine (`protocol`) and the connection \
             actor. A statement that binds the server is mapped to the tests of what the client \
             does about it. An ignored test marks a statement the client does not keep yet; its \
             ignore reason says what is wrong.\n"
        );
        let _ = writeln!(w, "| Client statements | Count |");
        let _ = writeln!(w, "|---|---:|");
        let _ = writeln!(w, "| Binding a client | {client} |");
        let _ = writeln!(w, "| Checked by tests | {tested} |");
        let _ = writeln!(
            w,
            "| … of which not kept yet (an ignored test shows the gap) | {} |",
            not_kept.len()
        );
        let _ = writeln!(w, "| Not applicable, with the reason | {reasons} |\n");

        if !not_kept.is_empty() {
            // Each ignored test once, with the statements it holds back.
            let mut gaps: Vec<(&str, &str, Vec<&str>)> = Vec::new();
            for (statement, entry) in &not_kept {
                for (test, reason) in self.gaps(entry) {
                    match gaps.iter_mut().find(|(t, _, _)| *t == test) {
                        Some((_, _, ids)) => ids.push(&statement.id),
                        None => gaps.push((test, reason, vec![&statement.id])),
                    }
                }
            }
            let _ = writeln!(w, "## Not kept yet\n");
            for (test, reason, ids) in gaps {
                let _ = writeln!(
                    w,
                    "- **{}**: {}<br>{}",
                    ids.join(", "),
                    cell(without_id(reason)),
                    link(test)
                );
            }
            let _ = writeln!(w);
        }

        let _ = writeln!(w, "## Statements\n");
        let _ = writeln!(w, "| Statement | Requirement | Tests, or why it does not apply |");
        let _ = writeln!(w, "|---|---|---|");
        for (statement, entry) in self.client_statements() {
            let checked_by = if entry.tests.is_empty() {
                format!(
                    "Not applicable: {}",
                    cell(entry.reason.as_deref().unwrap_or_default())
                )
            } else {
                let mut parts: Vec<String> = entry
                    .tests
                    .iter()
                    .map(
                        |test| match self.found.get(test).and_then(|f| f.ignored.as_ref()) {
                            Some(_) => format!("{} **(ignored: not kept yet)**", link(test)),
                            None => link(test),
                        },
                    )
                    .collect();
                if let Some(note) = &entry.note {
                    parts.push(format!("*{}*", cell(note)));
                }
                parts.join("<br>")
            };
            let _ = writeln!(
                w,
                "| {} | {} | {} |",
                statement.id,
                cell(&shorten(&statement.statement)),
                checked_by
            );
        }
        out
    }
}

/// The problems with one entry, if any.
fn check_entry(id: &str, entry: &Entry) -> Vec<String> {
    let mut problems = Vec::new();
    match (&entry.reason, entry.tests.is_empty()) {
        (None, true) => problems.push(format!("{id}: neither tests nor a reason")),
        (Some(_), false) => problems.push(format!("{id}: tests or a reason, not both")),
        (Some(reason), true) => {
            if reason.contains('\n') || reason.trim().len() < 40 {
                problems.push(format!("{id}: a reason is one specific line, not {reason:?}"));
            }
        }
        (None, false) => {}
    }
    if entry.note.is_some() && entry.tests.is_empty() {
        problems.push(format!("{id}: a note goes with tests; say it in the reason"));
    }
    let unique: BTreeSet<&String> = entry.tests.iter().collect();
    if unique.len() != entry.tests.len() {
        problems.push(format!("{id}: a test is named twice"));
    }
    problems
}

/// A statement cut to about [`SHOWN`] characters, at a word.
fn shorten(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= SHOWN {
        return text;
    }
    let cut: String = text.chars().take(SHOWN).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

/// An ignore reason without the statement id it starts with.
fn without_id(reason: &str) -> &str {
    match reason.split_once(": ") {
        Some((id, rest)) if id.starts_with("MQTT-") && !id.contains(' ') => rest,
        _ => reason,
    }
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A test as a link to its file.
fn link(test: &str) -> String {
    let file = test.rsplit_once("::").map_or(test, |(file, _)| file);
    format!("[`{test}`]({file})")
}

#[test]
fn every_client_statement_is_tested_or_justified_and_conformance_md_is_current() {
    let root = root();
    let matrix = match Matrix::load(&root) {
        Ok(matrix) => matrix,
        Err(problems) => panic!(
            "tests/conformance/map.json has {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ),
    };
    let rendered = matrix.render();
    let path = root.join("CONFORMANCE.md");
    if std::env::var_os("MQTTX_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &rendered).unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != rendered {
        let first = current
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(rendered.lines().count()));
        panic!(
            "CONFORMANCE.md is out of date (first difference at line {}): run `{REGENERATE}` \
             and commit the result",
            first + 1
        );
    }
}

#[test]
fn finding_a_test_sees_its_ignore_attribute() {
    let source = "#[test]\nfn plain() {}\n\n/// Doc.\n#[test]\n#[ignore = \"MQTT-1: broken\"]\nfn gap() {}\n\
                  #[tokio::test]\nasync fn later() {}\nfn plain_too_long() {}\n";
    assert!(find_test(source, "plain").unwrap().ignored.is_none());
    assert_eq!(
        find_test(source, "gap").unwrap().ignored.as_deref(),
        Some("MQTT-1: broken")
    );
    assert!(find_test(source, "later").is_some());
    assert!(find_test(source, "plai").is_none());
    assert!(find_test(source, "missing").is_none());
}
