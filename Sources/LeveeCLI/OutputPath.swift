import ArgumentParser
import Foundation

/// Where a command writes its results (`--json`, `--report`, `--output`), checked before any work
/// starts: a run can take minutes, and a mistyped path must not cost it its results.
enum OutputPath {
    /// A file to be written: not a directory, and one that can be opened for writing, or created
    /// in a directory that exists (the check creates it and removes it again).
    static func checkFile(_ path: String, option: String) throws(ValidationError) {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw ValidationError("\(option): '\(path)' is a directory, not a file") }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("\(option): '\(path)' cannot be opened for writing")
            }
            try? handle.close()
            return
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard files.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(option): cannot write '\(path)': there is no directory '\(parent)'")
        }
        guard files.createFile(atPath: path, contents: nil) else {
            throw ValidationError("\(option): cannot create '\(path)' in '\(parent)'")
        }
        try? files.removeItem(atPath: path)
    }

    /// A directory to write into, created now if needed (the report would create it anyway): its
    /// nearest existing ancestor must be a directory, and the directory must be writable.
    static func checkDirectory(_ path: String, option: String) throws(ValidationError) {
        let files = FileManager.default
        var ancestor = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        while !files.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
            let parent = ancestor.deletingLastPathComponent()
            guard parent.path != ancestor.path else { break }
            ancestor = parent
        }
        guard isDirectory.boolValue else {
            throw ValidationError("\(option): '\(ancestor.path)' is a file, so '\(path)' cannot be a directory")
        }
        do {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("\(option): cannot create the directory '\(path)': \(reason(for: error))")
        }
        guard files.isWritableFile(atPath: path) else {
            throw ValidationError("\(option): the directory '\(path)' is not writable")
        }
    }

    /// Runs `write`, restating a failure (which the checks above make unlikely, but a disk can fill
    /// up) as one line naming the option and the path rather than Foundation's error dump.
    static func writing<T>(_ path: String, option: String, _ write: () throws -> T) throws -> T {
        do {
            return try write()
        } catch {
            throw WriteError(message: "\(option): could not write '\(path)': \(reason(for: error))")
        }
    }

    /// Writes `--json` results when the option was given, through `write`, and says where.
    static func writeJSON(to path: String?, _ write: (String) throws -> Void) throws {
        guard let path else { return }
        try writing(path, option: "--json") { try write(path) }
        print("JSON results written to \(path)")
    }

    /// The POSIX reason behind a Foundation file error, when there is one.
    static func reason(for error: any Error) -> String {
        let nsError = error as NSError
        let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError } ?? nsError
        if underlying.domain == NSPOSIXErrorDomain, let message = strerror(Int32(underlying.code)) {
            return String(cString: message)
        }
        return underlying.localizedDescription
    }

    /// The results were computed (and printed) but could not be saved: a failed run (exit status 1).
    struct WriteError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
