import Foundation

/// A file-system error in a few plain words ("does not exist", "permission denied"), for messages
/// that name the path themselves: Foundation's own text (an NSCocoaErrorDomain dump) helps nobody.
public struct FileProblem: CustomStringConvertible, Sendable {
    public let description: String

    public init(_ error: any Error) {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain {
            description = Self.posix(Int32(error.code))
            return
        }
        guard error.domain == NSCocoaErrorDomain else {
            description = error.localizedDescription
            return
        }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: description = "does not exist"
        case .fileReadNoPermission, .fileWriteNoPermission: description = "permission denied"
        case .fileWriteOutOfSpace: description = "the disk is full"
        case .fileWriteVolumeReadOnly: description = "the file system is read-only"
        case .fileWriteFileExists: description = "already exists"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: description = "is not readable text"
        default:
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                description = Self.posix(Int32(underlying.code))
            } else {
                description = "cannot be read or written (error \(error.code))"
            }
        }
    }

    private static func posix(_ code: Int32) -> String {
        switch code {
        case ENOENT: "does not exist"
        case EACCES, EPERM: "permission denied"
        case ENOTDIR: "a part of the path is not a folder"
        case EISDIR: "is a folder, not a file"
        case ENOSPC: "the disk is full"
        case EROFS: "the file system is read-only"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}
