@testable import Engine
import Testing

@Suite struct BLASKernelTests {
    let avx512: Set<String> = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
    let avx2: Set<String> = ["sse4_2", "avx", "avx2", "fma"]

    @Test func genericFallbackIsReplacedByWhatTheCPUSupports() {
        #expect(BLASKernel.betterKernel(detected: "Prescott", cpuFlags: avx512) == "SkylakeX")
        #expect(BLASKernel.betterKernel(detected: "Prescott", cpuFlags: avx2) == "Haswell")
        #expect(BLASKernel.betterKernel(detected: "Sandybridge", cpuFlags: avx2) == "Haswell")
        #expect(BLASKernel.betterKernel(detected: "Haswell", cpuFlags: avx512) == "SkylakeX")
    }

    @Test func aDetectionThatAlreadyFitsIsKept() {
        #expect(BLASKernel.betterKernel(detected: "SkylakeX", cpuFlags: avx512) == nil)
        #expect(BLASKernel.betterKernel(detected: "Zen", cpuFlags: avx2) == nil)
        #expect(BLASKernel.betterKernel(detected: "Haswell", cpuFlags: avx2) == nil)
        #expect(BLASKernel.betterKernel(detected: "Prescott", cpuFlags: ["sse2", "sse4_2"]) == nil)
        // AVX-512 without the BW/DQ/VL parts the SkylakeX kernel uses (Knights Landing) is not enough.
        #expect(BLASKernel.betterKernel(detected: "Haswell", cpuFlags: avx2.union(["avx512f"])) == nil)
    }

    @Test func sgemmComputesTheProduct() {
        // [2x3] @ [3x2], checked by hand.
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: 1, count: 4)
        BLAS.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        #expect(c == [58, 64, 139, 154])
        BLAS.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: a, lda: 3, b: b, ldb: 2, beta: 0.5, c: &c, ldc: 2)
        #expect(c == [29, 32, 69.5, 77], "an empty inner dimension scales C by beta")
    }
}
