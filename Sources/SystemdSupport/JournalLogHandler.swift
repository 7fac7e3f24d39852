import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler that writes structured journal entries.
///
/// Every entry carries `MESSAGE=`, `PRIORITY=`, `SYSLOG_IDENTIFIER=`,
/// `CODE_FILE=`, `CODE_LINE=`, `CODE_FUNC=` and one field per metadata key
/// (mapped by `JournalFieldName`), so
/// `journalctl -u coder-vm-bootstrap COMPONENT=code-server` filters. Secret
/// metadata is redacted first (`MetadataRedaction`).
///
/// Without journald (no socket: a container, a developer's terminal) the
/// same entry goes to stderr as one line:
/// `info [code-server] installed duration_ms=812 stage=download`.
public struct JournalLogHandler: LogHandler {
    /// Where entries go.
    public enum Destination: Sendable, Hashable {
        /// journald's native protocol (`sd_journal_sendv`). If the socket
        /// is absent, libsystemd drops entries without an error.
        case journal
        /// One plain line per entry on file descriptor 2.
        case standardError

        /// `.journal` when journald's socket exists, else `.standardError`.
        ///
        /// The native protocol is preferred even when stderr is already a
        /// journal stream (`$JOURNAL_STREAM`): only it keeps the fields.
        public static func automatic() -> Destination {
            Journal.isAvailable ? .journal : .standardError
        }
    }

    public let label: String
    /// `SYSLOG_IDENTIFIER=`, what `journalctl -t` matches.
    public var identifier: String
    public var destination: Destination
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(
        label: String,
        identifier: String = JournalLogHandler.defaultIdentifier,
        destination: Destination = .automatic(),
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.identifier = identifier
        self.destination = destination
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    /// Installs the handler for the whole process (`LoggingSystem.bootstrap`,
    /// so call it once, early in `main`). The destination is decided here,
    /// once, rather than per entry.
    public static func bootstrap(
        identifier: String = JournalLogHandler.defaultIdentifier,
        logLevel: Logger.Level = .info,
        destination: Destination = .automatic(),
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        LoggingSystem.bootstrap(
            factory(identifier: identifier, logLevel: logLevel, destination: destination),
            metadataProvider: metadataProvider)
    }

    /// The factory `bootstrap` installs, for callers composing handlers
    /// (e.g. `MultiplexLogHandler`).
    public static func factory(
        identifier: String = JournalLogHandler.defaultIdentifier,
        logLevel: Logger.Level = .info,
        destination: Destination = .automatic()
    ) -> @Sendable (String, Logger.MetadataProvider?) -> JournalLogHandler {
        { label, provider in
            JournalLogHandler(
                label: label, identifier: identifier, destination: destination,
                logLevel: logLevel, metadataProvider: provider)
        }
    }

    /// The program's file name, as syslog and journald use by default.
    public static var defaultIdentifier: String {
        let path = CommandLine.arguments.first ?? "coder-vm-bootstrap"
        return path.split(separator: "/").last.map(String.init) ?? path
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Implements swift-log's `log(event:)` (swift-log 1.16 and later).
    public func log(event: LogEvent) {
        let merged = mergedMetadata(event.metadata).redactingSecrets()
        let message = event.message.description
        switch destination {
        case .journal:
            do {
                try Journal.send(
                    Self.journalFields(
                        level: event.level, message: message, metadata: merged, identifier: identifier,
                        file: event.file, function: event.function, line: event.line))
            } catch {
                // Sending failed (e.g. EAGAIN, EMSGSIZE): better a plain line
                // than a lost entry. A missing socket is not a failure to
                // libsystemd (it drops the entry), which is why the
                // destination is chosen up front by `.automatic()`.
                Self.writeStandardError(
                    Self.standardErrorLine(
                        level: event.level, label: label, message: message, metadata: merged))
            }
        case .standardError:
            Self.writeStandardError(
                Self.standardErrorLine(
                    level: event.level, label: label, message: message, metadata: merged))
        }
    }

    /// The pre-1.11 entry point, forwarding to `log(event:)`, so callers of
    /// the deprecated methods reach it directly whatever swift-log 1.11+
    /// resolves: some releases route these defaults through each other
    /// (swift-log#503).
    public func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
        source: String, file: String, function: String, line: UInt
    ) {
        log(
            event: LogEvent(
                level: level, message: message, metadata: metadata, source: source,
                file: file, function: function, line: line))
    }

    /// Handler metadata, then the provider's, then the call's: the later
    /// wins, as in swift-log's own handlers.
    private func mergedMetadata(_ explicit: Logger.Metadata?) -> Logger.Metadata {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let explicit, !explicit.isEmpty {
            merged.merge(explicit) { _, new in new }
        }
        return merged
    }

    /// syslog(3) priority for a swift-log level. swift-log has no `alert`
    /// or `emerg`; `trace` shares `debug`.
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// The fields of one entry, in a stable order: fixed fields first, then
    /// metadata sorted by key. `metadata` must already be redacted.
    static func journalFields(
        level: Logger.Level, message: String, metadata: Logger.Metadata,
        identifier: String, file: String, function: String, line: UInt
    ) -> [Journal.Field] {
        var fields: [Journal.Field] = [
            .init("MESSAGE", message),
            .init("PRIORITY", String(priority(for: level))),
            .init("SYSLOG_IDENTIFIER", identifier),
            .init("CODE_FILE", file),
            .init("CODE_LINE", String(line)),
            .init("CODE_FUNC", function),
        ]
        fields.reserveCapacity(fields.count + metadata.count)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append(.init(JournalFieldName.forMetadataKey(key), render(value)))
        }
        return fields
    }

    /// `<level> [component] message key=value...`: the component comes from
    /// the `component` metadata key, else the logger's label. Values with
    /// spaces, quotes or `=` are quoted; line breaks are escaped so one
    /// entry stays one line.
    static func standardErrorLine(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let component = metadata["component"].map(render) ?? label
        var line = "\(level.rawValue) [\(escapeLineBreaks(component))] \(escapeLineBreaks(message))"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != "component" {
            line += " \(escapeLineBreaks(key))=\(quoteIfNeeded(render(value)))"
        }
        return line + "\n"
    }

    /// A metadata value as text. Dictionaries are rendered with sorted keys
    /// (swift-log's own `description` follows hash order, which changes from
    /// run to run) so equal metadata gives equal journal values.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let values): return "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let dict):
            return "["
                + dict.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }
                .joined(separator: ", ") + "]"
        }
    }

    private static func escapeLineBreaks(_ s: String) -> String {
        guard s.contains(where: \.isNewline) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case "\n": out += "\\n"
            case "\r\n": out += "\\r\\n"
            case "\r": out += "\\r"
            default: out.append(ch.isNewline ? " " : ch)
            }
        }
        return out
    }

    private static func quoteIfNeeded(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.contains { $0.isWhitespace || $0 == "\"" || $0 == "=" }
        guard needsQuotes else { return s }
        var out = "\""
        for ch in s {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(ch)
            }
        }
        return escapeLineBreaks(out + "\"")
    }

    /// One write(2) per line, so concurrent loggers do not interleave within
    /// a line (stderr is unbuffered; lines are short).
    static func writeStandardError(_ line: String) {
        var line = line
        line.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
