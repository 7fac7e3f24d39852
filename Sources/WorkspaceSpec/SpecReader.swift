/// Reads one mapping of the spec, collecting problems instead of throwing, so
/// a person sees every mistake in one run. Each accessor marks its key as
/// known; `finish()` reports the keys nobody asked for.
final class SpecReader {
    final class Diagnostics {
        var all: [SpecDiagnostic] = []
        func report(_ path: String, _ message: String, hint: String? = nil) {
            all.append(SpecDiagnostic(path: path, message: message, hint: hint))
        }
    }

    let path: String
    let diagnostics: Diagnostics
    private let values: [String: JSONValue]
    private var known: [String] = []

    init(_ values: [String: JSONValue], path: String, diagnostics: Diagnostics) {
        self.values = values
        self.path = path
        self.diagnostics = diagnostics
    }

    /// A reader over `value`, or nil (with a diagnostic) when it is not a mapping.
    static func mapping(_ value: JSONValue, path: String, diagnostics: Diagnostics) -> SpecReader? {
        guard case .object(let fields) = value else {
            diagnostics.report(path, "must be a mapping, not \(value.kindName)", hint: "write key: value pairs")
            return nil
        }
        return SpecReader(fields, path: path, diagnostics: diagnostics)
    }

    /// The path of `key` below this mapping, printable even when the key
    /// itself is empty or holds control characters.
    func childPath(_ key: String) -> String {
        let shown = FieldRules.pathComponent(key)
        return path.isEmpty ? shown : "\(path).\(shown)"
    }

    func report(_ key: String, _ message: String, hint: String? = nil) {
        diagnostics.report(childPath(key), message, hint: hint)
    }

    func report(_ key: String, _ problem: FieldRules.Problem?) {
        if let problem { report(key, problem.message, hint: problem.hint) }
    }

    /// The raw value; `null` counts as absent.
    func value(_ key: String, required: Bool = false) -> JSONValue? {
        known.append(key)
        guard let value = values[key], value != .null else {
            if required { report(key, "is required") }
            return nil
        }
        return value
    }

    /// A string, checked by `textProblem` (size, control characters) and
    /// then by `rule`, with one diagnostic at most. A string that fails is
    /// still returned, so later checks see what was written.
    func string(_ key: String, required: Bool = false, rule: (String) -> FieldRules.Problem? = { _ in nil }) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard case .string(let text) = value else {
            report(key, "must be a string, not \(value.kindName)", hint: "quote the value")
            return nil
        }
        if required, text.isEmpty {
            report(key, "must not be empty")
        } else if let problem = Self.textProblem(text) ?? rule(text) {
            report(key, problem.message, hint: problem.hint)
        }
        return text
    }

    /// What every string of the spec must meet before its own rule: at most
    /// 64 KiB and no control characters (PEM's line breaks are the caller's
    /// business, see `strings(_:allowing:rule:)`).
    static func textProblem(_ text: String, allowing allowed: Set<Unicode.Scalar> = []) -> FieldRules.Problem? {
        if text.utf8.count > FieldRules.maximumStringBytes {
            return (
                "is \(text.utf8.count) bytes long; a value may have at most \(FieldRules.maximumStringBytes)",
                "shorten it; nothing in a workspace spec needs that much"
            )
        }
        return FieldRules.controlCharacters(text, allowing: allowed)
    }

    /// Reports lists and mappings with more than `FieldRules.maximumEntries` entries.
    private func tooMany(_ key: String, _ count: Int) -> Bool {
        guard count > FieldRules.maximumEntries else { return false }
        report(key, "has \(count) entries; at most \(FieldRules.maximumEntries) are allowed", hint: "split the work differently; no workspace needs that many")
        return true
    }

    func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            report(key, "must be true or false, not \(value.kindName)", hint: "write true or false without quotes")
            return nil
        }
        return flag
    }

    func int(_ key: String) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .int(let number) = value, let int = Int(exactly: number) else {
            report(key, "must be a whole number, not \(value.kindName)", hint: "write the number without quotes")
            return nil
        }
        return int
    }

    /// A string that must be one of `T`'s raw values.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) -> T? where T.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            report(
                key, "\(FieldRules.quoted(text)) is not a choice here",
                hint: "use one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return choice
    }

    /// A list of strings, each checked like `string(_:)` (with `allowing`
    /// passed to the control-character rule) and then by `rule`, with its
    /// indexed path.
    func strings(
        _ key: String, allowing allowed: Set<Unicode.Scalar> = [],
        rule: (String) -> FieldRules.Problem? = { _ in nil }
    ) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else {
            report(key, "must be a list, not \(value.kindName)", hint: "write [a, b] or one '- item' per line")
            return nil
        }
        if tooMany(key, items.count) { return nil }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(childPath(key))[\(index)]"
            guard case .string(let text) = item else {
                diagnostics.report(itemPath, "must be a string, not \(item.kindName)", hint: "quote the value")
                continue
            }
            if let problem = Self.textProblem(text, allowing: allowed) ?? rule(text) {
                diagnostics.report(itemPath, problem.message, hint: problem.hint)
            }
            result.append(text)
        }
        return result
    }

    /// A mapping of string to string; each key and value is checked like
    /// `string(_:)`, then the entry by `rule(key, value)`.
    func stringMap(_ key: String, rule: (String, String) -> FieldRules.Problem? = { _, _ in nil }) -> [String: String]? {
        guard let value = value(key), let reader = SpecReader.mapping(value, path: childPath(key), diagnostics: diagnostics) else {
            return nil
        }
        if tooMany(key, reader.values.count) { return nil }
        var result: [String: String] = [:]
        for entryKey in reader.values.keys.sorted() {
            if let problem = Self.textProblem(entryKey) {
                reader.report(entryKey, "the key " + problem.message, hint: problem.hint)
                continue
            }
            guard let text = reader.string(entryKey, rule: { rule(entryKey, $0) }) else { continue }
            result[entryKey] = text
        }
        return result
    }

    /// A free-form mapping (code-server's settings), at most
    /// `FieldRules.maximumEntries` keys at its top level.
    func object(_ key: String) -> [String: JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .object(let fields) = value else {
            report(key, "must be a mapping, not \(value.kindName)", hint: "write key: value pairs")
            return nil
        }
        return tooMany(key, fields.count) ? nil : fields
    }

    /// A nested section read by `read`, or nil when absent or not a mapping.
    func section<T>(_ key: String, required: Bool = false, _ read: (SpecReader) -> T) -> T? {
        guard let value = value(key, required: required),
            let reader = SpecReader.mapping(value, path: childPath(key), diagnostics: diagnostics)
        else { return nil }
        defer { reader.finish() }
        return read(reader)
    }

    /// Reports every key that no accessor asked for.
    func finish() {
        for key in values.keys.sorted() where !known.contains(key) {
            let lowered = key.lowercased()
            let suggestion =
                known.first { $0.lowercased().hasPrefix(lowered) || lowered.hasPrefix($0.lowercased()) }
                ?? known.min { editDistance($0, key) < editDistance($1, key) }.flatMap { editDistance($0, key) <= max(2, key.count / 3) ? $0 : nil }
            let hint =
                suggestion.map { "did you mean \($0)?" }
                ?? "known fields here: \(Array(Set(known)).sorted().joined(separator: ", "))"
            report(key, "unknown field", hint: hint)
        }
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
