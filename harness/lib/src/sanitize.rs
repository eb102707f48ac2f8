//! Getting the program out of raw model output.
//!
//! Two operations, both on text only (nothing here runs code):
//! - [`sanitize`]: evalplus 0.3.1's sanitizer (`evalplus/sanitize.py`, the specification),
//!   for HumanEval+/MBPP+ samples. It keeps the longest syntactically valid span of lines,
//!   then only its imports and the functions, classes and assignments the entry point
//!   depends on. `codefuel sanitize` and `evaluate --sanitize` use it.
//! - [`extract_code`]: the program of a chat answer, for `judge --extract`. Contest
//!   programs run top-level code (`n = int(input())`, loops, `print`), which the sanitizer
//!   drops, so this step only finds the code: the last Python code fence, else the
//!   longest syntactically valid span.
//!
//! evalplus parses with CPython 3.11's `ast.parse` and tree-sitter; here both are the
//! RustPython fork of ruff's parser, with Python 3.11 as the target so that newer syntax
//! (PEP 695, PEP 701) counts as invalid, as it does for evalplus. Where tree-sitter's node
//! shapes decide what evalplus keeps, the rule is written down at the function that copies
//! it. Measured agreement with evalplus is in docs/judge.md.

use std::collections::{HashMap, HashSet, VecDeque};

use ruff_python_ast::token::{Token, TokenKind};
use ruff_python_ast::{Expr, Mod, PythonVersion, Stmt};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextRange};
use serde_json::Value;

use crate::dataset::{Dataset, Problem};
use crate::parallel;
use crate::progress::{Progress, stage};
use crate::samples::{RawSample, SampleCode};

/// The program evalplus's `sanitize` script makes of one sample: a `solution` as given, a
/// `completion` after the prompt and a newline (the script adds one; `evaluate` does not),
/// sanitized against the problem's entry point.
pub fn sanitize_sample(code: &SampleCode, problem: &Problem) -> String {
    match code {
        SampleCode::Solution(solution) => sanitize(solution, Some(&problem.entry_point)),
        SampleCode::Completion(completion) => sanitize(
            &format!("{}\n{completion}", problem.prompt),
            Some(&problem.entry_point),
        ),
    }
}

/// Sanitizes samples in place before an evaluation (`evaluate --sanitize`): each sample of a
/// known task becomes its sanitized `solution`; samples of unknown tasks are left for the
/// evaluation to report. A sample left with no code gets a warning through `progress`.
pub fn sanitize_raw(
    raw: &mut [RawSample],
    dataset: &Dataset,
    jobs: usize,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let sanitized = stage(progress, "sanitizing", raw.len(), || {
        parallel::map(raw, jobs, progress, |sample| {
            Ok(dataset
                .get(&sample.task_id)
                .map(|problem| sanitize_sample(&sample.code, problem)))
        })
    });
    for (sample, clean) in raw.iter_mut().zip(sanitized) {
        if let Some(clean) = clean? {
            if clean.trim().is_empty() {
                progress.note(&format!(
                    "warning: {} has no code; it is judged as an empty solution",
                    sample.origin
                ));
            }
            sample.code = SampleCode::Solution(clean);
        }
    }
    Ok(())
}

/// What [`sanitize_records`] did.
#[derive(Debug, Default)]
pub struct SanitizeReport {
    /// The records, in input order: each with `solution` set to its sanitized program and no
    /// `completion`; every other field kept. Records of unknown tasks are kept unchanged.
    pub records: Vec<Value>,
    /// How many programs the sanitizer changed.
    pub changed: usize,
    /// Where the records with no code at all are (`origin` of each; their solution is "").
    pub empty: Vec<String>,
    /// Task ids not in the dataset (each once), with a count.
    pub unknown_tasks: Vec<(String, usize)>,
}

