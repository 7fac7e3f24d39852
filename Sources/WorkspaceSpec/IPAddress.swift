/// An IP address literal, parsed the way inet_pton(3) reads it: IPv4 as a
/// dotted quad of decimal octets (no leading zeros, no shorthand such as
/// `127.1`), IPv6 as eight hexadecimal groups with at most one `::` and an
/// optional dotted-quad tail, without a zone (`%eth0`). Anything else, a host
/// name above all, is not an address: `127.0.0.1.nip.io` is a name.
enum IPAddress: Equatable {
    case v4([UInt8])
    case v6([UInt16])

    init?(_ text: some StringProtocol) {
        if let octets = Self.octets(text) {
            self = .v4(octets)
        } else if let groups = Self.groups(text) {
            self = .v6(groups)
        } else {
            return nil
        }
    }

    /// 127.0.0.0/8 or ::1: only this machine can connect.
    var isLoopback: Bool {
        switch self {
        case .v4(let octets): octets[0] == 127
        case .v6(let groups): groups == [0, 0, 0, 0, 0, 0, 0, 1]
        }
    }

    private static func octets(_ text: some StringProtocol) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ (48...57).contains($0) }),
                part.utf8.count == 1 || part.utf8.first != UInt8(ascii: "0"),
                let value = UInt8(part)
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    private static func groups(_ text: some StringProtocol) -> [UInt16]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map { String($0) }
        guard halves.count <= 2 else { return nil }
        func parse(_ half: String, allowsIPv4Tail: Bool) -> [UInt16]? {
            if half.isEmpty { return [] }
            var groups: [UInt16] = []
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                if allowsIPv4Tail, index == parts.count - 1, part.contains("."), let octets = octets(part) {
                    groups += [UInt16(octets[0]) << 8 | UInt16(octets[1]), UInt16(octets[2]) << 8 | UInt16(octets[3])]
                    continue
                }
                guard (1...4).contains(part.utf8.count), part.utf8.allSatisfy(isHexDigit),
                    let value = UInt16(part, radix: 16)
                else { return nil }
                groups.append(value)
            }
            return groups
        }
        if halves.count == 1 {
            guard let groups = parse(halves[0], allowsIPv4Tail: true), groups.count == 8 else { return nil }
            return groups
        }
        guard let head = parse(halves[0], allowsIPv4Tail: false), let tail = parse(halves[1], allowsIPv4Tail: true),
            head.count + tail.count <= 7
        else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c)
    }
}
