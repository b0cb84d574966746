import Foundation
import Testing
@testable import Engine

/// The vectorisable `exp` and `erf` against the C library's, in double precision.
@Suite struct FastMathTests {
    /// Every 1/64 from -87 to 88: within 3 ulp of the true value.
    @Test func expIsWithinThreeUlp() {
        var worst: Double = 0
        for step in -87 * 64...88 * 64 {
            let x = Float(step) / 64
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(FastMath.exp(x)) - exact) / Double(Float(exact).ulp))
        }
        #expect(worst <= 3, "worst error \(worst) ulp")
    }

    @Test func expEdges() {
        #expect(FastMath.exp(0) == 1)
        #expect(FastMath.exp(-.infinity) == 0)
        #expect(FastMath.exp(-100) == 0)
        #expect(FastMath.exp(100) == .infinity)
        #expect(FastMath.exp(.infinity) == .infinity)
        #expect(FastMath.exp(.nan).isNaN)
    }

    /// Every 1/256 from -6 to 6: within 4e-7 of the true value (the formula's 1.5e-7 and float rounding), and odd.
    @Test func erfIsWithinFourTenMillionths() {
        var worst: Double = 0
        for step in -6 * 256...6 * 256 {
            let x = Float(step) / 256
            worst = max(worst, abs(Double(FastMath.erf(x)) - Foundation.erf(Double(x))))
            #expect(FastMath.erf(-x) == -FastMath.erf(x))
        }
        #expect(worst <= 4e-7, "worst error \(worst)")
        #expect(FastMath.erf(.infinity) == 1)
        #expect(FastMath.erf(.nan).isNaN)
    }
}
