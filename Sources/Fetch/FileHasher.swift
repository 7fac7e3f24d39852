// SHA-256 of the partial file, computed by a thread of its own that reads the
// file just behind the writer (the bytes are still in the page cache). At
// 1.3 GB/s, hashing on the transfer thread would halve a fast download's
// speed (measured on loopback, bench/download_vs_curl.py); beside it, on
// another core, it costs the transfer nothing.
#if canImport(Glibc)
import Glibc
#endif

final class FileHasher: @unchecked Sendable {
    // Unchecked Sendable: everything mutable is guarded by `mutex`, except
    // the digest, which only the hashing thread touches.
    private let path: String
    /// Read-only descriptor of the partial file; the hashing thread closes it.
    private let fd: Int32
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled on every change of the state below, in both directions.
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Bytes of the file the writer has finished with.
    private var written: Int64 = 0
    /// Bytes of the current generation that went into the digest.
    private var hashed: Int64 = 0
    /// Bumped when the file is emptied: the digest starts over.
    private var generation = 0
    private var wantResult = false
    private var result: String?
    private var readError: Int32 = 0
    private var stopping = false

    /// Bytes read per step; also the least the writer must be ahead before
    /// the hashing thread wakes up, so it does not wake for every callback.
    private static let step: Int64 = 1 << 20

    /// Opens `path` for reading and starts the hashing thread; hashes its
    /// first `size` bytes (a partial file left by an earlier run) right away.
    init(path: String, size: Int64) throws(FetchError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(operation: "open", path: path, errno: errno) }
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        written = size
        // The thread keeps the hasher alive until it has stopped.
        let status = startDetachedThread { self.hashUntilStopped() }
        guard status == 0 else {
            close(fd)
            throw .file(operation: "start a thread to hash", path: path, errno: status)
        }
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// The file now holds `size` bytes.
    func advance(to size: Int64) {
        locked {
            written = size
            if written - hashed >= Self.step { pthread_cond_broadcast(changed) }
        }
    }

    /// The file is about to be emptied (call it before, so that no read
    /// races the truncation).
    func reset() {
        locked {
            generation += 1
            written = 0
            hashed = 0
            result = nil
            wantResult = false
            readError = 0
            pthread_cond_broadcast(changed)
        }
    }

    /// Hex SHA-256 of the file as advanced so far, once the hashing thread
    /// has caught up. Ends the digest: call it once per complete file.
    func sha256() throws(FetchError) -> String {
        let outcome: Result<String, FetchError> = locked {
            wantResult = true
            pthread_cond_broadcast(changed)
            while result == nil && readError == 0 { pthread_cond_wait(changed, mutex) }
            if let result {
                self.result = nil
                return .success(result)
            }
            return .failure(.file(operation: "read", path: path, errno: readError))
        }
        return try outcome.get()
    }

    /// Ends the hashing thread, which then lets go of the hasher.
    func stop() {
        locked {
            stopping = true
            pthread_cond_broadcast(changed)
        }
    }

    private func hashUntilStopped() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(Self.step), alignment: 16)
        defer {
            buffer.deallocate()
            close(fd)
        }
        var digest = Digest(.sha256)
        var digestGeneration = 0
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !stopping {
            if digestGeneration != generation {
                digest = Digest(.sha256)
                digestGeneration = generation
            }
            let behind = written - hashed
            if readError == 0 && (behind >= Self.step || (wantResult && behind > 0)) {
                let (offset, count) = (hashed, Int(min(behind, Self.step)))
                pthread_mutex_unlock(mutex)
                let read = pread(fd, buffer.baseAddress, count, off_t(offset))
                let error = errno
                if read > 0 { digest.update(UnsafeRawBufferPointer(rebasing: buffer[..<read])) }
                pthread_mutex_lock(mutex)
                // A reset in the meantime made this read worthless.
                guard digestGeneration == generation else { continue }
                if read > 0 {
                    hashed = offset + Int64(read)
                } else if read < 0 && error == EINTR {
                    continue
                } else {
                    readError = read == 0 ? EIO : error  // the file is shorter than written
                    pthread_cond_broadcast(changed)
                }
                continue
            }
            if wantResult && behind == 0 {
                result = digest.finalizeHex()
                wantResult = false
                pthread_cond_broadcast(changed)
                continue
            }
            pthread_cond_wait(changed, mutex)
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
