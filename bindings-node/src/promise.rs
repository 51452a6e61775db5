//! Futures on corral's runtime as Promises, each honouring the call's
//! optional `AbortSignal`: an abort drops the future (a pending lock
//! acquisition deletes its node) and rejects with an AbortError.

use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::{
    FnArgs, Function, FunctionRef, JsObjectValue, Object, ObjectRef, PromiseRaw, ToNapiValue, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, Result};
use tokio::sync::watch;

use crate::error::{Failure, Outcome};

/// `addEventListener` / `removeEventListener` of an AbortSignal.
type ListenerMethod<'env> = Function<'env, FnArgs<(&'static str, Function<'env, (), ()>)>, Unknown<'env>>;

/// The listener a call added to its signal, removed when the call settles.
struct AbortHook {
    aborted: watch::Receiver<bool>,
    signal: ObjectRef<false>,
    listener: FunctionRef<(), ()>,
}

impl AbortHook {
    fn add(env: &Env, signal: Object) -> Result<AbortHook> {
        let (tx, aborted) = watch::channel(signal.get::<bool>("aborted")?.unwrap_or(false));
        let listener = env.create_function_from_closure::<(), (), _>("onabort", move |_| {
            tx.send_replace(true);
            Ok(())
        })?;
        let add: ListenerMethod = signal.get_named_property("addEventListener")?;
        add.apply(signal, FnArgs::from(("abort", listener)))?;
        Ok(AbortHook { aborted, signal: signal.create_ref()?, listener: listener.create_ref()? })
    }

    /// Removes the listener; the signal stays readable for the rest of this scope.
    fn remove<'env>(self, env: &'env Env) -> Result<Object<'env>> {
        let signal = self.signal.get_value(env)?;
        let remove: ListenerMethod = signal.get_named_property("removeEventListener")?;
        remove.apply(signal, FnArgs::from(("abort", self.listener.borrow_back(env)?)))?;
        self.signal.unref(env)?;
        Ok(signal)
    }
}

/// Runs `fut` on the runtime; its value goes through `to_js` on the JS
/// thread, its failure through the error factory.
pub(crate) fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    signal: Option<Object>,
    fut: F,
    to_js: C,
) -> Result<PromiseRaw<'env, V>>
where
    F: Future<Output = Outcome<T>> + Send + 'static,
    T: Send + 'static,
    V: ToNapiValue,
    C: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    let hook = signal.map(|s| AbortHook::add(env, s)).transpose()?;
    // An already aborted signal: the call never starts.
    let started = !hook.as_ref().is_some_and(|h| *h.aborted.borrow());
    // The first poll runs here, on the JS thread: it sends the call's first
    // request, so calls reach the server in the order JS made them
    // (ZooKeeper's FIFO client order), whichever worker drives them on.
    let mut fut = Box::pin(fut);
    let first = if started {
        let _runtime = corral::runtime::get().enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    } else {
        Poll::Ready(Err(Failure::Aborted))
    };
    let fut = async move {
        match first {
            Poll::Ready(out) => out,
            Poll::Pending => fut.await,
        }
    };
    let aborted = hook.as_ref().map(|h| h.aborted.clone());
    let run = async move {
        let out = match aborted {
            None => fut.await,
            Some(mut aborted) => tokio::select! {
                biased;
                Ok(_) = aborted.wait_for(|a| *a) => Err(Failure::Aborted),
                out = fut => out,
            },
        };
        Ok(out)
    };
    env.spawn_future_with_callback(run, move |env, out| {
        let signal = hook.map(|h| h.remove(env)).transpose()?;
        match out {
            Ok(v) => to_js(env, v),
            Err(failure) => Err(failure.into_js(env, signal.as_ref())),
        }
    })
}

/// [`spawn`] for values that convert by themselves.
pub(crate) fn spawn_value<'env, T, F>(env: &'env Env, signal: Option<Object>, fut: F) -> Result<PromiseRaw<'env, T>>
where
    F: Future<Output = Outcome<T>> + Send + 'static,
    T: ToNapiValue + Send + 'static,
{
    spawn(env, signal, fut, |_, v| Ok(v))
}

/// A Promise of `fut`'s value that does not keep Node's event loop alive
/// while it is pending: for the `'state'` feed index.js pumps for as long as
/// the client lives, so that a process whose work is done exits although a
/// client was left open. It resolves through a weak threadsafe function made
/// from the Promise's own `resolve`. (Never for what a caller awaits: Node
/// would end the process under a pending `await`.)
pub(crate) fn passive<'env, T, F>(env: &'env Env, fut: F) -> Result<Unknown<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    type Resolve<'a, T> = Function<'a, T, Unknown<'a>>;
    let fut = Mutex::new(Some(fut));
    let executor = env.create_function_from_closure::<FnArgs<(Unknown, Unknown)>, (), _>("passive", move |ctx| {
        let resolve: Resolve<T> = ctx.get(0)?;
        let tsfn = resolve.build_threadsafe_function::<T>().callee_handled::<false>().weak::<true>().build()?;
        if let Some(fut) = fut.lock().unwrap_or_else(|e| e.into_inner()).take() {
            corral::runtime::get().spawn(async move {
                let value = fut.await;
                tsfn.call(value, ThreadsafeFunctionCallMode::NonBlocking);
            });
        }
        Ok(())
    })?;
    let promise: Function<Function<FnArgs<(Unknown, Unknown)>, ()>, Unknown> =
        env.get_global()?.get_named_property("Promise")?;
    promise.new_instance(executor)
}
