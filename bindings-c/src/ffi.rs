//! Reading arguments from C and writing results back: NULL checks, UTF-8,
//! buffers with their lengths. Every function here returns the code to give
//! the caller when the argument is unusable.

use std::ffi::{c_char, CStr};

use crate::client::corral_client;
use crate::result::*;

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
///
/// `s` is NULL or points to a NUL-terminated string that outlives the call.
pub unsafe fn str_arg<'a>(s: *const c_char) -> Result<&'a str, corral_result> {
    if s.is_null() {
        return Err(CORRAL_NULL_ARGUMENT);
    }
    CStr::from_ptr(s).to_str().map_err(|_| CORRAL_INVALID_UTF8)
}

/// A byte buffer argument; NULL is allowed only with length 0.
///
/// # Safety
///
/// `data` is NULL or points to `len` readable bytes.
pub unsafe fn bytes_arg<'a>(data: *const u8, len: usize) -> Result<&'a [u8], corral_result> {
    match (data.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(CORRAL_NULL_ARGUMENT),
        (false, _) => Ok(std::slice::from_raw_parts(data, len)),
    }
}

/// A required output pointer.
pub fn out_arg<'a, T>(p: *mut T) -> Result<&'a mut T, corral_result> {
    // SAFETY: the caller promises a valid, writable, exclusive pointer or NULL.
    unsafe { p.as_mut() }.ok_or(CORRAL_NULL_ARGUMENT)
}

/// Copies `bytes` into `buf` (capacity `cap`) and stores the length in
/// `*len`. When `nul` is set a NUL byte follows (not counted in `*len`).
/// Too small: `*len` gets the length needed (with the NUL) and the buffer is
/// left untouched. `buf` may be NULL only with `cap` 0, to ask the length.
///
/// # Safety
///
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or writable.
pub unsafe fn write_buf(
    bytes: &[u8],
    nul: bool,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> Result<(), corral_result> {
    let len = out_arg(len)?;
    let needed = bytes.len() + usize::from(nul);
    if buf.is_null() && cap > 0 {
        return Err(CORRAL_NULL_ARGUMENT);
    }
    if cap < needed {
        *len = needed;
        return Err(CORRAL_BUFFER_TOO_SMALL);
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
    if nul {
        *buf.add(bytes.len()) = 0;
    }
    *len = bytes.len();
    Ok(())
}

/// Runs `fut` on the shared runtime, blocking; a client error becomes its code.
pub fn wait<T>(fut: impl std::future::Future<Output = corral_core::client::Result<T>>) -> Result<T, corral_result> {
    corral_core::runtime::block_on(fut).map_err(|e| from_block(&e))?.map_err(|e| from_client(&e))
}

/// Spawns `fut` on the shared runtime after polling it once on the caller's
/// thread, so that what it does before its first wait (queueing a request on
/// the connection, subscribing to a cancel switch) happens in call order.
pub fn spawn_started<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use std::task::{Context, Poll, Waker};
    let runtime = corral_core::runtime::get();
    let mut fut = Box::pin(fut);
    let first = {
        let _entered = runtime.enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    };
    match first {
        Poll::Ready(out) => runtime.spawn(async move { out }),
        Poll::Pending => runtime.spawn(fut),
    }
}

/// A timeout argument in milliseconds: `None` for `CORRAL_WAIT_FOREVER`,
/// `CORRAL_INVALID_ARGUMENT` for another negative number.
pub fn timeout_arg(ms: i64) -> Result<Option<std::time::Duration>, corral_result> {
    match ms {
        crate::recipes::CORRAL_WAIT_FOREVER => Ok(None),
        ms if ms >= 0 => Ok(Some(std::time::Duration::from_millis(ms as u64))),
        _ => Err(CORRAL_INVALID_ARGUMENT),
    }
}

/// Reads a C array of `n` NUL-terminated strings (NULL allowed only with `n` 0).
///
/// # Safety
///
/// `items` is NULL or points to `n` NUL-terminated strings.
pub unsafe fn strs_arg<'a>(items: *const *const std::ffi::c_char, n: usize) -> Result<Vec<&'a str>, corral_result> {
    if items.is_null() {
        return if n == 0 { Ok(Vec::new()) } else { Err(CORRAL_NULL_ARGUMENT) };
    }
    std::slice::from_raw_parts(items, n).iter().map(|s| str_arg(*s)).collect()
}

/// Makes a recipe handle for `zk` from `make`.
///
/// # Safety
///
/// `zk` is NULL or live; `out` is NULL or writable.
pub unsafe fn new_handle<T>(
    zk: *const corral_client,
    out: *mut *mut T,
    make: impl FnOnce(&corral_core::client::Client) -> Result<T, corral_result>,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(make(&client)?));
        Ok(())
    })
}

/// Frees a handle made by `new_handle`; NULL does nothing.
///
/// # Safety
///
/// `handle` is NULL or a handle of `new_handle` not yet freed.
pub unsafe fn free_handle<T>(handle: *mut T) {
    if !handle.is_null() {
        drop(Box::from_raw(handle));
    }
}

/// Reads `n` byte buffers given as an array of pointers and an array of
/// their lengths (each pointer NULL only with length 0).
///
/// # Safety
///
/// `items` and `lens` are NULL or point to `n` entries; each item has its
/// length's readable bytes.
pub unsafe fn items_arg<'a>(
    items: *const *const u8,
    lens: *const usize,
    n: usize,
) -> Result<Vec<&'a [u8]>, corral_result> {
    if items.is_null() || lens.is_null() {
        return Err(CORRAL_NULL_ARGUMENT);
    }
    let (items, lens) = (std::slice::from_raw_parts(items, n), std::slice::from_raw_parts(lens, n));
    items.iter().zip(lens).map(|(p, len)| bytes_arg(*p, *len)).collect()
}
