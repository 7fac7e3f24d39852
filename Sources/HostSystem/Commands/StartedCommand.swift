import Synchronization

/// A command started before its input is known: its process runs (and may
/// get ready: load its libraries) while it waits on its standard input.
/// `runLines` later gives it its input and hands over what it prints as
/// `HostCommand.runLines` does, the command's deadline counted from then.
/// Used once; `dismiss()` ends one that was never used (its standard input
/// is closed empty, so it reads end-of-file). Everything else is
/// `HostCommand`'s: the clean environment, its own session, the teardown of
/// its process group when the deadline passes or the caller is cancelled.
public final class StartedCommand: Sendable {
    /// Where its lines go: the caller's handlers once it runs.
    private final class Route: Sendable {
        struct Handlers {
            var line: @Sendable (String) -> Void
            var errorLine: @Sendable (String) -> Void
        }
        let handlers = Mutex<Handlers?>(nil)
    }

    private let command: HostCommand
    private let route = Route()
    private let taken = Mutex(false)
    private let giveInput: AsyncStream<[UInt8]>.Continuation
    private let execution: Task<Result<Void, HostCommand.Failure>, Never>

    /// Starts `command` now; `lineLimit` as `HostCommand.runLines` takes it.
    /// Lines printed before `runLines` (none, for a program that waits on
    /// its input first) go to `early`.
    public init(_ command: HostCommand, lineLimit: Int = 64 * 1024, early: @escaping @Sendable (String) -> Void = { _ in }) {
        self.command = command
        let (inputs, giveInput) = AsyncStream<[UInt8]>.makeStream()
        self.giveInput = giveInput
        let route = self.route
        execution = Task {
            do {
                try await command.executeLines(
                    lineLimit: lineLimit, inputs: inputs,
                    line: { text in (route.handlers.withLock { $0?.line } ?? early)(text) },
                    errorLine: { text in (route.handlers.withLock { $0?.errorLine } ?? early)(text) })
                return .success(())
            } catch let failure as HostCommand.Failure {
                return .failure(failure)
            } catch {
                return .failure(HostCommand.Failure(command: command.arguments, reason: .couldNotStart("\(error)"), output: ""))
            }
        }
    }

    /// Claims it for one run; false when it was claimed or dismissed before.
    public func take() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }

    /// After `take()`: writes `input` and runs to completion (see the
    /// type), within `deadline` from now (default: the command's).
    public func runLines(
        input: [UInt8], deadline: Duration? = nil, line: @escaping @Sendable (String) -> Void,
        errorLine: @escaping @Sendable (String) -> Void
    ) async throws(HostCommand.Failure) {
        try await runLines(inputs: .once(input), deadline: deadline, line: line, errorLine: errorLine)
    }

    /// As `runLines(input:)`, with what `inputs` gives written as it comes
    /// (see `HostCommand.runLines(inputs:)`).
    public func runLines(
        inputs: AsyncStream<[UInt8]>, deadline: Duration? = nil, line: @escaping @Sendable (String) -> Void,
        errorLine: @escaping @Sendable (String) -> Void
    ) async throws(HostCommand.Failure) {
        var command = self.command
        command.deadline = deadline ?? command.deadline
        route.handlers.withLock { $0 = Route.Handlers(line: line, errorLine: errorLine) }
        let (giveInput, execution) = (self.giveInput, self.execution)
        let forwarding = Task {
            for await bytes in inputs { giveInput.yield(bytes) }
            giveInput.finish()
        }
        // A program that ends without waiting for the rest of its input ends the forwarding.
        defer { forwarding.cancel() }
        let outcome = try await command.withDeadline {
            await withTaskCancellationHandler {
                await execution.value
            } onCancel: {
                execution.cancel()
            }
        }
        try outcome.get()
    }

    /// Ends it unless it was taken: its standard input is closed, empty.
    public func dismiss() {
        guard take() else { return }
        giveInput.finish()
    }
}
