import COpenSSL
import Foundation

/// Where a workspace keeps things: the store, data caches, and one folder per run.
public struct Workspace: Sendable {
    public let root: URL

    public init(_ root: URL) { self.root = root }

    /// `runs/<study>-<hash prefix>/`: checkpoints, resume state, the final model, outputs.
    public func runFolder(study: String, hash: String) -> URL {
        root.appendingPathComponent("runs").appendingPathComponent("\(study)-\(hash.prefix(12))")
    }

    /// `data/<recipe hash prefix>/`: the tokenizer trained for a data recipe.
    public func dataFolder(recipeHash: String) -> URL {
        root.appendingPathComponent("data").appendingPathComponent(String(recipeHash.prefix(12)))
    }

    /// The MME result files (`<subtask>.txt`) an evaluation writes into a run's `outputs` folder
    /// for one condition (with the images, or the blind control).
    public static func benchmarkFolder(outputs: URL, condition: String) -> URL {
        outputs.appendingPathComponent("mme-\(condition)")
    }

    /// `benchmarkFolder(outputs:condition:)` of a study's run folder.
    public func benchmarkFolder(study: String, hash: String, condition: String) -> URL {
        Self.benchmarkFolder(outputs: RunFolder(url: runFolder(study: study, hash: hash)).outputs, condition: condition)
    }

    /// A path relative to the workspace, as the store records it.
    public func relative(_ url: URL) -> String {
        let base = root.standardizedFileURL.path
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }

    public func absolute(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}

/// The files of one run's folder.
public struct RunFolder: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url }

    public var state: URL { url.appendingPathComponent("state.safetensors") }
    /// The run as its trainer keeps it (`RunFile`).
    public var runFile: URL { url.appendingPathComponent("run.json") }
    /// Where the training loop's time went, with `repro run --profile-ops`.
    public var profile: URL { url.appendingPathComponent("profile.txt") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public func checkpoint(step: Int) -> URL { checkpoints.appendingPathComponent(String(format: "step-%06d.safetensors", step)) }
    /// The trained model in the Hugging Face layout (config.json, model.safetensors; adapter/ for LoRA).
    public var model: URL { url.appendingPathComponent("model") }
    public var outputs: URL { url.appendingPathComponent("outputs") }

    /// A cluster's job keeps its files in the run folder under this prefix: its log
    /// (`slurm-JOBID.log`) and the id of the job submitted last (`slurm-job`).
    public static let jobFilePrefix = "slurm-"
    public var submittedJob: URL { url.appendingPathComponent("\(Self.jobFilePrefix)job") }
    public func jobLog(_ id: String) -> URL { url.appendingPathComponent("\(Self.jobFilePrefix)\(id).log") }

    /// Empties the folder for a run that starts over, keeping the files of the job that runs it.
    public func clear() throws {
        let items = (try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)) ?? []
        for item in items where !item.lastPathComponent.hasPrefix(Self.jobFilePrefix) { try FileManager.default.removeItem(at: item) }
    }

    public func create() throws {
        for folder in [url, checkpoints, outputs] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }
}

/// SHA-256 of bytes, in lowercase hex.
public func sha256Hex(_ data: Data) -> String {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let succeeded = data.withUnsafeBytes { bytes in
        EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil) == 1
    }
    precondition(succeeded && length == 32, "OpenSSL's SHA-256 failed")
    return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
}

/// The sha256 of a file, in hex.
public func sha256(of url: URL) throws -> String {
    sha256Hex(try Data(contentsOf: url, options: .mappedIfSafe))
}
