//! The execution matrix: every generated code run against every generated test of a problem.
//!
//! Owns the data model of `codefuel matrix` (problems in, one [`ProblemMatrix`] per problem
//! out, as JSONL) and the sandbox sessions that fill it. Scoring and pairs are built from the
//! matrix alone, in [`crate::prefs`], so the code never has to run twice.
//!
//! Tests shaped like `assert EXPR == EXPECTED` (also `!=`, `<`, `in`, `is None`, ...,
//! `assert EXPR`, `assert not EXPR`, `and` of these, one or more lines) are judged outside the
//! code's reach: a trusted session that never runs a code or a test parses them and evaluates
//! their literals; each call into the code is evaluated in the code's session (with a fresh
//! copy of the builtins as they were before any program ran) and comes back as a typed value;
//! builtins around such calls (`len(f(x))`) are applied to those values in the trusted session,
//! where the comparison happens too (or on the host). Tests of other shapes, and operands that
//! cannot be split, run inside the code's interpreter, and their cells say so
//! (`"judged": "in_process"`; [`Operand`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use codefuel_runtime::{Lease, Limits, Sandbox, Session, Verdict};
use serde::{Deserialize, Serialize};

use crate::driver::{self, Worker, trusted_call};
use crate::value::{self, DEFAULT_MAX_OUTPUT_BYTES};

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
    /// Where the verdict was made: outside the code's reach (the default, not written), or
    /// `in_process` for a test of a shape that had to run inside the code's interpreter.
    #[serde(default, skip_serializing_if = "Judged::is_outside")]
    pub judged: Judged,
}

/// Where a cell's verdict was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judged {
    /// Outside the code's reach: the test's expressions were evaluated in the code's session
    /// and compared by the host or a trusted session (assert-shaped tests), or the cell did
    /// not need a test to run (load failures, skipped cells).
    #[default]
    Outside,
    /// Inside the code's interpreter: the test ran there, and code written to forge a pass
    /// could have.
    InProcess,
}

impl Judged {
    /// True for [`Judged::Outside`].
    pub fn is_outside(&self) -> bool {
        *self == Judged::Outside
    }
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

/// How tests of one code are kept apart. Either way, every test starts from a fresh module
/// namespace (no test sees module-level objects another test changed), and a test that
/// hangs or crashes affects only its own cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// Bytes of a code's stdout and stderr kept (each) in a matrix run: 16 KiB (tests are judged
/// by their exceptions, output only shows up in messages).
pub const CODE_OUTPUT_BYTES: usize = 16 << 10;

/// Wall-clock backstop of a code's session: 30 s plus a second per 1 G of load fuel, well
/// above what the fuel limits allow (fuel, not this, ends a slow code).
pub fn code_backstop(options: &MatrixOptions) -> Duration {
    Duration::from_secs(30 + options.load_fuel / 1_000_000_000)
}

/// Limits and scheduling of a matrix run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
            memory_bytes: codefuel_runtime::DEFAULT_MEMORY_BYTES,
            isolation: Isolation::Module,
        }
    }
}

/// A comparison of an assert-shaped test (planned by the trusted session's `plan_tests`).
#[derive(Clone, Debug, Deserialize)]
struct Check {
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `is`, `is not`, or `truthy`.
    op: String,
    /// The test asserts the comparison is false (`assert not ...`).
    negate: bool,
    left: Operand,
    #[serde(default)]
    right: Option<Operand>,
}

/// One side of a [`Check`] (the driver's `_operand` says which test shapes give which).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Operand {
    /// A call into the code (`f(x)`) or a value of its: evaluated in the code's session, its
    /// value handed back as data.
    Expr(String),
    /// A literal, evaluated by the trusted session (an index into the plan's literals).
    Lit(usize),
    /// Builtins applied to values of the code's (`len(f(x))`): the holes are evaluated in the
    /// code's session, the template on their values in the trusted session.
    Calc(Calc),
    /// An operand that cannot be split (a comprehension, `and`/`or`, ...): evaluated whole in
    /// the code's session, so the cell is marked in process.
    Code(String),
}

/// A [`Operand::Calc`]: `template` reads the holes' values as `__cf_h[i]`; `whole` is the
/// operand's own source, evaluated in the code's session when a hole's value cannot cross as
/// data.
#[derive(Clone, Debug, Deserialize)]
struct Calc {
    template: String,
    holes: Vec<String>,
    whole: String,
}

