import Logging

/// Fixed 128-bit IDs for the daemon's notable events, logged as the journal
/// field `MESSAGE_ID=` so that `journalctl MESSAGE_ID=…` finds every
/// occurrence whatever the wording, as systemd's own catalog IDs do.
///
/// Generated once at random; never change a value, only add new cases.
public enum MessageID: String, Sendable, CaseIterable {
    case componentReady = "9186bc3c82716a5dd442b8092bcbb122"
    case componentFailed = "6953ba44686c479ebe233dd6324d390f"
    case componentRestarted = "82a585ea00a557507af43d7c98667a75"
    case componentUnhealthy = "6b814c6098316fb250aa43e0b3711568"
    /// Converging failed because of a server or a passing local fault; retried.
    case componentWaiting = "fc440114db304b478141054c9d588e77"
    /// A component it needs has failed.
    case componentBlocked = "9f432a5c887f48dd92bec819a5c47e24"
    case downloadStarted = "dc5655de04ff1e824d65a0485d3b7b84"
    case downloadFinished = "f8e25c30aaac6d9ea6c408efa40a95ec"
    case downloadFailed = "ea3735de08c683f09a5bbfd346e08cbc"
    case configInvalid = "66f0ea7df986e82d966c3c286cd41e8e"
    case workspaceReady = "a7f4d80bb58f9f7097e1489cf92209ea"
    case workspaceDegraded = "005766038e74d9b6d63b48f2c610b76f"

    /// The metadata key that becomes the `MESSAGE_ID=` journal field.
    public static let metadataKey = "message_id"
}

extension Logger.MetadataValue {
    /// `logger.info("…", metadata: [MessageID.metadataKey: .messageID(.componentReady)])`
    public static func messageID(_ id: MessageID) -> Logger.MetadataValue {
        .string(id.rawValue)
    }
}
