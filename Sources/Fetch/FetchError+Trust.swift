// Telling an unknown certificate authority from other TLS verdicts, so a
// caller can name the setting that adds one.

extension FetchError {
    /// The server's certificate does not lead to a trusted CA: it is
    /// self-signed, or its issuer is in no bundle in use (a private CA that
    /// is missing from the extra bundle). An expired certificate or one for
    /// another host name is untrusted too, but not this.
    public var isUnknownCertificateAuthority: Bool {
        guard case let .transfer(_, code, detail, _) = self,
            CurlFailure.Kind(curlCode: code) == .untrustedCertificate
        else { return false }
        // OpenSSL's verify errors, as libcurl passes them on:
        // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, _SELF_SIGNED_CERT_IN_CHAIN,
        // _DEPTH_ZERO_SELF_SIGNED_CERT (OpenSSL 1.1 spells "self signed").
        let text = detail.lowercased()
        return text.contains("issuer certificate") || text.contains("self-signed") || text.contains("self signed")
    }
}
