//! whoAmI for C: the identities the server has given this connection, as
//! `corral_client_info` entries of a `corral_client_info_list`.

use std::ffi::{c_char, CString};

use crate::client::{call, corral_client};
use crate::ffi::out_arg;
use crate::result::*;

/// One identity of the connection (ZooKeeper's `ClientInfo`).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct corral_client_info {
    /// The authentication scheme (`ip`, `digest`, `super`, ...), NUL-terminated.
    pub scheme: *const c_char,
    /// The user or address in that scheme, NUL-terminated.
    pub user: *const c_char,
}

/// Identities the library returns; valid until `corral_client_info_list_free`.
#[allow(non_camel_case_types)]
pub struct corral_client_info_list {
    entries: Vec<(CString, CString)>,
}

/// The identities the server knows this connection by (ZooKeeper 3.7's
/// whoAmI): the `ip` one always, one per credential added. Returns a new
/// list to free with `corral_client_info_list_free`.
///
/// ```c
/// corral_client_info_list *ids = NULL;
/// if (corral_client_who_am_i(zk, &ids) == CORRAL_OK) {
///     corral_client_info who;
///     for (size_t i = 0; corral_client_info_list_get(ids, i, &who) == CORRAL_OK; i++)
///         printf("%s:%s\n", who.scheme, who.user);
///     corral_client_info_list_free(ids);
/// }
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_who_am_i(
    zk: *const corral_client,
    out: *mut *mut corral_client_info_list,
) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        let infos = call(zk, |c| Ok(async move { c.who_am_i().await }))?;
        let entries = infos
            .into_iter()
            .map(|i| {
                let text = |s: String| CString::new(s).map_err(|_| CORRAL_INVALID_UTF8);
                Ok((text(i.auth_scheme)?, text(i.user)?))
            })
            .collect::<Result<Vec<_>, corral_result>>()?;
        *out = Box::into_raw(Box::new(corral_client_info_list { entries }));
        Ok(())
    })
}

/// How many identities the list holds (0 for NULL).
///
/// # Safety
///
/// `list` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_client_info_list_len(list: *const corral_client_info_list) -> usize {
    list.as_ref().map_or(0, |l| l.entries.len())
}

/// Identity `index` into `out` (its strings owned by the list);
/// `CORRAL_INVALID_ARGUMENT` past the end.
///
/// # Safety
///
/// `list` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_info_list_get(
    list: *const corral_client_info_list,
    index: usize,
    out: *mut corral_client_info,
) -> corral_result {
    guard(|| {
        let list = list.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let (scheme, user) = list.entries.get(index).ok_or(CORRAL_INVALID_ARGUMENT)?;
        *out = corral_client_info { scheme: scheme.as_ptr(), user: user.as_ptr() };
        Ok(())
    })
}

/// Frees a list; NULL does nothing.
///
/// # Safety
///
/// `list` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_client_info_list_free(list: *mut corral_client_info_list) {
    if !list.is_null() {
        drop(Box::from_raw(list));
    }
}
