// A hook to process a file while it downloads (the daemon unpacks the
// code-server tarball as it arrives) instead of reading it again afterwards.

/// Sees every byte of the file, in order, while it downloads.
///
/// The calls come from one thread at a time, never concurrently, each after
/// the previous one returned; do not use the consumer elsewhere while
/// download() runs. The file is still written to the partial file beside the
/// destination (what a resume and the SHA-256 use) and installed as usual.
///
/// - restart() comes before the first byte of every attempt that starts at
///   byte 0: the first one, and after the server ignored a Range, answered
///   416, or a resumed file failed its checksum and is fetched again whole.
/// - When download() finds a partial file left by an earlier process, it
///   calls restart(), then feeds the bytes already on disk to consume(),
///   then continues with the network. An attempt that resumes within the same
///   download() call just continues.
/// - An error thrown by any of the three ends the download with that error,
///   not retried; the partial file is kept for a later resume.
/// - finish() comes after the SHA-256 check and before the verify hook and
///   the install: what the consumer made counts only once download()
///   returns .downloaded. When download() throws, or returns .notModified
///   (after a stale partial file may have been fed), discard it.
public protocol DownloadConsumer: AnyObject {
    /// The file starts (again) from byte 0: forget everything consumed so far.
    func restart() throws
    /// The next bytes of the file, in order; called on the transfer's thread.
    /// Throwing aborts the download with that error (rethrown by download()).
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    /// The whole file has arrived and matches its SHA-256 (if one was given); called before install.
    func finish() throws
}

/// Carries a consumer inside the Sendable DownloadRequest. Unchecked because
/// the library hands the consumer from thread to thread but calls it from
/// one at a time, each call ordered after the last (thread start and task
/// resumption synchronise), as DownloadConsumer documents.
struct ConsumerBox: @unchecked Sendable {
    let consumer: any DownloadConsumer
}
