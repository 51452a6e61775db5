//! `Counter` and `FloatCounter`: core's `counter::Counter` (kazoo's integer
//! Counter, as text or Curator's 4 bytes) and `counter::FloatCounter`.

use std::sync::Arc;

use corral::recipes::counter::{Counter as CoreCounter, CounterEncoding, FloatCounter as CoreFloatCounter};
use pyo3::prelude::*;

use super::{core_client, into};
use crate::runtime::{awaitable_py, block_on};

/// kazoo's integer Counter.
#[pyclass(module = "corral._corral", frozen)]
pub struct Counter {
    counter: Arc<CoreCounter>,
}

#[pymethods]
impl Counter {
    /// `curator`: Curator's 4-byte encoding instead of text.
    #[new]
    #[pyo3(signature = (client, path, default, curator=false))]
    fn new(client: &Bound<'_, PyAny>, path: &str, default: i64, curator: bool) -> PyResult<Counter> {
        let encoding = if curator { CounterEncoding::Curator } else { CounterEncoding::Text };
        let counter = CoreCounter::new(&core_client(client)?, path).with_default(default).with_encoding(encoding);
        Ok(Counter { counter: Arc::new(counter) })
    }

    /// The current value.
    fn value(&self, py: Python<'_>) -> PyResult<i64> {
        let c = self.counter.clone();
        block_on(py, async move { c.value().await })
    }

    /// `value` as an awaitable.
    fn value_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.counter.clone();
        awaitable_py(py, async move { c.value().await }, |py, v| into(py, v))
    }

    /// Adds `delta`; returns `(pre_value, post_value)`.
    fn add(&self, py: Python<'_>, delta: i64) -> PyResult<(i64, i64)> {
        let c = self.counter.clone();
        block_on(py, async move { c.add(delta).await.map(|ch| (ch.pre_value, ch.post_value)) })
    }

    /// `add` as an awaitable.
    fn add_async<'py>(&self, py: Python<'py>, delta: i64) -> PyResult<Bound<'py, PyAny>> {
        let c = self.counter.clone();
        awaitable_py(py, async move { c.add(delta).await.map(|ch| (ch.pre_value, ch.post_value)) }, |py, v| into(py, v))
    }
}

/// kazoo's float Counter.
#[pyclass(module = "corral._corral", frozen)]
pub struct FloatCounter {
    counter: Arc<CoreFloatCounter>,
}

#[pymethods]
impl FloatCounter {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str, default: f64) -> PyResult<FloatCounter> {
        Ok(FloatCounter { counter: Arc::new(CoreFloatCounter::new(&core_client(client)?, path).with_default(default)) })
    }

    /// The current value.
    fn value(&self, py: Python<'_>) -> PyResult<f64> {
        let c = self.counter.clone();
        block_on(py, async move { c.value().await })
    }

    /// Adds `delta`; returns `(pre_value, post_value)`.
    fn add(&self, py: Python<'_>, delta: f64) -> PyResult<(f64, f64)> {
        let c = self.counter.clone();
        block_on(py, async move { c.add(delta).await })
    }
}
