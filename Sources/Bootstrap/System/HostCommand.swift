#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Subprocess
import SystemPackage
import Glibc

/// Runs the distribution's own tools (useradd, sshd -t, ssh-keygen,
/// apt-get, tar ...) and turns a failure into an error that says which
/// command failed and what it printed. Arguments never carry secrets: they
/// are visible to every user in /proc.
public struct HostCommand: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: String
        /// The last lines the command printed (stderr and stdout combined).
        public var output: String

        public var description: String {
            let tail = output.split(separator: "\n").suffix(5).joined(separator: " | ")
            return "`\(command.joined(separator: " "))` \(status)\(tail.isEmpty ? "" : ": \(tail)")"
        }
    }

    public var arguments: [String]
    public var environment: [String: String] = [:]
    /// Run as this user (uid, gid and supplementary groups); nil: as the daemon.
    public var user: UserIdentity?
    public var input: String?

    public init(_ arguments: [String], environment: [String: String] = [:], user: UserIdentity? = nil, input: String? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.user = user
        self.input = input
    }

    /// Runs to completion; returns what it printed, throws `Failure` on a non-zero exit.
    @discardableResult
    public func run() async throws -> String {
        var options = PlatformOptions()
        var env = environment
        if let user {
            options.userID = user.uid
            options.groupID = user.gid
            options.supplementaryGroups = user.groups
            env["HOME"] = env["HOME"] ?? user.home
            env["USER"] = user.name
            env["LOGNAME"] = user.name
        }
        env["PATH"] = env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        env["LC_ALL"] = "C.UTF-8"
        let overrides = Dictionary(uniqueKeysWithValues: env.map { (Environment.Key(rawValue: $0.key)!, Optional($0.value)) })
        let result = try await Subprocess.run(
            arguments[0].contains("/") ? .path(FilePath(arguments[0])) : .name(arguments[0]), arguments: Arguments(Array(arguments.dropFirst())),
            environment: .inherit.updating(overrides), workingDirectory: user.map { FilePath($0.home) },
            platformOptions: options, input: .string(input ?? ""),
            output: .string(limit: 1 << 20), error: .combinedWithOutput)
        let output = result.standardOutput ?? ""
        switch result.terminationStatus {
        case .exited(0): return output
        case .exited(let code): throw Failure(command: arguments, status: "exited with status \(code)", output: output)
        case .signaled(let signal): throw Failure(command: arguments, status: "was killed by signal \(signal)", output: output)
        }
    }
}

/// A user as the kernel sees it (getpwnam(3)).
public struct UserIdentity: Sendable, Equatable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t
    public var home: String
    public var groups: [gid_t]

    /// Looks `name` up in the user database; nil when there is no such user.
    public static func lookup(_ name: String) -> UserIdentity? {
        guard let entry = getpwnam(name) else { return nil }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        let home = String(cString: entry.pointee.pw_dir)
        var count: Int32 = 64
        var groups = Array<gid_t>(repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = Array<gid_t>(repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        return UserIdentity(name: name, uid: uid, gid: gid, home: home, groups: Array(groups.prefix(Int(count))))
    }
}
