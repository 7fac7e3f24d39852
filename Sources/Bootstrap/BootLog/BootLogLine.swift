import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One line of the boot log as Coder's workspace page shows it.
struct BootLogLine: Sendable, Equatable {
    /// Coder's log levels that the boot log uses.
    enum Level: String, Sendable {
        case info, warn, error
    }

    var createdAt: Date
    var level: Level
    var output: String
    /// A newer line with the same key replaces this one while both wait to
    /// be sent (a download's progress: only the latest is worth showing).
    var replaces: ComponentName?

    init(_ level: Level, _ output: String, at createdAt: Date = Date(), replaces: ComponentName? = nil) {
        self.createdAt = createdAt
        self.level = level
        self.output = output
        self.replaces = replaces
    }
}
