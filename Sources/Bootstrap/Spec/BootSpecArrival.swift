import Fetch
import HostSystem
import WorkspaceSpec

/// Waits for cloud-init to deliver this boot's spec (its bootcmd writes a
/// temporary file and renames it into place), without polling: an inotify
/// watch on the runtime folder, on a thread of its own, woken for
/// cancellation.
enum BootSpecArrival {
    static func wait(for path: String) async throws {
        let file = FilePathParts(path)
        let folder = try Directory.system(file.directory, creating: .init())
        let watch = try FolderWatch(file.directory)
        let wake = try WakeUpEvent()
        // After the watch exists, so a file that arrived just before is seen.
        while try folder.status(file.name) == nil {
            try Task.checkCancellation()
            await withTaskCancellationHandler {
                await runOnDedicatedThread {
                    _ = try? Poll.wait([(watch.pollTarget, .readable), (wake.pollTarget, .readable)], timeout: nil)
                    watch.drain()
                }
            } onCancel: {
                wake.signal()
            }
        }
    }
}