impl Operand {
    /// The sources a code's session may have to evaluate for this operand.
    fn sources(&self) -> Vec<&String> {
        match self {
            Operand::Expr(source) | Operand::Code(source) => vec![source],
            Operand::Lit(_) => Vec::new(),
            Operand::Calc(calc) => calc.holes.iter().chain([&calc.whole]).collect(),
        }
    }
}

/// How each test of a problem is judged: its checks (assert-shaped), or `None` (in process).
#[derive(Default)]
struct TestPlan {
    tests: Vec<Option<Vec<Check>>>,
    /// The literals the checks refer to: each blob with what its validation found.
    literals: Vec<(Vec<u8>, value::Summary)>,
    /// Every expression of the checks, once each, in order: what a code's session compiles
    /// (`P`) before its tests run.
    expressions: Vec<String>,
    /// The index of each expression in `expressions`, which `X` requests name.
    expression_index: std::collections::HashMap<String, u32>,
}

impl TestPlan {
    /// Lists the expressions of the checks, once each (after the tests are planned).
    fn index_expressions(mut self) -> Self {
        for check in self.tests.iter().flatten().flatten() {
            for operand in std::iter::once(&check.left).chain(check.right.as_ref()) {
                for source in operand.sources() {
                    if !self.expression_index.contains_key(source) {
                        let index = self.expressions.len() as u32;
                        self.expression_index.insert(source.clone(), index);
                        self.expressions.push(source.clone());
                    }
                }
            }
        }
        self
    }
}

impl Worker<'_> {
    /// Plans every test: which are assert-shaped, and their literal values. Tests are
    /// untrusted too: when planning them together fails (a test the parser cannot survive),
    /// each is planned alone, and one that still fails runs in process.
    fn plan(&mut self, tests: &[String]) -> Result<TestPlan> {
        if let Ok(plan) = self.plan_together(tests) {
            return Ok(plan.index_expressions());
        }
        let mut plan = TestPlan::default();
        for test in tests {
            match self.plan_together(std::slice::from_ref(test)) {
                Ok(one) => {
                    let offset = plan.literals.len();
                    let mut checks = one.tests.into_iter().next().flatten();
                    for check in checks.iter_mut().flatten() {
                        for operand in std::iter::once(&mut check.left).chain(check.right.as_mut())
                        {
                            if let Operand::Lit(i) = operand {
                                *i += offset;
                            }
                        }
                    }
                    plan.literals.extend(one.literals);
                    plan.tests.push(checks);
                }
                Err(_) => plan.tests.push(None),
            }
        }
        Ok(plan.index_expressions())
    }

    fn plan_together(&mut self, tests: &[String]) -> Result<TestPlan> {
        let request = [b"A".as_slice(), &serde_json::to_vec(tests)?].concat();
        let (data, _) = trusted_call(self.trusted()?, &request, driver::TRUSTED_FUEL)
            .context("planning the tests")?;
        let mut rest = data.as_slice();
        let plans = driver::take_blob(&mut rest).context("an unreadable plan")?;
        let planned: Vec<Option<Vec<Check>>> =
            serde_json::from_slice(plans).context("an unreadable plan")?;
        if planned.len() != tests.len() {
            bail!("the plan does not have one entry per test");
        }
        let Some((blobs, [])) = driver::take_blobs(rest) else {
            bail!("an unreadable list of literals");
        };
        let literals = blobs
            .into_iter()
            .map(|blob| Ok((blob.to_vec(), value::check_blob(blob, false)?)))
            .collect::<Result<_>>()
            .context("a malformed literal")?;
        Ok(TestPlan {
            tests: planned,
            literals,
            ..TestPlan::default()
        })
    }

    /// Whether `a op b` holds, compared by the trusted session (`Err` names the exception
    /// the comparison raised, as `assert` in the code's process would have).
    fn compare(
        &mut self,
        op: &str,
        a: &[u8],
        b: &[u8],
    ) -> Result<std::result::Result<bool, String>> {
        let mut request = vec![b'K'];
        driver::put_blob(&mut request, op.as_bytes());
        driver::put_blob(&mut request, a);
        driver::put_blob(&mut request, b);
        let answer = self.trusted()?.call(&request, driver::TRUSTED_FUEL);
        Ok(match answer.result.as_deref() {
            Ok(b"R1") => Ok(true),
            Ok(b"R0") => Ok(false),
            Ok([b'E', name @ ..]) => Err(driver::exception_type(name)),
            // Only a hostile value makes the trusted comparison fail.
            _ => Err("comparison failed".into()),
        })
    }
}

