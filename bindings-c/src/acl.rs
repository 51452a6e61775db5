//! ACLs for C: `corral_acl` entries given as arrays and returned as
//! `corral_acl_list`; creating with an ACL, reading and replacing one.

use std::ffi::{c_char, CString};

use corral_core::client::CreateOptions;
use corral_core::proto::{Acl, CreateMode, Id};

use crate::client::{call, corral_client, corral_stat, put_stat};
use crate::ffi::{bytes_arg, out_arg, str_arg, write_buf};
use crate::result::*;

/// Permission: read data and children, exists.
pub const CORRAL_PERM_READ: i32 = 1;
/// Permission: set data.
pub const CORRAL_PERM_WRITE: i32 = 2;
/// Permission: create children.
pub const CORRAL_PERM_CREATE: i32 = 4;
/// Permission: delete children.
pub const CORRAL_PERM_DELETE: i32 = 8;
/// Permission: set the ACL.
pub const CORRAL_PERM_ADMIN: i32 = 16;
/// Every permission.
pub const CORRAL_PERM_ALL: i32 = 31;

/// One ACL entry: `perms` granted to `scheme:id` (`world:anyone`,
/// `digest:user:hash`, `auth:`, `ip:10.0.0.0/8`, ...).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct corral_acl {
    /// `CORRAL_PERM_*` bits.
    pub perms: i32,
    /// The scheme, NUL-terminated.
    pub scheme: *const c_char,
    /// The id within the scheme, NUL-terminated.
    pub id: *const c_char,
}

/// An ACL the library returns; entries stay valid until `corral_acl_list_free`.
#[allow(non_camel_case_types)]
pub struct corral_acl_list {
    entries: Vec<(i32, CString, CString)>,
}

impl corral_acl_list {
    /// The list of `acl` for C (a string with a NUL byte cannot be returned).
    pub(crate) fn new(acl: Vec<Acl>) -> Result<corral_acl_list, corral_result> {
        let entries = acl
            .into_iter()
            .map(|a| {
                Ok((
                    a.perms,
                    CString::new(a.id.scheme).map_err(|_| CORRAL_INVALID_UTF8)?,
                    CString::new(a.id.id).map_err(|_| CORRAL_INVALID_UTF8)?,
                ))
            })
            .collect::<Result<Vec<_>, corral_result>>()?;
        Ok(corral_acl_list { entries })
    }
}

/// Reads a C array of ACL entries.
///
/// # Safety
///
/// `acl` is NULL or points to `n` entries whose strings are NUL-terminated.
pub(crate) unsafe fn acl_arg(acl: *const corral_acl, n: usize) -> Result<Vec<Acl>, corral_result> {
    if acl.is_null() || n == 0 {
        // ZooKeeper refuses an empty ACL as invalid; corral does so before sending.
        return Err(if acl.is_null() { CORRAL_NULL_ARGUMENT } else { CORRAL_INVALID_ACL });
    }
    std::slice::from_raw_parts(acl, n)
        .iter()
        .map(|a| Ok(Acl { perms: a.perms, id: Id::new(str_arg(a.scheme)?, str_arg(a.id)?) }))
        .collect()
}

/// `corral_client_create` with an ACL of `acl_len` entries (ZooKeeper
/// refuses an empty one: `CORRAL_INVALID_ACL`).
///
/// ```c
/// corral_acl acl[] = {{CORRAL_PERM_ALL, "auth", ""}, {CORRAL_PERM_READ, "world", "anyone"}};
/// corral_client_create_acl(zk, "/secret", data, len, CORRAL_PERSISTENT, acl, 2, NULL, 0, NULL);
/// ```
///
/// # Safety
///
/// As `corral_client_create`; `acl` points to `acl_len` entries.
#[no_mangle]
pub unsafe extern "C" fn corral_client_create_acl(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    mode: i32,
    acl: *const corral_acl,
    acl_len: usize,
    path_buf: *mut c_char,
    path_buf_cap: usize,
    path_len: *mut usize,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let data = bytes_arg(data, data_len)?;
        let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
        if matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl) {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        let acl = acl_arg(acl, acl_len)?;
        let opts = CreateOptions::mode(mode).with_acl(acl);
        let wants_path = !(path_buf.is_null() && path_buf_cap == 0);
        if wants_path {
            crate::client::check_path_buffer(path, mode, path_buf, path_buf_cap, path_len)?;
        }
        let created = call(zk, |c| Ok(async move { c.create(path, data, &opts).await }))?;
        if wants_path {
            write_buf(created.as_bytes(), true, path_buf.cast(), path_buf_cap, path_len)?;
        }
        Ok(())
    })
}

/// A node's ACL as a new list (free with `corral_acl_list_free`) and its
/// stat (`stat` may be NULL).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
/// writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_acl(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_acl_list,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let (acl, s) = call(zk, |c| Ok(async move { c.get_acl(path).await }))?;
        *out = Box::into_raw(Box::new(corral_acl_list::new(acl)?));
        put_stat(stat, s);
        Ok(())
    })
}

/// Replaces a node's ACL if its ACL version is `version` (-1: any); the new
/// stat goes to `stat` (may be NULL).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `acl` points to
/// `acl_len` entries; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_set_acl(
    zk: *const corral_client,
    path: *const c_char,
    acl: *const corral_acl,
    acl_len: usize,
    version: i32,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let acl = acl_arg(acl, acl_len)?;
        let version = Some(version).filter(|v| *v != -1);
        let s = call(zk, |c| Ok(async move { c.set_acl(path, &acl, version).await }))?;
        put_stat(stat, s);
        Ok(())
    })
}

/// How many entries the list has (0 for NULL).
///
/// # Safety
///
/// `list` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_acl_list_len(list: *const corral_acl_list) -> usize {
    list.as_ref().map_or(0, |l| l.entries.len())
}

/// Entry `index` into `out` (its strings owned by the list);
/// `CORRAL_INVALID_ARGUMENT` past the end.
///
/// # Safety
///
/// `list` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_acl_list_get(
    list: *const corral_acl_list,
    index: usize,
    out: *mut corral_acl,
) -> corral_result {
    guard(|| {
        let list = list.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let (perms, scheme, id) = list.entries.get(index).ok_or(CORRAL_INVALID_ARGUMENT)?;
        *out = corral_acl { perms: *perms, scheme: scheme.as_ptr(), id: id.as_ptr() };
        Ok(())
    })
}

/// Frees a list; NULL does nothing.
///
/// # Safety
///
/// `list` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_acl_list_free(list: *mut corral_acl_list) {
    if !list.is_null() {
        drop(Box::from_raw(list));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::proto::perms;

    #[test]
    fn permission_bits_are_zookeepers() {
        assert_eq!(
            [
                CORRAL_PERM_READ,
                CORRAL_PERM_WRITE,
                CORRAL_PERM_CREATE,
                CORRAL_PERM_DELETE,
                CORRAL_PERM_ADMIN,
                CORRAL_PERM_ALL
            ],
            [perms::READ, perms::WRITE, perms::CREATE, perms::DELETE, perms::ADMIN, perms::ALL]
        );
    }
}
