//! The bounded work pool: a fixed set of runner threads and a bounded queue in front of
//! them. A job that finds the queue full is refused at once ([`Busy`]); nothing waits in an
//! unbounded backlog. A panicking job fails alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The queue was full: the client should retry later.
#[derive(Debug)]
pub struct Busy;

/// A job failed without an answer (it panicked, or the pool is gone).
#[derive(Debug)]
pub struct Lost(pub String);

/// Runner threads fed by a bounded queue; gauges of both.
pub struct Pool {
    queue: SyncSender<Job>,
    gauges: Arc<Gauges>,
}

/// How many jobs wait and how many run.
#[derive(Default)]
pub struct Gauges {
    /// Jobs in the queue, not started.
    pub queued: AtomicUsize,
    /// Jobs running on a thread.
    pub running: AtomicUsize,
}

impl Pool {
    /// `threads` runner threads behind a queue of `capacity` jobs (at least 1).
    pub fn new(threads: usize, capacity: usize) -> std::io::Result<Pool> {
        let (queue, jobs) = sync_channel::<Job>(capacity.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        let gauges = Arc::new(Gauges::default());
        for i in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("codefuel-serve-{i}"))
                .spawn(move || work(&jobs))?;
        }
        Ok(Pool { queue, gauges })
    }

    /// The gauges.
    pub fn gauges(&self) -> &Gauges {
        &self.gauges
    }

    /// Runs `f` on a runner thread and waits for its result without blocking the caller's
    /// async runtime. [`Busy`] at once when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Result<T, Lost>, Busy> {
        let (answer, answered) = oneshot::channel();
        let gauges = Arc::clone(&self.gauges);
        let job: Job = Box::new(move || {
            gauges.queued.fetch_sub(1, Ordering::Relaxed);
            gauges.running.fetch_add(1, Ordering::Relaxed);
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Lost(format!("internal error (please report it): {message}"))
            });
            gauges.running.fetch_sub(1, Ordering::Relaxed);
            let _ = answer.send(result);
        });
        self.gauges.queued.fetch_add(1, Ordering::Relaxed);
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.gauges.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(Busy);
            }
        }
        Ok(answered
            .await
            .unwrap_or_else(|_| Err(Lost("the runner thread is gone".into()))))
    }
}

/// A runner thread's loop. It runs on the runtime's deep stack, as a runner, so every sandbox
/// run of its jobs happens in place instead of switching stacks (and handing the deep pages
/// back) once per run.
fn work(jobs: &Mutex<Receiver<Job>>) {
    if let Err(error) = codefuel::runtime::on_runner(|| take_jobs(jobs)) {
        eprintln!("codefuel serve: a runner thread stopped: {error}");
    }
}

fn take_jobs(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job, not while running it.
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // the pool was dropped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_panic_fails_alone() {
        let pool = Arc::new(Pool::new(1, 1).unwrap());
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        // One job holds the only thread, one waits in the queue.
        let held = {
            let pool = Arc::clone(&pool);
            let gate = Arc::clone(&gate);
            tokio::spawn(
                async move { pool.run(move || gate.lock().unwrap().recv().unwrap()).await },
            )
        };
        while pool.gauges().running.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        let queued = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(|| 7).await })
        };
        while pool.gauges().queued.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|| 8).await, Err(Busy)));
        release.send(()).unwrap();
        held.await.unwrap().unwrap().unwrap();
        assert_eq!(queued.await.unwrap().unwrap().unwrap(), 7);
        let panicked = pool.run(|| panic!("boom")).await.unwrap();
        assert!(matches!(panicked, Err(Lost(message)) if message.contains("boom")));
        assert_eq!(
            pool.run(|| 9).await.unwrap().unwrap(),
            9,
            "the thread survives"
        );
    }
}
