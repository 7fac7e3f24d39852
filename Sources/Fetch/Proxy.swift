// Which proxy transfers go through, decided by the daemon's configuration
// rather than by whatever environment systemd happened to give it.

public enum Proxy: Sendable, Equatable, Codable {
    /// No proxy, even if http_proxy / https_proxy are set (CURLOPT_PROXY "").
    case direct
    /// libcurl's own rules: http_proxy, https_proxy, all_proxy, no_proxy.
    case environment
    /// This proxy URL (CURLOPT_PROXY), e.g. "http://proxy.corp:3128", except
    /// for the comma-separated hosts or domains in `noProxy` (CURLOPT_NOPROXY).
    case server(String, noProxy: String? = nil)
}
