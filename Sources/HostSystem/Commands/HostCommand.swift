import Glibc
import Subprocess
import SystemPackage

/// Runs one of the distribution's tools (useradd, sshd -t, apt-get ...) the
/// way a root daemon must: with a deadline after which the command and
/// everything it started are killed, its output bounded (the last
/// `outputLimit` bytes kept), a clean environment instead of the daemon's
/// own, and optionally as another user. Arguments never carry secrets: they
/// are visible to every user in /proc.
public struct HostCommand: Sendable {
    public var arguments: [String]
    /// Added to the clean environment (PATH, LC_ALL=C.UTF-8, and HOME, USER,
    /// LOGNAME when run as a user).
    public var environment: [String: String]
    /// Run as this user (uid, gid and supplementary groups, its home as the
    /// working folder); nil: as the daemon.
    public var user: UserIdentity?
    public var input: [UInt8]
    /// After this long the command's process group gets SIGTERM, then SIGKILL
    /// five seconds later, and `run()` throws `.timedOut`.
    public var deadline: Duration
    /// How much of the end of the output (stdout and stderr together) is kept.
    public var outputLimit: Int
    /// Called every `interval` while the command runs (a package install
    /// telling systemd it is still making progress).
    public var heartbeat: Heartbeat?

    public struct Heartbeat: Sendable {
        public var interval: Duration
        public var beat: @Sendable (_ elapsed: Duration) -> Void

        public init(every interval: Duration, _ beat: @escaping @Sendable (_ elapsed: Duration) -> Void) {
            self.interval = interval
            self.beat = beat
        }
    }

    public init(
        _ arguments: [String], environment: [String: String] = [:], user: UserIdentity? = nil,
        input: [UInt8] = [], deadline: Duration = .seconds(60), outputLimit: Int = 64 * 1024,
        heartbeat: Heartbeat? = nil
    ) {
        precondition(!arguments.isEmpty, "a command needs a program")
        self.arguments = arguments
        self.environment = environment
        self.user = user
        self.input = input
        self.deadline = deadline
        self.outputLimit = outputLimit
        self.heartbeat = heartbeat
    }

    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Reason: Equatable, Sendable {
            case exited(Int32)
            case signaled(Int32)
            case timedOut(Duration)
            case couldNotStart(String)
        }

        public var command: [String]
        public var reason: Reason
        /// The last lines the command printed.
        public var output: String

        public var description: String {
            let what: String
            switch reason {
            case .exited(let code): what = "exited with status \(code)"
            case .signaled(let signal): what = "was killed by signal \(signal)"
            case .timedOut(let deadline): what = "did not finish within \(Self.seconds(deadline)) s and was killed"
            case .couldNotStart(let why): what = "could not be started: \(why)"
            }
            let tail = output.split(separator: "\n").suffix(5).joined(separator: " | ")
            return "`\(command.joined(separator: " "))` \(what)\(tail.isEmpty ? "" : ": \(tail)")"
        }

        static func seconds(_ duration: Duration) -> Int64 { duration.components.seconds }
    }

    /// Runs to completion; returns what it printed (the kept tail), throws
    /// `Failure` on a non-zero exit, a signal, the deadline or a failed start.
    @discardableResult
    public func run() async throws(Failure) -> String {
        try await withDeadline { try await self.execute() }
    }

    /// `work` (running the command) against the deadline and the heartbeat:
    /// the first to finish decides; the others are cancelled (cancelling the
    /// command runs its teardown: SIGTERM, SIGKILL).
    func withDeadline<Output: Sendable>(_ work: @escaping @Sendable () async throws -> Output) async throws(Failure) -> Output {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            return try await withThrowingTaskGroup(of: Output?.self) { group in
                group.addTask { try await work() }
                group.addTask {
                    try await Task.sleep(for: self.deadline)
                    throw Failure(command: self.arguments, reason: .timedOut(self.deadline), output: "")
                }
                if let heartbeat {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: heartbeat.interval)
                            heartbeat.beat(clock.now - started)
                        }
                    }
                }
                while let next = try await group.next() {
                    if let output = next {
                        group.cancelAll()
                        return output
                    }
                }
                throw CancellationError()
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(command: arguments, reason: .couldNotStart("\(error)"), output: "")
        }
    }

    private func execute() async throws -> String {
        let launch = self.launch()
        let limit = outputLimit
        let result = try await Subprocess.run(
            launch.executable, arguments: launch.arguments, environment: launch.environment,
            workingDirectory: launch.workingDirectory, platformOptions: launch.options,
            input: .array(input), output: .sequence, error: .combinedWithOutput
        ) { execution in
            var tail = OutputTail(limit: limit)
            for try await chunk in execution.standardOutput {
                chunk.withUnsafeBytes { tail.append($0) }
            }
            return tail.text
        }
        try check(result.terminationStatus, output: result.closureResult)
        return result.closureResult
    }

    /// How every run starts the command.
    struct Launch {
        var executable: Executable
        var arguments: Arguments
        var environment: Environment
        var workingDirectory: FilePath
        var options: PlatformOptions
    }

    func launch() -> Launch {
        var options = PlatformOptions()
        // Its own session: the deadline's signals reach everything it started
        // (dpkg under apt-get), and nothing reaches the daemon.
        options.createSession = true
        options.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: .seconds(5)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .seconds(1)),
        ]
        var env: [Environment.Key: String] = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C.UTF-8",
        ]
        var command = arguments
        if let user {
            // The identity is switched by setpriv(1) (util-linux, on every
            // target) after the exec, not by setuid(2) in the child: for
            // that, swift-subprocess clones the child with a raw clone3(2),
            // glibc's fork bookkeeping never runs, and its setuid, which must
            // reach every thread, can wait for ever on threads the child does
            // not have. Without a user the command is started by posix_spawn.
            let groups = user.groups.map(String.init).joined(separator: ",")
            command =
                [
                    "setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)",
                    groups.isEmpty ? "--clear-groups" : "--groups=\(groups)", "--",
                ] + arguments
            env["HOME"] = user.home
            env["USER"] = user.name
            env["LOGNAME"] = user.name
        }
        for (key, value) in environment { env[Environment.Key(rawValue: key)!] = value }
        // The user's home when it has one (system users often do not).
        var info = stat()
        var workingDirectory = "/"
        if let home = user?.home, stat(home, &info) == 0 { workingDirectory = home }
        let executable: Executable = command[0].contains("/") ? .path(FilePath(command[0])) : .name(command[0])
        return Launch(
            executable: executable, arguments: Arguments(Array(command.dropFirst())), environment: .custom(env),
            workingDirectory: FilePath(workingDirectory), options: options)
    }

    /// Throws `Failure` unless the command exited with 0.
    func check(_ status: TerminationStatus, output: String) throws(Failure) {
        switch status {
        case .exited(0): return
        case .exited(let code): throw Failure(command: arguments, reason: .exited(code), output: output)
        case .signaled(let signal): throw Failure(command: arguments, reason: .signaled(signal), output: output)
        }
    }
}

/// The last `limit` bytes of a stream.
struct OutputTail {
    let limit: Int
    private var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        if bytes.count > limit * 2 { bytes.removeFirst(bytes.count - limit) }
    }

    var text: String { String(decoding: bytes.suffix(limit), as: UTF8.self) }
}
