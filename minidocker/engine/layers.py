"""A container's writable layer copied as a new image layer (`docker commit`):
files, directories and symlinks with their owners, modes and times, whiteouts
(0/0 character devices) and opaque directories kept, so that as an overlay
lower layer it hides what the container deleted."""
import os
import shutil
import stat as st

from minidocker.engine.changes import OPAQUE, RUNTIME_FILES, in_lowers, is_whiteout


def copy_layer(upper: str, dest: str, lowers: list) -> None:
    os.makedirs(dest, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(upper):
        rel_dir = os.path.relpath(dirpath, upper)
        out_dir = dest if rel_dir == "." else os.path.join(dest, rel_dir)
        for name in sorted(dirnames + filenames):
            src = os.path.join(dirpath, name)
            dst = os.path.join(out_dir, name)
            rel = "/" + os.path.normpath(os.path.join(rel_dir, name)).lstrip("./")
            s = os.lstat(src)
            if rel in RUNTIME_FILES and s.st_size == 0 and not in_lowers(lowers, rel):
                continue
            if st.S_ISDIR(s.st_mode):
                os.makedirs(dst, exist_ok=True)
                try:
                    if os.getxattr(src, OPAQUE, follow_symlinks=False) == b"y":
                        os.setxattr(dst, OPAQUE, b"y", follow_symlinks=False)
                except OSError:
                    pass
            elif st.S_ISLNK(s.st_mode):
                os.symlink(os.readlink(src), dst)
            elif is_whiteout(s) or st.S_ISCHR(s.st_mode) or st.S_ISBLK(s.st_mode) or st.S_ISFIFO(s.st_mode):
                os.mknod(dst, s.st_mode, s.st_rdev)
            elif st.S_ISREG(s.st_mode):
                shutil.copyfile(src, dst, follow_symlinks=False)
            else:
                continue  # sockets are not kept
            os.lchown(dst, s.st_uid, s.st_gid)
            if not st.S_ISLNK(s.st_mode):
                os.chmod(dst, st.S_IMODE(s.st_mode))
            os.utime(dst, ns=(s.st_atime_ns, s.st_mtime_ns), follow_symlinks=False)
    for dirpath, _dirs, _files in os.walk(upper, topdown=False):  # directory times after their contents
        rel_dir = os.path.relpath(dirpath, upper)
        out_dir = dest if rel_dir == "." else os.path.join(dest, rel_dir)
        s = os.lstat(dirpath)
        if os.path.isdir(out_dir):
            os.lchown(out_dir, s.st_uid, s.st_gid)
            os.chmod(out_dir, st.S_IMODE(s.st_mode))
            os.utime(out_dir, ns=(s.st_atime_ns, s.st_mtime_ns))
