#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files the user names are read only when they are regular files: a FIFO would block the reader
/// and a device such as /dev/zero never ends.
public enum FileKind {
    /// What `mode` (from `stat`) says the file is, in words, when it is not a regular file; nil when it is.
    public static func nonRegular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        default: "a special file"
        }
    }
}
