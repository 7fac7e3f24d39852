// libcurl's timeouts are whole milliseconds, and 0 means "no timeout".

extension Duration {
    /// At least 1 ms, rounded up: a short timeout never becomes none.
    var curlMilliseconds: Int {
        max(1, Int((seconds * 1000).rounded(.up)))
    }
}