impl Worker<'_> {
    /// Whether a check with templates holds, evaluated by the trusted session on `values`
    /// (`left`'s, then `right`'s) within `fuel` and `memory_bytes` more memory than the
    /// session holds: `Err` names the exception, or the trap.
    ///
    /// A template is the test's text, as untrusted as the code: it gets the code's memory cap,
    /// not the trusted session's whole address space, and a session it made grow is dropped
    /// afterwards, so no test keeps a worker's memory.
    fn evaluate_check(
        &mut self,
        op: &str,
        left: &Side,
        right: Option<&Side>,
        fuel: u64,
        memory_bytes: u64,
    ) -> Result<(CheckResult, u64)> {
        let template = |side: Option<&Side>| match side {
            Some(Side::Calc { template, .. }) => serde_json::Value::from(template.as_str()),
            _ => serde_json::Value::Null,
        };
        let values = |side: Option<&Side>| -> Vec<Vec<u8>> {
            match side {
                Some(Side::Value((blob, _))) => vec![blob.clone()],
                Some(Side::Calc { values, .. }) => values.clone(),
                None => Vec::new(),
            }
        };
        let (left_values, right_values) = (values(Some(left)), values(right));
        let spec = serde_json::json!({
            "op": op,
            "left": template(Some(left)),
            "right": template(right),
            "split": left_values.len(),
        });
        let mut request = vec![b'Q'];
        driver::put_blob(&mut request, spec.to_string().as_bytes());
        let all: Vec<Vec<u8>> = left_values.into_iter().chain(right_values).collect();
        request.extend_from_slice(&(all.len() as u32).to_le_bytes());
        for blob in &all {
            driver::put_blob(&mut request, blob);
        }
        let trusted = self.trusted()?;
        let held = trusted.memory_bytes();
        trusted.set_memory_limit(held.saturating_add(memory_bytes));
        let answer = trusted.call(&request, fuel.max(1));
        trusted.set_memory_limit(codefuel_runtime::MAX_MEMORY_BYTES);
        let result = match answer.result.as_deref() {
            Ok(b"R1") => Ok(true),
            Ok(b"R0") => Ok(false),
            Ok([b'E', name @ ..]) => Err((CellStatus::Error, Some(driver::exception_type(name)))),
            // Only a hostile value makes the trusted evaluation answer anything else.
            Ok(_) => Err((CellStatus::Error, Some("comparison failed".into()))),
            Err(verdict) => Err(trap_status(verdict)),
        };
        // A MemoryError or a grown session: drop it, so no test keeps a worker's memory.
        let memory_error = matches!(&result, Err((_, Some(name))) if name == "MemoryError");
        if memory_error
            || trusted.memory_bytes() > held.saturating_add(driver::TEMPLATE_GROWTH_KEPT)
        {
            self.end_trusted();
        }
        Ok((result, answer.fuel))
    }
}

/// Whether a check holds, or the status (and error) of the cell it decides.
type CheckResult = std::result::Result<bool, (CellStatus, Option<String>)>;

/// One side of a check, once the code's session has evaluated what it had to.
enum Side {
    /// The operand's value (a validated blob).
    Value((Vec<u8>, value::Summary)),
    /// A template and the values of its holes, for the trusted session.
    Calc {
        template: String,
        values: Vec<Vec<u8>>,
    },
}

/// What evaluating one test's operands needs: the code's session, the plan, and the test's
/// fuel so far.
struct Evaluation<'a, 'c, 'l> {
    code: &'c mut CodeSession<'l>,
    plan: &'a TestPlan,
    options: &'a MatrixOptions,
    budget_left: &'a mut u64,
    /// Fuel the test has used.
    used: u64,
}

