//! Owned strings and string arrays returned by libfaust, freed with `freeCMemory` on drop.

use std::ffi::{c_char, c_void, CStr};

/// A C string allocated by libfaust; freed with `freeCMemory` when dropped.
pub(crate) struct FaustString<'a> {
    api: &'a faust_ffi::Api,
    ptr: *mut c_char,
}

impl<'a> FaustString<'a> {
    /// Takes ownership of `ptr`; `None` when libfaust returned NULL.
    ///
    /// # Safety
    /// `ptr` must be NULL or a NUL-terminated string that libfaust allocated for the caller to
    /// free with `freeCMemory`, not owned by anything else.
    pub(crate) unsafe fn take(api: &'a faust_ffi::Api, ptr: *mut c_char) -> Option<Self> {
        (!ptr.is_null()).then_some(FaustString { api, ptr })
    }

    /// Copies the string (empty for NULL) and frees it.
    ///
    /// # Safety
    /// As for [`FaustString::take`].
    pub(crate) unsafe fn take_text(api: &'a faust_ffi::Api, ptr: *mut c_char) -> String {
        // SAFETY: the caller's contract.
        let Some(owned) = (unsafe { FaustString::take(api, ptr) }) else {
            return String::new();
        };
        // SAFETY: `take`'s contract: a valid NUL-terminated string, alive until `owned` drops.
        unsafe { CStr::from_ptr(owned.ptr) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for FaustString<'_> {
    fn drop(&mut self) {
        // SAFETY: `take`'s contract: libfaust allocated it for us and nothing else frees it.
        unsafe { (self.api.free_memory)(self.ptr.cast::<c_void>()) }
    }
}

/// Copies a NULL-terminated array of C strings that libfaust allocated (array and strings), then
/// frees them with `freeCMemory`.
///
/// # Safety
/// `array` must be NULL or a NULL-terminated array of NUL-terminated strings, each and the array
/// allocated by libfaust for the caller to free.
pub(crate) unsafe fn take_string_array(
    api: &faust_ffi::Api,
    array: *mut *const c_char,
) -> Vec<String> {
    let mut out = Vec::new();
    if array.is_null() {
        return out;
    }
    let mut i = 0;
    loop {
        // SAFETY: the array is NULL-terminated (contract), so every index up to the NULL is valid.
        let item = unsafe { *array.add(i) };
        if item.is_null() {
            break;
        }
        // SAFETY: a NUL-terminated string owned by the array (contract).
        out.push(
            unsafe { CStr::from_ptr(item) }
                .to_string_lossy()
                .into_owned(),
        );
        // SAFETY: allocated by libfaust for us (contract), freed once.
        unsafe { (api.free_memory)(item as *mut c_void) };
        i += 1;
    }
    // SAFETY: as above, the array itself is ours to free.
    unsafe { (api.free_memory)(array.cast::<c_void>()) };
    out
}
