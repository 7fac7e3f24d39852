/// A tar member's type, from its typeflag (and, for sparse files in pax
/// form, from GNU.sparse.* records). Only the first four can be extracted.
public enum TarMemberType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// '0', or NUL (pre-POSIX).
    case regular
    /// '1'
    case hardLink
    /// '2'
    case symbolicLink
    /// '5', or NUL with a trailing '/' on the name (pre-POSIX).
    case directory
    /// '3'
    case characterDevice
    /// '4'
    case blockDevice
    /// '6'
    case fifo
    /// '7'
    case contiguous
    /// GNU 'S', or a pax member carrying GNU.sparse.* records. TarReader
    /// reports it but does not skip an old-GNU sparse map continued in
    /// extra blocks, so reading on past one ends in a malformed header.
    case sparse
    /// Anything else: multi-volume 'M', volume label 'V', vendor extensions, garbage.
    case other(typeflag: UInt8)

    init(typeflag: UInt8) {
        switch typeflag {
        case UInt8(ascii: "0"), 0: self = .regular
        case UInt8(ascii: "1"): self = .hardLink
        case UInt8(ascii: "2"): self = .symbolicLink
        case UInt8(ascii: "3"): self = .characterDevice
        case UInt8(ascii: "4"): self = .blockDevice
        case UInt8(ascii: "5"): self = .directory
        case UInt8(ascii: "6"): self = .fifo
        case UInt8(ascii: "7"): self = .contiguous
        case UInt8(ascii: "S"): self = .sparse
        default: self = .other(typeflag: typeflag)
        }
    }

    /// Whether `size` bytes of data follow the header. POSIX says links,
    /// directories, devices and FIFOs have none; readers disagree about what
    /// a nonzero size means for them, so TarReader refuses it.
    var carriesData: Bool {
        switch self {
        case .regular, .contiguous, .sparse, .other: return true
        case .hardLink, .symbolicLink, .directory, .characterDevice, .blockDevice, .fifo: return false
        }
    }

    public var description: String {
        switch self {
        case .regular: return "regular file"
        case .hardLink: return "hard link"
        case .symbolicLink: return "symbolic link"
        case .directory: return "directory"
        case .characterDevice: return "character device"
        case .blockDevice: return "block device"
        case .fifo: return "FIFO"
        case .contiguous: return "contiguous file"
        case .sparse: return "sparse file"
        case .other(let flag):
            let shown = (0x21...0x7E).contains(flag) ? "'\(Character(Unicode.Scalar(flag)))'" : "byte \(flag)"
            return "member of unknown type \(shown)"
        }
    }
}