/// Sanitizes evalplus sample records (`{"task_id", "solution"|"completion", ...}`), each
/// with an origin for messages, in parallel on `jobs` threads. A record without a task id
/// or code is an input error naming its origin.
pub fn sanitize_records(
    dataset: &Dataset,
    records: Vec<(String, Value)>,
    jobs: usize,
    progress: &dyn Progress,
) -> crate::Result<SanitizeReport> {
    let mut work = Vec::with_capacity(records.len());
    for (origin, record) in records {
        let field = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
        let Some(task_id) = field("task_id") else {
            return Err(crate::Error::Input(format!(
                "{origin}: no \"task_id\" string"
            )));
        };
        let code = match (field("solution"), field("completion")) {
            (Some(solution), _) => SampleCode::Solution(solution),
            (None, Some(completion)) => SampleCode::Completion(completion),
            (None, None) => {
                return Err(crate::Error::Input(format!(
                    "{origin}: neither a \"solution\" nor a \"completion\" string"
                )));
            }
        };
        work.push((origin, task_id, code, record));
    }
    let sanitized = stage(progress, "sanitizing", work.len(), || {
        parallel::map(&work, jobs, progress, |(_, task_id, code, _)| {
            Ok(dataset
                .get(task_id)
                .map(|problem| sanitize_sample(code, problem)))
        })
    });
    let mut report = SanitizeReport::default();
    for ((origin, task_id, code, mut record), clean) in work.into_iter().zip(sanitized) {
        let Some(clean) = clean.map_err(crate::Error::from_anyhow)? else {
            match report
                .unknown_tasks
                .iter_mut()
                .find(|(id, _)| *id == task_id)
            {
                Some((_, n)) => *n += 1,
                None => report.unknown_tasks.push((task_id, 1)),
            }
            report.records.push(record);
            continue;
        };
        if !matches!(&code, SampleCode::Solution(old) if *old == clean) {
            report.changed += 1;
        }
        if clean.trim().is_empty() {
            report.empty.push(origin);
        }
        if let Some(object) = record.as_object_mut() {
            object.remove("completion");
            object.insert("solution".into(), Value::String(clean));
        }
        report.records.push(record);
    }
    Ok(report)
}

/// evalplus's `sanitize(code, entrypoint)`: the code that a HumanEval+/MBPP+ sample is
/// judged with. With no entry point every kept definition stays. Returns the longest
/// valid span itself when nothing is kept.
///
/// One deliberate difference: text with no code at all (no span of two or more lines
/// parses, and the first line does not either) gives an empty string, where evalplus
/// returns that first line. Both fail every test the same way; the empty string says
/// plainly that nothing was found.
pub fn sanitize(code: &str, entry_point: Option<&str>) -> String {
    on_parser_stack(|| sanitize_here(code, entry_point))
}

fn sanitize_here(code: &str, entry_point: Option<&str>) -> String {
    let kept = keep_definitions(&code_extract(code), entry_point);
    let kept = py_strip(&kept);
    let out = if kept.is_empty() {
        code_extract(code)
    } else {
        kept.to_string()
    };
    if valid(&out) { out } else { String::new() }
}

/// The program in a chat answer: text after the last `</think>` (reasoning models draft
/// code while thinking), then the last fenced block tagged `python`, `py` or `python3`
/// (else the last untagged block) whose code is valid Python 3.11 (else the last such
/// block); with no fence at all, the longest syntactically valid span of lines, as
/// evalplus finds it. An answer with no code gives an empty string.
pub fn extract_code(answer: &str) -> String {
    on_parser_stack(|| extract_code_here(answer))
}

fn extract_code_here(answer: &str) -> String {
    let answer = match answer.rfind("</think>") {
        Some(at) => &answer[at + "</think>".len()..],
        None => answer,
    };
    let blocks = fenced_blocks(answer);
    let tagged: Vec<&Fence> = blocks.iter().filter(|b| b.python).collect();
    let candidates: Vec<&Fence> = if tagged.is_empty() {
        blocks.iter().filter(|b| b.untagged).collect()
    } else {
        tagged
    };
    if let Some(last) = candidates.last() {
        let parsed = candidates.iter().rev().find(|b| valid(&b.code));
        return parsed.unwrap_or(last).code.clone();
    }
    if !blocks.is_empty() {
        // Only blocks tagged with another language: not a Python answer.
        return String::new();
    }
    let span = code_extract(answer);
    if valid(&span) { span } else { String::new() }
}

/// Whether `code` parses as a Python 3.11 module (what evalplus's `syntax_check`, i.e.
/// `ast.parse` under CPython 3.11, accepts).
pub fn is_valid_python(code: &str) -> bool {
    on_parser_stack(|| valid(code))
}

fn valid(code: &str) -> bool {
    first_error_end(code).is_none()
}

