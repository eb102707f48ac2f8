//! Load on `codefuel serve` from a second process, over loopback only: starts the server,
//! sends `--requests` `/run_code` requests of a short program (read two ints from stdin,
//! print their sum) over `--connections` keep-alive connections, and reports throughput,
//! p50/p99 latency, errors and the server's RSS at 10 % and 100 % of the run.
//!
//!     cargo run --release -p codefuel-benchmarks --bin serve_load -- \
//!         [--codefuel target/release/codefuel] [--requests 100000] [--connections 256] [--jobs N]
//!         [--url HOST:PORT]
//!
//! With `--url`, the load goes to a server (or balancer) already running there and no RSS
//! is read (deploy/failover.sh uses it through nginx).
//!
//! Exits 1 if any request failed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

struct Args {
    codefuel: String,
    requests: usize,
    connections: usize,
    jobs: Option<String>,
    url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        codefuel: "target/release/codefuel".into(),
        requests: 100_000,
        connections: 256,
        jobs: None,
        url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--codefuel" => args.codefuel = value,
            "--requests" => args.requests = value.parse().expect("--requests N"),
            "--connections" => args.connections = value.parse().expect("--connections N"),
            "--jobs" => args.jobs = Some(value),
            "--url" => args.url = Some(value.trim_start_matches("http://").to_owned()),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// Resident set size of process `pid`, in MiB (Linux /proc).
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// One keep-alive connection's requests; latencies in microseconds.
async fn connection(
    addr: String,
    body: Arc<String>,
    next: Arc<AtomicUsize>,
    total: usize,
    errors: Arc<AtomicU64>,
) -> Vec<u64> {
    let mut latencies = Vec::new();
    let mut stream: Option<AsyncBufReader<TcpStream>> = None;
    let request = format!(
        "POST /run_code HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    while next.fetch_add(1, Ordering::Relaxed) < total {
        let start = Instant::now();
        if stream.is_none() {
            match TcpStream::connect(&addr).await {
                Ok(s) => stream = Some(AsyncBufReader::new(s)),
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
        }
        let s = stream.as_mut().unwrap();
        let ok = async {
            s.get_mut().write_all(request.as_bytes()).await.ok()?;
            let mut line = String::new();
            s.read_line(&mut line).await.ok()?;
            let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
            let mut length = 0usize;
            loop {
                line.clear();
                s.read_line(&mut line).await.ok()?;
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().ok()?;
                }
            }
            let mut response = vec![0; length];
            s.read_exact(&mut response).await.ok()?;
            let text = String::from_utf8_lossy(&response);
            (status == 200
                && text.contains("\"status\":\"Success\"")
                && text.contains("\"stdout\":\"3\\n\""))
            .then_some(())
        }
        .await;
        match ok {
            Some(()) => latencies.push(start.elapsed().as_micros() as u64),
            None => {
                errors.fetch_add(1, Ordering::Relaxed);
                stream = None;
            }
        }
    }
    latencies
}

/// Starts `codefuel serve` on a free loopback port; the child and its address.
fn start_server(args: &Args) -> (std::process::Child, String) {
    let mut command = Command::new(&args.codefuel);
    command.args(["serve", "--bind", "127.0.0.1:0", "--max-queue", "4096"]);
    if let Some(jobs) = &args.jobs {
        command.args(["--jobs", jobs]);
    }
    let mut server = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start codefuel serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the server's address")
        .to_owned();
    println!("{}", line.trim());
    (server, addr)
}

fn main() {
    let args = args();
    let (mut server, addr) = match &args.url {
        Some(url) => (None, url.clone()),
        None => {
            let (server, addr) = start_server(&args);
            (Some(server), addr)
        }
    };
    let pid = server.as_ref().map(|s| s.id());

    let body = Arc::new(
        serde_json::json!({"code": "a, b = map(int, input().split())\nprint(a + b)\n",
                           "language": "python", "stdin": "1 2\n"})
        .to_string(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (latencies, rss_10) = runtime.block_on(async {
        let handles: Vec<_> = (0..args.connections)
            .map(|_| {
                tokio::spawn(connection(
                    addr.clone(),
                    Arc::clone(&body),
                    Arc::clone(&next),
                    args.requests,
                    Arc::clone(&errors),
                ))
            })
            .collect();
        // RSS when a tenth of the requests have been sent.
        while next.load(Ordering::Relaxed) < args.requests / 10 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let rss_10 = pid.map_or(0.0, rss_mib);
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.await.unwrap());
        }
        (all, rss_10)
    });
    let elapsed = start.elapsed().as_secs_f64();
    let rss_100 = pid.map_or(0.0, rss_mib);
    if let Some(server) = server.as_mut() {
        let _ = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status();
        let _ = server.wait();
    }

    let mut latencies = latencies;
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let errors = errors.load(Ordering::Relaxed);
    let rss = match pid {
        Some(_) => format!("; server RSS {rss_10:.0} MiB at 10 %, {rss_100:.0} MiB at 100 %"),
        None => String::new(),
    };
    println!(
        "{} requests over {} connections in {elapsed:.1} s: {:.0} requests/s; latency p50 \
         {:.1} ms, p99 {:.1} ms; errors {errors}{rss}",
        latencies.len(),
        args.connections,
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.99),
    );
    std::process::exit(i32::from(errors > 0));
}
