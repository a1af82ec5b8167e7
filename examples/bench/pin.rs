//! Pinning a process to one core, so the stand-in and the measured client
//! never share one and neither is moved mid-row.

/// Pins the calling thread, and every thread it starts afterwards, to
/// `core`. Does nothing on a machine with fewer cores.
pub fn to_core(core: usize) {
    // SAFETY: sysconf has no preconditions.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if cores <= core as libc::c_long {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it;
    // sched_setaffinity reads it for the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!(
                "could not pin to core {core}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}