/// Runs parser work on the runtime's deep stack, where the parser's growth and the drop of
/// a deeply nested tree have room, and contains a panic of the parser: hostile text gives
/// `T::default()` (no code), never a crash.
fn on_parser_stack<T: Send + Default>(f: impl FnOnce() -> T + Send) -> T {
    codefuel_runtime::on_runner(f).unwrap_or_default()
}

/// CPython's tokenizer refuses brackets nested deeper than this (`MAXLEVEL` in
/// Parser/tokenizer.h): "too many nested parentheses".
const MAX_BRACKET_DEPTH: usize = 200;

/// Where the first syntax error in `code` ends (byte offset), if there is one.
fn first_error_end(code: &str) -> Option<usize> {
    if let Some(end) = too_deep_brackets(code) {
        return Some(end);
    }
    let parsed = ruff_python_parser::parse_unchecked(code, parse_options());
    let parse_errors = parsed.errors().iter().map(|e| e.location);
    let newer_syntax = parsed.unsupported_syntax_errors().iter().map(|e| e.range);
    parse_errors
        .chain(newer_syntax)
        .map(|range| range.end().to_usize())
        .min()
}

/// Whether brackets nest deeper than [`MAX_BRACKET_DEPTH`]; if so, where the error may be
/// said to end (the end of the code: the lexer does not say where its tokens are).
fn too_deep_brackets(code: &str) -> Option<usize> {
    if code.matches(['(', '[', '{']).count() <= MAX_BRACKET_DEPTH {
        return None;
    }
    let mut lexer = ruff_python_parser::lexer::lex(code, Mode::Module);
    let mut depth = 0usize;
    loop {
        match lexer.next_token() {
            TokenKind::EndOfFile => return None,
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Some(code.len());
                }
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
}

fn parse_options() -> ParseOptions {
    ParseOptions::from(Mode::Module).with_target_version(PythonVersion::PY311)
}

/// evalplus's `code_extract`: the span of whole lines (at least two) that parses and has
/// the most non-blank lines; the first such span wins (earliest start, then shortest).
/// With no such span, the first line.
///
/// evalplus parses every span, O(n²) parses of O(n) lines. This finds the same span with
/// far fewer: for each start it tries the longest span first, and a syntax error that
/// ends on line L rules out every span from that start that contains line L (the parser
/// stopped on tokens they all contain), so the next try ends just above L.
pub fn longest_valid_span(text: &str) -> String {
    on_parser_stack(|| code_extract(text))
}

fn code_extract(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len();
    let mut nonblank = vec![0usize; n + 1];
    for (k, line) in lines.iter().enumerate() {
        nonblank[k + 1] = nonblank[k] + usize::from(!py_strip(line).is_empty());
    }
    let count = |i: usize, j: usize| nonblank[j + 1] - nonblank[i];
    let span = |i: usize, j: usize| lines[i..=j].join("\n");
    let mut best = 0;
    let mut chosen = (0, 0);
    for i in 0..n {
        if nonblank[n] - nonblank[i] <= best {
            break;
        }
        let mut j = n - 1;
        while j > i && count(i, j) > best {
            let text = span(i, j);
            match first_error_end(&text) {
                None => {
                    // evalplus scans ends upward and keeps the first span with this count:
                    // the shortest valid one among those that differ only by blank lines.
                    let c = count(i, j);
                    let mut lo = j;
                    while lo > i + 1 && count(i, lo - 1) == c {
                        lo -= 1;
                    }
                    let end = (lo..j).find(|&k| valid(&span(i, k))).unwrap_or(j);
                    best = c;
                    chosen = (i, end);
                    break;
                }
                Some(offset) => {
                    let error_line = i + text[..offset.min(text.len())].matches('\n').count();
                    if error_line <= i {
                        break; // every span from line i contains the error
                    }
                    j = error_line.min(j) - 1;
                }
            }
        }
    }
    span(chosen.0, chosen.1)
}

/// evalplus's `extract_target_code_or_empty` after `code_extract`: the module's imports,
/// then its top-level classes, functions (only those with a `return` somewhere inside)
/// and assignments, each name's first definition only, in source order; with an entry
/// point, only the definitions it reaches through the names they mention.
///
/// tree-sitter's shapes that decide this, copied: decorated definitions and
/// `from __future__` imports are other node types, so they are dropped; an assignment's
/// name is its first direct identifier child (the target if it is a plain name, else a
/// plain-name value of a single-target assignment, else none); the names a definition
/// mentions are all identifier tokens in it.
fn keep_definitions(code: &str, entry_point: Option<&str>) -> String {
    let parsed = ruff_python_parser::parse_unchecked(code, parse_options());
    let Mod::Module(module) = parsed.syntax() else {
        return String::new();
    };
    let tokens: &[Token] = parsed.tokens();
    // The tokens inside a statement (ruff's `Tokens::in_range` panics on ranges that cut a
    // token; this cannot).
    let within = |range: TextRange| {
        let start = tokens.partition_point(|t| t.start() < range.start());
        let end = tokens.partition_point(|t| t.end() <= range.end());
        &tokens[start..end.max(start)]
    };
    let has_return = |range: TextRange| within(range).iter().any(|t| t.kind() == TokenKind::Return);
    let text = |range: TextRange| code.get(range.to_std_range()).unwrap_or("");
    let mut imports: Vec<TextRange> = Vec::new();
    let mut definitions: Vec<(Option<&str>, TextRange)> = Vec::new();
    let mut seen: HashSet<Option<&str>> = HashSet::new();
    for stmt in &module.body {
        let (name, range) = match stmt {
            Stmt::Import(_) => {
                imports.push(stmt.range());
                continue;
            }
            Stmt::ImportFrom(from) => {
                let future = from.level == 0
                    && from
                        .module
                        .as_ref()
                        .is_some_and(|m| m.as_str() == "__future__");
                if !future {
                    imports.push(stmt.range());
                }
                continue;
            }
            Stmt::ClassDef(class) if class.decorator_list.is_empty() => (
                Some(class.name.as_str()),
                with_trailing_comments(code, tokens, stmt.range(), &class.body),
            ),
            Stmt::FunctionDef(function) if function.decorator_list.is_empty() => {
                if seen.contains(&Some(function.name.as_str())) || !has_return(stmt.range()) {
                    continue;
                }
                (
                    Some(function.name.as_str()),
                    with_trailing_comments(code, tokens, stmt.range(), &function.body),
                )
            }
            Stmt::Assign(assign) => {
                let name = match (assign.targets.as_slice(), &*assign.value) {
                    ([Expr::Name(target), ..], _) => Some(target.id.as_str()),
                    ([_], Expr::Name(value)) => Some(value.id.as_str()),
                    _ => None,
                };
                (name, stmt.range())
            }
            Stmt::AnnAssign(assign) => {
                let name = match (&*assign.target, assign.value.as_deref()) {
                    (Expr::Name(target), _) => Some(target.id.as_str()),
                    (_, Some(Expr::Name(value))) => Some(value.id.as_str()),
                    _ => None,
                };
                (name, stmt.range())
            }
            _ => continue,
        };
        if seen.insert(name) {
            definitions.push((name, range));
        }
    }

    let reachable: Option<HashSet<&str>> = entry_point.filter(|e| !e.is_empty()).map(|entry| {
        let mentions: HashMap<&str, Vec<&str>> = definitions
            .iter()
            .filter_map(|&(name, range)| {
                let names = within(range)
                    .iter()
                    .filter(|t| t.kind() == TokenKind::Name)
                    .map(|t| text(t.range()))
                    .collect();
                name.map(|name| (name, names))
            })
            .collect();
        let mut visited = HashSet::from([entry]);
        let mut queue = VecDeque::from([entry]);
        while let Some(current) = queue.pop_front() {
            for &next in mentions.get(current).into_iter().flatten() {
                if visited.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        visited
    });

    let mut out = String::new();
    for range in imports {
        out.push_str(text(range));
        out.push('\n');
    }
    for (name, range) in definitions {
        if let Some(reachable) = &reachable
            && !name.is_some_and(|name| reachable.contains(name))
        {
            continue;
        }
        out.push_str(text(range));
        out.push('\n');
    }
    out.pop();
    out
}

/// A class or function definition as tree-sitter delimits it: its block also holds the
/// comments that follow its last statement, the one on the same line and then every comment
/// line (blank lines between allowed) indented at least as deep as the body, up to the first
/// comment or statement that is not.
fn with_trailing_comments(
    code: &str,
    tokens: &[Token],
    range: TextRange,
    body: &[Stmt],
) -> TextRange {
    let column = |offset: usize| {
        let line_start = code[..offset].rfind('\n').map_or(0, |at| at + 1);
        code[line_start..offset].chars().fold(0, |width, c| {
            if c == '\t' {
                width / 8 * 8 + 8
            } else {
                width + 1
            }
        })
    };
    let on_new_line = |from: usize, to: usize| code[from..to].contains('\n');
    let header_end = range.start().to_usize();
    let body_indent = match body.first() {
        Some(first) if on_new_line(header_end, first.start().to_usize()) => {
            column(first.start().to_usize())
        }
        _ => 1,
    };
    let mut end = range.end();
    let after = tokens.partition_point(|t| t.start() < range.end());
    for token in &tokens[after..] {
        match token.kind() {
            TokenKind::Newline | TokenKind::NonLogicalNewline => {}
            TokenKind::Comment => {
                let start = token.start().to_usize();
                if on_new_line(end.to_usize(), start) && column(start) < body_indent {
                    break;
                }
                end = token.end();
            }
            _ => break,
        }
    }
    TextRange::new(range.start(), end)
}

/// One fenced code block of a markdown answer.
struct Fence {
    /// Its info string names Python (`python`, `py`, `python3`).
    python: bool,
    /// It has no info string.
    untagged: bool,
    /// Its lines (an unclosed fence runs to the end of the answer).
    code: String,
}

/// The fenced blocks (```` ``` ```` or `~~~`, any indentation) of a markdown answer.
fn fenced_blocks(answer: &str) -> Vec<Fence> {
    let mut blocks = Vec::new();
    let mut open: Option<(&str, String, Vec<&str>)> = None;
    for line in answer.split('\n') {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (&mut open, marker) {
            (Some((fence, _, _)), Some(m)) if m == *fence && trimmed.trim_end() == m => {
                let (_, info, lines) = open.take().unwrap();
                blocks.push(fence_of(&info, &lines));
            }
            (Some((_, _, lines)), _) => lines.push(line),
            (None, Some(m)) => {
                let info = trimmed[m.len()..].trim().to_ascii_lowercase();
                open = Some((m, info, Vec::new()));
            }
            (None, None) => {}
        }
    }
    if let Some((_, info, lines)) = open {
        blocks.push(fence_of(&info, &lines));
    }
    blocks
}

fn fence_of(info: &str, lines: &[&str]) -> Fence {
    let language = info.split_whitespace().next().unwrap_or("");
    Fence {
        python: matches!(language, "python" | "py" | "python3"),
        untagged: language.is_empty(),
        code: lines.join("\n"),
    }
}

/// Python's `str.strip()`: Unicode white space and the separators `\x1c`-`\x1f`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// evalplus's `code_extract`, literally: every span parsed.
    fn brute_force_span(text: &str) -> String {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut best = 0;
        let mut chosen = (0, 0);
        for i in 0..lines.len() {
            for j in i + 1..lines.len() {
                let span = lines[i..=j].join("\n");
                if is_valid_python(&span) {
                    let c = lines[i..=j]
                        .iter()
                        .filter(|l| !py_strip(l).is_empty())
                        .count();
                    if c > best {
                        best = c;
                        chosen = (i, j);
                    }
                }
            }
        }
        lines[chosen.0..=chosen.1].join("\n")
    }

    const ANSWERS: &[&str] = &[
        "Here is the code:\n\ndef f(x):\n    return x + 1\n\n\nprint(f(2))\nThis prints 3.",
        "def f(x):\n    return x\n  broken indent\nx = 1\ny = 2\nz = 3\nw = 4\n",
        "s = '''open\nstring\ndef g():\n    return 1\n",
        "x = (1,\n     2)\nfoo bar\n\n\nif True:\n    pass\n\nelse:\n    y = 2\n",
        "The answer is\n```python\nimport math\n\ndef area(r):\n    return math.pi * r * r\n```\nDone.",
        "one line only",
        "",
        "a = 1\n\n\n\nNot code\nb = 2\nc = 3\n",
        "def f[T](x: T) -> T:\n    return x\ny = 1\nz = 2\n",
        "print(f'{x!r:>{width}}')\nz = f\"{'nested'}\"\n",
    ];

    #[test]
    fn the_fast_span_search_finds_what_evalplus_finds() {
        for answer in ANSWERS {
            assert_eq!(
                longest_valid_span(answer),
                brute_force_span(answer),
                "{answer:?}"
            );
        }
    }

    #[test]
    fn prose_around_code_is_dropped() {
        let span = longest_valid_span(ANSWERS[0]);
        // The earliest start wins, so the blank line above the code comes along.
        assert_eq!(span, "\ndef f(x):\n    return x + 1\n\n\nprint(f(2))");
    }

    #[test]
    fn syntax_newer_than_python_3_11_is_invalid() {
        assert!(!is_valid_python("def f[T](x: T) -> T:\n    return x\n"));
        assert!(!is_valid_python("type Pair = tuple[int, int]\n"));
        assert!(is_valid_python("match x:\n    case 1:\n        pass\n"));
    }

    #[test]
    fn sanitize_keeps_what_the_entry_point_reaches() {
        let code = "import math\nfrom __future__ import annotations\nfrom typing import List\n\
                    \nLIMIT = 10\nUNUSED = 3\n\ndef helper(x):\n    return x * LIMIT\n\n\
                    def solve(xs: List[int]) -> int:\n    return sum(helper(x) for x in xs)\n\n\
                    def no_return():\n    print(1)\n\n@cache\ndef decorated():\n    return 1\n\n\
                    print(solve([1, 2]))\nif __name__ == '__main__':\n    solve([])\n";
        assert_eq!(
            sanitize(code, Some("solve")),
            "import math\nfrom typing import List\nLIMIT = 10\ndef helper(x):\n    return x * LIMIT\n\
             def solve(xs: List[int]) -> int:\n    return sum(helper(x) for x in xs)"
        );
        let all = sanitize(code, None);
        assert!(
            all.contains("UNUSED = 3") && !all.contains("no_return") && !all.contains("@cache")
        );
    }

    #[test]
    fn definitions_keep_trailing_comments_as_tree_sitter_delimits_them() {
        // Each expected output is what evalplus 0.3.1 gives.
        let cases = [
            (
                "def f():\n    return 1  # c\n",
                "def f():\n    return 1  # c",
            ),
            (
                "def f():\n    return 1\n\n    # c\n\nx = 1",
                "def f():\n    return 1\n\n    # c\nx = 1",
            ),
            (
                "def f():\n    return 1\n# c3\n    # c4\nz = 1",
                "def f():\n    return 1\nz = 1",
            ),
            (
                "def f():\n    return 1\n  # c (indent 2)\nz = 1",
                "def f():\n    return 1\nz = 1",
            ),
            ("x = 1  # c\ny = 2", "x = 1\ny = 2"),
            (
                "class A:\n    def g(self):\n        return 1  # c1\n    # c2\n# c3\nz = 1",
                "class A:\n    def g(self):\n        return 1  # c1\n    # c2\nz = 1",
            ),
            (
                "def f():\n\treturn 1\n\t# tab c\nz=1",
                "def f():\n\treturn 1\n\t# tab c\nz=1",
            ),
        ];
        for (code, expected) in cases {
            assert_eq!(sanitize(code, None), expected, "{code:?}");
        }
    }

    #[test]
    fn sanitize_keeps_the_first_definition_of_a_name() {
        let code = "def f():\n    return 1\n\ndef f():\n    return 2\n";
        assert_eq!(sanitize(code, Some("f")), "def f():\n    return 1");
    }

    #[test]
    fn an_answer_without_code_sanitizes_to_nothing() {
        assert_eq!(sanitize("", Some("f")), "");
        // evalplus would keep this first line; it fails the same way as "".
        assert_eq!(sanitize("I do not know.\nSorry about that!", Some("f")), "");
        assert_eq!(sanitize("print(1)", None), "print(1)");
        assert_eq!(extract_code("I cannot help with that."), "");
    }

    #[test]
    fn extract_takes_the_last_valid_python_fence_after_thinking() {
        let answer = "<think>\n```python\nprint('draft')\n```\n</think>\nFirst:\n```python\n\
                      n = int(input())\nprint(n * 2)\n```\nUsage:\n```bash\npython a.py\n```\n\
                      ```python\nStep 1: read n.\n```\n";
        assert_eq!(extract_code(answer), "n = int(input())\nprint(n * 2)");
        assert_eq!(extract_code("```\nprint(1)\n```"), "print(1)");
        assert_eq!(
            extract_code("```py\nprint(1)"),
            "print(1)",
            "unclosed fence"
        );
        assert_eq!(extract_code("```rust\nfn main() {}\n```"), "");
        assert_eq!(
            extract_code("x = 1\nprint(x)\nThat prints 1."),
            "x = 1\nprint(x)"
        );
    }
}
