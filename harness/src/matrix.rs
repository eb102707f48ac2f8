//! The execution matrix: every generated code run against every generated test of a problem.
//!
//! Owns the data model of `codefuel matrix` (problems in, one [`ProblemMatrix`] per problem
//! out, as JSONL) and the sandbox runs that fill it. Scoring and pairs are built from the
//! matrix alone, in [`crate::prefs`], so the code never has to run twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use codefuel_runtime::{Limits, Program, Sandbox, Verdict};
use serde::{Deserialize, Serialize};

use crate::driver::{self, DRIVER_PROGRAM, Records};

/// One problem of the input JSONL: a prompt, generated codes and generated tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixProblem {
    /// The problem's id (any string, unique in the file).
    pub id: String,
    /// The prompt the codes were generated from (the `prompt` of the preference pairs).
    pub prompt: String,
    /// Candidate solutions: full Python programs.
    pub codes: Vec<String>,
    /// Candidate tests: Python snippets (usually `assert` lines) run after a code, in its
    /// namespace.
    pub tests: Vec<String>,
    /// The function the codes define, for information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    /// A trusted solution; AceCoder keeps only the tests it passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// How one test went on one code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// The test ran to its end.
    Pass,
    /// The test raised `AssertionError`.
    Fail,
    /// The test (or the code, while loading) raised another exception; see [`Cell::error`].
    Error,
    /// The test went over its fuel limit (or the code over its load budget).
    FuelLimit,
    /// The memory cap was hit (a trap, or a `MemoryError` the code did not catch).
    Memory,
    /// The code or the test does not parse.
    SyntaxError,
    /// The guest crashed or overflowed its stack.
    Crash,
    /// Not run: the problem's fuel budget was spent before this cell's turn.
    Skipped,
}

impl CellStatus {
    /// True for [`CellStatus::Pass`].
    pub fn passed(self) -> bool {
        self == CellStatus::Pass
    }
}

/// One (code, test) cell of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The outcome.
    pub status: CellStatus,
    /// Fuel the test used (its limit, when it went over), not counting loading the code.
    pub fuel: u64,
    /// The exception's class name, for [`CellStatus::Error`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One code's row: how loading it went, then one cell per test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRow {
    /// Loading the code (executing its module-level statements): `pass` or why not.
    pub load: Cell,
    /// One cell per test, in test order.
    pub cells: Vec<Cell>,
}

/// The matrix of one problem: the problem itself plus every code's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemMatrix {
    /// The problem, as read.
    #[serde(flatten)]
    pub problem: MatrixProblem,
    /// One row per code, in code order.
    pub rows: Vec<CodeRow>,
    /// With a `reference`: whether it passes each test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_passes: Option<Vec<bool>>,
}

impl ProblemMatrix {
    /// pass(c, t) as 0/1, `[code][test]`.
    pub fn passes(&self) -> Vec<Vec<bool>> {
        self.rows
            .iter()
            .map(|row| row.cells.iter().map(|c| c.status.passed()).collect())
            .collect()
    }
}

/// Default fuel limit of one test (about a second of guest work; ordinary asserts use far less).
pub const DEFAULT_TEST_FUEL: u64 = 10_000_000_000;
/// Default fuel budget for loading one code (its module-level statements).
pub const DEFAULT_LOAD_FUEL: u64 = 10_000_000_000;
/// Default fuel budget of one problem: every run of all its codes and tests together.
pub const DEFAULT_PROBLEM_FUEL: u64 = 2_000_000_000_000;
/// Fuel the driver may use in a run beyond the code and the tests (compiling the tests, I/O).
const DRIVER_SLACK: u64 = 2_000_000_000;

/// How tests of one code are kept apart. Either way, every test starts from a fresh module
/// namespace (no test sees module-level objects another test changed), and a test that
/// hangs or crashes affects only its own cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// One sandbox per code: the code is parsed and compiled once, and its module body is
    /// executed again in a fresh namespace before each test. Changes a test makes to
    /// interpreter-wide state (an imported module's attributes, `builtins`, `sys`) are seen
    /// by the tests after it.
    Module,
    /// A fresh sandbox per (code, test): nothing at all is shared; slower.
    Fresh,
}

