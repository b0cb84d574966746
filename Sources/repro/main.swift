import ArgumentParser
import Engine
import Foundation

// The BLAS kernel must be chosen before the first BLAS call; this may re-execute the program.
BLASKernel.selectBeforeFirstUse()

/// A file-system error that reached the top as Foundation's own text, as one line naming its path.
struct FileSystemError: Error, CustomStringConvertible {
    let description: String

    /// nil for every error that is not Foundation's (those describe themselves).
    init?(_ error: any Error) {
        let bridged = error as NSError
        guard [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(bridged.domain) else { return nil }
        let path = (bridged.userInfo[NSFilePathErrorKey] as? String) ?? (bridged.userInfo[NSURLErrorKey] as? URL)?.path
        description = "\(path ?? "a file"): \(FileProblem(error)); check the path, its permissions and the free space"
    }
}

do {
    var command = try Repro.parseAsRoot()
    try command.run()
} catch {
    Repro.exit(withError: FileSystemError(error) ?? error)
}
