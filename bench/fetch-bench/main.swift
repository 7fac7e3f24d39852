// fetch-bench URL DESTINATION: one download through Fetch with the daemon's
// defaults, printing the file's SHA-256. Driven by bench/download_vs_curl.py;
// not part of the daemon.
import Fetch
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String, status: Int32) -> Never {
    var line = message + "\n"
    _ = line.withUTF8 { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail("usage: fetch-bench URL DESTINATION", status: 2) }
do {
    let result = try await Downloader(settings: DownloadSettings(proxy: .direct)).download(
        DownloadRequest(url: arguments[1], destination: arguments[2], revalidation: .never))
    print(result.sha256)
} catch {
    fail("fetch-bench: \(error)", status: 1)
}
