// bench-fetch: one download through the Fetch module, the way the daemon
// makes them (a Downloader with the daemon's retry policy, a DownloadRequest
// to a file), for the benchmarks in bench/. Not shipped.
//
//   bench-fetch URL DESTINATION [--sha256 HEX] [--revalidate stored-etag|never]
//                               [--delay-ms N]
//
// --delay-ms waits first (the fleet simulation's start-up jitter). Prints one
// JSON line: outcome, HTTP status, body bytes, attempts, and the wall-clock
// start, request and end times (Unix seconds) so that a harness can line many
// of them up.
import Fetch

#if canImport(Glibc)
import Glibc
#endif

func unixSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    let line = "bench-fetch: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

/// Removes `--name value` from `arguments` and returns the value.
func take(_ name: String, from arguments: inout [String]) -> String? {
    guard let index = arguments.firstIndex(of: name) else { return nil }
    guard index + 1 < arguments.count else { fail("\(name) needs a value") }
    defer { arguments.removeSubrange(index...index + 1) }
    return arguments[index + 1]
}

func main() async -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let sha256 = take("--sha256", from: &arguments)
    let revalidation: Revalidation =
        switch take("--revalidate", from: &arguments) ?? "stored-etag" {
        case "stored-etag": .storedETag
        case "never": .never
        case let other: fail("--revalidate is stored-etag or never, not \(other)")
        }
    let delay = Int(take("--delay-ms", from: &arguments) ?? "0") ?? 0
    guard arguments.count == 2 else {
        fail("usage: bench-fetch URL DESTINATION [--sha256 HEX] [--revalidate stored-etag|never] [--delay-ms N]")
    }
    let started = unixSeconds()
    if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
    let requested = unixSeconds()
    let times = "\"started\":\(started),\"requested\":\(requested)"
    do {
        // The daemon's settings (Bootstrap's DownloadService): 8 attempts, waits capped at 30 s.
        let downloader = try Downloader(
            settings: DownloadSettings(
                retry: RetryPolicy(maxAttempts: 8, maxDelay: .seconds(30)), proxy: .direct))
        let result = try await downloader.download(
            DownloadRequest(
                url: arguments[0], destination: arguments[1], expectedSHA256: sha256, mode: 0o755, revalidation: revalidation))
        let outcome = result.outcome == .downloaded ? "downloaded" : "not-modified"
        print(
            "{\"outcome\":\"\(outcome)\",\"status\":\(result.httpStatus),\"bytes\":\(result.bytesTransferred),"
                + "\"attempts\":\(result.attempts),\(times),\"finished\":\(unixSeconds())}")
        return 0
    } catch {
        let text = String(describing: error).filter { $0 != "\"" && $0 != "\\" && !$0.isNewline }
        print("{\"outcome\":\"failed\",\"error\":\"\(text)\",\(times),\"finished\":\(unixSeconds())}")
        return 1
    }
}

exit(await main())
