// The installed file and the two hidden files kept beside it: the partial
// download and the ETag of the installed version.
#if canImport(Glibc)
import Glibc
#endif

struct Destination {
    let path: String
    let directory: String
    /// ".<name>.part"
    let partPath: String
    /// ".<name>.etag": survives reboots, so revalidation works from one boot
    /// to the next.
    let etagPath: String

    init(_ path: String) throws(FetchError) {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
            throw .invalidRequest("destination \(path) is not an absolute path")
        }
        let name = path[path.index(after: slash)...]
        guard !name.isEmpty, name != ".", name != ".." else {
            throw .invalidRequest("destination \(path) does not name a file")
        }
        self.path = path
        directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let prefix = directory == "/" ? "/." : directory + "/."
        partPath = prefix + name + ".part"
        etagPath = prefix + name + ".etag"
    }

    var exists: Bool { POSIXFile.exists(path) }

    /// The ETag saved with the installed file, if both are there.
    func storedETag() -> String? {
        guard exists, let bytes = try? POSIXFile.read(etagPath) else { return nil }
        let etag = String(decoding: bytes, as: UTF8.self).trimmed
        return etag.isEmpty ? nil : etag
    }

    /// Moves the finished partial file (see PartFile.finish) over the
    /// installed one. The old ETag goes first and the new one is written
    /// last, so a crash in between never pairs an ETag with the wrong file.
    func install(_ part: PartFile, etag: String?, keepETag: Bool) throws(FetchError) {
        try POSIXFile.remove(etagPath)
        try POSIXFile.rename(part.path, to: path)
        if keepETag, let etag {
            try POSIXFile.replace(etagPath, with: Array((etag + "\n").utf8))
        }
        try POSIXFile.syncDirectory(directory)
    }
}
