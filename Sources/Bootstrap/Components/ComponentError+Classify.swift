import Fetch
import HostSystem

extension ComponentError {
    /// Whose fault an error from converging is, for errors that did not say
    /// themselves (see `Kind`): the supervisor waits and retries a server's
    /// or a passing local fault, and reports everything else as failed.
    static func classify(_ error: any Error) -> ComponentError {
        switch error {
        case let error as ComponentError:
            return error
        case let error as FetchError:
            return ComponentError(DownloadService.kind(of: error), error.description)
        case let error as SystemError:
            return ComponentError(
                error.isOutOfSpace ? .local : .configuration,
                error.isOutOfSpace ? "\(error); free some space there" : error.description)
        case let error as HostCommand.Failure:
            switch error.reason {
            case .timedOut, .signaled: return ComponentError(.local, error.description)
            case .exited, .couldNotStart: return ComponentError(.configuration, error.description)
            }
        default:
            return ComponentError(.configuration, "\(error)")
        }
    }
}
