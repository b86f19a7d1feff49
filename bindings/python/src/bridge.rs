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
use std::sync::OnceLock;
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