impl Evaluation<'_, '_, '_> {
    /// Evaluates a prepared expression in the code's session (a fresh copy of the pristine
    /// builtins first, outside the test's fuel).
    fn expression(&mut self, source: &String) -> Result<Evaluated> {
        let fresh = self
            .code
            .session
            .call(b"B", self.options.load_fuel.min(*self.budget_left));
        *self.budget_left = self.budget_left.saturating_sub(fresh.fuel);
        if let Err(verdict) = fresh.result {
            return Ok(Evaluated::Cell(trapped_cell(&verdict, 0)));
        }
        let index = *self
            .plan
            .expression_index
            .get(source)
            .context("an expression that was not prepared")?;
        let left = self
            .options
            .test_fuel
            .saturating_sub(self.used)
            .min(*self.budget_left);
        let mut request = vec![b'X'];
        request.extend_from_slice(&(DEFAULT_MAX_OUTPUT_BYTES as u32).to_le_bytes());
        request.extend_from_slice(&index.to_le_bytes());
        let answer = self.code.session.call(&request, left.max(1));
        self.used += answer.fuel;
        *self.budget_left = self.budget_left.saturating_sub(answer.fuel);
        Ok(evaluated(answer.result, self.used, self.options.test_fuel))
    }

    /// An operand's side of the check, or the cell it decides; `judged` becomes in process
    /// when the code's session evaluated an operand whole.
    fn side(
        &mut self,
        operand: &Operand,
        judged: &mut Judged,
    ) -> Result<std::result::Result<Side, Cell>> {
        let value = |evaluated: Evaluated| match evaluated {
            Evaluated::Value(v) => Ok(Side::Value(v)),
            Evaluated::Cell(cell) => Err(cell),
        };
        Ok(match operand {
            Operand::Lit(i) => Ok(Side::Value(
                self.plan
                    .literals
                    .get(*i)
                    .context("a check names a missing literal")?
                    .clone(),
            )),
            Operand::Expr(source) => value(self.expression(source)?),
            Operand::Code(source) => {
                *judged = Judged::InProcess;
                value(self.expression(source)?)
            }
            Operand::Calc(calc) => {
                let mut values = Vec::with_capacity(calc.holes.len());
                for hole in &calc.holes {
                    match self.expression(hole)? {
                        Evaluated::Value((blob, _)) => values.push(blob),
                        // A value that cannot cross as data (a generator, an object of the
                        // code's): the whole operand in the code's session, marked so.
                        Evaluated::Cell(cell) if is_unjudgeable(&cell) => {
                            *judged = Judged::InProcess;
                            return Ok(value(self.expression(&calc.whole)?));
                        }
                        Evaluated::Cell(cell) => return Ok(Err(cell)),
                    }
                }
                Ok(Side::Calc {
                    template: calc.template.clone(),
                    values,
                })
            }
        })
    }
}

/// Whether a cell is an expression's value the encoding cannot carry.
fn is_unjudgeable(cell: &Cell) -> bool {
    cell.error
        .as_deref()
        .is_some_and(|e| e.starts_with(UNJUDGEABLE))
}

/// The prefix of the error of a cell whose value could not be encoded.
const UNJUDGEABLE: &str = "unjudgeable_output:";

/// `cell`, marked in process when `judged` says an operand was evaluated there.
fn in_process_if(mut cell: Cell, judged: Judged) -> Cell {
    if judged == Judged::InProcess {
        cell.judged = Judged::InProcess;
    }
    cell
}

/// `None`, as a validated blob: the right side of a check that has none.
fn none_value() -> (Vec<u8>, value::Summary) {
    let none = value::none_blob();
    let summary = value::check_blob(&none, false).expect("None is a valid value");
    (none, summary)
}

/// The value of an expression of a check, from the code's session.
enum Evaluated {
    /// The value's blob, with what its validation found.
    Value((Vec<u8>, value::Summary)),
    /// The cell is decided: an exception, an unjudgeable value, or a trap.
    Cell(Cell),
}

/// A code's untrusted session in a matrix row.
struct CodeSession<'l> {
    session: Session<'l>,
    /// Whether the namespace is still the fresh one the load made (no test ran in it yet).
    fresh: bool,
}

/// The cell of a call that trapped, exited or crashed.
fn trapped_cell(verdict: &Verdict, limit: u64) -> Cell {
    let (status, error) = trap_status(verdict);
    Cell {
        status,
        fuel: if status == CellStatus::FuelLimit {
            limit
        } else {
            0
        },
        error,
        judged: Judged::Outside,
    }
}

