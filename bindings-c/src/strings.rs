//! `corral_strings`: a list of strings the library returns (children,
//! paths), read with `corral_strings_len` / `corral_strings_get` and freed
//! with `corral_strings_free`.

use std::ffi::{c_char, CString};

use crate::result::*;

/// An immutable list of NUL-terminated strings.
#[allow(non_camel_case_types)]
pub struct corral_strings {
    items: Vec<CString>,
}

impl corral_strings {
    /// A list for C; a string with a NUL byte cannot be returned.
    pub fn new(items: Vec<String>) -> Result<corral_strings, corral_result> {
        let items =
            items.into_iter().map(CString::new).collect::<Result<Vec<_>, _>>().map_err(|_| CORRAL_INVALID_UTF8)?;
        Ok(corral_strings { items })
    }

    /// A new heap list for C, as `new`.
    pub fn boxed(items: Vec<String>) -> Result<*mut corral_strings, corral_result> {
        Ok(Box::into_raw(Box::new(corral_strings::new(items)?)))
    }
}

/// How many strings the list holds (0 for NULL).
///
/// # Safety
///
/// `list` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn corral_strings_len(list: *const corral_strings) -> usize {
    list.as_ref().map_or(0, |l| l.items.len())
}

/// The string at `index`, owned by the list (valid until
/// `corral_strings_free`); NULL for a NULL list or an index out of range.
///
/// ```c
/// for (size_t i = 0; i < corral_strings_len(kids); i++) puts(corral_strings_get(kids, i));
/// ```
///
/// # Safety
///
/// `list` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn corral_strings_get(list: *const corral_strings, index: usize) -> *const c_char {
    list.as_ref().and_then(|l| l.items.get(index)).map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Frees a list; NULL does nothing.
///
/// # Safety
///
/// `list` is NULL or a list not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_strings_free(list: *mut corral_strings) {
    if !list.is_null() {
        drop(Box::from_raw(list));
    }
}