/// Limits and scheduling of a matrix run.
#[derive(Clone, Debug)]
pub struct MatrixOptions {
    /// Fuel limit of each test.
    pub test_fuel: u64,
    /// Fuel budget for loading each code.
    pub load_fuel: u64,
    /// Fuel budget of each problem; cells after it is spent are [`CellStatus::Skipped`].
    pub problem_fuel: u64,
    /// Memory cap of each run, in bytes.
    pub memory_bytes: u64,
    /// How tests are isolated.
    pub isolation: Isolation,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        MatrixOptions {
            test_fuel: DEFAULT_TEST_FUEL,
            load_fuel: DEFAULT_LOAD_FUEL,
            problem_fuel: DEFAULT_PROBLEM_FUEL,
            memory_bytes: 1 << 30,
            isolation: Isolation::Module,
        }
    }
}

#[derive(Serialize)]
struct MatrixHeader<'a> {
    mode: &'static str,
    code: &'a str,
    tests: &'a [&'a str],
    order: &'a [usize],
    test_fuel: u64,
    load_budget: u64,
}

/// The driver's "load" record.
#[derive(Deserialize)]
struct LoadRecord {
    status: CellStatus,
    #[serde(default)]
    error: Option<String>,
    fuel: u64,
}

/// What one driver run produced: the load outcome (if reached) and the cells, in run order.
struct RunCells {
    load: Option<Cell>,
    cells: Vec<(usize, Cell)>,
    fuel: u64,
}

/// Runs `code` and then the tests in `order` in one sandbox.
fn run_code(
    sandbox: &Sandbox,
    code: &str,
    tests: &[String],
    order: &[usize],
    options: &MatrixOptions,
) -> Result<RunCells> {
    // Only the tests of this run travel, renumbered 0..; cells are mapped back below.
    let run_tests: Vec<&str> = order.iter().map(|&i| tests[i].as_str()).collect();
    let run_order: Vec<usize> = (0..order.len()).collect();
    let header = MatrixHeader {
        mode: "matrix",
        code,
        tests: &run_tests,
        order: &run_order,
        test_fuel: options.test_fuel,
        load_budget: options.load_fuel,
    };
    let payload = driver::payload(&header, &[])?;
    let fuel = options.load_fuel + options.test_fuel * order.len() as u64 + DRIVER_SLACK;
    // The wall-clock backstop, far beyond what the fuel allows (~10 G fuel per second).
    let limits = Limits::default()
        .with_fuel(fuel)
        .with_memory_bytes(options.memory_bytes)
        .with_timeout(Duration::from_secs(30 + fuel / 1_000_000_000))
        .with_output_bytes(16 << 10);
    let outcome = sandbox.run(Program::new(DRIVER_PROGRAM).with_payload(&payload), &limits)?;
    let records = Records(&outcome.records);
    // The code under test shares the interpreter with the driver and can emit records of its
    // own: an unreadable one is charged to the code (or test) that was running, never fatal.
    let mut load =
        records
            .first("load")
            .map(|data| match serde_json::from_slice::<LoadRecord>(data) {
                Ok(record) => Cell {
                    status: memory_error_is_memory(
                        record.status,
                        record.error.as_deref().unwrap_or(""),
                    ),
                    fuel: record.fuel,
                    error: record.error,
                },
                Err(_) => forged_record(),
            });
    let mut cells = Vec::new();
    let mut forged = false;
    for data in records.all("cell") {
        match parse_cell(data).map(|(k, cell)| order.get(k).map(|&index| (index, cell))) {
            Ok(Some(cell)) => cells.push(cell),
            _ => {
                forged = true;
                break;
            }
        }
    }
    if forged {
        if let Some(&index) = order.get(cells.len()) {
            cells.push((index, forged_record()));
        }
    } else if !records.done() {
        // A run that did not reach its end stopped in the load or in the next test of `order`.
        let (status, error) = trap_status(&outcome.verdict);
        let mut trapped = Cell {
            status,
            fuel: 0,
            error,
        };
        if load.is_none() {
            if status == CellStatus::FuelLimit {
                trapped.fuel = options.load_fuel;
            }
            load = Some(trapped);
        } else if let Some(&index) = order.get(cells.len()) {
            if status == CellStatus::FuelLimit {
                trapped.fuel = options.test_fuel;
            }
            cells.push((index, trapped));
        }
    }
    Ok(RunCells {
        load,
        cells,
        fuel: outcome.fuel,
    })
}

/// The cell of a code or test that wrote a record the driver did not.
fn forged_record() -> Cell {
    Cell {
        status: CellStatus::Crash,
        fuel: 0,
        error: Some("unreadable driver record (written by the code under test?)".into()),
    }
}

