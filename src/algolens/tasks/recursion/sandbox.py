"""Confine the user-function worker (:mod:`algolens.tasks.recursion.worker`) before it runs a
user's file: it may compute, read files, allocate memory up to a limit and start threads; it may
not write, create, rename or delete files, start programs, fork, open network sockets, signal
other processes, leave its process group or raise its limits.

Two kernel mechanisms, applied by :func:`confine` in the worker itself:

* resource limits (``setrlimit``): address space :data:`MEMORY_BYTES` (a runaway allocation is a
  ``MemoryError`` in the function, not the machine's memory), file size 0 (no byte can be written
  to a regular file even through a descriptor the worker inherited) and no core dumps;
* a seccomp-BPF filter (Linux x86-64) that allows a fixed list of system calls — memory,
  reading, pipes the worker already holds, time, threads, signals to itself — and fails every
  other with ``EPERM`` (``clone3`` with ``ENOSYS``, so the C library falls back to ``clone``, whose
  flags the filter can read; ``ioctl`` with ``ENOTTY``, "not a terminal"). ``open``/``openat``
  are allowed only without a write, create, truncate or append flag; ``clone`` only with
  ``CLONE_THREAD`` (a thread, not a process); ``kill``/``tgkill`` only to the worker's own pid.
  ``PR_SET_NO_NEW_PRIVS`` comes first, as the kernel requires, and means no ``setuid`` program
  could gain rights either. A filter cannot be removed or loosened once installed, and threads
  the user's code starts inherit it.

What it does not do: reading is allowed (a function file is the user's own code, run with the
user's rights to read; the caller passes the worker a scrubbed environment, so no store path or
credential variable reaches it). On another platform :func:`confine` raises
:class:`SandboxUnavailable` and the worker refuses to run user code.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
import sys

MEMORY_BYTES = 2 << 30
"""Address-space limit of the worker (2 GiB): the interpreter needs well under 200 MiB."""

AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000

# x86-64 system call numbers (linux/arch/x86/entry/syscalls/syscall_64.tbl)
_ALLOWED = {
    "read": 0, "write": 1, "close": 3, "stat": 4, "fstat": 5, "lstat": 6, "poll": 7,
    "lseek": 8, "mmap": 9, "mprotect": 10, "munmap": 11, "brk": 12, "rt_sigaction": 13,
    "rt_sigprocmask": 14, "rt_sigreturn": 15, "pread64": 17, "readv": 19, "writev": 20,
    "access": 21, "pipe": 22, "select": 23, "sched_yield": 24, "mremap": 25, "mincore": 27,
    "madvise": 28, "dup": 32, "dup2": 33, "pause": 34, "nanosleep": 35, "getitimer": 36,
    "alarm": 37, "setitimer": 38, "getpid": 39, "exit": 60, "wait4": 61, "uname": 63,
    "fcntl": 72, "getcwd": 79, "readlink": 89, "gettimeofday": 96, "getrlimit": 97,
    "getrusage": 98, "sysinfo": 99, "times": 100, "getuid": 102, "getgid": 104, "geteuid": 107,
    "getegid": 108, "getppid": 110, "getpgrp": 111, "getgroups": 115, "getresuid": 118,
    "getresgid": 120, "getpgid": 121, "getsid": 124, "rt_sigpending": 127,
    "rt_sigtimedwait": 128, "rt_sigsuspend": 130, "sigaltstack": 131, "statfs": 137,
    "fstatfs": 138, "getpriority": 140, "sched_getparam": 143, "sched_getscheduler": 145,
    "sched_get_priority_max": 146, "sched_get_priority_min": 147, "arch_prctl": 158,
    "gettid": 186, "time": 201, "futex": 202, "sched_getaffinity": 204, "getdents64": 217,
    "set_tid_address": 218, "restart_syscall": 219, "fadvise64": 221, "timer_create": 222,
    "timer_settime": 223, "timer_gettime": 224, "timer_getoverrun": 225, "timer_delete": 226,
    "clock_gettime": 228, "clock_getres": 229, "clock_nanosleep": 230, "exit_group": 231,
    "newfstatat": 262, "readlinkat": 267, "faccessat": 269, "pselect6": 270, "ppoll": 271,
    "set_robust_list": 273, "get_robust_list": 274, "dup3": 292, "pipe2": 293, "getcpu": 309,
    "getrandom": 318, "membarrier": 324, "statx": 332, "rseq": 334, "faccessat2": 439,
}  # fmt: skip
_OPEN, _OPENAT, _CLONE, _KILL, _TGKILL = 2, 257, 56, 62, 234
_PRLIMIT64, _CLONE3, _IOCTL, _OPENAT2 = 302, 435, 16, 437

_O_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CLONE_THREAD = 0x00010000

# classic BPF, as seccomp reads it (linux/filter.h, linux/seccomp.h)
_LD_W_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW, _KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class SandboxUnavailable(Exception):
    """This platform cannot confine the worker (not Linux x86-64, or the kernel refused)."""


def _arg(i: int, high: bool = False) -> int:
    """Offset of argument ``i``'s low (or high) 32 bits in ``struct seccomp_data``."""
    return 16 + 8 * i + (4 if high else 0)


