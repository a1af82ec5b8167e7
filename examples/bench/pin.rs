//! Pinning a process to one core, so the stand-in and the measured client
//! never share one and neither is moved mid-row.

/// Pins the calling thread, and every thread it starts afterwards, to
/// `core`. Does nothing on a machine with fewer cores.
pub fn to_core(core: usize) {
    pid_to_core(0, core);
}

/// Pins the process (the thread) `pid` to `core`: 0 is the caller.
pub fn pid_to_core(pid: libc::pid_t, core: usize) {
    // SAFETY: sysconf has no preconditions.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if cores <= core as libc::c_long {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it;
    // sched_setaffinity reads it for `pid`, which it checks.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!(
                "could not pin {pid} to core {core}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}