/// The cell status of a run that ended inside the code or a test.
fn trap_status(verdict: &Verdict) -> (CellStatus, Option<String>) {
    match verdict {
        Verdict::FuelExhausted | Verdict::Timeout => (CellStatus::FuelLimit, None),
        Verdict::MemoryLimit => (CellStatus::Memory, None),
        Verdict::StackOverflow => (CellStatus::Crash, Some("stack overflow".into())),
        Verdict::Completed { exit_code } => (
            CellStatus::Crash,
            Some(format!("process exited with status {exit_code}")),
        ),
        Verdict::Exception { type_name, .. } => (CellStatus::Crash, Some(type_name.clone())),
        Verdict::Crash { message } => (CellStatus::Crash, Some(message.clone())),
    }
}

/// A `MemoryError` is the memory cap as the guest sees it: a failed allocation that Python
/// code could catch, rather than a trap.
fn memory_error_is_memory(status: CellStatus, error: &str) -> CellStatus {
    if status == CellStatus::Error && error == "MemoryError" {
        CellStatus::Memory
    } else {
        status
    }
}

/// Parses the driver's `"<index> <status> <fuel> <exception type>"` cell record.
fn parse_cell(data: &[u8]) -> Result<(usize, Cell)> {
    let text = std::str::from_utf8(data)?;
    let mut parts = text.splitn(4, ' ');
    let mut next = || parts.next().context("missing field");
    let index = next()?.parse()?;
    let status = match next()? {
        "pass" => CellStatus::Pass,
        "fail" => CellStatus::Fail,
        "error" => CellStatus::Error,
        "syntax_error" => CellStatus::SyntaxError,
        other => bail!("unknown cell status {other:?}"),
    };
    let fuel = next()?.parse()?;
    let error = next().unwrap_or("");
    Ok((
        index,
        Cell {
            status: memory_error_is_memory(status, error),
            fuel,
            error: (!error.is_empty()).then(|| error.to_owned()),
        },
    ))
}

/// The row of one code: every test's cell, run as `options.isolation` says, while the
/// problem's `budget_left` lasts.
fn code_row(
    sandbox: &Sandbox,
    code: &str,
    tests: &[String],
    options: &MatrixOptions,
    budget_left: &mut u64,
) -> Result<CodeRow> {
    let skipped = || Cell {
        status: CellStatus::Skipped,
        fuel: 0,
        error: None,
    };
    let mut load: Option<Cell> = None;
    let mut cells: Vec<Option<Cell>> = vec![None; tests.len()];
    // Tests still to run, in test order.
    let mut pending: Vec<usize> = (0..tests.len()).collect();
    // A code without tests is still loaded, for its load status.
    let mut first = true;
    while first || !pending.is_empty() {
        first = false;
        if *budget_left == 0 {
            break;
        }
        let order: &[usize] = match options.isolation {
            Isolation::Fresh => &pending[..pending.len().min(1)],
            Isolation::Module => &pending,
        };
        let run = run_code(sandbox, code, tests, order, options)?;
        *budget_left = budget_left.saturating_sub(run.fuel);
        // No load record with the run marked done: the code forged the driver's end marker.
        let run_load = run.load.unwrap_or_else(forged_record);
        if run_load.status != CellStatus::Pass {
            // The code does not load: every test shares that fate, without running.
            let row_cell = Cell {
                fuel: 0,
                ..run_load.clone()
            };
            return Ok(CodeRow {
                load: run_load,
                cells: vec![row_cell; tests.len()],
            });
        }
        load.get_or_insert(run_load);
        let before = pending.len();
        for (index, cell) in run.cells {
            if pending.contains(&index) {
                cells[index] = Some(cell);
            }
        }
        pending.retain(|&i| cells[i].is_none());
        if !pending.is_empty() && pending.len() == before {
            // The run ended cleanly without reporting its next test: only code that forges
            // the driver's records (or ends the process itself) gets here. Charge the test,
            // so the row always makes progress.
            cells[pending.remove(0)] = Some(Cell {
                status: CellStatus::Crash,
                fuel: 0,
                error: Some("the run ended without reporting this test".into()),
            });
        }
    }
    let load = load.unwrap_or_else(skipped);
    let cells = cells
        .into_iter()
        .map(|c| c.unwrap_or_else(skipped))
        .collect();
    Ok(CodeRow { load, cells })
}

