//! The runtime's error type, [`Error`]: host-side failures of setting up or driving the
//! sandbox, never what a program does.

use std::path::PathBuf;

/// An error from a lower layer (wasmtime, the snapshotter), kept as an [`Error`]'s source.
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A host-side failure of the sandbox: the cache directory is unusable, the guest would not
/// compile, an instance could not be made, the API was misused, or something panicked.
///
/// What a *program* does is never an `Error` but a [`Verdict`](crate::Verdict). The message
/// says what failed; the underlying cause (an I/O error, wasmtime's error) is its
/// [`source`](std::error::Error::source), so print the chain (`{:#}` of an `anyhow::Error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The compiled-guest cache directory, or a file in it, could not be created, read or
    /// written.
    #[error("could not {operation} {}", path.display())]
    CacheIo {
        /// What was being done, e.g. `create the cache directory`.
        operation: &'static str,
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The cache path exists but is not a directory.
    #[error("the cache path {} is not a directory", path.display())]
    CacheNotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The cache directory belongs to another user, who could plant a compiled guest in it.
    #[error(
        "the cache directory {} belongs to user {owner}, not to this user ({uid}); \
         choose another with --cache-dir or CODEFUEL_CACHE_DIR",
        path.display()
    )]
    CacheDirNotOwned {
        /// The directory.
        path: PathBuf,
        /// The uid that owns it.
        owner: u32,
        /// This process's uid.
        uid: u32,
    },
    /// The cache directory can be written by group or others, who could plant a compiled
    /// guest in it.
    #[error(
        "the cache directory {} is writable by group or others (mode {mode:o}); \
         run `chmod go-w {}` or choose another directory",
        path.display(),
        path.display()
    )]
    CacheDirWritable {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The guest module could not be prepared: the engine, snapshotting the interpreter,
    /// compiling the snapshot or linking its imports failed.
    #[error("could not prepare the Python guest: {step} failed")]
    Guest {
        /// The step that failed, e.g. `compiling the snapshot`.
        step: &'static str,
        /// Why.
        #[source]
        source: BoxedSource,
    },
    /// The guest asked for is not part of this build of codefuel.
    #[error(
        "this codefuel was built without the {guest} guest: install its C toolchain with \
         `bash guests/cpython/install-deps.sh` and build with `--features cpython` \
         (or set CODEFUEL_CPYTHON_WASM to a prebuilt guest-cpython.wasm); \
         see guests/cpython/README.md"
    )]
    GuestNotBuilt {
        /// The guest's name.
        guest: &'static str,
    },
    /// The memory limit is below what the guest's snapshot starts with.
    #[error(
        "a memory limit of {limit_mib} MiB is below the {needed_mib} MiB the {guest} guest \
         starts with (its initialized interpreter); give it at least {needed_mib} MiB"
    )]
    MemoryBelowGuest {
        /// The limit asked for, in MiB (rounded down).
        limit_mib: u64,
        /// The guest's initial memory, in MiB (rounded up).
        needed_mib: u64,
        /// The guest's name.
        guest: &'static str,
    },
    /// A guest instance (for a session) could not be made.
    #[error("could not instantiate the Python guest")]
    Instantiate {
        /// Why (wasmtime's error).
        #[source]
        source: BoxedSource,
    },
    /// [`Lease::session`](crate::Lease::session) was called while the lease already held
    /// this many live sessions.
    #[error("a lease holds at most {max} live sessions; drop one before opening another")]
    TooManySessions {
        /// [`SESSIONS_PER_LEASE`](crate::SESSIONS_PER_LEASE).
        max: u32,
    },
    /// A session was opened off a runner thread, whose native stack is too shallow for the
    /// guest.
    #[error(
        "sessions need the deep native stack of a runner thread: \
         open them inside on_runner or on a thread from spawn_runner"
    )]
    NotOnRunner,
    /// A thread the sandbox needs could not be started.
    #[error("could not start the {thread} thread")]
    SpawnThread {
        /// Which thread, e.g. `epoch ticker`.
        thread: &'static str,
        /// The I/O error of the spawn.
        #[source]
        source: std::io::Error,
    },
    /// The deep native stack that runs need could not be mapped for this thread.
    #[error("could not map the deep native stack that sandbox runs need")]
    RunnerStack {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A sandbox run, or a closure on a runner, panicked; the panic was contained.
    #[error("panicked on a sandbox runner: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// Any other host-side failure (wasmtime refusing an operation the runtime relies on).
    #[error("internal sandbox error: {context}")]
    Internal {
        /// What the runtime was doing.
        context: &'static str,
        /// Why.
        #[source]
        source: BoxedSource,
    },
}

/// `Result` with the runtime's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A [`Error::Guest`] from wasmtime's error at `step`.
    pub(crate) fn guest(step: &'static str) -> impl FnOnce(wasmtime::Error) -> Error {
        move |error| Error::Guest {
            step,
            source: error.into_boxed_dyn_error(),
        }
    }

    /// An [`Error::Internal`] from wasmtime's error while doing `context`.
    pub(crate) fn internal(context: &'static str) -> impl FnOnce(wasmtime::Error) -> Error {
        move |error| Error::Internal {
            context,
            source: error.into_boxed_dyn_error(),
        }
    }

    /// An [`Error::Panicked`] from a caught panic's payload.
    pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Error::Panicked { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_is_the_source_not_part_of_the_message() {
        let error = Error::CacheIo {
            operation: "create the cache directory",
            path: "/nowhere/codefuel".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            error.to_string(),
            "could not create the cache directory /nowhere/codefuel"
        );
        let source = std::error::Error::source(&error).expect("a source");
        assert!(source.is::<std::io::Error>());
    }

    #[test]
    fn a_wasmtime_error_keeps_its_chain() {
        use wasmtime::error::Context as _;
        let error: wasmtime::Result<()> =
            Err(wasmtime::format_err!("out of slots")).context("instantiating");
        let error = error.map_err(Error::guest("linking")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "could not prepare the Python guest: linking failed"
        );
        let source = std::error::Error::source(&error).expect("a source");
        assert_eq!(source.to_string(), "instantiating");
        assert_eq!(
            source.source().expect("its cause").to_string(),
            "out of slots"
        );
    }

    #[test]
    fn a_panic_payload_becomes_the_message() {
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        let Error::Panicked { message } = Error::panicked(&*payload) else {
            unreachable!()
        };
        assert_eq!(message, "boom 7");
    }

    #[test]
    fn errors_can_cross_threads_and_be_boxed() {
        fn assert_bounds<E: std::error::Error + Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }
}
