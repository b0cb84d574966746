@testable import Engine
import Foundation
import TestSupport
import Testing

/// Broken and fuzzed safetensors files: each is refused with a line that says what is wrong.
@Suite struct SafeTensorsBadInputTests {
    @Test func everyBrokenFileGivesItsMessage() throws {
        let cases = try BadInput.cases("safetensors", atLeast: 10)
        for item in cases {
            #expect(BadInput.message("safetensors") { _ = try SafeTensors.read(item.input) } == item.expected, "\(item.input.lastPathComponent)")
        }
    }

    /// Random edits of a valid file (two tensors and metadata): every one is read or
    /// refused with an error, never a crash, and every tensor of a file that is read can be read.
    @Test func fuzzedFilesAreReadOrRefused() throws {
        let valid = [UInt8](try SafeTensors.serialize(["a": Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), "b": Tensor(shape: [1], values: [7])],
                                                      metadata: ["format": "pt"]))
        var mutator = Mutator(seed: 2026)
        var read = 0, refused = 0
        for _ in 0..<3000 {
            do {
                let file = try SafeTensors.parse(Data(mutator.mutate(valid)), path: "fuzzed")
                for name in file.names { _ = try file.entry(name).dtype.isFloatingPoint ? file.tensor(name).count : file.integers(name).values.count }
                read += 1
            } catch let error as SafeTensorsError {
                #expect(error.path == "fuzzed" && !error.problem.isEmpty)
                refused += 1
            }
        }
        print("safetensors fuzzing: 3000 mutated files, \(read) read, \(refused) refused")
        #expect(read + refused == 3000 && refused > 0)
    }
}
