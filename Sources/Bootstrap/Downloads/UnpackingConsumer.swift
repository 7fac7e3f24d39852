import Fetch
import HostSystem

/// A .tar.gz unpacked while it downloads: every byte the download library
/// receives goes through the strict reader (`TarGzStream`) into a staging
/// folder (`ArchiveExtractor`), so the release is on disk when its last
/// byte arrives. The library's SHA-256 check comes before `finish()`; the
/// staging folder counts only once the download returned `.downloaded`.
final class UnpackingConsumer: DownloadConsumer {
    private let extractor: ArchiveExtractor
    private let stream: TarGzStream

    init(into staging: Directory, policy: ArchivePolicy) throws {
        extractor = ArchiveExtractor(into: staging)
        stream = try TarGzStream(policy: policy, handler: extractor)
    }

    func restart() throws {
        try extractor.reset()
        try stream.restart()
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws { try stream.consume(bytes) }

    func finish() throws { try stream.finish() }
}
