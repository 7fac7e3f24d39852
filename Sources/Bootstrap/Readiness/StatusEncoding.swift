#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The status as JSON, the same way everywhere it is written or served.
public enum StatusEncoding {
    public static func json(_ status: WorkspaceStatus) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(status))
    }

    public static func decode(_ bytes: [UInt8]) throws -> WorkspaceStatus {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(WorkspaceStatus.self, from: Data(bytes))
    }
}
