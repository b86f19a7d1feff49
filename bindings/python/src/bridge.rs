//! Running the core's futures for Python: blocking, or as asyncio awaitables.
//!
//! One multi-thread tokio runtime serves every `Tessera` in the process (its
//! stores' connection pools live on it). A blocking call detaches the thread
//! from the interpreter, so other Python threads run, and blocks on the
//! future. An async call returns an `asyncio.Future` created on the caller's
//! running loop: the Rust future is polled once on the spot (detached), and
//! if it must wait it is spawned on the runtime; when it finishes, its task
//! converts the result under the GIL and hands it to the loop with
//! `loop.call_soon_threadsafe(_complete, future, ok, value)`, the one
//! thread-safe way into an asyncio loop. A cancelled Python future does not
//! cancel the Rust work (the core's flows are never left half-done by
//! cancellation this way); its result is dropped.

use std::future::Future;
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard};
use std::task::{Context, Poll, Waker};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;

use crate::convert::ToPy;
use crate::errors::to_py_err;

/// The shared runtime, started on first use.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("tessera-worker")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime for tessera")
    })
}

/// Run `fut` to completion with the thread detached from the interpreter.
pub(crate) fn block_on<T>(
    py: Python<'_>,
    fut: impl Future<Output = tessera_core::Result<T>> + Send,
) -> PyResult<Py<PyAny>>
where
    T: ToPy + Send,
{
    let result = py.detach(|| runtime().block_on(fut));
    match result {
        Ok(value) => value.to_py(py),
        Err(e) => Err(to_py_err(py, &e)),
    }
}

/// Run `fut` for asyncio: return an `asyncio.Future` of its result, bound to
/// the running event loop (a `RuntimeError` if there is none).
///
/// The future is polled once right here, detached from the interpreter: one
/// that does not need to wait (a memory store, cached keys) is answered
/// without leaving this thread. Otherwise it is spawned on the runtime, which
/// polls it again with a real waker, and completes the Python future from
/// there.
pub(crate) fn spawn<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = tessera_core::Result<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: ToPy + Send + 'static,
{
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        py.import("asyncio")?
            .getattr("get_running_loop")
            .map(Bound::unbind)
    })?;
    let event_loop = get_running_loop.call0(py)?;
    let future = event_loop.call_method0(py, "create_future")?.into_bound(py);
    let mut fut = Box::pin(fut);
    let first = py.detach(|| {
        let _runtime = runtime().enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    });
    if let Poll::Ready(result) = first {
        let (ok, value) = outcome(py, result);
        _complete(&future, ok, value.into_bound(py))?;
        return Ok(future);
    }
    let handle = future.clone().unbind();
    runtime().spawn(async move {
        let result = fut.await;
        let Some(_entered) = PythonGate::enter() else {
            // The interpreter is exiting: nobody will read the answer, and
            // taking the GIL now would end this thread inside Rust frames.
            // The Python objects are released without it (pyo3 queues the
            // decrements).
            return;
        };
        Python::attach(move |py| {
            let (ok, value) = outcome(py, result);
            let delivered = complete_fn(py).and_then(|complete| {
                event_loop.call_method1(py, "call_soon_threadsafe", (complete, handle, ok, value))
            });
            // An error here means the loop is closed: nobody is waiting.
            drop(delivered);
            // Release the loop while attached rather than deferring it.
            drop(event_loop);
        })
    });
    Ok(future)
}

/// Whether runtime threads may still enter Python: open until the
/// interpreter starts exiting.
///
/// Why: a thread that takes the GIL while the interpreter finalizes is ended
/// by CPython with `pthread_exit`, which unwinds through the Rust frames of a
/// runtime worker and aborts the process (issue 14, item 7: `AsyncTessera`
/// under `asyncio.run` ended with SIGABRT in a fifth to half of the runs
/// under load). A runtime thread enters Python only holding a read guard of
/// an open gate; [`_close_python_gate`], registered with `atexit` when the
/// module loads (atexit handlers run before finalization begins), closes it
/// and, detached, waits for the guards held (their threads finish their
/// Python work meanwhile).
struct PythonGate;