/// A cell of `status` with an error text.
fn cell(status: CellStatus, fuel: u64, error: Option<String>, judged: Judged) -> Cell {
    Cell {
        status: memory_error_is_memory(status, error.as_deref().unwrap_or("")),
        fuel,
        error,
        judged,
    }
}

/// Opens a session for `code`, loads it and compiles the plan's expressions in it: the
/// session, or the load's failed cell.
fn load_code<'s>(
    lease: &Lease<'s>,
    plan: &TestPlan,
    code: &str,
    options: &MatrixOptions,
    budget_left: &mut u64,
) -> Result<std::result::Result<CodeSession<'s>, Cell>> {
    let limits = Limits::default()
        .with_memory_bytes(options.memory_bytes)
        .with_timeout(code_backstop(options))
        .with_output_bytes(CODE_OUTPUT_BYTES);
    let mut session = lease.session(&limits)?;
    let header = serde_json::json!({"mode": "matrix", "code": code});
    let request = [b"L".as_slice(), &serde_json::to_vec(&header)?].concat();
    let answer = session.call(&request, options.load_fuel.min(*budget_left));
    *budget_left = budget_left.saturating_sub(answer.fuel);
    let fuel = answer.fuel;
    Ok(match answer.result.as_deref() {
        Ok(b"O") => {
            // The expressions are compiled once per session, outside any test's fuel (as the
            // tests themselves were compiled before they ran).
            let mut request = vec![b'P'];
            request.extend_from_slice(&(plan.expressions.len() as u32).to_le_bytes());
            for source in &plan.expressions {
                driver::put_blob(&mut request, source.as_bytes());
            }
            let prepared = session.call(&request, options.load_fuel.min(*budget_left));
            *budget_left = budget_left.saturating_sub(prepared.fuel);
            match prepared.result.as_deref() {
                Ok(b"O") => Ok(CodeSession {
                    session,
                    fresh: true,
                }),
                Ok(_) => Err(unreadable()),
                Err(verdict) => Err(trapped_cell(verdict, options.load_fuel)),
            }
        }
        Ok([b'S', name @ ..]) => Err(cell(
            CellStatus::SyntaxError,
            0,
            Some(String::from_utf8_lossy(name).into_owned()),
            Judged::Outside,
        )),
        Ok([b'E', name @ ..]) => Err(cell(
            CellStatus::Error,
            fuel,
            Some(driver::exception_type(name)),
            Judged::Outside,
        )),
        Ok(_) => Err(unreadable()),
        Err(verdict) => Err(trapped_cell(verdict, options.load_fuel)),
    })
}

/// The cell of an answer no honest session gives.
fn unreadable() -> Cell {
    Cell {
        status: CellStatus::Crash,
        fuel: 0,
        error: Some("an unreadable answer from the code's session".into()),
        judged: Judged::Outside,
    }
}

