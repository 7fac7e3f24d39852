import Fetch
import HostSystem

/// The check a downloaded program passes before it replaces the one that
/// works (`DownloadJob.Body.verifyProgram`): it must be a program for this
/// machine (not an HTML error page served with 200) and print the expected
/// text for `--version`, run as the workspace user with a deadline (never
/// as root: the body is the server's). A refusal is the server's fault.
struct ProgramCheck: Sendable {
    let userName: String
    let expectVersionContaining: String

    /// Checks the complete file at `path`, downloaded from `url`.
    func check(_ path: String, from url: String) async throws {
        guard let user = UserIdentity.lookup(userName) else {
            throw ComponentError(.configuration, "the user \(userName) that checks the program from \(shownURL(url)) does not exist")
        }
        guard user.uid != 0 else {
            throw ComponentError(.configuration, "a downloaded program is never run as root (user \(userName)) to check it")
        }
        let file = FilePathParts(path)
        let folder = try Directory.system(file.directory)
        let head = try folder.openFile(file.name).prefix(256)
        guard ExecutableFormat(prefix: head).runsHere else {
            let start = String(decoding: head.prefix(40).map { $0 < 0x20 || $0 > 0x7E ? UInt8(ascii: ".") : $0 }, as: UTF8.self)
            throw ComponentError(
                .server,
                "\(shownURL(url)) did not send a program for this machine (it starts \"\(start)\"); "
                    + "check the URL and that the server serves that program there")
        }
        let version: String
        do {
            version = try await HostCommand([path, "--version"], user: user, deadline: .seconds(15), outputLimit: 4096).run()
        } catch {
            throw ComponentError(.server, "the program from \(shownURL(url)) does not run: \(error)")
        }
        guard version.contains(expectVersionContaining) else {
            throw ComponentError(
                .server,
                "\(shownURL(url)) is not the program expected (`--version` printed "
                    + "\"\(version.prefix(60))\", without \"\(expectVersionContaining)\"); check the URL")
        }
    }
}
