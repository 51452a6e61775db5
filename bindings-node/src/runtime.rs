//! Hands corral's shared runtime to napi-rs (its `async-runtime` interface),
//! so that the addon's Promises and the clients' connections run on the same
//! bounded set of workers as every other binding's.

use std::future::Future;
use std::pin::Pin;

use napi::bindgen_prelude::{register_async_runtime, AsyncRuntime, AsyncRuntimeRejection, AsyncRuntimeTask};
use napi::{Error, Result, Status};

/// napi's view of `corral::runtime::get()`.
struct CorralRuntime;

// SAFETY: the runtime is the process's and outlives every environment; Node
// keeps an addon's image loaded until the process exits, so no task can run
// code of an unloaded image. `shutdown` therefore has nothing to stop.
unsafe impl AsyncRuntime for CorralRuntime {
    fn spawn(&self, task: AsyncRuntimeTask) -> std::result::Result<(), AsyncRuntimeRejection<AsyncRuntimeTask>> {
        corral::runtime::get().spawn(task);
        Ok(())
    }

    fn block_on(&self, future: Pin<&mut dyn Future<Output = ()>>) -> Result<()> {
        corral::runtime::block_on(future).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    fn shutdown(&self) -> Result<()> {
        Ok(())
    }
}

#[napi_derive::module_init]
fn init() {
    register_async_runtime(CorralRuntime);
}