def filter_program(pid: int) -> list[tuple[int, int, int, int]]:
    """The filter as ``(code, jt, jf, k)`` instructions for a worker of process id ``pid``.

    Jumps are relative (``jt``/``jf`` instructions skipped); labels are resolved here.
    """
    prog: list[tuple[int, int, int, int | str, str | None, str | None]] = []

    def emit(code: int, k: int | str, jt: str | None = None, jf: str | None = None) -> None:
        prog.append((code, 0, 0, k, jt, jf))

    labels: dict[str, int] = {}

    def label(name: str) -> None:
        labels[name] = len(prog)

    emit(_LD_W_ABS, 4)  # arch
    emit(_JEQ, AUDIT_ARCH_X86_64, None, "kill")
    emit(_LD_W_ABS, 0)  # syscall number
    emit(_JSET, _X32_SYSCALL_BIT, "kill", None)
    for nr in sorted(_ALLOWED.values()):
        emit(_JEQ, nr, "allow", None)
    for nr, target in (
        (_OPEN, "open"), (_OPENAT, "openat"), (_CLONE, "clone"), (_KILL, "self"),
        (_TGKILL, "self"), (_PRLIMIT64, "prlimit"), (_CLONE3, "enosys"), (_OPENAT2, "enosys"),
        (_IOCTL, "enotty"),
    ):  # fmt: skip
        emit(_JEQ, nr, target, None)
    emit(_RET, _RET_ERRNO | errno.EPERM)
    label("open")  # open(path, flags, mode): flags are argument 1
    emit(_LD_W_ABS, _arg(1))
    emit(_JSET, _O_WRITE_FLAGS, "eperm", "allow")
    label("openat")  # openat(dirfd, path, flags, mode): flags are argument 2
    emit(_LD_W_ABS, _arg(2))
    emit(_JSET, _O_WRITE_FLAGS, "eperm", "allow")
    label("clone")  # clone(flags, ...): a thread shares the process, a fork does not
    emit(_LD_W_ABS, _arg(0))
    emit(_JSET, _CLONE_THREAD, "allow", "eperm")
    label("self")  # kill(pid, sig), tgkill(tgid, tid, sig): only this process
    emit(_LD_W_ABS, _arg(0, high=True))
    emit(_JEQ, 0, None, "eperm")
    emit(_LD_W_ABS, _arg(0))
    emit(_JEQ, pid, "allow", "eperm")
    label("prlimit")  # prlimit64(pid, resource, new, old): reading only (new == NULL)
    emit(_LD_W_ABS, _arg(2))
    emit(_JEQ, 0, None, "eperm")
    emit(_LD_W_ABS, _arg(2, high=True))
    emit(_JEQ, 0, "allow", "eperm")
    label("enosys")
    emit(_RET, _RET_ERRNO | errno.ENOSYS)
    label("enotty")
    emit(_RET, _RET_ERRNO | errno.ENOTTY)
    label("eperm")
    emit(_RET, _RET_ERRNO | errno.EPERM)
    label("kill")
    emit(_RET, _KILL_PROCESS)
    label("allow")
    emit(_RET, _ALLOW)

    out = []
    for at, (code, _, _, k, jt, jf) in enumerate(prog):
        rel = [0 if t is None else labels[t] - at - 1 for t in (jt, jf)]
        if not all(0 <= r < 256 for r in rel):
            raise AssertionError(f"jump out of range at instruction {at}")
        out.append((code, rel[0], rel[1], int(k)))
    return out


def _install(program: list[tuple[int, int, int, int]]) -> None:
    """Load ``program`` as this process's seccomp filter (``prctl``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    raw = b"".join(struct.pack("=HBBI", *ins) for ins in program)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.cast(buf, ctypes.c_void_p))
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]  # fmt: skip
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise SandboxUnavailable(f"seccomp filter refused: {os.strerror(ctypes.get_errno())}")


def confine(memory_bytes: int = MEMORY_BYTES) -> None:
    """Apply the limits and the system-call filter to this process (module docstring); for
    the worker only, before it loads a user's file. Irreversible.

    Raises:
        SandboxUnavailable: not Linux on x86-64, or the kernel refused the filter.
    """
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise SandboxUnavailable(
            f"user function files run only on Linux x86-64, where the worker can be confined "
            f"(this is {sys.platform} {platform.machine()})"
        )
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _install(filter_program(os.getpid()))
