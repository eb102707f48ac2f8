//! `codefuel serve` over HTTP: each test starts its own server on an ephemeral loopback port
//! and drives it with a minimal HTTP/1.1 client (and, in one test, SandboxFusion's own
//! Python client from PyPI).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use common::{ok, repo};

/// A running `codefuel serve`; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_codefuel"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    fn post(&self, path: &str, body: &Value) -> Response {
        http(&self.addr, "POST", path, &[], body.to_string().as_bytes())
    }

    fn get(&self, path: &str) -> Response {
        http(&self.addr, "GET", path, &[], b"")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: String,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection.
fn http(addr: &str, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
    Response {
        status,
        headers: headers.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

fn run_code(code: &str, extra: Value) -> Value {
    let mut request = json!({"code": code, "language": "python"});
    request
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    request
}

/// `--guest` picks the interpreter of the whole server; `/health` names it.
#[test]
fn the_guest_serves_every_request_and_health_names_it() {
    let server = Server::start(&["--jobs", "1", "--guest", "rustpython"]);
    assert_eq!(
        server.get("/health").json(),
        json!({"status": "ok", "guest": "rustpython"})
    );
    let answer = server.post(
        "/run_code",
        &run_code("import sys\nprint(sys.implementation.name)", json!({})),
    );
    assert_eq!(answer.json()["run_result"]["stdout"], "rustpython\n");
}

#[test]
fn run_code_answers_as_sandbox_fusion_does() {
    let server = Server::start(&["--jobs", "2"]);
    assert_eq!(server.get("/health").json()["status"], "ok");

    let ok = server.post(
        "/run_code",
        &run_code(
            "a, b = map(int, input().split())\nprint(a + b)",
            json!({"stdin": "1 2\n"}),
        ),
    );
    assert_eq!(ok.status, 200);
    let ok = ok.json();
    assert_eq!(ok["status"], "Success");
    assert_eq!(ok["run_result"]["status"], "Finished");
    assert_eq!(ok["run_result"]["return_code"], 0);
    assert_eq!(ok["run_result"]["stdout"], "3\n");
    assert!(ok["compile_result"].is_null() && ok["fuel"].as_u64().unwrap() > 0);

    let failed = server
        .post("/run_code", &run_code("1 / 0", json!({})))
        .json();
    assert_eq!(failed["status"], "Failed");
    assert_eq!(failed["run_result"]["return_code"], 1);
    let stderr = failed["run_result"]["stderr"].as_str().unwrap();
    assert!(stderr.contains("ZeroDivisionError"), "{stderr}");

    let exit3 = server.post("/run_code", &run_code("import sys; sys.exit(3)", json!({})));
    assert_eq!(exit3.json()["run_result"]["return_code"], 3);

    // run_timeout is fuel at 20 G per second: the same budget every time.
    let slow = run_code("while True:\n    pass", json!({"run_timeout": 0.25}));
    let first = server.post("/run_code", &slow).json();
    assert_eq!(first["status"], "Failed");
    assert_eq!(first["run_result"]["status"], "TimeLimitExceeded");
    assert_eq!(first["fuel"], 5_000_000_000u64);
    let again = server.post("/run_code", &slow).json();
    assert_eq!(again["fuel"], first["fuel"]);

    let cpp = server.post(
        "/run_code",
        &json!({"code": "int main(){}", "language": "cpp"}),
    );
    assert_eq!(cpp.status, 200);
    let cpp = cpp.json();
    assert_eq!(cpp["status"], "SandboxError");
    assert!(cpp["message"].as_str().unwrap().contains("python"));

    // `files` are an in-memory working directory; `fetch_files` come back, base64.
    let files = server
        .post(
            "/run_code",
            &run_code(
                "import os\nn = int(open('data/in.txt').read())\nos.makedirs('out')\n\
                 with open('out/sq.txt', 'w') as f:\n    f.write(str(n * n))\n\
                 print(sorted(os.listdir('.')))",
                json!({"files": {"data/in.txt": "MTI="},
                       "fetch_files": ["out/sq.txt", "data/in.txt", "missing.txt"]}),
            ),
        )
        .json();
    assert_eq!(files["status"], "Success", "{files}");
    assert_eq!(files["run_result"]["stdout"], "['data', 'out']\n");
    assert_eq!(
        files["files"],
        json!({"out/sq.txt": "MTQ0", "data/in.txt": "MTI="})
    );
    // Nothing is left for the next run, which starts with an empty directory.
    let next = server
        .post(
            "/run_code",
            &run_code(
                "import os\nprint(os.listdir('.'))\nopen('out/sq.txt')",
                json!({}),
            ),
        )
        .json();
    assert_eq!(next["run_result"]["stdout"], "[]\n");
    let stderr = next["run_result"]["stderr"].as_str().unwrap();
    assert!(stderr.contains("FileNotFoundError"), "{stderr}");

    // Deterministic: the same request, the same body apart from timing.
    let strip = |mut v: Value| {
        v["run_result"]["execution_time"] = Value::Null;
        v
    };
    let program = run_code(
        "import random\nprint(random.random(), hash('x'))",
        json!({}),
    );
    let a = strip(server.post("/run_code", &program).json());
    let b = strip(server.post("/run_code", &program).json());
    assert_eq!(a, b);
}

#[test]
fn bad_requests_get_clear_errors_and_the_server_lives_on() {
    let server = Server::start(&["--jobs", "1", "--max-body-bytes", "4096"]);
    let raw = |body: &[u8]| http(&server.addr, "POST", "/run_code", &[], body);

    let not_json = raw(b"{\"code\": ");
    assert_eq!(not_json.status, 400);
    assert!(
        not_json.json()["error"]
            .as_str()
            .unwrap()
            .contains("not JSON")
    );
    let wrong_type = server.post("/run_code", &json!({"code": ["x"], "language": "python"}));
    assert_eq!(wrong_type.status, 400);
    assert!(
        wrong_type.body.contains("\\\"code\\\" must be a string"),
        "{}",
        wrong_type.body
    );
    let missing = server.post("/run_code", &json!({"language": "python"}));
    assert!(missing.status == 400 && missing.body.contains("required"));
    let timeout = server.post("/run_code", &run_code("1", json!({"run_timeout": -1})));
    assert_eq!(timeout.status, 400);
    let memory = server.post("/run_code", &run_code("1", json!({"memory_limit_MB": 0})));
    assert_eq!(memory.status, 400);
    // Positive, but below what the guest itself starts with: the caller's to fix, not a 500.
    let below_guest = server.post("/run_code", &run_code("1", json!({"memory_limit_MB": 16})));
    assert!(
        below_guest.status == 400 && below_guest.body.contains("give it at least"),
        "{} {}",
        below_guest.status,
        below_guest.body
    );
    for (extra, message) in [
        (json!({"files": ["a"]}), "\\\"files\\\" must be an object"),
        (json!({"files": {"a": 1}}), "must be a base64 string"),
        (json!({"files": {"a": "%%"}}), "is not base64"),
        (
            json!({"files": {"": "aGk="}}),
            "is empty or holds a NUL byte",
        ),
        (
            json!({"fetch_files": "a"}),
            "\\\"fetch_files\\\" must be a list",
        ),
        (json!({"fetch_files": [1]}), "must be a path"),
    ] {
        let bad = server.post("/run_code", &run_code("1", extra.clone()));
        assert!(
            bad.status == 400 && bad.body.contains(message),
            "{extra}: {} {}",
            bad.status,
            bad.body
        );
    }
    let huge = server.post("/run_code", &run_code(&"#".repeat(10_000), json!({})));
    assert_eq!(huge.status, 413);
    let judge = server.post("/v1/judge", &json!({"code": "x", "tests": {"nope": []}}));
    assert_eq!(judge.status, 400);
    let options = server.post(
        "/v1/judge",
        &json!({"code": "x", "tests": {"asserts": ["assert x"]}, "options": {"fuel": 1}}),
    );
    assert!(
        options.status == 400 && options.body.contains("unknown field"),
        "{}",
        options.body
    );
    let empty = server.post("/v1/judge", &json!({"tasks": []}));
    assert!(
        empty.status == 400 && empty.body.contains("a batch holds 1 to"),
        "{}",
        empty.body
    );
    let stray = server.post(
        "/v1/evaluate",
        &json!({"dataset": "humaneval", "samples": [], "task_id": "x"}),
    );
    assert!(
        stray.status == 400 && stray.body.contains("unknown field"),
        "{}",
        stray.body
    );
    let dataset = server.post("/v1/evaluate", &json!({"dataset": "apps"}));
    assert_eq!(dataset.status, 400);
    assert_eq!(server.get("/nowhere").status, 404);

    // A program that attacks the sandbox fails alone.
    let hostile = server.post("/run_code", &run_code("def f(): f()\nf()", json!({})));
    assert_eq!(hostile.status, 200);
    assert_eq!(server.get("/health").status, 200);
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("codefuel_requests_total{endpoint=\"/run_code\",status=\"400\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("codefuel_request_duration_seconds_bucket"));
}

#[test]
fn judge_and_evaluate_endpoints() {
    let demo = repo().join("examples/demo/problems.jsonl");
    let server = Server::start(&["--jobs", "2", "--humaneval-file", demo.to_str().unwrap()]);
    let one = server
        .post(
            "/v1/judge",
            &json!({"code": "print(int(input()) * 2)",
                    "tests": {"stdin_stdout": [{"input": "2", "output": "4"}, {"input": "3", "output": "7"}]}}),
        )
        .json();
    assert_eq!(one["pass_rate"], 0.5);
    assert_eq!(one["tests"][1]["verdict"], "wrong_answer");

    let batch = server
        .post(
            "/v1/judge",
            &json!({"tasks": [
                {"id": "a", "code": "def f(x):\n    return x + 1",
                 "tests": {"fn_name": "f", "calls": [{"args": [1], "expected": 2}]}},
                {"id": "b", "completion": "```python\nprint(input()[::-1])\n```",
                 "tests": {"stdin_stdout": [{"input": "ab", "output": "ba"}]}}
             ], "options": {"extract": true, "time_per_test": 1}}),
        )
        .json();
    let results = batch["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], "a");
    assert!(results.iter().all(|r| r["reward"] == 1.0), "{batch}");

    let evaluated = server.post(
        "/v1/evaluate",
        &json!({"dataset": "humaneval", "task_id": "Demo/0", "completion": "    return a + b\n"}),
    );
    assert_eq!(evaluated.status, 200, "{}", evaluated.body);
    let evaluated = evaluated.json();
    assert_eq!(evaluated["base_status"], "pass");
    assert_eq!(evaluated["plus_status"], "pass");
    let samples = server
        .post(
            "/v1/evaluate",
            &json!({"dataset": "humaneval", "samples": [
                {"task_id": "Demo/0", "solution": "def add(a, b):\n    return a - b\n"},
                {"task_id": "Demo/0", "completion": "    return a + b\n"}]}),
        )
        .json();
    assert_eq!(samples["results"][0]["base_status"], "fail");
    assert_eq!(samples["results"][1]["base_status"], "pass");
    let unknown = server.post(
        "/v1/evaluate",
        &json!({"dataset": "humaneval", "task_id": "Nope/1", "solution": "x"}),
    );
    assert_eq!(unknown.status, 400, "{}", unknown.body);
}

#[test]
fn a_token_is_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let server = Server::start(&["--token-file", token_file.to_str().unwrap()]);
    let body = run_code("print(1)", json!({})).to_string();
    let without = http(&server.addr, "POST", "/run_code", &[], body.as_bytes());
    assert_eq!(without.status, 401);
    let wrong = http(
        &server.addr,
        "POST",
        "/run_code",
        &["Authorization: Bearer nope"],
        body.as_bytes(),
    );
    assert_eq!(wrong.status, 401);
    let right = http(
        &server.addr,
        "POST",
        "/run_code",
        &["Authorization: Bearer s3cret"],
        body.as_bytes(),
    );
    assert_eq!(right.status, 200);
    assert_eq!(server.get("/health").status, 200, "probes need no token");
    assert_eq!(server.get("/metrics").status, 401);
}

/// Sends `n` slow requests at once; their responses in order.
fn slow_requests(
    server: &Server,
    n: usize,
    seconds: f64,
) -> Vec<std::thread::JoinHandle<Response>> {
    (0..n)
        .map(|_| {
            let addr = server.addr.clone();
            let body =
                run_code("while True:\n    pass", json!({"run_timeout": seconds})).to_string();
            let handle =
                std::thread::spawn(move || http(&addr, "POST", "/run_code", &[], body.as_bytes()));
            std::thread::sleep(Duration::from_millis(150));
            handle
        })
        .collect()
}

#[test]
fn a_full_queue_answers_at_once_with_a_retryable_status() {
    let server = Server::start(&["--jobs", "1", "--max-queue", "1"]);
    // One running, one queued, the third refused.
    let answers: Vec<Response> = slow_requests(&server, 3, 1.0)
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 504], "{answers:?}");
    assert!(
        answers[2].headers.contains("retry-after: 1"),
        "{}",
        answers[2].headers
    );
    assert_eq!(
        answers[0].json()["run_result"]["status"],
        "TimeLimitExceeded"
    );
}

#[test]
fn sigterm_finishes_the_requests_in_flight_then_exits_0() {
    let mut server = Server::start(&["--jobs", "2"]);
    let in_flight = slow_requests(&server, 2, 1.0);
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for handle in in_flight {
        let response = handle.join().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["run_result"]["status"], "TimeLimitExceeded");
    }
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "no longer accepting"
    );
}