/// Fills the matrix of one problem: the reference's row (if any), then every code's, in
/// order, within the problem's fuel budget; a code that repeats an earlier one is not run again
/// but gets that code's row.
pub fn problem_matrix(
    sandbox: &Sandbox,
    problem: &MatrixProblem,
    options: &MatrixOptions,
) -> Result<ProblemMatrix> {
    // The problem's fuel budget, spent by its rows in a fixed order.
    let mut budget_left = options.problem_fuel;
    let reference_passes = match &problem.reference {
        Some(reference) => {
            let row = code_row(
                sandbox,
                reference,
                &problem.tests,
                options,
                &mut budget_left,
            )
            .context("running the reference")?;
            Some(row.cells.iter().map(|c| c.status.passed()).collect())
        }
        None => None,
    };
    let mut rows: Vec<CodeRow> = Vec::with_capacity(problem.codes.len());
    for (c, code) in problem.codes.iter().enumerate() {
        // Runs are deterministic: a repeated code gets its first copy's row, at no cost.
        if let Some(first) = problem.codes[..c]
            .iter()
            .position(|earlier| earlier == code)
        {
            rows.push(rows[first].clone());
            continue;
        }
        let row = code_row(sandbox, code, &problem.tests, options, &mut budget_left)
            .with_context(|| format!("running code {c}"))?;
        rows.push(row);
    }
    Ok(ProblemMatrix {
        problem: problem.clone(),
        rows,
        reference_passes,
    })
}

/// Counts of cells by status over many problems, for the summary.
pub fn status_counts(matrices: &[ProblemMatrix]) -> BTreeMap<CellStatus, usize> {
    let mut counts = BTreeMap::new();
    for m in matrices {
        for row in &m.rows {
            for cell in &row.cells {
                *counts.entry(cell.status).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Reads the problems JSONL: one [`MatrixProblem`] per line; errors name the line.
pub fn read_problems(path: &Path) -> Result<Vec<MatrixProblem>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut problems: Vec<MatrixProblem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let problem: MatrixProblem = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a problem (expected {{\"id\", \"prompt\", \"codes\": [..], \"tests\": [..]}})",
                path.display(),
                n + 1
            )
        })?;
        if !seen.insert(problem.id.clone()) {
            bail!(
                "{}:{}: duplicate id {:?}",
                path.display(),
                n + 1,
                problem.id
            );
        }
        problems.push(problem);
    }
    Ok(problems)
}

/// Reads a matrix JSONL written by `codefuel matrix`; errors name the line.
pub fn read_matrices(path: &Path) -> Result<Vec<ProblemMatrix>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let m: ProblemMatrix = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a matrix line written by `codefuel matrix`",
                path.display(),
                n + 1
            )
        })?;
        if m.rows.len() != m.problem.codes.len()
            || m.rows
                .iter()
                .any(|r| r.cells.len() != m.problem.tests.len())
        {
            bail!(
                "{}:{}: the matrix does not have one row per code and one cell per test",
                path.display(),
                n + 1
            );
        }
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cell_records() {
        let (i, cell) = parse_cell(b"2 error 150 ZeroDivisionError").unwrap();
        assert_eq!(i, 2);
        assert_eq!(cell.status, CellStatus::Error);
        assert_eq!(cell.fuel, 150);
        assert_eq!(cell.error.as_deref(), Some("ZeroDivisionError"));
        let (_, cell) = parse_cell(b"1 error 9 MemoryError").unwrap();
        assert_eq!(cell.status, CellStatus::Memory);
        let (_, cell) = parse_cell(b"0 pass 7 ").unwrap();
        assert_eq!((cell.status, cell.error), (CellStatus::Pass, None));
        assert!(parse_cell(b"0 maybe 7 ").is_err());
        assert!(parse_cell(b"x pass 7 ").is_err());
    }

    #[test]
    fn matrix_lines_round_trip() {
        let m = ProblemMatrix {
            problem: MatrixProblem {
                id: "p".into(),
                prompt: "write f".into(),
                codes: vec!["def f(): return 1".into()],
                tests: vec!["assert f() == 1".into()],
                entry_point: None,
                reference: None,
            },
            rows: vec![CodeRow {
                load: Cell {
                    status: CellStatus::Pass,
                    fuel: 10,
                    error: None,
                },
                cells: vec![Cell {
                    status: CellStatus::Pass,
                    fuel: 3,
                    error: None,
                }],
            }],
            reference_passes: None,
        };
        let line = serde_json::to_string(&m).unwrap();
        assert!(
            line.contains("\"id\":\"p\""),
            "problem fields are flattened: {line}"
        );
        assert_eq!(serde_json::from_str::<ProblemMatrix>(&line).unwrap(), m);
    }
}