/// Runs test `test` of a row in `code`'s session, as `plan` says.
fn run_test(
    code: &mut CodeSession<'_>,
    comparer: &mut Worker<'_>,
    plan: &TestPlan,
    index: usize,
    source: &str,
    options: &MatrixOptions,
    budget_left: &mut u64,
) -> Result<Cell> {
    if !code.fresh {
        // Every test but the first starts from a fresh module namespace.
        let answer = code.session.call(b"M", options.load_fuel.min(*budget_left));
        *budget_left = budget_left.saturating_sub(answer.fuel);
        match answer.result.as_deref() {
            Ok(b"O") => {}
            Ok([b'E', name @ ..]) => {
                let error = driver::exception_type(name);
                return Ok(cell(CellStatus::Error, 0, Some(error), Judged::Outside));
            }
            Ok(_) => return Ok(unreadable()),
            Err(verdict) => return Ok(trapped_cell(verdict, 0)),
        }
    }
    code.fresh = false;
    let Some(checks) = &plan.tests[index] else {
        // Another shape: run in the code's process; its verdict says so.
        let request = [b"T".as_slice(), source.as_bytes()].concat();
        let answer = code
            .session
            .call(&request, options.test_fuel.min(*budget_left));
        *budget_left = budget_left.saturating_sub(answer.fuel);
        return Ok(match answer.result.as_deref() {
            Ok([b'R', status @ ..]) => in_process_cell(status, answer.fuel),
            Ok(_) => unreadable(),
            Err(verdict) => Cell {
                judged: Judged::InProcess,
                ..trapped_cell(verdict, options.test_fuel)
            },
        });
    };
    // In process once any operand was evaluated whole in the code's session.
    let mut judged = Judged::Outside;
    let mut eval = Evaluation {
        code,
        plan,
        options,
        budget_left,
        used: 0,
    };
    for check in checks {
        let left = match eval.side(&check.left, &mut judged)? {
            Ok(side) => side,
            Err(cell) => return Ok(in_process_if(cell, judged)),
        };
        let right = match &check.right {
            Some(operand) => match eval.side(operand, &mut judged)? {
                Ok(side) => Some(side),
                Err(cell) => return Ok(in_process_if(cell, judged)),
            },
            None => None,
        };
        let holds = match (&left, &right) {
            (Side::Value(l), None | Some(Side::Value(_))) => {
                let none;
                let r = match &right {
                    Some(Side::Value(r)) => r,
                    _ => {
                        none = none_value();
                        &none
                    }
                };
                match decide_on_host(&check.op, l, r) {
                    Some(holds) => Ok(holds),
                    None => comparer
                        .compare(&check.op, &l.0, &r.0)?
                        .map_err(|error| (CellStatus::Error, Some(error))),
                }
            }
            // Templates: the trusted session applies them, within the test's fuel.
            _ => {
                let fuel = options
                    .test_fuel
                    .saturating_sub(eval.used)
                    .min(*eval.budget_left);
                let (holds, spent) = comparer.evaluate_check(
                    &check.op,
                    &left,
                    right.as_ref(),
                    fuel,
                    options.memory_bytes,
                )?;
                eval.used += spent;
                *eval.budget_left = eval.budget_left.saturating_sub(spent);
                holds
            }
        };
        match holds {
            Ok(holds) if holds != check.negate => {}
            Ok(_) => return Ok(cell(CellStatus::Fail, eval.used, None, judged)),
            Err((status, error)) => {
                let fuel = if status == CellStatus::FuelLimit {
                    options.test_fuel
                } else {
                    eval.used
                };
                return Ok(cell(status, fuel, error, judged));
            }
        }
    }
    Ok(cell(CellStatus::Pass, eval.used, None, judged))
}

/// A check the host can decide alone: `==`/`!=` of identical or plainly different values,
/// and truthiness. Each side is a validated blob with its summary.
fn decide_on_host(
    op: &str,
    (left, l): &(Vec<u8>, value::Summary),
    (right, r): &(Vec<u8>, value::Summary),
) -> Option<bool> {
    let equal = if value::identical(left, right, r) {
        Some(true)
    } else if value::plainly_different(left, l, right, r) {
        Some(false)
    } else {
        None
    };
    match op {
        "truthy" => Some(l.truthy),
        "==" => equal,
        "!=" => equal.map(|e| !e),
        _ => None,
    }
}

/// The value an `X` call answered, or the cell it decides.
fn evaluated(result: std::result::Result<Vec<u8>, Verdict>, used: u64, limit: u64) -> Evaluated {
    let response = match result {
        Ok(response) => response,
        Err(verdict) => return Evaluated::Cell(trapped_cell(&verdict, limit)),
    };
    match response.split_first() {
        Some((b'R', mut rest)) => match driver::take_blob(&mut rest) {
            Some(blob) if rest.is_empty() => match value::check_blob(blob, false) {
                Ok(summary) => Evaluated::Value((blob.to_vec(), summary)),
                Err(_) => Evaluated::Cell(unreadable()),
            },
            _ => Evaluated::Cell(unreadable()),
        },
        // An assertion inside the expression fails the test, as `assert` would.
        Some((b'E', b"AssertionError")) => {
            Evaluated::Cell(cell(CellStatus::Fail, used, None, Judged::Outside))
        }
        Some((b'E', name)) => Evaluated::Cell(cell(
            CellStatus::Error,
            used,
            Some(driver::exception_type(name)),
            Judged::Outside,
        )),
        Some((b'U', why)) => Evaluated::Cell(cell(
            CellStatus::Fail,
            used,
            Some(format!("{UNJUDGEABLE}{}", String::from_utf8_lossy(why))),
            Judged::Outside,
        )),
        _ => Evaluated::Cell(unreadable()),
    }
}

