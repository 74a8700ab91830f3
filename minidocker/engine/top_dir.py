"""Mark a directory as the top of a hierarchy for ext4's inode allocator
(``chattr +T``, FS_TOPDIR_FL), so its subdirectories spread over block groups.

Why the state root's ``containers/`` wants it. ext4 puts a new directory near
its parent's block group, and a new file in its directory's group: without the
mark every container's bundle, and the ~15 inodes a start makes in it, land in
the group of ``containers/``. A removed container leaves its inodes free there,
and on an ext4 without a journal the allocator steps over every inode freed in
the last minute or more (``recently_deleted``), looking each one up: after a
thousand removals a new inode there cost 0.35-0.4 ms instead of 20 us
(scripts/bench --scale). With the mark the bundles are spread like top-level
directories (Orlov), and so are the freed inodes each new one has to step over.

Nothing else changes: the flag is not inherited, it is a hint to one allocator,
and a file system without it (tmpfs, overlay, xfs) refuses it harmlessly.
"""
import fcntl
import logging
import os
import struct

log = logging.getLogger(__name__)

FS_IOC_GETFLAGS = 0x80086601  # _IOR('f', 1, long), as <linux/fs.h> defines it on 64-bit
FS_IOC_SETFLAGS = 0x40086602  # _IOW('f', 2, long); the kernel reads an int
FS_TOPDIR_FL = 0x00020000


def _flags_of(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]


def flags(path: str) -> int:
    """The inode flags of ``path`` (``lsattr -d``); OSError where unsupported."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return _flags_of(fd)
    finally:
        os.close(fd)


def mark(path: str) -> bool:
    """Set FS_TOPDIR_FL on the directory ``path``; False where the file system
    has no such flag (nothing to do there)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        now = _flags_of(fd)
        if not now & FS_TOPDIR_FL:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", now | FS_TOPDIR_FL))
        return True
    except OSError as ex:  # ENOTTY / EOPNOTSUPP / EINVAL: not ext2/3/4
        log.debug("no top-directory flag on %s: %s", path, ex)
        return False
    finally:
        os.close(fd)