/// The venv with SandboxFusion's client from PyPI: `$CODEFUEL_SANDBOX_FUSION_PYTHON`, else
/// made once under target/.
fn sandbox_fusion_python() -> std::path::PathBuf {
    if let Some(python) = std::env::var_os("CODEFUEL_SANDBOX_FUSION_PYTHON") {
        return python.into();
    }
    let venv = repo().join("target/sandbox-fusion-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "-q", "sandbox-fusion==0.3.7"])
            .status()
            .unwrap();
        assert!(installed.success(), "pip install sandbox-fusion failed");
    }
    python
}

#[test]
fn sandbox_fusions_own_client_works_against_codefuel() {
    let python = sandbox_fusion_python();
    let server = Server::start(&["--jobs", "2"]);
    let out = Command::new(python)
        .arg(repo().join("harness/cli/tests/data/sandbox_fusion_client.py"))
        .arg(format!("http://{}", server.addr))
        .output()
        .unwrap();
    let cases: Vec<Value> = ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases[0]["status"], "Success");
    assert_eq!(cases[0]["stdout"], "42\n");
    assert_eq!(cases[1]["status"], "Failed");
    assert_eq!(cases[1]["return_code"], 1);
    assert_eq!(cases[1]["stdout"], "before\n");
    assert!(
        cases[1]["stderr"]
            .as_str()
            .unwrap()
            .contains("ValueError: bad")
    );
    assert_eq!(cases[2]["status"], "Failed");
    assert_eq!(cases[2]["run_status"], "TimeLimitExceeded");
    assert_eq!(cases[3]["status"], "Success", "{}", cases[3]);
    assert_eq!(cases[3]["stdout"], "3\n");
    assert_eq!(cases[3]["files"], json!({"result.txt": "MzA="}));
}