static PYTHON_GATE: RwLock<bool> = RwLock::new(true);

impl PythonGate {
    /// A guard to enter Python under, or `None` once the gate is closed.
    fn enter() -> Option<RwLockReadGuard<'static, bool>> {
        let open = PYTHON_GATE.read().unwrap_or_else(PoisonError::into_inner);
        (*open).then_some(open)
    }
}

/// Close the gate (an `atexit` handler): from now on no runtime thread
/// enters Python; returns once those inside have left.
#[pyfunction]
#[pyo3(name = "_close_python_gate")]
pub(crate) fn _close_python_gate(py: Python<'_>) {
    py.detach(|| *PYTHON_GATE.write().unwrap_or_else(PoisonError::into_inner) = false);
}

/// Register [`_close_python_gate`] with `atexit` (at module load).
pub(crate) fn close_python_gate_at_exit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let close = wrap_pyfunction!(_close_python_gate, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (close,))?;
    Ok(())
}

/// `(true, result)` or `(false, exception)` for a finished core future.
fn outcome<T: ToPy>(py: Python<'_>, result: tessera_core::Result<T>) -> (bool, Py<PyAny>) {
    match result.map_err(|e| to_py_err(py, &e)) {
        Ok(value) => match value.to_py(py) {
            Ok(obj) => (true, obj),
            Err(err) => (false, err.into_value(py).into_any()),
        },
        Err(err) => (false, err.into_value(py).into_any()),
    }
}

fn complete_fn(py: Python<'_>) -> PyResult<&Py<PyCFunction>> {
    static COMPLETE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
    COMPLETE.get_or_try_init(py, || Ok(wrap_pyfunction!(_complete, py)?.unbind()))
}

/// Set an asyncio future's result or exception, unless it is already done
/// (cancelled). Runs on the event loop's thread.
#[pyfunction]
#[pyo3(name = "_complete")]
pub(crate) fn _complete(
    future: &Bound<'_, PyAny>,
    ok: bool,
    value: Bound<'_, PyAny>,
) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    if ok {
        future.call_method1("set_result", (value,))?;
    } else {
        future.call_method1("set_exception", (value,))?;
    }
    Ok(())
}

/// Declare methods of both handles from one list, each entry giving its doc,
/// Python signature and call once: `fn name(arg: Type, …) [pyo3 signature]
/// |core| future;` — the future (usually a `tessera_bindings_common` call)
/// borrows the core and the arguments, and answers a core `Result` of a
/// [`ToPy`] value. On `Tessera` the method blocks ([`block_on`]); on
/// `AsyncTessera` it returns an awaitable ([`spawn`]). Each capability file
/// has one such list (pyo3's `multiple-pymethods`).
#[macro_export]
#[doc(hidden)]
macro_rules! methods {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) [$($sig:tt)*]
            |$core:ident| $call:expr;
    )*) => {
        #[pyo3::pymethods]
        impl Tessera {
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = ($($sig)*))]
                #[allow(clippy::too_many_arguments)]
                fn $name(&self, py: pyo3::Python<'_>, $($arg: $ty),*) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                    let $core = self.core.clone();
                    $crate::bridge::block_on(py, async move {
                        let $core = &$core;
                        $call.await
                    })
                }
            )*
        }

        #[pyo3::pymethods]
        impl AsyncTessera {
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = ($($sig)*))]
                #[allow(clippy::too_many_arguments)]
                fn $name<'py>(&self, py: pyo3::Python<'py>, $($arg: $ty),*) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    let $core = self.core.clone();
                    $crate::bridge::spawn(py, async move {
                        let $core = &$core;
                        $call.await
                    })
                }
            )*
        }
    };
}
