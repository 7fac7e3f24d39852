// What an API call got back.

public struct HTTPResponse: Sendable, Equatable {
    /// The status of the response (never followed: a 3xx is an answer too).
    public var status: Int
    /// The body, at most the limit given to the call.
    public var body: [UInt8]
    /// The Location header of a 3xx, for saying where the server points.
    public var location: String?

    public init(status: Int, body: [UInt8], location: String? = nil) {
        self.status = status
        self.body = body
        self.location = location
    }
}