/// The cell of a test run in process: "pass", "fail", "error T" or "syntax_error T".
fn in_process_cell(status: &[u8], fuel: u64) -> Cell {
    let text = String::from_utf8_lossy(status);
    let (word, error) = match text.split_once(' ') {
        Some((word, error)) => (word, Some(error.to_owned())),
        None => (text.as_ref(), None),
    };
    let status = match word {
        "pass" => CellStatus::Pass,
        "fail" => CellStatus::Fail,
        "error" => CellStatus::Error,
        "syntax_error" => CellStatus::SyntaxError,
        _ => return unreadable(),
    };
    let fuel = if status == CellStatus::SyntaxError {
        0
    } else {
        fuel
    };
    cell(status, fuel, error, Judged::InProcess)
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

/// The row of one code: every test's cell, run as `options.isolation` says, while the
/// problem's `budget_left` lasts.
fn code_row(
    worker: &mut Worker<'_>,
    plan: &TestPlan,
    code: &str,
    tests: &[String],
    options: &MatrixOptions,
    budget_left: &mut u64,
) -> Result<CodeRow> {
    let skipped = || Cell {
        status: CellStatus::Skipped,
        fuel: 0,
        error: None,
        judged: Judged::Outside,
    };
    if *budget_left == 0 {
        return Ok(CodeRow {
            load: skipped(),
            cells: vec![skipped(); tests.len()],
        });
    }
    let session = match load_code(worker.lease(), plan, code, options, budget_left)? {
        Ok(session) => session,
        Err(load) => {
            // The code does not load: every test shares that fate, without running.
            let row_cell = Cell {
                fuel: 0,
                ..load.clone()
            };
            return Ok(CodeRow {
                load,
                cells: vec![row_cell; tests.len()],
            });
        }
    };
    let load = Cell {
        status: CellStatus::Pass,
        fuel: 0,
        error: None,
        judged: Judged::Outside,
    };
    let mut cells = Vec::with_capacity(tests.len());
    let mut session = Some(session);
    for (index, source) in tests.iter().enumerate() {
        if *budget_left == 0 {
            cells.push(skipped());
            continue;
        }
        let stale = options.isolation == Isolation::Fresh && index > 0
            || session.as_ref().is_none_or(|s| !s.session.is_alive());
        if stale {
            // At most two sessions per lease: the old one goes before the new one comes.
            session = None;
            match load_code(worker.lease(), plan, code, options, budget_left)? {
                Ok(fresh) => session = Some(fresh),
                Err(load) => {
                    cells.push(Cell { fuel: 0, ..load });
                    continue;
                }
            }
        }
        let current = session.as_mut().expect("loaded above");
        let cell = run_test(current, worker, plan, index, source, options, budget_left)?;
        cells.push(cell);
    }
    Ok(CodeRow { load, cells })
}

/// Fills the matrix of one problem: the reference's row (if any), then every code's, in
/// order, within the problem's fuel budget; a code that repeats an earlier one is not run again
/// but gets that code's row. (Many problems: [`problem_matrix_with`] on one worker each.)
pub fn problem_matrix(
    sandbox: &Sandbox,
    problem: &MatrixProblem,
    options: &MatrixOptions,
) -> Result<ProblemMatrix> {
    codefuel_runtime::on_runner(|| {
        problem_matrix_with(&mut Worker::new(sandbox), problem, options)
    })?
}

/// [`problem_matrix`] on a worker's lease and trusted session (on a runner thread).
pub fn problem_matrix_with(
    worker: &mut Worker<'_>,
    problem: &MatrixProblem,
    options: &MatrixOptions,
) -> Result<ProblemMatrix> {
    let plan = worker.plan(&problem.tests)?;
    if plan.tests.len() != problem.tests.len() {
        bail!("the plan does not have one entry per test");
    }
    // The problem's fuel budget, spent by its rows in a fixed order.
    let mut budget_left = options.problem_fuel;
    let mut row = |code: &str, budget_left: &mut u64| {
        code_row(worker, &plan, code, &problem.tests, options, budget_left)
    };
    let reference_passes = match &problem.reference {
        Some(reference) => {
            let r = row(reference, &mut budget_left).context("running the reference")?;
            Some(r.cells.iter().map(|c| c.status.passed()).collect())
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
        let r = row(code, &mut budget_left).with_context(|| format!("running code {c}"))?;
        rows.push(r);
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
    let lines: Vec<(usize, MatrixProblem)> = crate::files::read_jsonl(
        path,
        "not a problem (expected {\"id\", \"prompt\", \"codes\": [..], \"tests\": [..]})",
    )?;
    let mut seen = std::collections::HashSet::new();
    for (n, problem) in &lines {
        if !seen.insert(problem.id.as_str()) {
            crate::bail_input!("{}:{n}: duplicate id {:?}", path.display(), problem.id);
        }
    }
    Ok(lines.into_iter().map(|(_, p)| p).collect())
}

/// Reads a matrix JSONL written by `codefuel matrix`; errors name the line.
pub fn read_matrices(path: &Path) -> Result<Vec<ProblemMatrix>> {
    let lines: Vec<(usize, ProblemMatrix)> =
        crate::files::read_jsonl(path, "not a matrix line written by `codefuel matrix`")?;
    for (n, m) in &lines {
        if m.rows.len() != m.problem.codes.len()
            || m.rows
                .iter()
                .any(|r| r.cells.len() != m.problem.tests.len())
        {
            crate::bail_input!(
                "{}:{n}: the matrix does not have one row per code and one cell per test",
                path.display()
            );
        }
    }
    Ok(lines.into_iter().map(|(_, m)| m).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_in_process_statuses() {
        let cell = in_process_cell(b"error ZeroDivisionError", 150);
        assert_eq!(cell.status, CellStatus::Error);
        assert_eq!(cell.fuel, 150);
        assert_eq!(cell.error.as_deref(), Some("ZeroDivisionError"));
        assert_eq!(cell.judged, Judged::InProcess);
        assert_eq!(
            in_process_cell(b"error MemoryError", 9).status,
            CellStatus::Memory
        );
        let cell = in_process_cell(b"pass", 7);
        assert_eq!((cell.status, cell.error), (CellStatus::Pass, None));
        assert_eq!(in_process_cell(b"syntax_error SyntaxError", 7).fuel, 0);
        assert_eq!(in_process_cell(b"maybe", 7).status, CellStatus::Crash);
    }

    #[test]
    fn the_host_decides_identical_values_and_truthiness() {
        let blob = |b: &[u8]| (b.to_vec(), value::check_blob(b, false).unwrap());
        // 1 and 2 as zigzag varints.
        let (one, two) = (&blob(b"Vi\x02"), &blob(b"Vi\x04"));
        let (t, f, none) = (&blob(b"VT"), &blob(b"VF"), &blob(b"VN"));
        assert_eq!(decide_on_host("==", one, one), Some(true));
        assert_eq!(decide_on_host("!=", one, one), Some(false));
        assert_eq!(
            decide_on_host("==", one, two),
            Some(false),
            "plainly different"
        );
        assert_eq!(decide_on_host("!=", one, two), Some(true));
        assert_eq!(
            decide_on_host("==", one, t),
            None,
            "1 == True: the trusted session decides"
        );
        assert_eq!(decide_on_host("<", one, two), None);
        assert_eq!(decide_on_host("truthy", one, none), Some(true));
        assert_eq!(decide_on_host("truthy", f, none), Some(false));
    }

    #[test]
    fn matrix_lines_round_trip() {
        let m = ProblemMatrix {
            problem: MatrixProblem {
                id: "p".into(),
                prompt: "write f".into(),
                codes: vec!["def f(): return 1".into()],
                tests: vec!["assert f() == 1".into(), "x = f()\nassert x".into()],
                entry_point: None,
                reference: None,
            },
            rows: vec![CodeRow {
                load: cell(CellStatus::Pass, 10, None, Judged::Outside),
                cells: vec![
                    cell(CellStatus::Pass, 3, None, Judged::Outside),
                    cell(CellStatus::Pass, 4, None, Judged::InProcess),
                ],
            }],
            reference_passes: None,
        };
        let line = serde_json::to_string(&m).unwrap();
        assert!(
            line.contains("\"id\":\"p\""),
            "problem fields are flattened: {line}"
        );
        assert_eq!(
            line.matches("\"judged\":\"in_process\"").count(),
            1,
            "{line}"
        );
        assert_eq!(serde_json::from_str::<ProblemMatrix>(&line).unwrap(), m);
    }
}
