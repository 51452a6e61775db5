//! Reading arguments from C and writing results back: NULL checks, UTF-8,
//! buffers with their lengths. Every function here returns the code to give
//! the caller when the argument is unusable.

use std::ffi::{c_char, CStr};

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
